import Foundation
import Onsager

/// The machine a result was measured on, for tables and page headers (CPUs change between
/// machines, and speed figures mean nothing without them).
public enum MachineDescription {
    /// "AMD EPYC (family 25 model 17), 2 CPUs, 1 thread(s)": the CPU model from /proc/cpuinfo, the
    /// CPUs this process may use and the kernel threads.
    public static var current: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ key: String) -> String? {
            info.split(separator: "\n").first { $0.hasPrefix(key) }.map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) }
        }
        let model = field("model name") ?? "unknown CPU"
        let family = field("cpu family").map { " (family \($0) model \(field("model\t") ?? "?"))" } ?? ""
        return "\(model)\(family), \(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(Kernels.threadCount) thread(s)"
    }
}
