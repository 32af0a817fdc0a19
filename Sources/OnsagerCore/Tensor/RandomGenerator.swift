import Foundation

/// A seeded, counter-based random number generator (SplitMix64 on a counter).
///
/// Element i of a draw depends only on the seed and its position in the stream, never on the
/// thread that computed it, so seeded runs are bit-identical for any thread count. Draws advance
/// the counter; a generator is safe to share between threads (draws are serialised).
public final class RandomGenerator: @unchecked Sendable {
    /// The seed this generator was made with.
    public let seed: UInt64
    private var counter: UInt64 = 0
    private let lock = NSLock()

    /// A generator with the given seed.
    public init(seed: UInt64) { self.seed = seed }

    /// Position in the stream (number of values drawn, rounded up to even after normal draws).
    /// Setting it moves the stream there, so a run resumed from a checkpoint draws what the
    /// uninterrupted run would have drawn.
    public var position: UInt64 {
        get { lock.lock(); defer { lock.unlock() }; return counter }
        set { lock.lock(); defer { lock.unlock() }; counter = newValue }
    }

    /// Reserves `n` positions, starting at an even one when `even` (Box–Muller pairs).
    func reserve(_ n: Int, even: Bool = false) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        if even { counter = (counter + 1) & ~1 }
        let start = counter
        counter &+= UInt64(n)
        if even { counter = (counter + 1) & ~1 }
        return start
    }

    /// The process-wide generator used when none is passed (seed it with `manualSeed`).
    public static let global = RandomGenerator(seed: 0x5EED)
    nonisolated(unsafe) private static var globalOverride: RandomGenerator?
    private static let overrideLock = NSLock()

    /// Replaces the default generator by a fresh one with `seed` (like `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) {
        overrideLock.lock(); defer { overrideLock.unlock() }
        globalOverride = RandomGenerator(seed: seed)
    }

    /// The generator in force when none is passed.
    public static var current: RandomGenerator {
        overrideLock.lock(); defer { overrideLock.unlock() }
        return globalOverride ?? global
    }

    /// A uniformly random integer in [0, n).
    public func nextInt(below n: Int) -> Int {
        check(n > 0, "nextInt(below:): n must be positive")
        var u: Double = 0
        Double.kernelRandomUniform(seed, reserve(1), &u, 1, 0, 1)
        return Swift.min(Int(u * Double(n)), n - 1)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        var u = [Double](repeating: 0, count: n)
        u.withUnsafeMutableBufferPointer { Double.kernelRandomUniform(seed, reserve(n), $0.baseAddress!, n, 0, 1) }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Swift.min(Int(u[i] * Double(i + 1)), i)
            p.swapAt(i, j)
        }
        return p
    }
}
