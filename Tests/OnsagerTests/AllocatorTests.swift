import Foundation
import Testing
@testable import OnsagerCore

/// Tensor buffers and the heap they come from.
@Suite struct AllocatorTests {
    /// The memory mapping (a line of /proc/self/smaps's header and its fields) holding `address`.
    static func mappingFlags(containing address: UInt) throws -> (range: String, flags: [String])? {
        // Read to the end: /proc files report no size, and a sized read stops at the first page.
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? file.close() }
        let smaps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        var inside: String?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), !first.hasSuffix(":") {
                let bounds = first.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= address && address < bounds[1] ? String(first) : nil
            } else if let range = inside, line.hasPrefix("VmFlags:") {
                return (range, fields.dropFirst().map(String.init))
            }
        }
        return nil
    }

    /// Large buffers lie in memory advised to use transparent huge pages ("hg" among the
    /// mapping's flags), unless ONSAGER_HUGE_PAGES=0: one of 4 MiB and one of 48 MiB in the malloc
    /// arena of the test's thread (usually one of its own: under `swift test` no test runs on the
    /// main thread, not even on the main actor; but a CI run of the whole suite has put one in
    /// the main heap). The main thread's heap, and memory grown back after a trim, are checked by
    /// Benchmarks/huge-pages.c, which CI runs.
    @Test func largeBuffersComeFromMemoryAdvisedForHugePages() throws {
        #if os(Linux)
        let environment = ProcessInfo.processInfo.environment
        // Off by request, or because glibc's own tunable does the advice.
        guard environment["ONSAGER_HUGE_PAGES"] != "0", !(environment["GLIBC_TUNABLES"] ?? "").contains("glibc.malloc.hugetlb") else { return }
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else {
            print("AllocatorTests: skipped, this kernel has no transparent huge pages")
            return
        }
        for count in [1 << 20, 12 << 20] {
            let t = Tensor<Float>(repeating: 1, shape: [count])
            // Its middle: a buffer from the main heap may begin in the little heap that existed
            // before the advice began (glibc shares arenas, the main one included, among many threads).
            let address = t.withUnsafeScalars { UInt(bitPattern: $0.baseAddress) + UInt($0.count / 2 * MemoryLayout<Float>.stride) }
            let mapping = try #require(try Self.mappingFlags(containing: address), "no mapping holds the buffer's middle, \(String(address, radix: 16))")
            #expect(mapping.flags.contains("hg"), "the mapping \(mapping.range) holding the middle of a buffer of \(count) floats has flags \(mapping.flags), without hg (MADV_HUGEPAGE)")
            #expect(t.sum().item == Float(count))
        }
        #endif
    }
}
