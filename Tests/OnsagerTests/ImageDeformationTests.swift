import Foundation
import Testing
import Onsager
@testable import OnsagerData

/// The deformation feature of issue 19: shape and range preserved, seeded reproducibility (at
/// any thread count: KernelSettingsTests), identity at zero strength, and each part mapping as
/// documented.
@Suite struct ImageDeformationTests {
    /// Eight 28×28 images: a bar, a blob and random pixels, values in [0, 1].
    static func images() -> Tensor<Float> {
        let noise = Tensor<Float>.uniform([8, 784], generator: RandomGenerator(seed: 3)).scalars
        var s = noise
        for i in 0..<4 {
            for y in 0..<28 { for x in 0..<28 { s[i * 784 + y * 28 + x] = (abs(x - 14) < 2 + i) ? 1 : 0 } }
        }
        return Tensor(shape: [8, 784], scalars: s)
    }

    @Test func zeroStrengthIsTheIdentity() {
        let x = Self.images()
        let g = RandomGenerator(seed: 1)
        #expect(ImageDeformation.identity(x, height: 28, width: 28, generator: g).scalars == x.scalars)
        // Zero strengths given explicitly, with a background and σ set: still exact.
        let none = ImageDeformation(elasticAlpha: 0, elasticSigma: 3, rotation: 0, scale: 0, shear: 0, translation: 0, background: 0.5)
        #expect(none(x, height: 28, width: 28, generator: g).scalars == x.scalars)
        // Rank-3 input keeps its shape.
        let cube = x.reshaped([8, 28, 28])
        #expect(ImageDeformation.identity(cube, height: 28, width: 28, generator: g).shape == [8, 28, 28])
    }

    @Test(arguments: [ImageDeformation.ciresan2010, ImageDeformation(rotation: 30), ImageDeformation(elasticAlpha: 80, elasticSigma: 4),
                      ImageDeformation(scale: 0.3, shear: 20, translation: 3, background: 0.25)])
    func shapeAndRangeArePreserved(d: ImageDeformation) {
        for x in [Self.images(), Self.images().reshaped([8, 28, 28])] {
            let y = d(x, height: 28, width: 28, generator: RandomGenerator(seed: 7))
            #expect(y.shape == x.shape)
            let lo = min(Double(x.scalars.min()!), d.background), hi = max(Double(x.scalars.max()!), d.background)
            #expect(y.scalars.allSatisfy { Double($0) >= lo - 1e-6 && Double($0) <= hi + 1e-6 }, "\(d): values outside [\(lo), \(hi)]")
            #expect(y.scalars != x.scalars, "\(d) changed nothing")
        }
    }

