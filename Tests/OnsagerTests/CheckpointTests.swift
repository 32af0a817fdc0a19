import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct CheckpointTests {
    func tempURL(_ name: String) -> URL {
        let dir = scratchURL("onsager-ckpt")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
    func model(_ seed: UInt64) -> Sequential<Float> {
        let g = RandomGenerator(seed: seed)
        return Sequential([Dense(inputSize: 5, outputSize: 7, generator: g), Activation(.tanh), BatchNorm(features: 7),
                           Dense(inputSize: 7, outputSize: 2, generator: g)])
    }

    /// Save mid-training (model and Adam state), load into fresh objects, continue: bit-identical.
    @Test func resumeTrainingExactly() throws {
        let x = Tensor<Float>.normal([16, 5], generator: RandomGenerator(seed: 1)), y = Tensor<Float>.normal([16, 2], generator: RandomGenerator(seed: 2))
        func step(_ m: inout Sequential<Float>, _ o: inout Adam<Float>) {
            m.zeroGradients()
            Loss.meanSquaredError(m(x), y).backward()
            m.update(with: &o)
        }
        var a = model(3), oa = Adam<Float>(learningRate: 0.01)
        for _ in 0..<3 { step(&a, &oa) }
        let url = tempURL("resume.safetensors")
        let optimizerURL = tempURL("resume.optimizer.safetensors")
        try Checkpoint.save(a, metadata: ["epoch": "3"], to: url)
        try Checkpoint.save(optimizer: oa, to: optimizerURL)
        var b = model(99), ob = Adam<Float>(learningRate: 0.01)
        try Checkpoint.load(into: &b, from: url)
        try Checkpoint.load(optimizer: &ob, from: optimizerURL)
        #expect(b.stateDict.map(\.value.scalars) == a.stateDict.map(\.value.scalars))
        #expect(b.parameters.allSatisfy { $0.requiresGrad })
        for _ in 0..<2 { step(&a, &oa); step(&b, &ob) }
        #expect(b.parameters.map(\.scalars) == a.parameters.map(\.scalars), "continued training matches bit for bit")
        let (_, meta) = try Safetensors.read(url, as: Float.self)
        #expect(meta["epoch"] == "3")
        let dir = scratchURL("onsager-ckpt-atomic")
        try? FileManager.default.removeItem(at: dir)
        try Checkpoint.save(a, to: dir.appendingPathComponent("only.safetensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["only.safetensors"], "atomic write leaves no temporary file")
    }

    @Test func strictLoadingNamesWhatIsWrong() throws {
        let url = tempURL("strict.safetensors")
        try Checkpoint.save(model(4), to: url)
        var smaller = Sequential<Float>([Dense(inputSize: 5, outputSize: 7)])
        do { try Checkpoint.load(into: &smaller, from: url); Issue.record("expected an error") } catch let e as CheckpointError {
            guard case let .unexpected(_, names) = e else { Issue.record("\(e)"); return }
            #expect(names.contains("3.weight") && names.contains("2.running_mean"))
        }
        try Checkpoint.load(into: &smaller, from: url, strict: false)   // non-strict: takes what fits
        var bigger = Sequential<Float>([Dense(inputSize: 5, outputSize: 7), Activation(.tanh), BatchNorm(features: 7),
                                        Dense(inputSize: 7, outputSize: 2), Dense(inputSize: 2, outputSize: 1)])
        #expect(throws: CheckpointError.missing(path: url.path, names: ["4.weight", "4.bias"])) { try Checkpoint.load(into: &bigger, from: url) }
        var wrongShape = Sequential<Float>([Dense(inputSize: 5, outputSize: 6), Activation(.tanh), BatchNorm(features: 7), Dense(inputSize: 7, outputSize: 2)])
        #expect(throws: CheckpointError.shapeMismatch(path: url.path, name: "0.weight", file: [7, 5], model: [6, 5])) {
            try Checkpoint.load(into: &wrongShape, from: url)
        }
    }

    @Test func malformedFiles() throws {
        let url = tempURL("bad.safetensors")
        for bytes: [UInt8] in [[1, 2, 3], [200, 0, 0, 0, 0, 0, 0, 0, 123], [2, 0, 0, 0, 0, 0, 0, 0, 91, 93],
                               Array("\u{30}\0\0\0\0\0\0\0{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9]}}  ".utf8)] {
            try Data(bytes).write(to: url)
            do { _ = try Safetensors.read(url, as: Float.self); Issue.record("expected an error for \(bytes.prefix(12))") } catch let e as CheckpointError {
                #expect("\(e)".contains(url.path))
            }
        }
    }

    /// A file written by PyTorch (Golden/from_torch.safetensors, made by safetensors_check.py)
    /// reads with identical values; and a file written here is what that script verifies.
    @Test func interoperatesWithPyTorch() throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/from_torch.safetensors")
        let (t, meta) = try Safetensors.read(golden, as: Double.self)
        let w = (0..<3).flatMap { i in (0..<4).map { j in Double(Float(sin(Double(i + 2 * j)))) } }
        #expect(t["w"]!.shape == [3, 4] && t["w"]!.scalars == w)
        #expect(t["b"]!.scalars == (0..<4).map { cos(Double($0)) })
        #expect(meta["writer"] == "torch")
        // The file that `python3 safetensors_check.py verify $TMPDIR/onsager-safetensors-check.safetensors` checks.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("onsager-safetensors-check.safetensors")
        try Safetensors.writeMixed(float32: [("w", Tensor<Float>(shape: [3, 4], scalars: w.map(Float.init)))],
                                   float64: [("b", Tensor<Double>((0..<4).map { cos(Double($0)) }))], metadata: ["writer": "onsager"], to: out)
        let back = try Safetensors.read(out, as: Double.self).tensors
        #expect(back["w"]!.scalars == w && back["b"]!.scalars == (0..<4).map { cos(Double($0)) })
    }

    /// Half-precision and int64 entries (bit patterns written by hand): read when conversion is
    /// asked for, refused with a message naming the entry otherwise; unknown types always refused.
    @Test func halfAndIntegerEntriesNeedConsent() throws {
        func file(_ header: String, _ payload: [UInt8]) throws -> URL {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var bytes = withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) }
            bytes += h + payload
            let url = tempURL("half-\(header.count).safetensors")
            try Data(bytes).write(to: url)
            return url
        }
        let url = try file(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"i":{"dtype":"I64","shape":[1],"data_offsets":[6,14]}}"#,
                           [0x00, 0x3E, 0x00, 0xC0, 0x00, 0xC0, 7, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: CheckpointError.unconvertedType(path: url.path, name: "b", dtype: "BF16", convertible: true)) {
            _ = try Safetensors.read(url, as: Float.self)
        }
        let t = try Safetensors.read(url, as: Double.self, convertingTypes: true).tensors
        #expect(t["h"]!.scalars == [1.5, -2] && t["b"]!.scalars == [-2] && t["i"]!.scalars == [7])
        let bad = try file(#"{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, [1])
        #expect(throws: CheckpointError.unconvertedType(path: bad.path, name: "u", dtype: "U8", convertible: false)) {
            _ = try Safetensors.read(bad, as: Float.self, convertingTypes: true)
        }
    }

    /// Files that lie about sizes are refused with a message, never a crash or a huge allocation;
    /// as the reference implementation, tensors must tile the data buffer exactly.
    @Test func lyingHeadersAreRefused() throws {
        func file(_ header: String, _ payload: [UInt8], declaredLength: UInt64? = nil) throws -> URL {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var bytes = withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { Array($0) }
            bytes += h + payload
            let url = tempURL("lying-\(UInt32.random(in: 0...UInt32.max)).safetensors")
            try Data(bytes).write(to: url)
            return url
        }
        let cases: [(String, URL, String)] = [
            ("a shape whose element count wraps around", try file(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, []), "impossible shape"),
            ("a negative dimension", try file(#"{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}}"#, []), "impossible shape"),
            ("offsets near 2^63", try file(#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[9223372036854775800,9223372036854775807]}}"#, []), "do not fit"),
            ("overlapping tensors", try file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, Array(repeating: 0, count: 8)), "overlap"),
            ("a gap", try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, Array(repeating: 0, count: 12)), "gap"),
            ("trailing bytes", try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 9)), "bytes after the last tensor"),
            ("metadata that is not strings", try file(#"{"__metadata__":{"epoch":3}}"#, []), "__metadata__"),
            ("a header length beyond the limit", try file("{}", [], declaredLength: 1 << 40), "exceeds the limit"),
            ("a name given twice", try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4)), "more than once"),
        ]
        for (what, url, expected) in cases {
            do { _ = try Safetensors.read(url, as: Float.self); Issue.record("\(what): accepted") } catch let e as CheckpointError {
                #expect("\(e)".contains(expected), "\(what): \(e)")
            }
        }
        #expect(Shape.checkedCount([1 << 32, 1 << 32]) == nil && Shape.checkedCount([-1, 2]) == nil && Shape.checkedCount([3, 0, 1 << 50]) == 0)
    }

    /// A save killed mid-write leaves a temporary file; the next save to the same place removes it.
    @Test func interruptedSavesAreCleanedUp() throws {
        let dir = scratchURL("onsager-stale")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A process id that cannot be running (above the kernel's pid_max of 2^22).
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent(".model.safetensors.onsager-tmp-99999999-42"))
        try Data([4]).write(to: dir.appendingPathComponent(".other.safetensors.onsager-tmp-99999999-42"))
        try Checkpoint.save(model(5), to: dir.appendingPathComponent("model.safetensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [".other.safetensors.onsager-tmp-99999999-42", "model.safetensors"],
                "the stale temporary of this file is gone; another file's is left to its own next save")
    }
}
