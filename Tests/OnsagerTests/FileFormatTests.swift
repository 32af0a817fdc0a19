import Foundation
import Testing
import Onsager
@testable import OnsagerData

/// `.npy` against numpy's own files (Golden/npy.json from make_npy_golden.py), and CSV written,
/// gzipped and read back.
@Suite struct FileFormatTests {
    static var golden: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/npy.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }
    static func cases(_ key: String) -> [(String, [UInt8], [Int], [Double], String?)] {
        (golden[key] as! [String: [String: Any]]).sorted { $0.key < $1.key }.map { name, c in
            (name, [UInt8](Data(base64Encoded: c["npy"] as! String)!), c["shape"] as! [Int], c["values"] as! [Double], c["dtype"] as? String)
        }
    }
    func tempPath(_ name: String) -> String { dataTestPath(name, folder: "formats") }
    func write(_ bytes: [UInt8], _ name: String) -> String {
        let p = tempPath(name)
        try! Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Every dtype, byte order, memory order and shape numpy wrote reads back as its values.
    @Test func readsWhatNumpyWrites() throws {
        for (name, bytes, shape, values, _) in Self.cases("read") {
            let t = try NPY.read(write(bytes, "\(name).npy"), as: Double.self)
            #expect(t.shape == shape, "\(name)")
            #expect(t.scalars == values, "\(name): \(t.scalars) vs \(values)")
        }
    }

    /// What Onsager writes is byte for byte what numpy.save writes for the same array.
    @Test func writesWhatNumpyWrites() throws {
        for (name, bytes, shape, values, dtype) in Self.cases("write") {
            let p = tempPath("\(name)-onsager.npy")
            if dtype == "float32" { try NPY.write(Tensor<Float>(shape: shape, scalars: values.map(Float.init)), to: p) }
            else { try NPY.write(Tensor<Double>(shape: shape, scalars: values), to: p) }
            let mine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
            #expect(mine == bytes, "\(name): \(mine.count) bytes vs numpy's \(bytes.count)")
        }
        let t = Tensor<Float>.uniform([3, 4], generator: RandomGenerator(seed: 1)), gz = tempPath("round.npy.gz")
        try NPY.write(t, to: gz)
        #expect(try NPY.read(gz, as: Float.self).scalars == t.scalars)
    }

    /// Damaged or hostile files give errors naming the file and offset, before any allocation.
    @Test func malformedFilesAreRefused() {
        let (_, good, _, _, _) = Self.cases("write").first { $0.0 == "f8_1d" }!
        func header(_ dict: String) -> [UInt8] {
            let d = dict + "\n"
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(d.utf8.count), 0] + Array(d.utf8)
        }
        let cases: [(String, [UInt8], (DataError) -> Bool)] = [
            ("magic", [0x94] + good.dropFirst(), { if case .malformed(_, 0, _) = $0 { return true }; return false }),
            ("short", Array(good[0..<7]), { if case .truncated = $0 { return true }; return false }),
            ("version", Array(good[0..<6]) + [9] + good.dropFirst(7), { if case .malformed(_, 6, _) = $0 { return true }; return false }),
            ("header length", Array(good[0..<8]) + [0xff, 0xff] + good.dropFirst(10), { if case .truncated = $0 { return true }; return false }),
            ("data cut", Array(good.dropLast(3)), { if case .truncated = $0 { return true }; return false }),
            ("trailing", good + [1, 2], { if case .trailingBytes(_, _, 2) = $0 { return true }; return false }),
            ("overflow", header("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 4), }"),
             { if case .badDimensions = $0 { return true }; return false }),
            ("dtype", header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }") + [UInt8](repeating: 0, count: 16),
             { if case let .malformed(_, _, r) = $0 { return r.contains("unsupported dtype '<c16'") }; return false }),
            ("object", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), { if case .malformed = $0 { return true }; return false }),
            ("shape", header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"), { if case .malformed = $0 { return true }; return false }),
            ("no shape", header("{'descr': '<f8', 'fortran_order': False}"), { if case .malformed = $0 { return true }; return false }),
        ]
        for (name, bytes, expected) in cases {
            let p = write(bytes, "bad-\(name.replacingOccurrences(of: " ", with: "-")).npy")
            do { _ = try NPY.read(p, as: Double.self); Issue.record("\(name): expected an error") } catch let e as DataError {
                #expect(expected(e), "\(name): \(e)")
                #expect(e.description.hasPrefix(p), "\(name): the message names the file: \(e)")
            } catch { Issue.record("\(name): \(error)") }
        }
    }

    /// CSV written (plain and gzipped) reads back exactly; a header line is skipped on request;
    /// a damaged .gz is reported as compression damage, not as bad text.
    @Test func csvRoundTripsPlainAndGzipped() throws {
        let t = Tensor<Double>.normal([4, 3], generator: RandomGenerator(seed: 2)) * 1e-3
        for name in ["t.csv", "t.csv.gz"] {
            let p = tempPath(name)
            try CSV.write(t, to: p, header: ["a", "b", "c"])
            #expect(try CSV.read(p, skipHeader: true).flatMap { $0 } == t.scalars, "\(name)")
        }
        let f = Tensor<Float>([0.1, 1e-30, -3.5])
        let pf = tempPath("f.csv")
        try CSV.write(f, to: pf)
        #expect(try CSV.read(pf).map { Float($0[0]) } == f.scalars)
        let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tempPath("t.csv.gz"))))
        let damaged = write(Array(gz[0..<(gz.count / 2)]) + [UInt8](repeating: 0x55, count: 8), "damaged.csv.gz")
        do { _ = try CSV.read(damaged); Issue.record("expected an error") } catch let e as DataError {
            guard case .corruptCompression = e else { Issue.record("\(e)"); return }
        }
    }
}
