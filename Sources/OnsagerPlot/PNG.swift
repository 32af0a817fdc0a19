import OnsagerCore
import CZlib

/// A minimal PNG encoder (8-bit grayscale), using zlib for deflate and CRC-32.
public enum PNG {
    /// The bytes of an 8-bit grayscale PNG of `pixels` (row-major, `width` × `height`).
    public static func grayscale(pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        check(pixels.count == width * height, "PNG: \(pixels.count) pixels for \(width)×\(height)")
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)   // filter: none
            raw.append(contentsOf: pixels[(y * width)..<((y + 1) * width)])
        }
        var destLen = compressBound(uLong(raw.count))
        var deflated = [UInt8](repeating: 0, count: Int(destLen))
        let rc = compress2(&deflated, &destLen, raw, uLong(raw.count), 9)
        check(rc == Z_OK, "PNG: zlib compress failed (\(rc))")
        deflated.removeSubrange(Int(destLen)...)
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            return be32(UInt32(data.count)) + body + be32(crc)
        }
        let header = be32(UInt32(width)) + be32(UInt32(height)) + [8, 0, 0, 0, 0]   // 8-bit gray
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", deflated) + chunk("IEND", [])
    }
}
