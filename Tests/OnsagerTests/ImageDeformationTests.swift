import Foundation
import Testing
import Onsager
@testable import OnsagerData

/// The deformation feature of issue 19: shape and range preserved, seeded reproducibility at any
/// thread count, identity at zero strength, and each part doing what it says.
@Suite(.serialized) struct ImageDeformationTests {
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

    @Test func seededAndIndependentOfThreads() {
        let x = Self.images()
        let saved = Kernels.threadCount
        defer { Kernels.threadCount = saved }
        Kernels.threadCount = 1
        let one = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: RandomGenerator(seed: 42))
        Kernels.threadCount = 3
        let three = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: RandomGenerator(seed: 42))
        Kernels.workerDelayForTesting = 200
        let delayed = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: RandomGenerator(seed: 42))
        Kernels.workerDelayForTesting = 0
        #expect(one.scalars == three.scalars && one.scalars == delayed.scalars)
        // A second draw from the same generator is a fresh deformation.
        let g = RandomGenerator(seed: 42)
        let first = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: g)
        let second = ImageDeformation.ciresan2010(x, height: 28, width: 28, generator: g)
        #expect(first.scalars == one.scalars && second.scalars != first.scalars)
    }

    /// Translation moves the image by the drawn offset (read back through the same generator);
    /// rotation turns a bar by the drawn angle, measured by the image's second moments.
    @Test func affinePartsMoveAsStated() {
        let x = Self.images().sliced(axis: 0, 0..<1)
        let shifted = ImageDeformation(translation: 4)(x, height: 28, width: 28, generator: RandomGenerator(seed: 5))
        let r = Tensor<Double>.uniform([1, 6], low: -1, high: 1, generator: RandomGenerator(seed: 5)).scalars
        let tx = 4 * r[4], ty = 4 * r[5]
        for (yy, xx) in [(10, 10), (14, 3), (20, 25)] {
            let expected = x.scalars.map(Double.init).withUnsafeBufferPointer {
                ImageDeformation.bilinear($0, height: 28, width: 28, x: Double(xx) + tx, y: Double(yy) + ty, background: 0)
            }
            #expect(abs(Double(shifted.scalars[yy * 28 + xx]) - expected) < 1e-6)
        }
        /// The orientation of an image's mass in degrees, in [0, 180).
        func orientation(_ t: Tensor<Float>) -> Double {
            let s = t.scalars.map(Double.init)
            var m = 0.0, mx = 0.0, my = 0.0
            for p in 0..<784 { m += s[p]; mx += s[p] * Double(p % 28); my += s[p] * Double(p / 28) }
            mx /= m; my /= m
            var m20 = 0.0, m02 = 0.0, m11 = 0.0
            for p in 0..<784 {
                let dx = Double(p % 28) - mx, dy = Double(p / 28) - my
                m20 += s[p] * dx * dx; m02 += s[p] * dy * dy; m11 += s[p] * dx * dy
            }
            let angle = 0.5 * atan2(2 * m11, m20 - m02) * 180 / .pi
            return (angle + 180).truncatingRemainder(dividingBy: 180)
        }
        #expect(abs(orientation(x) - 90) < 1e-6, "the first test image is a vertical bar")
        for seed in 0..<6 {
            let y = ImageDeformation(rotation: 60)(x, height: 28, width: 28, generator: RandomGenerator(seed: UInt64(seed)))
            let theta = 60 * Tensor<Double>.uniform([1, 6], low: -1, high: 1, generator: RandomGenerator(seed: UInt64(seed))).scalars[0]
            var difference = abs(orientation(y) - (90 + theta)).truncatingRemainder(dividingBy: 180)
            difference = min(difference, 180 - difference)
            #expect(difference < 2, "rotation by \(theta)°: the bar points at \(orientation(y))°")
        }
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
        let expected = 36 / sqrt(3.0) * sumSquares   // 2-D: (Σ g²)^(1/2) per axis, squared for two axes
        let std = sqrt(centre.map { $0 * $0 }.reduce(0, +) / Double(centre.count))
        #expect(std > 0.7 * expected && std < 1.4 * expected, "elastic displacement std \(std), expected about \(expected)")
    }

    /// The matrix-product smoothing equals a direct 2-D convolution of the same uniform draws with
    /// the truncated, normalised Gaussian, zero beyond the border (scipy's mode="constant").
    @Test func elasticFieldIsTheConvolutionOfItsNoise() {
        let (h, w, sigma, alpha) = (9, 7, 1.5, 2.0)
        let field = ImageDeformation(elasticAlpha: alpha, elasticSigma: sigma).elasticField(n: 2, height: h, width: w, generator: RandomGenerator(seed: 8)).scalars
        let u = Tensor<Double>.uniform([2 * 2 * h, w], low: -1, high: 1, generator: RandomGenerator(seed: 8)).scalars
        let rx = min(Int((3 * sigma).rounded(.up)), w - 1), ry = min(Int((3 * sigma).rounded(.up)), h - 1)
        let gx = ImageDeformation.gaussianKernel(sigma: sigma, radius: rx), gy = ImageDeformation.gaussianKernel(sigma: sigma, radius: ry)
        var worst = 0.0
        for f in 0..<4 {
            for y in 0..<h {
                for x in 0..<w {
                    var direct = 0.0
                    for yy in 0..<h where abs(yy - y) <= ry {
                        for xx in 0..<w where abs(xx - x) <= rx { direct += gy[yy - y + ry] * gx[xx - x + rx] * u[f * h * w + yy * w + xx] }
                    }
                    worst = max(worst, abs(alpha * direct - field[f * h * w + x * h + y]))
                }
            }
        }
        #expect(worst < 1e-12, "largest difference \(worst)")
    }
}