    @Test func seededAndFreshOnEveryDraw() {
        let x = Self.images()
        let one = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: RandomGenerator(seed: 42))
        let g = RandomGenerator(seed: 42)
        let first = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: g)
        let second = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: g)
        #expect(first.scalars == one.scalars, "the same seed gives the same images")
        #expect(second.scalars != first.scalars, "a second draw from the generator is a fresh deformation")
    }

    /// Bilinear interpolation written out independently of the implementation: p at (x, y),
    /// zero outside an image of the given size stored row-major.
    static func sample(_ p: [Double], height: Int, width: Int, x: Double, y: Double) -> Double {
        let x0 = Int(floor(x)), y0 = Int(floor(y)), fx = x - floor(x), fy = y - floor(y)
        var total = 0.0
        for (dx, dy, weight) in [(0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)] where weight != 0 {
            let xx = x0 + dx, yy = y0 + dy
            if xx >= 0 && xx < width && yy >= 0 && yy < height { total += weight * p[yy * width + xx] }
        }
        return total
    }

    /// Each affine part, alone, on a non-square image, against the stated mapping computed here:
    /// output(q) = input(A⁻¹(q − c − t) + c), with the draw read back from the same seed.
    @Test func affinePartsMapAsDocumented() {
        let (h, w) = (11, 17)
        let image = Tensor<Double>.uniform([1, h * w], generator: RandomGenerator(seed: 4))
        let p = image.scalars
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        let cases: [(ImageDeformation, (Double, Double, [Double]) -> (Double, Double))] = [
            // Translation by (tx, ty) output pixels: output(q) = input(q − t).
            (ImageDeformation(translation: 3), { x, y, r in (x - 3 * r[4], y - 3 * r[5]) }),
            // Scale by (sx, sy) about the centre: output(q) = input(c + (q − c)/s).
            (ImageDeformation(scale: 0.4), { x, y, r in (cx + (x - cx) / (1 + 0.4 * r[1]), cy + (y - cy) / (1 + 0.4 * r[2])) }),
            // Horizontal shear by φ: x' = x + tan φ · y about the centre, so output(q) = input(x − tan φ (y − cy), y).
            (ImageDeformation(shear: 30), { x, y, r in (x - tan(30 * .pi / 180 * r[3]) * (y - cy), y) }),
            // Rotation by θ: output(q) = input(c + R(−θ)(q − c)).
            (ImageDeformation(rotation: 40), { x, y, r in
                let t = 40 * .pi / 180 * r[0], qx = x - cx, qy = y - cy
                return (cx + cos(t) * qx + sin(t) * qy, cy - sin(t) * qx + cos(t) * qy) }),
        ]
        for (k, (d, source)) in cases.enumerated() {
            let seed = UInt64(30 + k)
            let got = d(image, height: h, width: w, generator: RandomGenerator(seed: seed)).scalars
            let r = Tensor<Double>.uniform([1, 6], low: -1, high: 1, generator: RandomGenerator(seed: seed)).scalars
            var worst = 0.0
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(Double(x), Double(y), r)
                    worst = max(worst, abs(got[y * w + x] - Self.sample(p, height: h, width: w, x: sx, y: sy)))
                }
            }
            #expect(worst < 1e-12, "\(d): largest difference \(worst) from the documented mapping")
        }
    }

    /// The elastic part alone on a non-square image: output(x, y) = input((x, y) + d(x, y)) with
    /// d the field drawn after the six affine numbers, stored [image, axis, x, y].
    @Test func elasticPartReadsTheFieldAtItsPixel() {
        let (h, w) = (9, 14)
        let d = ImageDeformation(elasticAlpha: 5, elasticSigma: 2)
        let image = Tensor<Double>.uniform([2, h * w], generator: RandomGenerator(seed: 6))
        let got = d(image, height: h, width: w, generator: RandomGenerator(seed: 7)).scalars
        let g = RandomGenerator(seed: 7)
        _ = Tensor<Double>.uniform([2, 6], low: -1, high: 1, generator: g)
        let field = d.elasticField(n: 2, height: h, width: w, generator: g).scalars
        var worst = 0.0, moved = 0.0
        for i in 0..<2 {
            let p = Array(image.scalars[(i * h * w)..<((i + 1) * h * w)])
            for y in 0..<h {
                for x in 0..<w {
                    let dx = field[(2 * i) * h * w + x * h + y], dy = field[(2 * i + 1) * h * w + x * h + y]
                    moved = max(moved, abs(dx) + abs(dy))
                    worst = max(worst, abs(got[i * h * w + y * w + x] - Self.sample(p, height: h, width: w, x: Double(x) + dx, y: Double(y) + dy)))
                }
            }
        }
        #expect(moved > 0.5, "the field moves pixels")
        #expect(worst < 1e-12, "largest difference \(worst)")
    }

    /// The elastic field's size: with a normalised kernel, the displacement's standard deviation is
    /// about α · (1/√3) · √(Σ g²) for uniform(−1, 1) noise away from the border.
    @Test func elasticDisplacementHasTheExpectedSize() {
        let kernel = ImageDeformation.gaussianKernel(sigma: 6, radius: 18)
        #expect(abs(kernel.reduce(0, +) - 1) < 1e-12)
        // Fields of 64 × 64 (so the centre is far from the border), stored [image, axis, x, y].
        let d = ImageDeformation(elasticAlpha: 36, elasticSigma: 6).elasticField(n: 10, height: 64, width: 64, generator: RandomGenerator(seed: 2)).scalars
        #expect(d.count == 10 * 2 * 64 * 64)
        var centre: [Double] = []
        for f in 0..<20 {
            for x in 24..<40 { for y in 24..<40 { centre.append(d[f * 4096 + x * 64 + y]) } }
        }
        let sumSquares = kernel.map { $0 * $0 }.reduce(0, +)
        let expected = 36 / sqrt(3.0) * sumSquares   // 2-D: √(Σ g²) per axis, so Σ g² for the product kernel
        let std = sqrt(centre.map { $0 * $0 }.reduce(0, +) / Double(centre.count))
        #expect(std > 0.7 * expected && std < 1.4 * expected, "elastic displacement std \(std), expected about \(expected)")
    }

    /// The smoothing against scipy.ndimage.gaussian_filter(mode="constant", truncate=3) on fixed
    /// fields (Golden/make_deformation_golden.py → Golden/deformation.json): a non-square image, a
    /// kernel wider than the image, and a radius that rounds.
    @Test func smoothingMatchesScipy() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/deformation.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try #require(json["cases"] as? [[String: Any]])
        #expect(cases.count == 3)
        for c in cases {
            let h = c["height"] as! Int, w = c["width"] as! Int
            let d = ImageDeformation(elasticAlpha: c["alpha"] as! Double, elasticSigma: c["sigma"] as! Double)
            let fields = c["fields"] as! [[Double]], expected = c["smoothed"] as! [[Double]]
            let got = d.smooth(Tensor(shape: [fields.count * h, w], scalars: fields.flatMap { $0 }), height: h, width: w).scalars
            var worst = 0.0
            for f in fields.indices {
                for y in 0..<h { for x in 0..<w { worst = max(worst, abs(got[f * h * w + x * h + y] - expected[f][y * w + x])) } }
            }
            #expect(worst < 1e-12, "\(h)×\(w), σ \(d.elasticSigma): largest difference from scipy \(worst)")
        }
    }

    /// Coordinates far outside the image (a huge translation or displacement) read the background
    /// rather than overflowing an integer conversion.
    @Test func farCoordinatesReadTheBackground() {
        let image = [Double](repeating: 1, count: 4)
        image.withUnsafeBufferPointer { p in
            for (x, y) in [(1e300, 0.0), (0, -1e20), (.nan, 1), (.infinity, 0)] {
                #expect(ImageDeformation.bilinear(p, height: 2, width: 2, x: x, y: y, background: 0.25) == 0.25)
            }
        }
    }
}
