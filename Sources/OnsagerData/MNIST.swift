import OnsagerCore
import Foundation

/// MNIST-format datasets (MNIST, Fashion-MNIST): images scaled to [0, 1] as rows of a
/// [n, 784] tensor, and integer labels.
public struct MNIST<Scalar: TensorScalar> {
    /// Which file pair to read.
    public enum Split: String, Sendable {
        /// The 60,000 training images (`train-*`).
        case train
        /// The 10,000 test images (`t10k-*`).
        case test
    }
    /// Images as rows, [n, 784], values in [0, 1].
    public let images: Tensor<Scalar>
    /// Class labels 0–9, one per row of `images`.
    public let labels: [Int]
    /// Number of images.
    public var count: Int { labels.count }

    /// Loads a split from a folder holding `train-images-idx3-ubyte(.gz)` etc.
    public init(directory: String, split: Split) throws {
        let prefix = split == .train ? "train" : "t10k"
        func find(_ stem: String) throws -> String {
            for name in [stem + ".gz", stem] {
                let p = (directory as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw DataError.cannotOpen(path: (directory as NSString).appendingPathComponent(stem + ".gz"), reason: "no such file (also tried without .gz)")
        }
        let imagePath = try find("\(prefix)-images-idx3-ubyte"), labelPath = try find("\(prefix)-labels-idx1-ubyte")
        let img = try IDX.read(imagePath), lab = try IDX.read(labelPath)
        guard img.shape.count == 3 else { throw DataError.mismatch(path: imagePath, reason: "expected 3 dimensions, found \(img.shape)") }
        guard lab.shape.count == 1 else { throw DataError.mismatch(path: labelPath, reason: "expected 1 dimension, found \(lab.shape)") }
        guard img.shape[0] == lab.shape[0] else {
            throw DataError.mismatch(path: labelPath, reason: "\(lab.shape[0]) labels for \(img.shape[0]) images in \(imagePath)")
        }
        if let bad = lab.bytes.firstIndex(where: { $0 > 9 }) {
            throw DataError.malformed(path: labelPath, offset: 8 + bad, reason: "label \(lab.bytes[bad]) is not a digit 0-9")
        }
        let n = img.shape[0], d = img.shape[1] * img.shape[2]
        var t = Tensor<Scalar>(uninitializedShape: [n, d])
        t.withUnsafeMutableScalars { dst in
            for i in 0..<(n * d) { dst[i] = Scalar(img.bytes[i]) / 255 }
        }
        images = t
        labels = lab.bytes.map(Int.init)
    }

    /// The folder of dataset `name` ("mnist" or "fashion-mnist"): see `DatasetLocator`.
    public static func locate(_ name: String = "mnist", explicit: String? = nil) throws -> String {
        try DatasetLocator.locate(name, containing: "t10k-labels-idx1-ubyte", gzipAllowed: true, explicit: explicit)
    }
}
