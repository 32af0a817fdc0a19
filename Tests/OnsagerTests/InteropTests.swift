import Foundation
import Testing
@testable import OnsagerCore
@testable import OnsagerNN

/// Checkpoints against PyTorch, both ways (goldens from Golden/make_interop_golden.py).
@Suite struct InteropTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The equivalent of the script's torch.nn.Sequential, index for index.
    static func model(_ g: RandomGenerator) -> Sequential<Float> {
        Sequential([Conv2d(inChannels: 1, outChannels: 4, kernel: 3, padding: 1, generator: g), Activation(.relu), MaxPool2d(kernel: 2),
                    Conv2d(inChannels: 4, outChannels: 6, kernel: 3, generator: g), Activation(.gelu), Flatten(),
                    Dense(inputSize: 24, outputSize: 16, generator: g), BatchNorm(features: 16), Activation(.silu), LayerNorm(size: 16),
                    Dense(inputSize: 16, outputSize: 3, generator: g)])
    }

    /// The script's fixed input, from the same formula.
    static let input: Tensor<Float> = {
        var v: [Float] = []
        for n in 0..<5 { for i in 0..<8 { for j in 0..<8 {
            v.append(Float(sin(0.37 * Double(64 * n + 8 * i + j)) + 0.2 * cos(1.3 * Double(n) + Double(i))))
        } } }
        return Tensor(shape: [5, 1, 8, 8], scalars: v)
    }()

    static func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: golden.appendingPathComponent("interop.json"))) as! [String: Any]
    }

    @Test func aTorchStateDictLoadsStrictly() throws {
        let url = Self.golden.appendingPathComponent("interop_torch.safetensors")
        var m = Self.model(RandomGenerator(seed: 1))
        #expect(throws: CheckpointError.unconvertedType(path: url.path, name: "7.num_batches_tracked", dtype: "I64", convertible: true),
                "int64 entries are refused unless conversion is asked for") { try Checkpoint.load(into: &m, from: url) }
        try Checkpoint.load(into: &m, from: url, convertingTypes: true)
        #expect(m.namedBuffers.first { $0.name == "7.num_batches_tracked" }?.value.item == 2)
        m.evaluationMode()
        let want = (try Self.json()["torch_outputs"] as! [Double])
        let got = m(Self.input).scalars.map(Double.init)
        #expect(got.count == want.count && zip(got, want).allSatisfy { abs($0 - $1) <= 1e-6 }, "max difference \(zip(got, want).map { abs($0 - $1) }.max()!)")
    }

    /// Our file, from a seeded model trained two steps, is what the script loaded into torch with
    /// strict=True; torch's outputs from it equal ours.
    @Test func ourStateDictLoadsIntoTorch() throws {
        var m = Self.model(RandomGenerator(seed: 11))
        var opt = SGD<Float>(learningRate: 0.1)
        for step in 0..<2 {
            m.zeroGradients()
            (m(Self.input * Float(1 + step)) * m(Self.input * Float(1 + step))).mean().backward()
            m.update(with: &opt)
        }
        let committed = Self.golden.appendingPathComponent("interop_onsager.safetensors")
        let url = ProcessInfo.processInfo.environment["ONSAGER_WRITE_GOLDEN"] == "1" ? committed
            : scratchURL("onsager-interop.safetensors")
        try Checkpoint.save(m, metadata: ["writer": "onsager"], to: url)
        // The file torch loaded is the one we write: the same header byte for byte (names, dtypes,
        // shapes, offsets, metadata) and the same values up to the last bits of the two training
        // steps, which follow the GEMM blocking of the machine's instruction set.
        let ours = try Data(contentsOf: url), theirs = try Data(contentsOf: committed)
        let headerLength = Int(ours.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) + 8
        #expect(ours.count == theirs.count && ours.prefix(headerLength) == theirs.prefix(headerLength), "the header torch read is the one we write")
        let values = { (d: Data) in d.dropFirst(headerLength).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        let (a, b) = (values(ours), values(theirs))
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * Swift.max(1, abs($1)) }, "the values torch read are ours")
        m.evaluationMode()
        guard let want = try Self.json()["onsager_file_in_torch_outputs"] as? [Double] else {
            Issue.record("interop.json lacks the Onsager -> torch outputs; see Golden/make_interop_golden.py"); return
        }
        let got = m(Self.input).scalars.map(Double.init)
        #expect(got.count == want.count && zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "max difference \(zip(got, want).map { abs($0 - $1) }.max()!)")
    }
}
