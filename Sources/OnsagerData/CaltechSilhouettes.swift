import Foundation
import OnsagerCore

/// The Caltech-101 silhouettes (Marlin et al. 2010), 28×28 binary, standard split.
public struct CaltechSilhouettes<Scalar: TensorScalar> {
    /// Training images, [4100, 784].
    public let train: Tensor<Scalar>
    /// Validation images, [2264, 784].
    public let validation: Tensor<Scalar>
    /// Test images, [2307, 784].
    public let test: Tensor<Scalar>
    /// Class labels of the training images (1–101).
    public let trainLabels: [Int]
    /// Class labels of the validation images.
    public let validationLabels: [Int]
    /// Class labels of the test images.
    public let testLabels: [Int]

    /// Loads `caltech101_silhouettes_28_split1.mat` from `directory`. The file stores each image's
    /// pixels column-major; they are reordered row-major here (upright images). Values are kept as
    /// stored: 1 is background, as in the RBM literature's use of this set.
    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("caltech101_silhouettes_28_split1.mat")
        let m = try MATFile.read(path)
        func images(_ key: String) throws -> Tensor<Scalar> {
            guard let x = m[key] else { throw DataError.mismatch(path: path, reason: "no matrix '\(key)'") }
            guard x.columns == 784 else { throw DataError.mismatch(path: path, reason: "'\(key)' has \(x.columns) columns, expected 784") }
            var v = [Scalar](repeating: 0, count: x.rows * 784)
            for r in 0..<x.rows { for i in 0..<28 { for j in 0..<28 { v[r * 784 + i * 28 + j] = Scalar(x.values[r * 784 + j * 28 + i]) } } }
            return Tensor(shape: [x.rows, 784], scalars: v)
        }
        func labels(_ key: String, for images: Tensor<Scalar>) throws -> [Int] {
            guard let y = m[key] else { throw DataError.mismatch(path: path, reason: "no matrix '\(key)'") }
            return try Self.classLabels(y.values, count: images.shape[0], key: key, path: path)
        }
        train = try images("train_data"); validation = try images("val_data"); test = try images("test_data")
        trainLabels = try labels("train_labels", for: train); validationLabels = try labels("val_labels", for: validation)
        testLabels = try labels("test_labels", for: test)
    }

    /// The dataset's folder ("caltech101-silhouettes"): see `DatasetLocator`.
    public static func locate(explicit: String? = nil) throws -> String {
        try DatasetLocator.locate("caltech101-silhouettes", containing: "caltech101_silhouettes_28_split1.mat", explicit: explicit)
    }

    /// Class numbers 1…101 from a label matrix: exactly `count` of them, each a whole number in
    /// range (a fractional, non-finite or out-of-range value is an error, never truncated).
    static func classLabels(_ values: [Double], count: Int, key: String, path: String) throws -> [Int] {
        guard values.count == count else { throw DataError.mismatch(path: path, reason: "'\(key)' has \(values.count) labels for \(count) images") }
        return try values.enumerated().map { i, v in
            guard v.isFinite, v == v.rounded(), (1...101).contains(v) else {
                throw DataError.mismatch(path: path, reason: "'\(key)' entry \(i) is \(v), not a class number 1…101")
            }
            return Int(v)
        }
    }
}
