import Foundation
import Testing
@testable import OnsagerCore

/// Bit equality of two arrays of scalars, the sign of zero included and any NaN equal to any NaN.
private func sameBits<S: TensorScalar>(_ a: [S], _ b: [S]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { ($0.isNaN && $1.isNaN) || ($0 == $1 && $0.sign == $1.sign) }
}

/// For every non-empty subset of tracked inputs among x, the weight and (with `withBias`) the
/// bias: `op` and `reference` applied to them give the same bits, and so do the gradients for a
/// random seed by `op`'s backward, the reference's and `op`'s recorded backward. `op`'s node is
/// named `opName`; with `finite`, every gradient is finite (so that no NaN hides a comparison).
private func expectSameBitsAsReference<S: TensorScalar>(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>, label: String, opName: String,
                                                        finite: Bool = false, generator gen: RandomGenerator,
                                                        _ op: (Tensor<S>, Tensor<S>, Tensor<S>?) -> Tensor<S>,
                                                        reference: (Tensor<S>, Tensor<S>, Tensor<S>?) -> Tensor<S>) {
    for withBias in [true, false] {
        for mask in 1..<(withBias ? 8 : 4) {
            let (tx, tw, tb) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0)
            let xi = tx ? x.requiringGrad() : x, wi = tw ? w.requiringGrad() : w, bi = tb ? b.requiringGrad() : b
            let y = op(xi, wi, withBias ? bi : nil), composed = reference(xi, wi, withBias ? bi : nil)
            let label = "\(S.self) \(label) bias \(withBias) tracked \((tx, tw, tb))"
            #expect(y.shape == composed.shape && sameBits(y.scalars, composed.scalars), "\(label): value")
            #expect(y.node?.op.description == opName, "\(label): op")
            let seed = Tensor<S>.normal(y.shape, generator: gen)
            let tracked = [xi, wi, bi].enumerated().filter { [tx, tw, tb][$0.offset] }.map(\.element)
            let fused = gradients(of: y, wrt: tracked, seed: seed, retainGraph: true)
            let expected = gradients(of: composed, wrt: tracked, seed: seed)
            let recorded = gradients(of: y, wrt: tracked, seed: seed, createGraph: true)
            for ((f, r), c) in zip(zip(fused, expected), recorded) {
                #expect(f.shape == r.shape && sameBits(f.scalars, r.scalars), "\(label): gradient")
                #expect(sameBits(f.scalars, c.scalars), "\(label): recorded backward")
                if finite { #expect(f.scalars.allSatisfy { $0.isFinite }, "\(label): every gradient compared") }
            }
        }
    }
}

/// The window kernels behind convolution and pooling (windows.c): unfold and its adjoint fold,
/// and max pooling with its routed gradient, against loops written out here, and their gradients
/// against central differences. Thread-count independence is in KernelSettingsTests.
@Suite struct SlidingWindowTests {
    typealias T = Tensor<Double>
    let g = RandomGenerator(seed: 31)

    /// (input shape, kernel, stride, padding): every kernel width the C code compiles on its own
    /// (1, 2, 3, 5) and one it does not (4), non-square kernels, strides over the kernel, padding
    /// wider than the stride, a window row that starts in the padding and ends past the image,
    /// kernels larger than the image and windows wholly on the padding.
    static let geometries: [([Int], (Int, Int), (Int, Int), (Int, Int))] = [
        ([2, 3, 5, 6], (3, 3), (1, 1), (0, 0)),
        ([2, 3, 5, 6], (3, 3), (1, 1), (1, 1)),
        ([1, 2, 7, 5], (2, 3), (2, 1), (1, 2)),
        ([3, 1, 6, 6], (1, 1), (2, 2), (0, 0)),
        ([1, 2, 9, 9], (5, 5), (3, 2), (2, 2)),
        ([2, 2, 5, 8], (3, 4), (2, 3), (1, 0)),
        ([1, 1, 3, 3], (2, 2), (1, 1), (1, 1)),
        ([1, 2, 4, 4], (3, 2), (4, 4), (1, 1)),
        ([1, 2, 5, 12], (3, 3), (1, 1), (1, 1)),   // column runs longer than one 32-byte move
        ([8, 1, 4, 5], (2, 2), (1, 1), (0, 1)),    // enough images that fold shares them out whole
        ([1, 1, 1, 1], (3, 3), (1, 1), (1, 1)),    // a kernel larger than the image
        ([1, 1, 2, 2], (2, 2), (1, 1), (2, 2)),    // windows wholly on the padding
    ]

