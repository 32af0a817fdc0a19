import Foundation
import OnsagerCore

/// Random elastic and affine deformations of images, for training on a fresh distortion of
/// every image each epoch (Simard et al. 2003; Ciresan et al. 2010, "Deep, big, simple neural
/// nets for handwritten digit recognition").
///
/// For each image the output pixel at q = (x, y) is read from the input at
///
///     A⁻¹ · (q − c − t) + c + α · (G_σ ∗ u)(x, y)
///
/// by bilinear interpolation, where c is the image centre; A rotates by θ, shears horizontally
/// by φ and scales by (s_x, s_y) about the centre; t translates the result (in output pixels);
/// and u is a field of independent uniform(−1, 1) displacements, a separate field per image and
/// axis, smoothed by a Gaussian of width σ truncated at 3σ and normalised (zero beyond the
/// border: scipy's `gaussian_filter(u, σ, mode="constant", truncate=3)`, checked against it) and
/// scaled by α, so the elastic displacement is in input pixels (torchvision's ElasticTransform
/// measures α on a normalised grid: about twice as strong as the same α here). Every parameter is
/// drawn uniformly per image from a range symmetric about the identity; s_x and s_y
/// independently. Points outside the image read `background` (scipy's `map_coordinates(order=1,
/// mode="grid-constant")`).
///
/// Directions, in image coordinates (x to the right, y down): a positive θ turns the content
/// clockwise on screen (torchvision's `RandomAffine` turns it counter-clockwise); a positive t
/// moves it right and down. The elastic displacement is small for its α: with α = 36 and σ = 6
/// (Ciresan's) it is about 0.9 pixel rms per axis, at most about 4.
///
/// Properties the tests check: output shape equals input shape; every output value lies between
/// the smallest and largest of the input's values and `background` (bilinear weights are convex);
/// the same generator state gives the same images bit for bit, at any thread count (all random
/// numbers are drawn before the images are split between threads); and with every strength 0 the
/// output equals the input exactly.
public struct ImageDeformation: Sendable, Equatable, CustomStringConvertible {
    /// Elastic strength α in pixels (0: no elastic part).
    public var elasticAlpha: Double
    /// Width σ of the Gaussian that smooths the elastic field, in pixels.
    public var elasticSigma: Double
    /// Largest rotation, in degrees (drawn from [−r, r]).
    public var rotation: Double
    /// Largest relative change of scale per axis (0.15: s_x, s_y drawn from [0.85, 1.15]).
    public var scale: Double
    /// Largest horizontal shear angle, in degrees.
    public var shear: Double
    /// Largest translation per axis, in output pixels.
    public var translation: Double
    /// The value read outside the image.
    public var background: Double

    /// A deformation with the given strengths; all default to none.
    public init(elasticAlpha: Double = 0, elasticSigma: Double = 6, rotation: Double = 0, scale: Double = 0, shear: Double = 0,
                translation: Double = 0, background: Double = 0) {
        self.elasticAlpha = elasticAlpha
        self.elasticSigma = elasticSigma
        self.rotation = rotation
        self.scale = scale
        self.shear = shear
        self.translation = translation
        self.background = background
    }

    /// No deformation: the output equals the input.
    public static let identity = ImageDeformation()

    /// MNIST distortions after Ciresan et al. 2010: elastic σ = 6, α = 36; rotation up to 15°;
    /// scaling up to 15 % per axis. (The paper's ranges: σ 5–6, α 36–38, rotation and horizontal
    /// shear β 7.5°–15°, scaling 15–20 %; this preset takes one point and no shear.)
    public static let ciresan2010 = ImageDeformation(elasticAlpha: 36, elasticSigma: 6, rotation: 15, scale: 0.15)

    /// "elastic α 36 σ 6, rotation ±15°, scale ±15 %, shear ±0°, translation ±0 px".
    public var description: String {
        String(format: "elastic α %g σ %g, rotation ±%g°, scale ±%g %%, shear ±%g°, translation ±%g px",
               elasticAlpha, elasticSigma, rotation, scale * 100, shear, translation)
    }

    /// Whether every strength is zero (the output would equal the input).
    public var isIdentity: Bool { elasticAlpha == 0 && rotation == 0 && scale == 0 && shear == 0 && translation == 0 }

