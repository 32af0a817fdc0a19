#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Output helpers for command-line programs and tutorials.
public enum Console {
    /// Makes standard output line-buffered, so progress lines reach a log file (or pipe) as they
    /// are printed rather than when the buffer fills.
    public static func useLineBuffering() { setvbuf(stdout, nil, _IOLBF, 0) }
}
