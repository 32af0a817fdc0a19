import OnsagerCore
import CZlib
import Foundation

/// Gzip-or-plain files through zlib, shared by the readers and writers of this module: reading
/// inflates with a bound (a small file must not expand without limit) and names the file and the
/// decompressed offset of any damage; writing compresses in memory and lands atomically.
enum CompressedFile {
    /// Opens a regular file for gzip-or-plain reading (zlib passes plain files through).
    static func open(_ path: String) throws -> gzFile {
        try RegularFile.check(path)
        guard let gz = gzopen(path, "rb") else { throw DataError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        return gz
    }

    /// Up to `count` decompressed bytes (fewer at the end of the stream); corrupt data throws.
    static func read(_ gz: gzFile, upTo count: Int, path: String, offset: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while out.count < count {
            let want = Swift.min(buffer.count, count - out.count)
            let n = buffer.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32(want)) }
            if n < 0 {
                var code: Int32 = 0
                throw DataError.corruptCompression(path: path, offset: offset + out.count, message: String(cString: gzerror(gz, &code)))
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<Int(n)])
        }
        // A stream cut short ends without error from gzread; zlib reports it here.
        var code: Int32 = 0
        let msg = gzerror(gz, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw DataError.corruptCompression(path: path, offset: offset + out.count, message: msg.map { String(cString: $0) } ?? "zlib error \(code)")
        }
        return out
    }

    /// The whole (decompressed) content, at most `limit` bytes: a larger content is an error.
    static func readAll(_ path: String, limit: Int) throws -> [UInt8] {
        let gz = try open(path)
        defer { gzclose(gz) }
        let out = try read(gz, upTo: limit, path: path, offset: 0)
        if out.count == limit, try !read(gz, upTo: 1, path: path, offset: limit).isEmpty {
            throw DataError.malformed(path: path, offset: limit, reason: "decompresses to more than \(limit) bytes")
        }
        return out
    }

    /// Writes `bytes` to `path` atomically (`AtomicFile`), gzipped when `compressed`.
    static func write(_ bytes: [UInt8], to path: String, compressed: Bool) throws {
        try AtomicFile.write(Data(compressed ? try gzip(bytes, path: path) : bytes), to: URL(fileURLWithPath: path))
    }

    /// The gzip encoding of `bytes` (deflate with a gzip wrapper, default level).
    static func gzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.cannotOpen(path: path, reason: "zlib could not start compressing")
        }
        defer { deflateEnd(&stream) }
        var input = bytes
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        let status = input.withUnsafeMutableBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst -> Int32 in
                stream.next_in = src.baseAddress
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw DataError.cannotOpen(path: path, reason: "zlib compression failed (\(status))") }
        return Array(out[0..<Int(stream.total_out)])
    }
}