    /// For each window row and element, the flat input offset it reads, or nil on the padding.
    func windowSources(_ shape: [Int], _ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int)) -> [Int?] {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h + 2 * p.0 - k.0) / s.0 + 1, ow = (w + 2 * p.1 - k.1) / s.1 + 1
        var out: [Int?] = []
        for b in 0..<n { for i in 0..<oh { for j in 0..<ow { for ch in 0..<c { for di in 0..<k.0 { for dj in 0..<k.1 {
            let r = i * s.0 + di - p.0, q = j * s.1 + dj - p.1
            out.append(r >= 0 && r < h && q >= 0 && q < w ? ((b * c + ch) * h + r) * w + q : nil)
        } } } } } }
        return out
    }

    @Test func windowsAreTheElementsTheyCover() {
        for (shape, k, s, p) in Self.geometries {
            let x = T.normal(shape, generator: g)
            let cols = x.slidingWindows2d(kernel: k, stride: s, padding: p)
            let src = windowSources(shape, k, s, p)
            #expect(cols.scalars == src.map { $0.map { x.scalars[$0] } ?? 0 }, "\(shape) kernel \(k) stride \(s) padding \(p)")
            #expect(cols.shape == [shape[0], (shape[2] + 2 * p.0 - k.0) / s.0 + 1, (shape[3] + 2 * p.1 - k.1) / s.1 + 1, shape[1] * k.0 * k.1])
            // Float takes the same kernel at its own width.
            let xf = Tensor<Float>(shape: shape, scalars: x.scalars.map(Float.init))
            #expect(xf.slidingWindows2d(kernel: k, stride: s, padding: p).scalars == cols.scalars.map(Float.init))
        }
        // A strided view is read as the values it shows.
        let base = T.normal([2, 5, 4, 3], generator: g), view = base.permuted([0, 3, 2, 1])
        #expect(view.slidingWindows2d(kernel: (2, 2), stride: (1, 1), padding: (1, 0)).scalars
                == view.contiguous().slidingWindows2d(kernel: (2, 2), stride: (1, 1), padding: (1, 0)).scalars)
    }

    @Test func foldSumsEveryWindowBack() {
        for (shape, k, s, p) in Self.geometries {
            let src = windowSources(shape, k, s, p)
            let cols = T.normal([src.count], generator: g)
            // Each pixel's terms in kernel-element order, as fold2d adds them (a window gives a
            // pixel at most one element, so the element's index in the kernel orders them).
            let kk = k.0 * k.1
            var want = [Double](repeating: 0, count: shape.reduce(1, *))
            for i in src.indices.sorted(by: { ($0 % kk, $0) < ($1 % kk, $1) }) { if let o = src[i] { want[o] += cols.scalars[i] } }
            let x = T.normal(shape, generator: g)
            let colShape = x.slidingWindows2d(kernel: k, stride: s, padding: p).shape
            let folded = cols.reshaped(colShape).foldedWindows2d(imageShape: shape, kernel: k, stride: s, padding: p)
            #expect(folded.scalars == want, "\(shape) kernel \(k) stride \(s) padding \(p)")
            // The adjoint identity ⟨unfold x, y⟩ = ⟨x, fold y⟩.
            let lhs = (x.slidingWindows2d(kernel: k, stride: s, padding: p) * cols.reshaped(colShape)).sum().item
            let rhs = (x * folded).sum().item
            #expect(Swift.abs(lhs - rhs) <= 1e-12 * Swift.max(1, Swift.abs(lhs)))
        }
    }

    @Test func windowsPassGradcheck() {
        for (shape, k, s, p) in Self.geometries.prefix(6) {
            let colShape = T.zeros(shape).slidingWindows2d(kernel: k, stride: s, padding: p).shape
            let unfold: ([T]) -> T = { $0[0].slidingWindows2d(kernel: k, stride: s, padding: p).tanh() }
            let fold: ([T]) -> T = { $0[0].foldedWindows2d(imageShape: shape, kernel: k, stride: s, padding: p).tanh() }
            for (name, f, input) in [("unfold", unfold, T.normal(shape, generator: g)), ("fold", fold, T.normal(colShape, generator: g))] {
                let r = gradcheck(f, at: [input])
                #expect(r.passed, "\(name) \(shape) kernel \(k): \(r)")
                let r2 = gradgradcheck(f, at: [input])
                #expect(r2.passed, "\(name) \(shape) kernel \(k), second derivatives: \(r2)")
            }
        }
    }

    /// Max pooling written out: the maximum of each window in row-major order (NaN wins).
    func naiveMaxPool(_ x: T, _ k: (Int, Int), _ s: (Int, Int)) -> [Double] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - k.0) / s.0 + 1, ow = (w - k.1) / s.1 + 1
        var out: [Double] = []
        for p in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
            var m = x.scalars[(p * h + i * s.0) * w + j * s.1]
            for di in 0..<k.0 { for dj in 0..<k.1 {
                let v = x.scalars[(p * h + i * s.0 + di) * w + j * s.1 + dj]
                if v > m || v.isNaN { m = v }
            } }
            out.append(m)
        } } }
        return out
    }

    @Test func maxPoolingMatchesItsDefinition() {
        for (shape, k, s) in [([2, 3, 6, 7], (2, 2), (2, 2)), ([1, 2, 6, 7], (3, 3), (1, 1)), ([2, 1, 5, 8], (2, 3), (1, 2)), ([1, 1, 4, 4], (4, 4), (4, 4))] {
            let x = T.normal(shape, generator: g)
            let y = maxPool2d(x, kernel: k, stride: s)
            #expect(y.scalars == naiveMaxPool(x, k, s), "\(shape) kernel \(k) stride \(s)")
            let xf = Tensor<Float>(shape: shape, scalars: x.scalars.map(Float.init))
            #expect(maxPool2d(xf, kernel: k, stride: s).scalars == y.scalars.map(Float.init))
            // Overlapping windows: gradients by central differences (no ties in normal samples),
            // and the second derivative, which is zero, by the recorded backward.
            let f: ([T]) -> T = { maxPool2d($0[0], kernel: k, stride: s) * maxPool2d($0[0], kernel: k, stride: s) }
            let r = gradcheck(f, at: [x])
            #expect(r.passed, "\(shape) kernel \(k) stride \(s): \(r)")
            let r2 = gradgradcheck(f, at: [x])
            #expect(r2.passed, "\(shape) kernel \(k) stride \(s), second derivatives: \(r2)")
        }
    }

    @Test func tiedMaximaShareTheGradientAndNaNWins() {
        // Every window of a constant image is all ties: each element gets its windows' shares.
        let x = T(repeating: 2, shape: [1, 1, 3, 4]).requiringGrad()
        maxPool2d(x, kernel: (2, 2), stride: (1, 1)).sum().backward()
        // Windows covering each element (2 × 3 windows of 4 elements), a quarter each.
        let covers: [Double] = [1, 2, 2, 1, 2, 4, 4, 2, 1, 2, 2, 1]
        #expect(x.grad!.scalars == covers.map { $0 / 4 })
        // Two of four tied in one window: halves.
        let t = T(shape: [1, 1, 2, 2], scalars: [1, 3, 3, 0]).requiringGrad()
        (maxPool2d(t, kernel: (2, 2)) * 6).sum().backward()
        #expect(t.grad!.scalars == [0, 3, 3, 0])
        // A NaN is its window's maximum; that window's gradient is NaN, the other window's is not.
        let nanInput = T(shape: [1, 1, 2, 4], scalars: [1, .nan, 5, 2, 0, 3, 4, 7]).requiringGrad()
        let y = maxPool2d(nanInput, kernel: (2, 2))
        #expect(y.scalars[0].isNaN && y.scalars[1] == 7)
        y.sum().backward()
        let gr = nanInput.grad!.scalars
        #expect([gr[0], gr[1], gr[4], gr[5]].allSatisfy { $0.isNaN })
        #expect([gr[2], gr[3], gr[6], gr[7]] == [0, 0, 0, 1])
    }

    @Test func emptyBatchesAndOneByOneImages() {
        let empty = T.zeros([0, 2, 5, 5])
        #expect(empty.slidingWindows2d(kernel: (3, 3), stride: (1, 1)).shape == [0, 3, 3, 18])
        #expect(maxPool2d(empty, kernel: (2, 2)).shape == [0, 2, 2, 2])
        let one = T(shape: [1, 1, 1, 1], scalars: [4]).requiringGrad()
        let cols = one.slidingWindows2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1))
        #expect(cols.scalars == [0, 0, 0, 0, 4, 0, 0, 0, 0])
        (cols * T(shape: [1, 1, 1, 9], scalars: (1...9).map(Double.init))).sum().backward()
        #expect(one.grad!.scalars == [5])
    }

    @Test func columnsAreTheWindowsTransposed() {
        for (shape, k, s, p) in Self.geometries {
            let x = T.normal(shape, generator: g)
            let rows = x.slidingWindows2d(kernel: k, stride: s, padding: p)
            let cols = unfold2d(x, kernel: k, stride: s, padding: p)
            let (n, oh, ow, ckk) = (rows.shape[0], rows.shape[1], rows.shape[2], rows.shape[3])
            #expect(cols.shape == [n, ckk, oh * ow])
            #expect(cols.scalars == rows.reshaped([n, oh * ow, ckk]).transposed(1, 2).contiguous().scalars,
                    "\(shape) kernel \(k) stride \(s) padding \(p)")
            let xf = Tensor<Float>(shape: shape, scalars: x.scalars.map(Float.init))
            #expect(unfold2d(xf, kernel: k, stride: s, padding: p).scalars == cols.scalars.map(Float.init))
        }
    }

    @Test func foldingColumnsSumsEachPixelsWindows() {
        for (shape, k, s, p) in Self.geometries {
            let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
            let oh = (h + 2 * p.0 - k.0) / s.0 + 1, ow = (w + 2 * p.1 - k.1) / s.1 + 1
            let cols = T.normal([n, c * k.0 * k.1, oh * ow], generator: g)
            // Each pixel's terms in kernel-element order: one window per (di, dj) at most.
            var want = [Double](repeating: 0, count: n * c * h * w)
            for b in 0..<n { for ch in 0..<c { for di in 0..<k.0 { for dj in 0..<k.1 { for i in 0..<oh { for j in 0..<ow {
                let r = i * s.0 + di - p.0, q = j * s.1 + dj - p.1
                guard r >= 0 && r < h && q >= 0 && q < w else { continue }
                want[((b * c + ch) * h + r) * w + q] += cols.scalars[((b * c + ch) * k.0 * k.1 + di * k.1 + dj) * oh * ow + i * ow + j]
            } } } } } }
            let folded = fold2d(cols, outputSize: (h, w), kernel: k, stride: s, padding: p)
            #expect(folded.shape == shape && folded.scalars == want, "\(shape) kernel \(k) stride \(s) padding \(p)")
            let x = T.normal(shape, generator: g)
            let lhs = (unfold2d(x, kernel: k, stride: s, padding: p) * cols).sum().item, rhs = (x * folded).sum().item
            #expect(Swift.abs(lhs - rhs) <= 1e-12 * Swift.max(1, Swift.abs(lhs)))
        }
    }

    @Test func columnsPassGradcheck() {
        for (shape, k, s, p) in Self.geometries.prefix(6) {
            let (h, w) = (shape[2], shape[3])
            let colShape = unfold2d(T.zeros(shape), kernel: k, stride: s, padding: p).shape
            let unfold: ([T]) -> T = { unfold2d($0[0], kernel: k, stride: s, padding: p).tanh() }
            let fold: ([T]) -> T = { fold2d($0[0], outputSize: (h, w), kernel: k, stride: s, padding: p).tanh() }
            for (name, f, input) in [("unfold2d", unfold, T.normal(shape, generator: g)), ("fold2d", fold, T.normal(colShape, generator: g))] {
                let r = gradcheck(f, at: [input])
                #expect(r.passed, "\(name) \(shape) kernel \(k): \(r)")
                let r2 = gradgradcheck(f, at: [input])
                #expect(r2.passed, "\(name) \(shape) kernel \(k), second derivatives: \(r2)")
            }
        }
    }

    /// Reductions over axes in several runs (a per-channel bias's gradient over N and L) go run by
    /// run; the values are those of the sum and maximum written out.
    @Test func reductionsOverSeparatedAxes() {
        let x = T.normal([3, 4, 5, 2], generator: g)
        let s = x.sum(axes: [0, 2]), m = x.max(axes: [0, 2, 3])
        #expect(s.shape == [4, 2] && m.shape == [4])
        for c in 0..<4 {
            var mx = -Double.infinity
            for l in 0..<2 {
                var acc = 0.0
                for b in 0..<3 { for i in 0..<5 { acc += x[index: [b, c, i, l]]; mx = Swift.max(mx, x[index: [b, c, i, l]]) } }
                #expect(Swift.abs(s[index: [c, l]] - acc) < 1e-12)
            }
            #expect(m[index: [c]] == mx)
        }
    }

    /// conv2d runs image by image (conv2d.c); its value and gradients are those of the composed
    /// expression on the same kernels, bit for bit, in Float and Double, with and without bias,
    /// for every non-empty subset of tracked inputs; its recorded backward gives the same bits.
    @Test func convolutionEqualsItsComposedExpression() {
        func check<S: TensorScalar>(_: S.Type, batch: Int) {
            let gen = RandomGenerator(seed: 5)
            for (xShape, wShape, s, p) in [([batch, 3, 7, 8], [4, 3, 3, 3], (1, 1), (1, 1)), ([batch, 2, 9, 6], [3, 2, 2, 3], (2, 1), (0, 2)),
                                           ([batch, 1, 5, 5], [2, 1, 5, 5], (1, 1), (0, 0))] {
                let x = Tensor<S>.normal(xShape, generator: gen), w = Tensor<S>.normal(wShape, generator: gen)
                let b = Tensor<S>.normal([wShape[0]], generator: gen)
                expectSameBitsAsReference(x, w, b, label: "\(xShape)", opName: "conv2d", finite: true, generator: gen,
                                          { conv2d($0, weight: $1, bias: $2, stride: s, padding: p) }) { xi, wi, bi in
                    var composed = matmul(wi.reshaped([wShape[0], -1]), unfold2d(xi, kernel: (wShape[2], wShape[3]), stride: s, padding: p))
                    if let bi { composed = composed + bi.reshaped([wShape[0], 1]) }
                    let (oh, ow) = ((xShape[2] + 2 * p.0 - wShape[2]) / s.0 + 1, (xShape[3] + 2 * p.1 - wShape[3]) / s.1 + 1)
                    return composed.reshaped([batch, wShape[0], oh, ow])
                }
            }
        }
        for batch in [1, 9] {
            check(Float.self, batch: batch)
            check(Double.self, batch: batch)
        }
    }

    /// conv2dReLU (the bias and ReLU applied to each image in cache; backward, the mask and the
    /// bias's sums) gives the bits of conv2d followed by relu: value, and gradients by the fused
    /// backward and the recorded one, for every non-empty subset of tracked inputs, with and
    /// without bias, in Float and Double; outputs include exact zeros and NaN.
    @Test func convolutionReLUEqualsConvolutionThenReLU() {
        func check<S: TensorScalar>(_: S.Type, batch: Int) {
            let gen = RandomGenerator(seed: 9)
            for (xShape, wShape, s, p) in [([batch, 3, 7, 8], [4, 3, 3, 3], (1, 1), (1, 1)), ([batch, 2, 9, 6], [3, 2, 2, 3], (2, 1), (0, 2))] {
                var xs = Tensor<S>.normal(xShape, generator: gen).scalars
                xs[5] = .nan                      // NaN outputs: kept by the relu, masked out by y > 0
                let x = Tensor<S>(shape: xShape, scalars: xs), w = Tensor<S>.normal(wShape, generator: gen)
                // Channel 1's bias takes all its outputs below zero: the relu's zeros, and a mask of zeros.
                var bs = Tensor<S>.normal([wShape[0]], generator: gen).scalars
                bs[1] = -1e30
                let b = Tensor<S>(shape: [wShape[0]], scalars: bs)
                expectSameBitsAsReference(x, w, b, label: "\(xShape)", opName: "conv2d_relu", generator: gen,
                                          { conv2dReLU($0, weight: $1, bias: $2, stride: s, padding: p) }) {
                    conv2d($0, weight: $1, bias: $2, stride: s, padding: p).relu()
                }
                let y = conv2dReLU(x, weight: w, bias: b, stride: s, padding: p).scalars
                #expect(y.contains { $0.isNaN } && y.contains(0) && y.contains { $0 > 0 }, "NaN, zero and positive outputs")
            }
        }
        for batch in [1, 9] {
            check(Float.self, batch: batch)
            check(Double.self, batch: batch)
        }
    }

    /// conv2dReLUMaxPool (each image convolved, rectified and pooled in cache; backward, the
    /// pooled gradient routed, masked and summed in cache) gives the bits of the three ops
    /// maxPool2d(conv2d(…).relu()): value, and gradients by the fused and the recorded backward,
    /// for every subset of tracked inputs, with and without bias. The first geometry's pool tiles
    /// the output (the route's direct writes) and one channel is a constant above zero (every
    /// window a tie, its gradient shared); the second has a strided convolution, an overlapping
    /// pool, a channel rectified to zero throughout (ties that the mask zeroes) and a NaN.
    @Test func convolutionReLUPoolEqualsItsThreeOps() {
        func check<S: TensorScalar>(_: S.Type, batch: Int) {
            let gen = RandomGenerator(seed: 10)
            for (xShape, wShape, s, p, pk, ps, withNaN) in [([batch, 3, 8, 8], [4, 3, 3, 3], (1, 1), (1, 1), (2, 2), (2, 2), false),
                                                            ([batch, 2, 9, 6], [3, 2, 2, 3], (2, 1), (0, 2), (3, 3), (2, 1), true)] {
                var xs = Tensor<S>.normal(xShape, generator: gen).scalars
                if withNaN { xs[5] = .nan }
                let x = Tensor<S>(shape: xShape, scalars: xs)
                var ws = Tensor<S>.normal(wShape, generator: gen).scalars, bs = Tensor<S>.normal([wShape[0]], generator: gen).scalars
                let per = ws.count / wShape[0]
                if withNaN {
                    bs[1] = -1e30                  // channel 1 rectified to 0 everywhere
                } else {
                    for i in (2 * per)..<(3 * per) { ws[i] = 0 }
                    bs[2] = 0.5                    // channel 2 the constant 0.5: every window tied
                }
                let w = Tensor<S>(shape: wShape, scalars: ws), b = Tensor<S>(shape: [wShape[0]], scalars: bs)
                expectSameBitsAsReference(x, w, b, label: "\(xShape) pool \(pk)", opName: "conv2d_relu_max_pool2d", finite: !withNaN, generator: gen,
                                          { conv2dReLUMaxPool($0, weight: $1, bias: $2, stride: s, padding: p, poolKernel: pk, poolStride: ps) }) {
                    maxPool2d(conv2d($0, weight: $1, bias: $2, stride: s, padding: p).relu(), kernel: pk, stride: ps)
                }
                let y = conv2dReLUMaxPool(x, weight: w, bias: b, stride: s, padding: p, poolKernel: pk, poolStride: ps).scalars
                #expect(y.contains { $0 > 0 } && (withNaN ? y.contains { $0.isNaN } && y.contains(0) : y.contains(0.5)),
                        "outputs of \(xShape): positive, and NaN and zero or the tied constant")
            }
        }
        for batch in [1, 9] {
            check(Float.self, batch: batch)
            check(Double.self, batch: batch)
        }
    }

    /// Max pooling's routed gradient where windows tile the plane (written directly, no memset)
    /// and where they overlap or leave a remainder (summed into zeros): each element is
    /// 0 + its windows' shares, a share g·(1/count) for a window's maxima and g·(0/count) for the
    /// rest, bit for bit with the sign of zero (a negative g's share g·0 = −0 becomes +0).
    @Test func routedGradientIsTheSumOfSharesIntoZeros() {
        for (shape, k, s) in [([2, 2, 6, 8], (2, 2), (2, 2)), ([1, 2, 6, 6], (3, 3), (3, 3)), ([1, 1, 7, 8], (2, 2), (2, 2)), ([1, 1, 6, 7], (3, 2), (1, 2))] {
            let gen = RandomGenerator(seed: 12)
            // Few distinct values: ties of two to four in many windows; one NaN.
            var xs = (0..<shape.reduce(1, *)).map { _ in Double(gen.nextInt(below: 3)) - 1 }
            xs[3] = .nan
            let x = T(shape: shape, scalars: xs).requiringGrad()
            let y = maxPool2d(x, kernel: k, stride: s)
            let g = T.normal(y.shape, generator: gen) - 0.5
            let got = gradients(of: y, wrt: [x], seed: g)[0].scalars
            let (h, w) = (shape[2], shape[3]), (oh, ow) = (y.shape[2], y.shape[3])
            var want = [Double](repeating: 0, count: xs.count)
            for p in 0..<(shape[0] * shape[1]) { for i in 0..<oh { for j in 0..<ow {
                let m = y.scalars[(p * oh + i) * ow + j], gv = g.scalars[(p * oh + i) * ow + j]
                var count = 0.0
                for di in 0..<k.0 { for dj in 0..<k.1 where xs[(p * h + i * s.0 + di) * w + j * s.1 + dj] == m { count += 1 } }
                for di in 0..<k.0 { for dj in 0..<k.1 {
                    let e = (p * h + i * s.0 + di) * w + j * s.1 + dj
                    want[e] += xs[e] == m ? gv * (1 / count) : gv * (0 / count)
                } }
            } } }
            #expect(sameBits(got, want), "\(shape) kernel \(k) stride \(s)")
            #expect(want.contains { $0 == 0 && $0.sign == .plus } && want.contains { $0 != 0 && $0.isFinite }, "zeros and shares")
        }
    }

    /// 2 × 2 pooling windows that tile the image run in vectors of windows, the rest of a row one
    /// window at a time: at every width from 1 to 19 windows (whole vectors, remainders, none),
    /// Float and Double, with ties, signed zeros, infinities and NaNs, the maxima and the routed
    /// gradient are the definition's bits (any NaN for a NaN).
    @Test func tilingPoolsMatchTheDefinitionAtEveryWidth() {
        func check<S: TensorScalar>(_: S.Type) {
            let gen = RandomGenerator(seed: 21)
            var all: [S] = [], maxima: [S] = []
            // Ties, signed zeros and infinities often; a NaN rarely (a window with one has a NaN
            // maximum and routes NaN everywhere, which only an is-NaN check can compare).
            let some: [S] = [-1, 0, -0.0, 1, 1, 2, .infinity, -.infinity, 0.5]
            let values = Array([[S]](repeating: some, count: 4).joined()) + [.nan]
            for oh in 1...2 { for ow in 1...19 {
                let shape = [2, 3, 2 * oh, 2 * ow], (h, w) = (2 * oh, 2 * ow)
                let xs = (0..<shape.reduce(1, *)).map { _ in values[gen.nextInt(below: values.count)] }
                let x = Tensor<S>(shape: shape, scalars: xs).requiringGrad()
                let y = maxPool2d(x, kernel: (2, 2))
                // Finite seeds mostly, so that most results are not NaN (any NaN matches any other).
                let seeds: [S] = [-1, 0.5, 2, -0.0, 3, 0.25, -4, 1.5, -2, .infinity]
                let gs = (0..<y.scalars.count).map { _ in seeds[gen.nextInt(below: seeds.count)] }
                let got = gradients(of: y, wrt: [x], seed: Tensor(shape: y.shape, scalars: gs))[0].scalars
                var wantY: [S] = [], wantG = [S](repeating: 0, count: xs.count)
                for p in 0..<6 { for i in 0..<oh { for j in 0..<ow {
                    let at = { (di: Int, dj: Int) in (p * h + 2 * i + di) * w + 2 * j + dj }
                    let window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)]
                    var m = xs[window[0]]
                    for e in window where xs[e] > m || xs[e].isNaN { m = xs[e] }
                    if window.contains(where: { xs[$0].isNaN }) { m = .nan }
                    wantY.append(m)
                    let gv = gs[(p * oh + i) * ow + j], count = S(window.filter { xs[$0] == m }.count)
                    for e in window { wantG[e] = 0 + (xs[e] == m ? gv * (1 / count) : gv * (0 / count)) }
                } } }
                #expect(sameBits(y.scalars, wantY), "\(S.self) \(shape): maxima")
                #expect(sameBits(got, wantG), "\(S.self) \(shape): routed gradient")
                all.append(contentsOf: wantG)
                maxima.append(contentsOf: wantY)
            } }
            // The comparisons above saw split ties, zeros, infinities and NaNs, and mostly numbers.
            #expect(all.contains { $0.isFinite && $0 != $0.rounded() } && all.contains { $0 == 0 && $0.sign == .plus }
                    && all.contains { $0.isInfinite } && all.filter { $0.isNaN }.count * 4 < all.count, "\(S.self): gradients")
            #expect(maxima.contains { $0 == 0 && $0.sign == .minus } && maxima.contains { $0 == 0 && $0.sign == .plus }
                    && maxima.contains { $0.isNaN } && maxima.contains { $0 == .infinity }, "\(S.self): maxima")
        }
        check(Float.self)
        check(Double.self)
    }

    /// The bias's gradient of a convolution with one image and one channel whose output is over
    /// 65,536 long (a single row, which the composed sum adds in chunks): the fused backward, the
    /// recorded one and the composed expression agree bit for bit, with and without the ReLU.
    @Test func biasGradientOfOneLongRowIsTheComposedSum() {
        let gen = RandomGenerator(seed: 13)
        let x = Tensor<Float>.normal([1, 1, 260, 260], generator: gen), w = Tensor<Float>.normal([1, 1, 3, 3], generator: gen)
        let b = Tensor<Float>([0.25]).requiringGrad()
        for relu in [false, true] {
            let y = relu ? conv2dReLU(x, weight: w, bias: b) : conv2d(x, weight: w, bias: b)
            var composed = matmul(w.reshaped([1, -1]), unfold2d(x, kernel: (3, 3))) + b.reshaped([1, 1])
            if relu { composed = composed.relu() }
            let seed = Tensor<Float>.normal(y.shape, generator: gen)
            let fused = gradients(of: y, wrt: [b], seed: seed, retainGraph: true)[0]
            let recorded = gradients(of: y, wrt: [b], seed: seed, createGraph: true)[0]
            let reference = gradients(of: composed.reshaped(y.shape), wrt: [b], seed: seed)[0]
            #expect(y.shape == [1, 1, 258, 258])
            #expect(fused.scalars == reference.scalars && recorded.scalars == reference.scalars, "relu \(relu): \(fused.scalars) \(recorded.scalars) \(reference.scalars)")
        }
    }

    /// A second backward pass through a freed graph stops with the tape's message, also through
    /// an op of three inputs (conv2d with a bias), whose freed node used to fail on an index.
    @Test func secondBackwardThroughAConvolutionExplains() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor<Double>.ones([1, 1, 3, 3]), w = Tensor<Double>.ones([1, 1, 2, 2]).requiringGrad()
            let y = conv2d(x, weight: w, bias: Tensor<Double>.zeros([1]).requiringGrad())
            y.backward(seed: Tensor<Double>.ones(y.shape))
            y.backward(seed: Tensor<Double>.ones(y.shape))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("already freed") && text.contains("retainGraph"), "\(text)")
        }
    }

    /// Columns that do not fit the images they are folded into are refused with both shapes.
    @Test func foldingMismatchedColumnsExplains() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = fold2d(Tensor<Float>.zeros([2, 9, 10]), outputSize: (5, 5), kernel: (3, 3))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("fold2d") && text.contains("9 windows") && text.contains("[2, 9, 10]"), "\(text)")
        }
    }
}