    /// Deforms each image of `images` — shape [n, height·width] (rows of pixels, as the MNIST
    /// loaders give) or [n, height, width] — with its own random draw from `generator`, and
    /// returns a tensor of the same shape. Not recorded on the tape (the input is data).
    public func callAsFunction<S: TensorScalar>(_ images: Tensor<S>, height: Int, width: Int,
                                                generator: RandomGenerator = .current) -> Tensor<S> {
        check(height > 0 && width > 0, "ImageDeformation: height and width must be positive, got \(height) × \(width)")
        check((images.rank == 2 && images.shape[1] == height * width) || (images.rank == 3 && images.shape[1] == height && images.shape[2] == width),
              "ImageDeformation: images of shape \(images.shape) are not [n, \(height * width)] or [n, \(height), \(width)] for \(height) × \(width) images")
        for (name, v) in [("elasticAlpha", elasticAlpha), ("rotation", rotation), ("scale", scale), ("shear", shear), ("translation", translation)] {
            check(v.isFinite && v >= 0, "ImageDeformation: \(name) must be finite and ≥ 0, got \(v)")
        }
        // Bounds far beyond any image, so sizes and coordinates stay representable.
        check(elasticSigma >= 0.01 && elasticSigma <= 1e4, "ImageDeformation: elasticSigma must lie in [0.01, 10000] pixels, got \(elasticSigma)")
        check(elasticAlpha <= 1e6 && translation <= 1e6, "ImageDeformation: elasticAlpha and translation must be at most 1e6 pixels, got \(elasticAlpha) and \(translation)")
        check(scale < 1, "ImageDeformation: scale must be below 1 (a scale factor of 1 − scale must stay positive), got \(scale)")
        check(abs(shear) < 90, "ImageDeformation: shear must be below 90°, got \(shear)")
        check(background.isFinite, "ImageDeformation: background must be finite, got \(background)")
        let n = images.shape[0]
        if n == 0 { return images.detached().contiguous() }
        // All random numbers first, in one fixed order: the result cannot depend on the threads.
        let affine = Tensor<Double>.uniform([n, 6], low: -1, high: 1, generator: generator).scalars
        let displacement = elasticAlpha > 0 ? elasticField(n: n, height: height, width: width, generator: generator).scalars : []
        // The per-pixel work is done in Double by non-generic code (generic code that the
        // caller's module does not specialise would cost ~100 ns per pixel).
        let input = images.detached().contiguous().converted(to: Double.self).scalars
        let output = Self.resample(input, count: n, height: height, width: width, affine: affine, displacement: displacement,
                                   strengths: (rotation, scale, shear, translation), background: background)
        return Tensor<Double>(shape: images.shape, scalars: output).converted(to: S.self)
    }

