import COnsagerKernels

/// Thread count and instruction-set information for the kernels.
public enum Kernels {
    /// The most threads the pool runs (larger requests are clamped to it).
    public static let maximumThreadCount = 64

    /// Threads used by large ops (default: `ONSAGER_THREADS`, else the number of cores). Values
    /// outside 1…`maximumThreadCount` are clamped into it.
    public static var threadCount: Int {
        get { Int(onsager_get_num_threads()) }
        set { onsager_set_num_threads(Int32(Swift.min(Swift.max(newValue, 1), maximumThreadCount))) }
    }

    /// The vector instruction set chosen at run time: "avx512", "avx2" or "portable".
    public static var instructionSet: String { String(cString: onsager_isa_name()) }

    /// Caps the instruction set (2 = AVX-512, 1 = AVX2, 0 = portable) for the calling thread and
    /// the kernel jobs it starts; other threads keep theirs. For tests and benchmarks.
    @discardableResult public static func limitInstructionSet(_ level: Int) -> Int {
        Int(onsager_force_isa_level(Int32(level)))
    }
}
