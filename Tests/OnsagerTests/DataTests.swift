import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

let mnistDirectory = try? MNIST<Float>.locate("mnist")

/// A path for `name` in this process's temporary folder `folder` (created if needed).
func dataTestPath(_ name: String, folder: String) -> String {
    let dir = scratchURL("onsager-\(folder)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

@Suite struct DataTests {
    func tempPath(_ name: String) -> String { dataTestPath(name, folder: "tests") }

    @Test func idxRoundTripGzipAndRaw() throws {
        let payload = (0..<(3 * 4 * 5)).map { UInt8($0 % 256) }
        for compressed in [true, false] {
            let p = tempPath("a-\(compressed).idx")
            try IDX.writeFile(IDX.encode(shape: [3, 4, 5], bytes: payload), to: p, compressed: compressed)
            let a = try IDX.read(p)
            #expect(a.shape == [3, 4, 5] && a.bytes == payload)
        }
    }

    @Test func malformedFilesThrowTypedErrorsNamingFileAndOffset() throws {
        let good = IDX.encode(shape: [2, 3], bytes: [1, 2, 3, 4, 5, 6])
        func decodeError(_ bytes: [UInt8]) -> DataError? {
            do { _ = try IDX.decode(bytes, path: "x.idx"); return nil } catch let e as DataError { return e } catch { return nil }
        }
        #expect(decodeError(good) == nil)
        #expect(decodeError([0, 1, 8, 2] + good.dropFirst(4)) == .badMagic(path: "x.idx", found: [0, 1, 8, 2]))
        #expect(decodeError([0, 0, 0x0d] + good.dropFirst(3)) == .unsupportedElementType(path: "x.idx", code: 0x0d))
        #expect(decodeError(Array(good.dropLast(2))) == .truncated(path: "x.idx", offset: 16, expectedBytes: 2, availableBytes: 0))
        #expect(decodeError(good + [9]) == .trailingBytes(path: "x.idx", offset: 18, count: 1))
        #expect(decodeError([0, 0, 8, 9]) == .badDimensions(path: "x.idx", offset: 3, reason: "9 dimensions (expected 1 to 4)"))
        #expect(decodeError(Array(good.prefix(6))) == .truncated(path: "x.idx", offset: 6, expectedBytes: 6, availableBytes: 0))
        #expect(decodeError(IDX.encode(shape: [0, 3], bytes: [])) == .badDimensions(path: "x.idx", offset: 4, reason: "dimension 0 has size 0"))
        #expect("\(DataError.truncated(path: "f", offset: 5, expectedBytes: 2, availableBytes: 0))".contains("f: truncated at offset 5"))
        // A missing file.
        #expect(throws: DataError.self) { try IDX.read(tempPath("does-not-exist.gz")) }
    }

    @Test func corruptAndTruncatedGzipStreams() throws {
        let p = tempPath("c.idx.gz")
        let bytes = IDX.encode(shape: [64, 64], bytes: (0..<4096).map { UInt8(($0 * 7) % 251) })
        try IDX.writeFile(bytes, to: p, compressed: true)
        var gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        // Cut the stream short: zlib reports an unexpected end, named with the file.
        let cut = tempPath("cut.idx.gz")
        try Data(gz.prefix(gz.count / 2)).write(to: URL(fileURLWithPath: cut))
        do { _ = try IDX.read(cut); Issue.record("expected an error") } catch let e as DataError {
            #expect("\(e)".contains(cut))
        }
        // Flip bytes inside the deflate data.
        for i in stride(from: 20, to: Swift.min(gz.count - 8, 60), by: 3) { gz[i] ^= 0x5a }
        let bad = tempPath("bad.idx.gz")
        try Data(gz).write(to: URL(fileURLWithPath: bad))
        #expect(throws: DataError.self) { try IDX.read(bad) }
    }

    /// Fuzz: random mutations and truncations of an MNIST-style header never crash the reader.
    @Test func fuzzMutatedHeaders() {
        let g = RandomGenerator(seed: 99)
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]   // train-images' header
        let base = header.prefix(8) + [0, 0, 0, 2, 0, 0, 0, 3] + [UInt8](repeating: 7, count: 6)   // a small valid body
        var outcomes = (ok: 0, error: 0)
        for trial in 0..<3000 {
            var b = trial % 2 == 0 ? Array(base) : header + [UInt8](repeating: 1, count: g.nextInt(below: 64))
            for _ in 0..<(1 + g.nextInt(below: 4)) {
                if b.isEmpty { break }
                switch g.nextInt(below: 3) {
                case 0: b[g.nextInt(below: b.count)] = UInt8(g.nextInt(below: 256))
                case 1: b = Array(b.prefix(g.nextInt(below: b.count + 1)))
                default: b.append(UInt8(g.nextInt(below: 256)))
                }
            }
            do { _ = try IDX.decode(b, path: "fuzz"); outcomes.ok += 1 } catch is DataError { outcomes.error += 1 } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
        #expect(outcomes.error > 1000 && outcomes.ok + outcomes.error == 3000)
    }

    @Test(.enabled(if: mnistDirectory != nil, "MNIST not found: set ONSAGER_DATA or provide ../shared/data/mnist"))
    func realMNIST() throws {
        let test = try MNIST<Float>(directory: mnistDirectory!, split: .test)
        #expect(test.images.shape == [10000, 784] && test.count == 10000)
        #expect(Array(test.labels.prefix(5)) == [7, 2, 1, 0, 4])
        #expect(test.images.max().item == 1 && test.images.min().item == 0)
        let mean = test.images.mean().item
        #expect(mean > 0.12 && mean < 0.14)
    }

    @Test func binarization() {
        let x = Tensor<Float>([0.1, 0.6, 0.5, 0.9])
        #expect(x.binarized().scalars == [0, 1, 0, 1])
        let s = Tensor<Float>(repeating: 0.25, shape: [10000]).stochasticallyBinarized(generator: RandomGenerator(seed: 1))
        #expect(Swift.abs(s.mean().item - 0.25) < 0.02)
    }
}

let caltechDirectory = try? CaltechSilhouettes<Float>.locate()

@Suite struct MATFileTests {
    @Test(.enabled(if: caltechDirectory != nil, "Caltech-101 silhouettes not found: set ONSAGER_DATA or provide ../shared/data/caltech101-silhouettes"))
    func realCaltechSilhouettes() throws {
        let c = try CaltechSilhouettes<Float>(directory: caltechDirectory!)
        #expect(c.train.shape == [4100, 784] && c.validation.shape == [2264, 784] && c.test.shape == [2307, 784])
        #expect(Set(c.train.scalars) == [0, 1])
        #expect(c.trainLabels.min() == 1 && Set(c.trainLabels + c.validationLabels + c.testLabels).count == 101)
        let background = c.train.mean().item
        #expect(background > 0.5 && background < 0.6, "about 55% of pixels are 1 (background): \(background)")
    }

    @Test func rejectsNonMATFiles() throws {
        let p = scratchURL("not-a-mat.mat").path
        try Data(repeating: 65, count: 200).write(to: URL(fileURLWithPath: p))
        #expect(throws: DataError.self) { try MATFile.read(p) }
        try Data(repeating: 65, count: 20).write(to: URL(fileURLWithPath: p))
        #expect(throws: DataError.self) { try MATFile.read(p) }
        // A corrupt compressed element names the file.
        var bytes = [UInt8](repeating: 32, count: 128)
        bytes[126] = UInt8(ascii: "I"); bytes[127] = UInt8(ascii: "M")
        bytes += [15, 0, 0, 0, 16, 0, 0, 0] + [UInt8](repeating: 0xab, count: 16)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        do { _ = try MATFile.read(p); Issue.record("expected an error") } catch let e as DataError { #expect("\(e)".contains(p)) }
    }
}

/// Untrusted files: sizes are checked before anything is allocated or inflated.
@Suite struct UntrustedDataTests {
    func tempPath(_ name: String) -> String { dataTestPath(name, folder: "untrusted") }

    /// A small gzip file that declares 10 items but inflates to 20 MB stops after the 10 (and one
    /// more byte): an error, not a 20 MB (or 1 GiB) buffer.
    @Test func idxNeverInflatesMoreThanItsHeaderDeclares() throws {
        let p = tempPath("bomb.idx.gz")
        try IDX.writeFile(IDX.encode(shape: [10], bytes: Array(repeating: 7, count: 10)) + Array(repeating: 0, count: 20_000_000), to: p, compressed: true)
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int ?? 0
        #expect(size < 100_000)
        do { _ = try IDX.read(p); Issue.record("expected an error") } catch let e as DataError {
            guard case let .trailingBytes(path, offset, _) = e else { Issue.record("\(e)"); return }
            #expect(path == p && offset == 4 + 4 + 10)
        }
        #expect(throws: DataError.malformed(path: p, offset: 1000, reason: "decompresses to more than 1000 bytes")) { try IDX.readFile(p, limit: 1000) }
    }

    @Test func devicesFifosAndDirectoriesAreRefused() throws {
        let fifo = tempPath("fifo")
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in ["/dev/zero", fifo, FileManager.default.temporaryDirectory.path] {
            #expect(throws: DataError.cannotOpen(path: path, reason: "not a regular file")) { try IDX.read(path) }
            #expect(throws: DataError.cannotOpen(path: path, reason: "not a regular file")) { try CSV.read(path) }
        }
    }

    @Test func csvRejectsNulNonFiniteAndEmptyInput() throws {
        func csv(_ text: [UInt8]) throws -> String { let p = tempPath("t\(text.count)-\(text.first ?? 0).csv"); try Data(text).write(to: URL(fileURLWithPath: p)); return p }
        let nul = try csv(Array("1,2\n3,".utf8) + [0] + Array("4\n".utf8))
        #expect(throws: DataError.malformed(path: nul, offset: 6, reason: "a NUL byte (not a text file)")) { try CSV.read(nul) }
        for bad in ["1,nan\n", "1,inf\n", "1,1e400\n"] {
            let p = try csv(Array(bad.utf8))
            #expect(throws: DataError.self) { try CSV.read(p) }
            #expect(try CSV.read(p, allowNonFinite: true)[0][1].isFinite == false)
        }
        let empty = try csv(Array("\n \n".utf8))
        #expect(throws: DataError.malformed(path: empty, offset: 0, reason: "no rows of numbers")) { try CSV.read(empty) }
    }

    /// A MAT file whose matrix declares (2³¹ − 1) × 784 doubles with 8 bytes of data is refused
    /// before allocating; so are negative dimensions. Labels must be whole class numbers.
    @Test func matSizesAreCheckedBeforeAllocating() throws {
        let ok = try MATFile.read(writeTestMAT(rows: 1, columns: 2, data: [1.5, -2], to: tempPath("ok.mat")))
        #expect(ok["x"]?.values == [1.5, -2] && ok["x"]?.rows == 1)
        for (r, c) in [(Int32.max, 784), (-1, 784), (3, -5)] as [(Int32, Int32)] {
            let p = try writeTestMAT(rows: r, columns: c, data: [1], to: tempPath("m\(r)x\(c).mat"))
            do { _ = try MATFile.read(p); Issue.record("\(r)×\(c) accepted") } catch let e as DataError {
                guard case .badDimensions = e else { Issue.record("\(e)"); return }
            }
        }
        #expect(throws: DataError.self) { try CaltechSilhouettes<Float>.classLabels([1, 2.7], count: 2, key: "k", path: "p") }
        #expect(throws: DataError.self) { try CaltechSilhouettes<Float>.classLabels([1, .nan], count: 2, key: "k", path: "p") }
        #expect(throws: DataError.self) { try CaltechSilhouettes<Float>.classLabels([1, 2], count: 3, key: "k", path: "p") }
        #expect(try CaltechSilhouettes<Float>.classLabels([1, 101], count: 2, key: "k", path: "p") == [1, 101])
    }
}

/// A minimal MAT v5 file with one uncompressed double matrix "x" (dimensions as given, even if
/// they lie about the data).
func writeTestMAT(rows: Int32, columns: Int32, data: [Double], to p: String) throws -> String {
    func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    func i32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    func padded(_ b: [UInt8]) -> [UInt8] { b + Array(repeating: 0, count: (8 - b.count % 8) % 8) }
    var body: [UInt8] = u32(6) + u32(8) + u32(6) + u32(0)                                 // array flags: class 6 (double)
    body += u32(5) + u32(8) + i32(rows) + i32(columns)                                   // dimensions
    body += u32(1) + u32(1) + padded(Array("x".utf8))                                    // name
    let bytes = data.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
    body += u32(9) + u32(UInt32(bytes.count)) + padded(bytes)                           // data (double)
    var file = Array("MATLAB 5.0 MAT-file, written by a test".utf8)
    file += Array(repeating: 0x20, count: 116 - file.count) + Array(repeating: 0, count: 8) + [0x00, 0x01] + Array("IM".utf8)
    file += u32(14) + u32(UInt32(body.count)) + body
    try Data(file).write(to: URL(fileURLWithPath: p))
    return p
}

/// Seeded mutations of valid files (bytes flipped, cut, duplicated, zeroed): every reader either
/// reads the result or throws its typed error; a crash, trap or hang fails the whole suite.
@Suite struct MutationFuzzTests {
    func mutations(of valid: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
        let g = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            var b = valid
            for _ in 0..<(1 + g.nextInt(below: 4)) {
                guard !b.isEmpty else { break }
                let i = g.nextInt(below: b.count)
                switch g.nextInt(below: 6) {
                case 0: b[i] ^= UInt8(1 << g.nextInt(below: 8))
                case 1: b[i] = [0, 0xff, 0x7f, 0x80, UInt8(ascii: "9"), UInt8(ascii: "-")][g.nextInt(below: 6)]
                case 2: b.removeSubrange(i..<Swift.min(b.count, i + 1 + g.nextInt(below: 16)))
                case 3: b.insert(contentsOf: b[i..<Swift.min(b.count, i + 1 + g.nextInt(below: 16))], at: i)
                case 4: b = Array(b[0..<i])
                default: for k in i..<Swift.min(b.count, i + 8) { b[k] = 0xff }
                }
            }
            return b
        }
    }

    @Test func readersSurviveMutatedFiles() throws {
        let dir = scratchURL("onsager-mutants")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let st = dir.appendingPathComponent("valid.safetensors")
        try Safetensors.write([("w", Tensor<Float>([[1, 2], [3, 4]])), ("b", Tensor<Float>([0.5]))], metadata: ["k": "v"], to: st)
        let csv = Array("1,2.5,3\n4,5,6e-3\n-7,8,9\n".utf8)
        let idx = IDX.encode(shape: [3, 2, 2], bytes: Array(0..<12))
        let mat = try [UInt8](Data(contentsOf: URL(fileURLWithPath: writeTestMAT(rows: 2, columns: 3, data: [1, 2, 3, 4, 5, 6], to: dir.appendingPathComponent("v.mat").path))))
        let npyPath = dir.appendingPathComponent("v.npy").path
        try NPY.write(Tensor<Float>([[1, 2, 3], [4, 5, 6]]), to: npyPath)
        let npy = [UInt8](try Data(contentsOf: URL(fileURLWithPath: npyPath)))
        var outcomes = [String: (read: Int, refused: Int)]()
        let readers: [(String, [UInt8], (String) throws -> Void)] = [
            ("safetensors", try [UInt8](Data(contentsOf: st)), { _ = try Safetensors.read(URL(fileURLWithPath: $0), as: Double.self, convertingTypes: true) }),
            ("csv", csv, { _ = try CSV.read($0) }),
            ("idx", idx, { _ = try IDX.read($0) }),
            ("mat", mat, { _ = try MATFile.read($0) }),
            ("npy", npy, { _ = try NPY.read($0, as: Double.self) }),
        ]
        for (name, valid, read) in readers {
            for (k, bytes) in mutations(of: valid, count: 600, seed: 1000 + UInt64(name.count)).enumerated() {
                let p = dir.appendingPathComponent("\(name)-\(k)").path
                try Data(bytes).write(to: URL(fileURLWithPath: p))
                do { try read(p); outcomes[name, default: (0, 0)].read += 1 }
                catch is CheckpointError { outcomes[name, default: (0, 0)].refused += 1 }
                catch is DataError { outcomes[name, default: (0, 0)].refused += 1 }
                catch { Issue.record("\(name) mutant \(k): untyped error \(error)") }
            }
        }
        for (name, o) in outcomes { #expect(o.read + o.refused == 600 && o.refused > 0, "\(name): \(o)") }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// The fuzzers' seed corpus: small valid files written by Onsager itself, into
/// $ONSAGER_FUZZ_CORPUS when set (Tests/Fuzz/run sets it; the files are generated, never
/// committed, as data files stay out of the repository), else into a temporary folder, and read back.
@Suite struct FuzzCorpusTests {
    @Test func seedsAreWrittenAndRead() throws {
        let fm = FileManager.default
        let corpus = ProcessInfo.processInfo.environment["ONSAGER_FUZZ_CORPUS"].map { URL(fileURLWithPath: $0) }
            ?? scratchURL("onsager-corpus")
        func dir(_ name: String) throws -> URL {
            let d = corpus.appendingPathComponent(name)
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            return d
        }
        try Safetensors.write([("w", Tensor<Float>([[1, 2], [3, 4]])), ("b", Tensor<Float>([0.5]))], metadata: ["epoch": "1"], to: dir("safetensors").appendingPathComponent("mixed.safetensors"))
        try Safetensors.write([("x", Tensor<Double>.eye(3))], to: dir("safetensors").appendingPathComponent("double.safetensors"))
        try IDX.writeFile(IDX.encode(shape: [2, 3, 3], bytes: Array(0..<18)), to: dir("idx").appendingPathComponent("images.idx").path, compressed: false)
        try IDX.writeFile(IDX.encode(shape: [5], bytes: [1, 2, 3, 4, 5]), to: dir("idx").appendingPathComponent("labels.idx.gz").path, compressed: true)
        _ = try writeTestMAT(rows: 2, columns: 3, data: [1, 2, 3, 4, 5, 6], to: dir("mat").appendingPathComponent("matrix.mat").path)
        try Data("1,2.5,3\n4,5,6e-3\n".utf8).write(to: dir("csv").appendingPathComponent("numbers.csv"))
        try NPY.write(Tensor<Double>([[1, 2], [3, 4]]), to: dir("npy").appendingPathComponent("matrix.npy").path)
        try NPY.write(Tensor<Float>([0.5, -1]), to: dir("npy").appendingPathComponent("vector.npy.gz").path)
        #expect(try Safetensors.read(corpus.appendingPathComponent("safetensors/mixed.safetensors"), as: Float.self).tensors["w"]?.shape == [2, 2])
        #expect(try IDX.read(corpus.appendingPathComponent("idx/labels.idx.gz").path).bytes == [1, 2, 3, 4, 5])
        #expect(try MATFile.read(corpus.appendingPathComponent("mat/matrix.mat").path)["x"]?.columns == 3)
        #expect(try CSV.read(corpus.appendingPathComponent("csv/numbers.csv").path).count == 2)
        #expect(try NPY.read(corpus.appendingPathComponent("npy/vector.npy.gz").path, as: Float.self).scalars == [0.5, -1])
    }
}
