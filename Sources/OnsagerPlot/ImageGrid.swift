import OnsagerCore
import CZlib
import Foundation

/// A grid of grayscale images (filters, samples) written as an SVG that embeds one PNG.
///
/// ```swift
/// let grid = ImageGrid(images: rbm.weights.T.sliced(axis: 0, 0..<100), height: 28, width: 28, columns: 10)
/// try grid.write(to: URL(fileURLWithPath: "filters.svg"), title: "first 100 filters")
/// ```
public struct ImageGrid {
    /// Pixels of the whole grid in [0, 1], row-major.
    public let pixels: [Double]
    /// Width of the grid in pixels.
    public let pixelWidth: Int
    /// Height of the grid in pixels.
    public let pixelHeight: Int

    /// Lays out the rows of `images` ([n, height·width]) in `columns` columns with a 1-pixel gap.
    /// With `normalizeEach`, each image is scaled to its own min–max range (for filters).
    public init<S: TensorScalar>(images: Tensor<S>, height: Int, width: Int, columns: Int, normalizeEach: Bool = false) {
        check(columns >= 1 && height >= 1 && width >= 1, "ImageGrid: columns, height and width must be positive, got \(columns), \(height), \(width)")
        check(images.rank == 2 && images.shape[1] == height * width,
              "ImageGrid: images of shape \(images.shape) are not rows of \(height)×\(width) pixels")
        let n = images.shape[0], rows = (n + columns - 1) / columns
        pixelWidth = columns * (width + 1) + 1
        pixelHeight = rows * (height + 1) + 1
        var px = [Double](repeating: 0.5, count: pixelWidth * pixelHeight)
        let values = images.scalars.map { Double($0) }
        for k in 0..<n {
            let img = values[(k * height * width)..<((k + 1) * height * width)]
            var lo = 0.0, hi = 1.0
            if normalizeEach { lo = img.min() ?? 0; hi = img.max() ?? 1; if hi - lo < 1e-12 { hi = lo + 1 } }
            let r0 = (k / columns) * (height + 1) + 1, c0 = (k % columns) * (width + 1) + 1
            for y in 0..<height {
                for x in 0..<width {
                    let v = (img[img.startIndex + y * width + x] - lo) / (hi - lo)
                    px[(r0 + y) * pixelWidth + c0 + x] = Swift.min(1, Swift.max(0, v))
                }
            }
        }
        pixels = px
    }

    /// The grid as an 8-bit grayscale PNG.
    public func png() -> [UInt8] { PNG.grayscale(pixels: pixels.map { UInt8(($0 * 255).rounded()) }, width: pixelWidth, height: pixelHeight) }

    /// An SVG showing the grid scaled by `scale`, with a title above it. The canvas is widened
    /// (the grid centred) when the title is wider than a small grid, so it is never cut off.
    public func svg(title: String, scale: Int = 3) -> String {
        let w = pixelWidth * scale, h = pixelHeight * scale
        let canvas = Swift.max(w, Int((Double(title.count) * 8.0).rounded(.up)) + 20), left = (canvas - w) / 2
        let b64 = Data(png()).base64EncodedString()
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(canvas)" height="\(h + 30)" font-family="sans-serif" font-size="14">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(canvas / 2)" y="20" text-anchor="middle">\(escape(title))</text>
        <image x="\(left)" y="30" width="\(w)" height="\(h)" style="image-rendering:pixelated" href="data:image/png;base64,\(b64)"/>
        </svg>

        """
    }

    /// Writes the SVG atomically.
    public func write(to url: URL, title: String, scale: Int = 3) throws { try AtomicFile.write(svg(title: title, scale: scale), to: url) }
}
