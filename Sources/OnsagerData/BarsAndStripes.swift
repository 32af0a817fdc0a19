import OnsagerCore

/// The bars-and-stripes patterns (MacKay): every n×n binary image whose rows are all equal
/// (horizontal stripes) or whose columns are all equal (vertical bars); 2^(n+1) − 2 distinct
/// images. Embedded (generated), small enough for exact likelihoods of RBMs trained on it.
public enum BarsAndStripes {
    /// All distinct patterns as rows of a [count, n·n] tensor (the all-off and all-on images once).
    public static func patterns<S: TensorScalar>(size n: Int = 4, as: S.Type = Float.self) -> Tensor<S> {
        check(n >= 2 && n <= 6, "BarsAndStripes: size must be 2...6, got \(n)")
        var rows: [[S]] = []
        var seen = Set<[S]>()
        for vertical in [false, true] {
            for code in 0..<(1 << n) {
                var img = [S](repeating: 0, count: n * n)
                for r in 0..<n {
                    for c in 0..<n {
                        let bit = vertical ? (code >> c) & 1 : (code >> r) & 1
                        img[r * n + c] = S(bit)
                    }
                }
                if seen.insert(img).inserted { rows.append(img) }
            }
        }
        return Tensor(rows)
    }
}
