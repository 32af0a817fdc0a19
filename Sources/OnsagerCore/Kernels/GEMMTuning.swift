import COnsagerKernels

/// The GEMM's blocking family: which cache blocking the AVX-512 Float kernel uses.
///
/// Chosen at run time from the CPU vendor (CPUID): Intel CPUs get shallower K blocks and packed B
/// panels, sized for their 48 KB L1; every other CPU gets the blocking measured on AMD Zen 4 and
/// Zen 5. Both compute the same products; they sum in a different order, so their last bits may
/// differ (as between instruction sets). Results never depend on the thread count.
public enum GEMMTuning: Sendable, CaseIterable {
    /// The blocking measured on AMD Zen 4 and Zen 5, used on every CPU but Intel's.
    case general
    /// The blocking measured on an Intel Xeon with AVX-512.
    case intel

    init(code: Int32) { self = code == Int32(ONSAGER_GEMM_TUNING_INTEL) ? .intel : .general }

    var code: Int32 { self == .intel ? Int32(ONSAGER_GEMM_TUNING_INTEL) : Int32(ONSAGER_GEMM_TUNING_GENERAL) }
}

extension Kernels {
    /// The GEMM blocking family in force for the calling thread (see ``GEMMTuning``).
    public static var gemmTuning: GEMMTuning { GEMMTuning(code: onsager_gemm_tuning()) }

    /// Sets the GEMM blocking family for the calling thread and the kernel jobs it starts (`nil`:
    /// the one detected from the CPU). For tests and benchmarks that compare the two on one machine.
    public static func selectGEMMTuning(_ tuning: GEMMTuning?) {
        onsager_force_gemm_tuning(tuning?.code ?? -1)
    }
}
