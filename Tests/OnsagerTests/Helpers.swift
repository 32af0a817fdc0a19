import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

/// |a − b| ≤ atol + rtol·|b| elementwise, with the same shape.
func allClose<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rtol: Double = 1e-12, atol: Double = 1e-12) -> Bool {
    guard a.shape == b.shape else { return false }
    return zip(a.scalars, b.scalars).allSatisfy { x, y in
        let dx = Double(x), dy = Double(y)
        if dx == dy { return true }
        if dx.isNaN && dy.isNaN { return true }
        return Swift.abs(dx - dy) <= atol + rtol * Swift.abs(dy)
    }
}

func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-300) -> Double {
    zip(a, b).map { x, y in x == y ? 0 : Swift.abs(x - y) / Swift.max(Swift.abs(y), floor) }.max() ?? 0
}

/// Deterministic test inputs, the same formulas as Golden/make_golden.py.
enum Inputs {
    static func x<S: TensorScalar>(_: S.Type = Double.self) -> Tensor<S> {
        Tensor(shape: [3, 4], scalars: (0..<12).map { S(3.0 * Foundation.sin(0.7 * Double($0) + 0.3)) })
    }
    static func p<S: TensorScalar>(_: S.Type = Double.self) -> Tensor<S> {
        Tensor(shape: [3, 4], scalars: (0..<12).map { S(Foundation.exp(Foundation.sin(1.3 * Double($0)))) })
    }
    static func w<S: TensorScalar>(_: S.Type = Double.self) -> Tensor<S> {
        Tensor(shape: [4, 5], scalars: (0..<20).map { S(Foundation.cos(0.5 * Double($0) - 1.0)) })
    }
    static func big<S: TensorScalar>(_: S.Type = Double.self) -> Tensor<S> {
        Tensor([-1000.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1000.0].map { S($0) })
    }
    /// Smooth random values of a shape, seeded.
    static func random(_ shape: [Int], seed: UInt64, low: Double = -1, high: Double = 1) -> Tensor<Double> {
        Tensor<Double>.uniform(shape, low: low, high: high, generator: RandomGenerator(seed: seed))
    }
}

/// The committed numpy golden values.
struct Golden {
    struct Case: Decodable { let shape: [Int]; let values: [Double] }
    struct File: Decodable { let generator: String; let cases: [String: Case] }
    static let file: File = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/ops.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(File.self, from: data)
    }()
    static func tensor<S: TensorScalar>(_ name: String, _: S.Type = Double.self) -> Tensor<S> {
        guard let c = file.cases[name] else { fatalError("golden case \(name) missing") }
        return Tensor(shape: c.shape, scalars: c.values.map { S($0) })
    }
}

/// This test process's scratch directory, `$TMPDIR/onsager-tests-<pid>`, removed with
/// everything in it when the process exits, so a test run leaves nothing behind.
let scratchDirectory: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("onsager-tests-\(getpid())")
    try? FileManager.default.removeItem(at: url)   // left by a crashed run that had this process id
    do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    catch { fatalError("tests: cannot create the scratch directory \(url.path): \(error)") }
    atexit { try? FileManager.default.removeItem(at: scratchDirectory) }
    return url
}()

/// A path named `name` in this process's scratch directory (see `scratchDirectory`).
func scratchURL(_ name: String) -> URL { scratchDirectory.appendingPathComponent(name) }
