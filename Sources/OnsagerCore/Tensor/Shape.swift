/// Shape arithmetic shared by the ops: element counts, row-major strides, numpy broadcasting,
/// axis normalisation and the error messages for each.
public enum Shape {
    /// The most elements one tensor may have: 2⁴⁰ (4 TiB of Float). Shapes from files, flags or
    /// arithmetic beyond it are refused with a message before anything is allocated.
    public static let maximumElementCount = 1 << 40

    /// Number of elements of a shape (1 for a scalar). Stops, naming the shape, when a dimension
    /// is negative or the product exceeds `maximumElementCount` (so it can never wrap around).
    @inlinable public static func count(_ shape: [Int]) -> Int {
        guard let n = checkedCount(shape) else { invalidShape(shape) }
        return n
    }

    /// The element count of a shape, or nil when it is invalid (a negative dimension, or more than
    /// `maximumElementCount` elements): for checking shapes read from input before use.
    @inlinable public static func checkedCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow || d < 0 || p > maximumElementCount { return nil }
            n = p
        }
        return n
    }

    @usableFromInline static func invalidShape(_ shape: [Int]) -> Never {
        check(false, "Shape: \(shape) has a negative dimension or more than \(maximumElementCount) elements")
        fatalError()
    }

    /// Row-major (C-order) strides of a shape, in elements.
    @inlinable public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        var i = shape.count - 1
        while i >= 0 {
            strides[i] = s
            s &*= Swift.max(shape[i], 1)
            i -= 1
        }
        return strides
    }

    /// The broadcast shape of two shapes by numpy rules; a mismatch names both shapes and the op.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        if a == b { return a }
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                fatalError("\(op): shapes \(a) and \(b) cannot be broadcast together (dimension \(i): \(da) vs \(db))")
            }
        }
        return out
    }

    /// Normalises a possibly negative axis for a tensor of the given rank.
    public static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        check(a >= 0 && a < Swift.max(rank, 1) && (rank > 0 || a == 0),
                     "\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
        return a
    }

    /// Normalised, sorted, de-duplicated axes.
    public static func axes(_ axes: [Int], rank: Int, op: String) -> [Int] {
        Array(Set(axes.map { axis($0, rank: rank, op: op) })).sorted()
    }

    /// Human-readable shape, e.g. `[2, 3]`.
    public static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
