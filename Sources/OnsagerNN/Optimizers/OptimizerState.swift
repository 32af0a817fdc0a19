import OnsagerCore

/// Helpers for optimizers' per-position state.
enum OptimizerState {
    /// `values` extended with `fill` up to `count` entries (never shortened, so restored state survives).
    static func padded<T>(_ values: [T], to count: Int, with fill: T) -> [T] {
        values + Array(repeating: fill, count: Swift.max(0, count - values.count))
    }
    static func export<S>(_ prefix: String, _ values: [Tensor<S>?]) -> [String: Tensor<S>] {
        var out: [String: Tensor<S>] = [:]
        for (i, v) in values.enumerated() { if let v { out["\(prefix).\(i)"] = v } }
        return out
    }
    static func restore<S>(_ prefix: String, from dict: [String: Tensor<S>]) -> [Tensor<S>?] {
        let keys = dict.keys.filter { $0.hasPrefix(prefix + ".") }
        let indices = keys.compactMap { Int($0.dropFirst(prefix.count + 1)) }
        guard let n = indices.max() else { return [] }
        return (0...n).map { dict["\(prefix).\($0)"] }
    }
    static func counts<S>(_ prefix: String, _ values: [Int]) -> [String: Tensor<S>] {
        Dictionary(uniqueKeysWithValues: values.enumerated().map { ("\(prefix).\($0.offset)", Tensor<S>(S($0.element))) })
    }
    static func restoreCounts<S>(_ prefix: String, from dict: [String: Tensor<S>]) -> [Int] {
        restore(prefix, from: dict).map { $0.map { Int(Double($0.item)) } ?? 0 }
    }
}
