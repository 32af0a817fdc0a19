import OnsagerCore
import Foundation

/// MNIST-format datasets (MNIST, Fashion-MNIST): images scaled to [0, 1] as rows of a
/// [n, 784] tensor, and integer labels.
public struct MNIST<Scalar: TensorScalar> {
    public enum Split: String, Sendable { case train, test }
    public let images: Tensor<Scalar>
    public let labels: [Int]
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

    /// The first folder that exists among: `explicit`, `$ONSAGER_DATA/<name>`, `../shared/data/<name>`,
    /// `shared/data/<name>`, and (for fashion-mnist) Debian's `/usr/share/datasets/fashion-mnist`.
    public static func locate(_ name: String = "mnist", explicit: String? = nil) throws -> String {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment["ONSAGER_DATA"] { candidates.append((env as NSString).appendingPathComponent(name)) }
        candidates += ["../shared/data/\(name)", "shared/data/\(name)"]
        if name == "fashion-mnist" { candidates.append("/usr/share/datasets/fashion-mnist") }
        for c in candidates {
            let probe = (c as NSString).appendingPathComponent("t10k-labels-idx1-ubyte")
            if FileManager.default.fileExists(atPath: probe + ".gz") || FileManager.default.fileExists(atPath: probe) { return c }
        }
        throw DataError.notFound(dataset: name, searched: candidates)
    }
}

extension Tensor {
    /// 1 where the value exceeds `threshold`, else 0.
    public func binarized(threshold: Scalar = 0.5) -> Tensor { withoutGrad { self .> Tensor(threshold) } }
    /// Each value replaced by a Bernoulli sample with that probability (fixed by the generator).
    public func stochasticallyBinarized(generator: RandomGenerator = .current) -> Tensor { Tensor.bernoulli(self, generator: generator) }
}
