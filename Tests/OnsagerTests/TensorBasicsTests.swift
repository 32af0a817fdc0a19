import Testing
#if canImport(Glibc)
import Glibc
#endif
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct TensorBasicsTests {
    typealias T = Tensor<Double>

    @Test func creationAndShapes() {
        let t = T(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.rank == 2 && t.scalarCount == 6 && t.shape == [2, 3])
        #expect(t[index: [1, 2]] == 6)
        #expect(T(3.5).shape == [] && T(3.5).item == 3.5)
        #expect(T.eye(3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(T.arange(0, 5, step: 2).scalars == [0, 2, 4])
        #expect(T.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(T([[1, 2], [3, 4]]).shape == [2, 2])
        #expect(T.zeros([0, 3]).scalarCount == 0)
        #expect(Tensor<Float>.ones([2]).dtype == .float32 && t.dtype == .float64)
        #expect(t.description.contains("[2, 3]"))
    }

    @Test func viewsShareStorageWithoutCopies() {
        let t = T(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let tt = t.T
        #expect(tt.storage === t.storage && !tt.isContiguous)
        #expect(tt.scalars == [1, 4, 2, 5, 3, 6])
        let r = t.reshaped([3, 2])
        #expect(r.storage === t.storage && r.isContiguous)
        let s = t.sliced(axis: 1, 0..<3, step: 2)
        #expect(s.storage === t.storage && s.scalars == [1, 3, 4, 6])
        let e = T([1, 2, 3]).expanded(to: [4, 3])
        #expect(e.strides == [0, 1] && e.sum().item == 24)
        #expect(t[1].scalars == [4, 5, 6] && t[0..<1].shape == [1, 3])
        #expect(t.unsqueezed(1).shape == [2, 1, 3] && t.unsqueezed(1).squeezed().shape == [2, 3])
        // Reshaping a non-contiguous view copies.
        let rt = tt.reshaped([6])
        #expect(rt.storage !== t.storage && rt.scalars == [1, 4, 2, 5, 3, 6])
        #expect(t.permuted([1, 0]).scalars == tt.scalars)
    }

    @Test func copyOnWriteKeepsValueSemantics() {
        let a = T([1, 2, 3])
        var b = a
        b.addInPlace(T([1, 1, 1]))
        #expect(a.scalars == [1, 2, 3] && b.scalars == [2, 3, 4])
        var c = T([1, 2, 3, 4]).sliced(axis: 0, 1..<3)
        c.fill(9)
        #expect(c.scalars == [9, 9])
        var d = T([1, 2])
        d.scaleInPlace(by: 3)
        d.multiplyInPlace(T([2, 0.5]))
        #expect(d.scalars == [6, 3])
        d.assign(T([7, 8]))
        #expect(d.scalars == [7, 8])
    }

    @Test func storageIsAlignedAndBlocksDoNotOverlap() {
        // Buffers come from plain malloc, 64-byte aligned by hand: every size, including empty
        // ones, must start on a cache line and keep its own bytes among many small neighbours.
        var tensors: [Tensor<Float>] = []
        for (i, n) in [0, 1, 3, 15, 16, 17, 100, 1000, 100_000].enumerated() {
            for j in 0..<20 { tensors.append(Tensor<Float>(repeating: Float(i * 100 + j), shape: [n])) }
        }
        for t in tensors { #expect(Int(bitPattern: t.storage.base) % 64 == 0, "shape \(t.shape)") }
        for (k, t) in tensors.enumerated() {
            let i = k / 20, j = k % 20
            #expect(t.scalars.allSatisfy { $0 == Float(i * 100 + j) }, "tensor \(k) of shape \(t.shape) was overwritten")
        }
        let d = Tensor<Double>(repeating: 2, shape: [3, 5])
        #expect(Int(bitPattern: d.storage.base) % 64 == 0 && d.scalars == Array(repeating: 2, count: 15))
    }

    @Test func allocationBeyondMemoryStopsWithAClearMessage() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            // A 256 GiB address-space limit makes the 4 TiB request fail whatever the kernel's
            // overcommit mode (mode 1 would otherwise grant it, untouched).
            #if canImport(Glibc)
            var limit = rlimit(rlim_cur: 256 << 30, rlim_max: 256 << 30)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
            #endif
            _ = Tensor<Double>(uninitializedShape: [1 << 39])   // 4 TiB, within the element limit
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("out of memory") && text.contains("\(8 << 39) bytes"), "\(text)")
        }
    }

    @Test func broadcastingFollowsNumpyRules() {
        let a = T(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = T(shape: [4, 1], scalars: [10, 20, 30, 40])
        let c = a + b
        #expect(c.shape == [2, 4, 3])
        #expect(c[index: [1, 2, 0]] == 34)
        #expect((a * 2 - 1).scalars == [1, 3, 5, 7, 9, 11])
        #expect((1 - a).scalars.first == 0 && (6 / a).scalars.last == 1)
    }

    @Test func comparisonsAndReductionsOnIntegers() {
        let x = T([3, -1, 4, 1, -5, 9])
        #expect((x .> 0).scalars == [1, 0, 1, 1, 0, 1])
        #expect((x .== 4).scalars == [0, 0, 1, 0, 0, 0])
        #expect(x.max().item == 9 && x.min().item == -5 && x.sum().item == 11)
        let m = x.reshaped([2, 3])
        #expect(m.argmax(axis: 1) == [2, 2] && m.argmax(axis: 0) == [0, 0, 1])
        #expect(m.sum(axes: [0, 1]).item == 11 && m.sum(axis: 0, keepDims: true).shape == [1, 3])
        #expect(T.oneHot([2, 0], classes: 3).scalars == [0, 0, 1, 1, 0, 0])
        #expect(concat([T([1, 2]), T([3])]).scalars == [1, 2, 3])
        #expect(stack([T([1, 2]), T([3, 4])], axis: 1).scalars == [1, 3, 2, 4])
        #expect(m.indexSelect(axis: 0, indices: [1, 1]).scalars == [1, -5, 9, 1, -5, 9])
        #expect(m.gathering(alongAxis: 1, indices: [0, 2]).scalars == [3, 9])
        #expect(x.clamped(min: 0, max: 4).scalars == [3, 0, 4, 1, 0, 4])
        let nan = T([1, .nan, 3])
        #expect(nan.max().item.isNaN && T.maximum(nan, T([0, 0, 0])).scalars[1].isNaN)
    }

    @Test func logSumExpAndSoftmaxAreStable() {
        let x = T([1000, 1000, -.infinity])
        #expect(Swift.abs(x.logSumExp().item - (1000 + 0.6931471805599453)) < 1e-12)
        #expect(T([-Double.infinity, -.infinity]).logSumExp().item == -.infinity)
        let s = T([[1000, 0], [-1000, 0]]).softmax(axis: 1)
        #expect(s.scalars == [1, 0, 0, 1])
        #expect(Tensor<Float>([100, -100]).softplus().scalars == [100, 0])
    }

    // Shape errors stop with a message naming both shapes and the op.
    @Test func shapeMismatchNamesBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("add") && text.contains("[2, 3]") && text.contains("[4]"), "\(text)")
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([4, 5]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("matmul") && text.contains("[2, 3]") && text.contains("[4, 5]"), "\(text)")
        }
    }

    // matmul with a bias (addmm) names both shapes too; CD refuses a batch recorded on the tape.
    @Test func addmmAndCDInputErrorsExplain() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([4, 5]), adding: Tensor<Float>.zeros([5]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("matmul") && text.contains("[2, 3]") && text.contains("[4, 5]"), "\(text)")
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([4, 3]).matmul(Tensor<Float>.zeros([3, 5]), adding: Tensor<Float>.zeros([3]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("matmul(_:_:adding:)") && text.contains("[4, 5]") && text.contains("[3]"), "\(text)")
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = RBM<Float>(visible: 4, hidden: 3)
            var cd = ContrastiveDivergence<Float>.cd(k: 1)
            _ = cd.loss(model, batch: Tensor<Float>.ones([2, 4]).requiringGrad() * 1)
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("ContrastiveDivergence") && text.contains("detached"), "\(text)")
        }
    }

    @Test func axisOutOfRangeNamesAxisAndRank() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).sum(axis: 2)
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("axis 2") && text.contains("rank 2"), "\(text)")
        }
    }

    @Test func backwardTwiceWithoutRetainExplains() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor<Double>([1, 2]).requiringGrad()
            let y = (x.exp() * 2).sum()
            y.backward()
            y.backward()
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("retainGraph"), "\(text)")
        }
    }

    /// indexSelect copies and adds whole blocks (one element, short and long runs); its value,
    /// gradient and gradient of gradient equal the element-by-element gather through a table of
    /// offsets (take / putAdd), bit for bit, repeated indices accumulating in the same order.
    @Test func indexSelectEqualsTheOffsetGather() {
        let g = RandomGenerator(seed: 41)
        for (shape, axis) in [([3, 5, 1], 1), ([2, 6, 5], 1), ([7, 40], 0), ([3, 4], 1)] {
            let x = Tensor<Double>.normal(shape, generator: g)
            let picks = [shape[axis] - 1, 0, shape[axis] - 1, 1, shape[axis] - 1]
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), n = shape[axis]
            var outShape = shape
            outShape[axis] = picks.count
            let offsets = (0..<outer).flatMap { o in picks.flatMap { i in (0..<inner).map { (o * n + i) * inner + $0 } } }
            func run(_ select: (Tensor<Double>) -> Tensor<Double>) -> [[Double]] {
                let xi = x.requiringGrad()
                let y = select(xi)
                let w = Tensor<Double>.normal(y.shape, generator: RandomGenerator(seed: 5))
                let gx = gradients(of: (y * y * w).sum(), wrt: [xi], createGraph: true)[0]
                let ggx = gradients(of: (gx * gx).sum(), wrt: [xi])[0]
                return [y.scalars, gx.scalars, ggx.scalars]
            }
            #expect(run { $0.indexSelect(axis: axis, indices: picks) } == run { $0.take(offsets: offsets, shape: outShape) }, "\(shape) axis \(axis)")
        }
    }

    /// Softmax along the last axis (one kernel per row) equals exp(x − logSumExp(x)) to rounding,
    /// for large, infinite and NaN entries alike, and its one-pass backward equals the composed one.
    @Test func softmaxRowsMatchTheComposedExpression() {
        let g = RandomGenerator(seed: 8)
        let x = Tensor<Double>.normal([6, 37], generator: g) * 4
        let wide = concat([x, Tensor<Double>([[1000, -1000, 999]] + Array(repeating: [0, 0, 0], count: 5))], axis: 1)
        let composed = (wide - wide.logSumExp(axis: 1, keepDims: true)).exp()
        // exp(x − s) carries a relative error of about |x − s|·ε itself (|x − s| reaches 30 here).
        #expect(maxRelativeError(wide.softmax().scalars, composed.scalars, floor: 1e-300) < 1e-13)
        let odd = Tensor<Double>([[-.infinity, 0, 1], [-.infinity, -.infinity, -.infinity], [.nan, 0, 1], [.infinity, 0, 1]])
        let s = odd.softmax().scalars
        // A row of −∞ and a row with NaN give NaN; +∞ gives NaN where it is and 0 elsewhere, as the composed form.
        #expect(s[0] == 0 && abs(s[1] + s[2] - 1) < 1e-15 && s[3..<9].allSatisfy(\.isNaN) && s[9].isNaN && s[10] == 0 && s[11] == 0, "\(s)")
        let c = (odd - odd.logSumExp(axis: 1, keepDims: true)).exp().scalars
        #expect(zip(s, c).allSatisfy { $0.isNaN == $1.isNaN }, "\(s) against \(c)")
        let xi = wide.requiringGrad(), w = Tensor<Double>.normal(wide.shape, generator: g)
        let fused = gradients(of: (xi.softmax() * w).sum(), wrt: [xi])[0]
        let reference = gradients(of: ((xi - xi.logSumExp(axis: 1, keepDims: true)).exp() * w).sum(), wrt: [xi])[0]
        #expect(maxRelativeError(fused.scalars, reference.scalars, floor: 1e-12) < 1e-10)
    }

    /// Log-softmax along the last axis (one kernel per row) has the bits of x − logSumExp(x), in
    /// Float and Double, at every row length that leaves a different vector tail, with large,
    /// infinite and NaN entries; its one-pass backward equals the composed one to rounding.
    @Test func logSoftmaxRowsHaveTheComposedBits() {
        let g = RandomGenerator(seed: 9)
        func composed<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x - x.logSumExp(axis: 1, keepDims: true) }
        for n in [1, 7, 16, 37, 64, 100, 1000] {
            let x = Tensor<Double>.normal([5, n], generator: g) * 6
            #expect(x.logSoftmax().scalars == composed(x).scalars, "Double, n \(n)")
            let f = x.converted(to: Float.self)
            #expect(f.logSoftmax().scalars == composed(f).scalars, "Float, n \(n)")
        }
        let odd = Tensor<Double>([[-.infinity, 0, 1], [-.infinity, -.infinity, -.infinity], [.nan, 0, 1], [.infinity, 0, 1], [1000, -1000, 999]])
        let got = odd.logSoftmax().scalars, want = composed(odd).scalars
        #expect(zip(got, want).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(got) against \(want)")
        // The same in rows long enough that the odd entry sits in a whole vector (the kernel folds
        // the row's maximum over vector lanes), and rows whose maximum is a zero of either sign.
        for n in [16, 37] {
            let base = (Tensor<Double>.normal([6, n], generator: g) * 3).scalars
            var rows = (0..<6).map { Array(base[($0 * n)..<($0 * n + n)]) }
            rows[0][3] = .nan
            rows[1][n - 5] = .infinity
            rows[2] = [Double](repeating: -.infinity, count: n)
            rows[3] = (0..<n).map { $0 % 3 == 0 ? -0.0 : -1 }
            rows[4] = (0..<n).map { $0 % 2 == 0 ? -0.0 : 0.0 }   // −0 in lane 0: the lane tree meets both signs
            rows[5][n - 1] = 1000
            for x in [Tensor<Double>(rows), Tensor<Double>(rows).converted(to: Float.self).converted(to: Double.self)] {
                let got = x.logSoftmax().scalars, want = composed(x).scalars
                #expect(zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "n \(n): \(got) against \(want)")
                let f = x.converted(to: Float.self)
                let gotF = f.logSoftmax().scalars, wantF = composed(f).scalars
                #expect(zip(gotF, wantF).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "Float, n \(n)")
            }
        }
        let xi = (Tensor<Double>.normal([6, 37], generator: g) * 4).requiringGrad(), w = Tensor<Double>.normal([6, 37], generator: g)
        let fused = gradients(of: (xi.logSoftmax() * w).sum(), wrt: [xi])[0]
        let reference = gradients(of: (composed(xi) * w).sum(), wrt: [xi])[0]
        #expect(maxRelativeError(fused.scalars, reference.scalars, floor: 1e-12) < 1e-12)
        let r = gradgradcheck({ p in p[0].logSoftmax() * w }, at: [xi.detached()])
        #expect(r.passed, "second derivatives: \(r)")
    }
}