    /// Reads every output pixel of `count` images from its source point (see the type's
    /// description); `affine` holds six uniform(−1, 1) draws per image, `displacement` the elastic
    /// field (empty for none).
    static func resample(_ input: [Double], count n: Int, height: Int, width: Int, affine: [Double], displacement: [Double],
                         strengths: (rotation: Double, scale: Double, shear: Double, translation: Double), background: Double) -> [Double] {
        let pixels = height * width
        var output = [Double](repeating: 0, count: n * pixels)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let degrees = Double.pi / 180
        input.withUnsafeBufferPointer { inputBuffer in
            displacement.withUnsafeBufferPointer { fieldBuffer in
                affine.withUnsafeBufferPointer { affineBuffer in
                    output.withUnsafeMutableBufferPointer { out in
                        let source = UncheckedSendable(inputBuffer), field = UncheckedSendable(fieldBuffer)
                        let draws = UncheckedSendable(affineBuffer), target = UncheckedSendable(out)
                        Kernels.parallelFor(n) { i in
                            let r = UnsafeBufferPointer(rebasing: draws.value[(6 * i)..<(6 * i + 6)])
                            let theta = strengths.rotation * degrees * r[0], sx = 1 + strengths.scale * r[1], sy = 1 + strengths.scale * r[2]
                            let phi = strengths.shear * degrees * r[3], tx = strengths.translation * r[4], ty = strengths.translation * r[5]
                            // A = R(θ) · [[1, tan φ], [0, 1]] · diag(sx, sy); its inverse maps output to input.
                            let c = cos(theta), s = sin(theta), k = tan(phi)
                            let a00 = c * sx, a01 = (c * k - s) * sy, a10 = s * sx, a11 = (s * k + c) * sy
                            let det = a00 * a11 - a01 * a10
                            let i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det
                            let image = UnsafeBufferPointer(rebasing: source.value[(i * pixels)..<((i + 1) * pixels)])
                            let elastic = !field.value.isEmpty
                            for y in 0..<height {
                                let qy = Double(y) - cy - ty
                                for x in 0..<width {
                                    let qx = Double(x) - cx - tx
                                    var srcX = i00 * qx + i01 * qy + cx, srcY = i10 * qx + i11 * qy + cy
                                    if elastic {
                                        // The field is stored [image, axis, x, y] (see elasticField).
                                        srcX += field.value[(2 * i) * pixels + x * height + y]
                                        srcY += field.value[(2 * i + 1) * pixels + x * height + y]
                                    }
                                    target.value[i * pixels + y * width + x] = bilinear(image, height: height, width: width, x: srcX, y: srcY, background: background)
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// The elastic displacements α · (G_σ ∗ u) of n images, two fields each, stored as
    /// [n, 2, width, height] (x-major, as the second smoothing pass leaves them).
    func elasticField(n: Int, height: Int, width: Int, generator: RandomGenerator) -> Tensor<Double> {
        smooth(Tensor<Double>.uniform([n * 2 * height, width], low: -1, high: 1, generator: generator), height: height, width: width)
    }

    /// α · (G_σ ∗ u) for fields u given as rows of [fields · height, width]; the result is
    /// [fields · width, height] (x-major). Smoothing is separable and linear, so each pass is one
    /// matrix product with the symmetric banded matrix G (G_ab = g(a − b), zero beyond the
    /// border) over all fields at once.
    func smooth(_ u: Tensor<Double>, height: Int, width: Int) -> Tensor<Double> {
        let fields = u.shape[0] / height
        func smoothing(_ size: Int, scale: Double) -> Tensor<Double> {
            // scipy's radius int(3σ + 0.5), and the whole kernel normalised even where the image is
            // narrower than it (the weights beyond the border multiply zeros).
            let radius = Int(3 * elasticSigma + 0.5)
            let kernel = Self.gaussianKernel(sigma: elasticSigma, radius: radius)
            var g = [Double](repeating: 0, count: size * size)
            for a in 0..<size { for b in Swift.max(0, a - radius)...Swift.min(size - 1, a + radius) { g[a * size + b] = kernel[b - a + radius] * scale } }
            return Tensor(shape: [size, size], scalars: g)
        }
        return withoutGrad {
            let alongX = matmul(u, smoothing(width, scale: 1))                                            // [fields·h, w]
            let xMajor = alongX.reshaped([fields, height, width]).transposed(1, 2).contiguous().reshaped([fields * width, height])
            return matmul(xMajor, smoothing(height, scale: elasticAlpha))                                 // [fields·w, h]
        }
    }

    /// Normalised Gaussian weights exp(−k²/2σ²) for k in −radius…radius.
    static func gaussianKernel(sigma: Double, radius: Int) -> [Double] {
        let w = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// The image read at (x, y) by bilinear interpolation, `background` outside. At integer
    /// coordinates it returns the pixel exactly.
    @inline(__always)
    static func bilinear(_ image: UnsafeBufferPointer<Double>, height: Int, width: Int, x: Double, y: Double, background: Double) -> Double {
        guard abs(x) < 1e9 && abs(y) < 1e9 else { return background }   // also NaN: far outside any image
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = x - Double(x0), fy = y - Double(y0)
        func pixel(_ px: Int, _ py: Int) -> Double {
            px >= 0 && px < width && py >= 0 && py < height ? Double(image[py * width + px]) : background
        }
        if fx == 0 && fy == 0 { return pixel(x0, y0) }
        return (1 - fy) * ((1 - fx) * pixel(x0, y0) + fx * pixel(x0 + 1, y0)) + fy * ((1 - fx) * pixel(x0, y0 + 1) + fx * pixel(x0 + 1, y0 + 1))
    }
}

/// A value handed to the pool's tasks, which write disjoint parts of it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
