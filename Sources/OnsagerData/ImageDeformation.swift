import Foundation
import OnsagerCore

/// Random elastic and affine deformations of images, for training on a fresh distortion of
/// every image each epoch (Simard et al. 2003; Ciresan et al. 2010, "Deep, big, simple neural
/// nets for handwritten digit recognition").
///
/// For each image the output pixel at (x, y) is read from the input at
///
///     A⁻¹ · (x − c, y − c) + c + t + α · (G_σ ∗ u)(x, y)
///
/// by bilinear interpolation, where c is the image centre; A rotates by θ, shears by φ and
/// scales by (s_x, s_y); t translates; and u is a field of independent uniform(−1, 1)
/// displacements smoothed by a normalised Gaussian of width σ (zero beyond the border, as
/// scipy's `gaussian_filter(mode="constant")`) and scaled by α. Every parameter is drawn
/// uniformly per image from a range symmetric about the identity. Points outside the image read
/// `background`.
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
    /// Largest translation per axis, in pixels.
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

    /// Ciresan et al. 2010's MNIST distortions: elastic σ = 6, α = 36; rotation up to 15°; scaling
    /// up to 15 % per axis.
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
        check(elasticSigma.isFinite && elasticSigma > 0, "ImageDeformation: elasticSigma must be finite and > 0, got \(elasticSigma)")
        check(scale < 1, "ImageDeformation: scale must be below 1 (a scale factor of 1 − scale must stay positive), got \(scale)")
        check(abs(shear) < 90, "ImageDeformation: shear must be below 90°, got \(shear)")
        check(background.isFinite, "ImageDeformation: background must be finite, got \(background)")
        let n = images.shape[0], pixels = height * width
        if n == 0 { return images.detached().contiguous() }
        // All random numbers first, in one fixed order: the result cannot depend on the threads.
        let affine = Tensor<Double>.uniform([n, 6], low: -1, high: 1, generator: generator).scalars
        let field = elasticAlpha > 0 ? Tensor<Double>.uniform([n, 2, pixels], low: -1, high: 1, generator: generator).scalars : []
        let kernel = Self.gaussianKernel(sigma: elasticSigma, radius: Swift.min(Int((3 * elasticSigma).rounded(.up)), Swift.max(height, width) - 1))
        let input = images.detached().contiguous().scalars
        var output = [S](repeating: 0, count: n * pixels)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let degrees = Double.pi / 180
        output.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Kernels.parallelFor(n) { i in
                let r = affine[(6 * i)..<(6 * i + 6)].map { $0 }
                let theta = rotation * degrees * r[0], sx = 1 + scale * r[1], sy = 1 + scale * r[2]
                let phi = shear * degrees * r[3], tx = translation * r[4], ty = translation * r[5]
                // A = R(θ) · [[1, tan φ], [0, 1]] · diag(sx, sy); its inverse maps output to input.
                let c = cos(theta), s = sin(theta), k = tan(phi)
                let a00 = c * sx, a01 = (c * k - s) * sy, a10 = s * sx, a11 = (s * k + c) * sy
                let det = a00 * a11 - a01 * a10
                let i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det
                var dx = [Double](repeating: 0, count: pixels), dy = dx
                if elasticAlpha > 0 {
                    dx = Self.smooth(field[(2 * i * pixels)..<((2 * i + 1) * pixels)], height: height, width: width, kernel: kernel, scale: elasticAlpha)
                    dy = Self.smooth(field[((2 * i + 1) * pixels)..<((2 * i + 2) * pixels)], height: height, width: width, kernel: kernel, scale: elasticAlpha)
                }
                let base = i * pixels
                for y in 0..<height {
                    for x in 0..<width {
                        let qx = Double(x) - cx, qy = Double(y) - cy, p = y * width + x
                        let srcX = i00 * qx + i01 * qy + cx + tx + dx[p]
                        let srcY = i10 * qx + i11 * qy + cy + ty + dy[p]
                        out.value[base + p] = S(Self.bilinear(input, offset: base, height: height, width: width, x: srcX, y: srcY, background: background))
                    }
                }
            }
        }
        return Tensor(shape: images.shape, scalars: output)
    }

    /// Normalised Gaussian weights exp(−k²/2σ²) for k in −radius…radius.
    static func gaussianKernel(sigma: Double, radius: Int) -> [Double] {
        let w = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// Separable Gaussian smoothing of one field with zeros beyond the border, times `scale`.
    static func smooth(_ field: ArraySlice<Double>, height: Int, width: Int, kernel: [Double], scale: Double) -> [Double] {
        let radius = kernel.count / 2, start = field.startIndex
        var rows = [Double](repeating: 0, count: height * width), result = rows
        for y in 0..<height {
            for x in 0..<width {
                var acc = 0.0
                for k in Swift.max(-radius, -x)...Swift.min(radius, width - 1 - x) { acc += kernel[k + radius] * field[start + y * width + x + k] }
                rows[y * width + x] = acc
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                var acc = 0.0
                for k in Swift.max(-radius, -y)...Swift.min(radius, height - 1 - y) { acc += kernel[k + radius] * rows[(y + k) * width + x] }
                result[y * width + x] = acc * scale
            }
        }
        return result
    }

    /// The input image at `offset` read at (x, y) by bilinear interpolation, `background` outside.
    /// At integer coordinates it returns the pixel exactly.
    static func bilinear<S: TensorScalar>(_ input: [S], offset: Int, height: Int, width: Int, x: Double, y: Double, background: Double) -> Double {
        guard x.isFinite && y.isFinite else { return background }
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = x - Double(x0), fy = y - Double(y0)
        func pixel(_ px: Int, _ py: Int) -> Double {
            px >= 0 && px < width && py >= 0 && py < height ? Double(input[offset + py * width + px]) : background
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
