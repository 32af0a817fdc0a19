import Foundation
import Testing
@testable import OnsagerCore
@testable import OnsagerNN

/// The layers beyond dense ones: values against direct loops, gradients against central
/// differences (and second derivatives where the layer is smooth).
@Suite struct LayerZooTests {
    typealias T = Tensor<Double>
    let g = RandomGenerator(seed: 21)

    /// Direct definition of PyTorch's conv2d (cross-correlation with zero padding).
    func naiveConv(_ x: T, _ w: T, _ b: T, stride: Int, padding: Int) -> [Double] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), (o, k) = (w.shape[0], w.shape[2])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (wd + 2 * padding - k) / stride + 1
        var out: [Double] = []
        for b0 in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var s = b[index: [oc]]
            for ic in 0..<c { for di in 0..<k { for dj in 0..<k {
                let r = i * stride + di - padding, q = j * stride + dj - padding
                if r >= 0 && r < h && q >= 0 && q < wd { s += x[index: [b0, ic, r, q]] * w[index: [oc, ic, di, dj]] }
            } } }
            out.append(s)
        } } } }
        return out
    }

    @Test func convolutionMatchesItsDefinition() {
        for (stride, padding) in [(1, 0), (1, 1), (2, 1)] {
            var conv = Conv2d<Double>(inChannels: 2, outChannels: 3, kernel: 3, stride: stride, padding: padding, generator: g)
            conv.bias = T.normal([3], generator: g).requiringGrad()
            let x = T.normal([2, 2, 5, 6], generator: g)
            let y = conv(x)
            let want = naiveConv(x, conv.weight, conv.bias!, stride: stride, padding: padding)
            #expect(maxRelativeError(y.scalars, want, floor: 1e-12) < 1e-12, "stride \(stride), padding \(padding)")
            #expect(y.shape == [2, 3, (5 + 2 * padding - 3) / stride + 1, (6 + 2 * padding - 3) / stride + 1])
        }
    }

    @Test func poolingMatchesItsDefinition() {
        let x = T.normal([2, 3, 4, 6], generator: g)
        let mx = maxPool2d(x, kernel: (2, 2)), av = avgPool2d(x, kernel: (2, 3))
        #expect(mx.shape == [2, 3, 2, 3] && av.shape == [2, 3, 2, 2])
        for b in 0..<2 { for c in 0..<3 { for i in 0..<2 {
            for j in 0..<3 {
                let w = [x[index: [b, c, 2 * i, 2 * j]], x[index: [b, c, 2 * i, 2 * j + 1]], x[index: [b, c, 2 * i + 1, 2 * j]], x[index: [b, c, 2 * i + 1, 2 * j + 1]]]
                #expect(mx[index: [b, c, i, j]] == w.max()!)
            }
            for j in 0..<2 {
                var s = 0.0
                for di in 0..<2 { for dj in 0..<3 { s += x[index: [b, c, 2 * i + di, 3 * j + dj]] } }
                #expect(Swift.abs(av[index: [b, c, i, j]] - s / 6) < 1e-14)
            }
        } } }
    }

    @Test func layersPassGradcheck() {
        let conv = Conv2d<Double>(inChannels: 2, outChannels: 2, kernel: 2, stride: 1, padding: 1, generator: g)
        let emb = Embedding<Double>(count: 5, size: 3, generator: g)
        let block = Dense<Double>(inputSize: 3, outputSize: 3, generator: g)
        let cases: [(String, ([T]) -> T, [T], Bool)] = [
            ("conv2d (stride 1, padding 1)", { p in conv2d(p[0], weight: p[1], bias: p[2], padding: (1, 1)) },
             [T.normal([1, 2, 3, 3], generator: g), conv.weight.detached(), T.normal([2], generator: g)], true),
            ("conv2d (stride 2)", { p in conv2d(p[0], weight: p[1], stride: (2, 2)) }, [T.normal([2, 1, 5, 5], generator: g), T.normal([2, 1, 3, 3], generator: g)], true),
            // The relu's kinks: a sum of products of normal values lands within eps of 0 with
            // negligible probability (a check that failed there would say so at these seeds).
            ("conv2dReLU (stride 1, padding 1)", { p in conv2dReLU(p[0], weight: p[1], bias: p[2], padding: (1, 1)) },
             [T.normal([2, 2, 3, 3], generator: g), T.normal([3, 2, 2, 2], generator: g), T.normal([3], generator: g)], true),
            ("conv2dReLU (stride 2, no bias)", { p in conv2dReLU(p[0], weight: p[1], stride: (2, 2)) },
             [T.normal([2, 1, 5, 5], generator: g), T.normal([2, 1, 3, 3], generator: g)], true),
            ("conv2dReLUMaxPool (overlapping 2 × 2 pool)", { p in conv2dReLUMaxPool(p[0], weight: p[1], bias: p[2], padding: (1, 1), poolKernel: (2, 2), poolStride: (1, 1)) },
             [T.normal([2, 2, 4, 4], generator: g), T.normal([3, 2, 2, 2], generator: g), T.normal([3], generator: g)], true),
            ("max pool", { p in maxPool2d(p[0], kernel: (2, 2)) }, [T.normal([1, 2, 4, 4], generator: g)], false),
            ("avg pool (stride 1)", { p in avgPool2d(p[0], kernel: (2, 2), stride: (1, 1)) }, [T.normal([1, 2, 3, 4], generator: g)], true),
            ("embedding", { p in var e = emb; e.weight = p[0]; return e([[4, 1, 1], [0, 2, 4]]).tanh() }, [emb.weight.detached()], true),
            ("gelu", { p in p[0].gelu() }, [T.normal([7], generator: g)], true),
            ("layer norm of rank 3", { p in var l = LayerNorm<Double>(size: 4); l.scale = p[0]; l.shift = p[1]; return l(p[2]) * T.arange(0, 24).reshaped([2, 3, 4]) },
             [T.normal([4], generator: g), T.normal([4], generator: g), T.normal([2, 3, 4], generator: g)], true),
            ("batch norm of images (training)", { p in var l = BatchNorm<Double>(features: 3); l.scale = p[0]; l.shift = p[1]; return l(p[2]) * T.arange(0, 36).reshaped([2, 3, 2, 3]) },
             [T.normal([3], generator: g), T.normal([3], generator: g), T.normal([2, 3, 2, 3], generator: g)], true),
            ("batch norm of rows (training)", { p in var l = BatchNorm<Double>(features: 2); l.scale = p[0]; l.shift = p[1]; return l(p[2]) * T.arange(0, 10).reshaped([5, 2]) },
             [T.normal([2], generator: g), T.normal([2], generator: g), T.normal([5, 2], generator: g)], true),
            ("silu", { p in p[0].silu() }, [T.normal([7], generator: g)], true),
            ("erf", { p in p[0].erf() }, [T.normal([7], generator: g)], true),
            ("residual dense", { p in Residual(Dense(weight: p[0], bias: p[1]))(p[2]) }, [block.weight.detached(), T.normal([3], generator: g), T.normal([4, 3], generator: g)], true),
            ("flatten, unflatten", { p in Unflatten<Double>([3, 2])(Flatten<Double>()(p[0]).tanh()) }, [T.normal([2, 2, 3], generator: g)], true),
            ("linear on rank 3", { p in linear(p[0], weight: p[1], bias: p[2]) }, [T.normal([2, 3, 4], generator: g), T.normal([2, 4], generator: g), T.normal([2], generator: g)], true),
        ]
        for (name, f, inputs, smooth) in cases {
            let r = gradcheck(f, at: inputs)
            #expect(r.passed, "\(name): \(r)")
            if smooth {
                let r2 = gradgradcheck(f, at: inputs)
                #expect(r2.passed, "\(name), second derivatives: \(r2)")
            }
        }
    }

    @Test func geluAndSiluValues() {
        let x = T([-3, -0.5, 0, 0.7, 2.5])
        let gelu = x.scalars.map { $0 * 0.5 * (1 + erf($0 / 2.0.squareRoot())) }
        let silu = x.scalars.map { $0 / (1 + exp(-$0)) }
        #expect(maxRelativeError(x.gelu().scalars, gelu, floor: 1e-15) < 1e-14)
        #expect(maxRelativeError(x.silu().scalars, silu, floor: 1e-15) < 1e-14)
        #expect(Activation<Double>(.gelu)(x).scalars == x.gelu().scalars)
        // The left tail, where (1 + erf(x/√2))/2 cancels to 0 but GELU is not 0. The rounding of
        // x/√2 (an ulp, 1.1e-16) moves erfc(t) by 2t² times that: 1.5e-13 at x = −37.
        let tail = T([-10, -20, -37])
        let want = tail.scalars.map { $0 * 0.5 * erfc(-$0 / 2.0.squareRoot()) }
        let err = maxRelativeError(tail.gelu().scalars, want, floor: 1e-300)
        #expect(want.allSatisfy { $0 != 0 } && err < 5e-13, "left tail: \(err)")
    }

    /// BatchNorm on [n, c, h, w] (PyTorch's BatchNorm2d): each channel normalised over the batch
    /// and the pixels, the running statistics updated with the unbiased variance over n·h·w
    /// values; evaluation mode uses them. The oracle is written out channel by channel.
    @Test func batchNormNormalisesEachChannelOfImages() {
        let (n, c, h, w) = (3, 2, 2, 5)
        let x = T.normal([n, c, h, w], generator: g) * 2 + 1
        var bn = BatchNorm<Double>(features: c)
        bn.scale = T([1.5, -0.5]).requiringGrad()
        bn.shift = T([0.25, 2]).requiringGrad()
        let y = bn(x).scalars, v = x.scalars
        for ch in 0..<c {
            let idx = (0..<n).flatMap { i in (0..<(h * w)).map { ((i * c + ch) * h * w) + $0 } }
            let mean = idx.map { v[$0] }.reduce(0, +) / Double(idx.count)
            let variance = idx.map { (v[$0] - mean) * (v[$0] - mean) }.reduce(0, +) / Double(idx.count)
            let gamma = bn.scale.scalars[ch], beta = bn.shift.scalars[ch]
            let want = idx.map { gamma * (v[$0] - mean) / (variance + 1e-5).squareRoot() + beta }
            #expect(maxRelativeError(idx.map { y[$0] }, want, floor: 1e-12) < 1e-12, "channel \(ch)")
            #expect(abs(bn.runningMean.scalars[ch] - 0.1 * mean) < 1e-14)
            let unbiased = variance * Double(idx.count) / Double(idx.count - 1)
            #expect(abs(bn.runningVariance.scalars[ch] - (0.9 + 0.1 * unbiased)) < 1e-14)
        }
        bn.isTraining = false
        let z = bn(x).scalars
        for (i, value) in v.enumerated() {
            let ch = (i / (h * w)) % c
            let want = bn.scale.scalars[ch] * (value - bn.runningMean.scalars[ch])
                / (bn.runningVariance.scalars[ch] + 1e-5).squareRoot() + bn.shift.scalars[ch]
            #expect(abs(z[i] - want) < 1e-12)
        }
    }

    /// LayerNorm's row kernels equal the composed (x − μ)/√(σ² + ε)·γ + β to rounding, forward and
    /// backward, a constant row included (it normalises to 0).
    @Test func layerNormMatchesTheComposedExpression() {
        let x = concat([T.normal([5, 33], generator: g) * 3 + 2, T(repeating: 7, shape: [1, 33])], axis: 0)
        var ln = LayerNorm<Double>(size: 33)
        ln.scale = T.normal([33], generator: g).requiringGrad()
        ln.shift = T.normal([33], generator: g).requiringGrad()
        let w = T.normal([6, 33], generator: g)
        func composed(_ x: T) -> T {
            (x - x.mean(axis: -1, keepDims: true)) / (x.variance(axes: [-1], keepDims: true) + 1e-5).sqrt() * ln.scale + ln.shift
        }
        let xi = x.requiringGrad()
        let y = ln(xi), c = composed(xi)
        #expect(maxRelativeError(y.scalars, c.scalars, floor: 1) < 1e-14)
        #expect(Array(y.scalars[(5 * 33)...]) == ln.shift.scalars, "a constant row gives β")
        let gotG = gradients(of: (y * w).sum(), wrt: [xi, ln.scale, ln.shift])
        let wantG = gradients(of: (c * w).sum(), wrt: [xi, ln.scale, ln.shift])
        for (a, b) in zip(gotG, wantG) { #expect(maxRelativeError(a.scalars, b.scalars, floor: 1e-10) < 1e-10) }
    }

    /// LayerNorm's fused affine map (one kernel per row each way) has the bits of the composed
    /// normalizedRows(x) * γ + β, in Float and Double, forward and every gradient, at row lengths
    /// that leave different vector tails, in rank 3, and with only some inputs tracked.
    @Test func layerNormAffineHasTheComposedBits() {
        func check<S: TensorScalar>(_: S.Type, shape: [Int], tracked: [Bool]) {
            let n = shape[shape.count - 1]
            let x0 = Tensor<S>.normal(shape, generator: g) * 3 + 1, w = Tensor<S>.normal(shape, generator: g)
            let scale0 = Tensor<S>.normal([n], generator: g), shift0 = Tensor<S>.normal([n], generator: g)
            let inputs = zip([x0, scale0, shift0], tracked).map { $1 ? $0.requiringGrad() : $0 }
            let fused = inputs[0].layerNormalized(scale: inputs[1], shift: inputs[2], epsilon: 1e-5)
            let composed = inputs[0].normalizedRows(epsilon: 1e-5) * inputs[1] + inputs[2]
            // How many elements differ in their bits (shapes equal).
            let differing = { (a: Tensor<S>, b: Tensor<S>) in zip(a.scalars, b.scalars).filter { Double($0).bitPattern != Double($1).bitPattern }.count }
            #expect(fused.shape == composed.shape && differing(fused, composed) == 0, "\(S.self) \(shape): values")
            let wrt = inputs.indices.filter { tracked[$0] }.map { inputs[$0] }
            let got = gradients(of: (fused * w).sum(), wrt: wrt), want = gradients(of: (composed * w).sum(), wrt: wrt)
            for (i, (a, b)) in zip(got, want).enumerated() {
                #expect(a.shape == b.shape && differing(a, b) == 0, "\(S.self) \(shape) \(tracked): gradient \(i), \(differing(a, b)) elements differ")
            }
        }
        for shape in [[6, 33], [3, 4, 16], [5, 1000], [2, 7], [40, 1]] {
            for tracked in [[true, true, true], [true, false, false], [false, true, true], [true, true, false]] {
                check(Float.self, shape: shape, tracked: tracked)
                check(Double.self, shape: shape, tracked: tracked)
            }
        }
        // Recorded backward (gradients of gradients): the same bits as the composed form's.
        for tracked in [[true, true, true], [true, false, true], [true, true, false]] {
            let inputs = zip([T.normal([5, 9], generator: g), T.normal([9], generator: g), T.normal([9], generator: g)], tracked)
                .map { $1 ? $0.requiringGrad() : $0 }
            let w = T.normal([5, 9], generator: g)
            let wrt = inputs.indices.filter { tracked[$0] }.map { inputs[$0] }
            func secondOrder(_ y: T) -> [[Double]] {
                let first = gradients(of: (y * w).sum(), wrt: wrt, createGraph: true)
                let energy = first.map { ($0 * $0).sum() }.reduce(T(0), +)
                return gradients(of: energy, wrt: wrt).map { $0.scalars }
            }
            let fused = secondOrder(inputs[0].layerNormalized(scale: inputs[1], shift: inputs[2], epsilon: 1e-5))
            let composed = secondOrder(inputs[0].normalizedRows(epsilon: 1e-5) * inputs[1] + inputs[2])
            #expect(fused == composed, "second derivatives, tracked \(tracked)")
        }
        // A scale or shift of another shape (here [1, 6], which broadcasts over rows too) takes the
        // composed form, whose gradients have that shape.
        let x = T.normal([4, 6], generator: g), s = T.normal([1, 6], generator: g).requiringGrad()
        let y = x.layerNormalized(scale: s, shift: s, epsilon: 1e-5)
        #expect(y.scalars == (x.normalizedRows(epsilon: 1e-5) * s + s).scalars)
        let gs = gradients(of: (y * y).sum(), wrt: [s])[0]
        #expect(gs.shape == [1, 6] && gs.scalars == gradients(of: ((x.normalizedRows(epsilon: 1e-5) * s + s).squared()).sum(), wrt: [s])[0].scalars)
    }

    /// BatchNorm's channel kernels equal the composed (x − μ)/√(σ² + ε)·γ + β over every axis but 1,
    /// forward and backward (x, γ, β), for images, sequences and rows, with a constant channel
    /// (it normalises to β) and only some inputs tracked.
    @Test func batchNormMatchesTheComposedExpression() {
        for shape in [[4, 3, 5, 7], [6, 3, 33], [9, 3]] {
            let axes = [0] + Array(2..<shape.count), perChannel = [1, 3] + Array(repeating: 1, count: shape.count - 2)
            var x = T.normal(shape, generator: g) * 3 + 2
            x = x * T([1, 0, 1]).reshaped(perChannel)     // channel 1 constant (0)
            var bn = BatchNorm<Double>(features: 3)
            bn.scale = T.normal([3], generator: g).requiringGrad()
            bn.shift = T.normal([3], generator: g).requiringGrad()
            let w = T.normal(shape, generator: g)
            func composed(_ x: T) -> T {
                (x - x.mean(axes: axes, keepDims: true)) / (x.variance(axes: axes, keepDims: true) + 1e-5).sqrt()
                    * bn.scale.reshaped(perChannel) + bn.shift.reshaped(perChannel)
            }
            let xi = x.requiringGrad()
            let y = bn(xi), c = composed(xi)
            #expect(maxRelativeError(y.scalars, c.scalars, floor: 1) < 1e-13, "\(shape)")
            let gotG = gradients(of: (y * w).sum(), wrt: [xi, bn.scale, bn.shift])
            let wantG = gradients(of: (c * w).sum(), wrt: [xi, bn.scale, bn.shift])
            for (a, b) in zip(gotG, wantG) { #expect(maxRelativeError(a.scalars, b.scalars, floor: 1e-10) < 1e-10, "\(shape)") }
            // Input untracked, γ and β tracked; then only the input.
            let gammaOnly = gradients(of: (bn(x) * w).sum(), wrt: [bn.scale, bn.shift])
            #expect(maxRelativeError(gammaOnly[0].scalars, wantG[1].scalars, floor: 1e-10) < 1e-10, "\(shape)")
            #expect(maxRelativeError(gammaOnly[1].scalars, wantG[2].scalars, floor: 1e-10) < 1e-10, "\(shape)")
            var frozen = bn
            frozen.scale = bn.scale.detached()
            frozen.shift = bn.shift.detached()
            let xOnly = gradients(of: (frozen(xi) * w).sum(), wrt: [xi])[0]
            #expect(maxRelativeError(xOnly.scalars, wantG[0].scalars, floor: 1e-10) < 1e-10, "\(shape)")
        }
    }

    /// In Float, a channel whose mean is 10⁵ times its spread (1000 ± 0.01) still gets its variance:
    /// the kernel sums squared deviations, where Σ(x − μ)·x would cancel to noise or below 0.
    /// Against the same Float values normalised in Double.
    @Test func batchNormKeepsTheVarianceOfAnOffsetChannel() {
        let z = Tensor<Double>.normal([64, 2, 50], generator: g)
        let x = (z * 0.01 + 1000).converted(to: Float.self)
        let bn = BatchNorm<Float>(features: 2)
        let y = bn(x).converted(to: Double.self)
        let xd = x.converted(to: Double.self)
        let axes = [0, 2]
        let v = xd.variance(axes: axes, keepDims: true)
        let want = (xd - xd.mean(axes: axes, keepDims: true)) / (v + 1e-5).sqrt()
        #expect(maxRelativeError(y.scalars, want.scalars, floor: 1) < 0.05)
        let unbiased = v.scalars.map { 0.9 + 0.1 * $0 * 3200 / 3199 }
        #expect(maxRelativeError(bn.runningVariance.scalars.map(Double.init), unbiased, floor: 1e-12) < 1e-6)
    }

    /// Training on one value per channel is refused as PyTorch refuses it, naming the input.
    @Test func batchNormRefusesOneValuePerChannel() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm<Float>(features: 3)(Tensor<Float>.ones([1, 3, 1, 1]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("more than 1 value per channel") && text.contains("[1, 3, 1, 1]"), "\(text)")
        }
    }

    @Test func embeddingLooksUpRows() {
        let e = Embedding<Float>(count: 4, size: 2, generator: g)
        let y = e([3, 0, 3])
        #expect(y.shape == [3, 2] && Array(y.scalars[0..<2]) == Array(e.weight.scalars[6..<8]) && Array(y.scalars[4..<6]) == Array(e.weight.scalars[6..<8]))
        #expect(e([[1, 2], [3, 0]]).shape == [2, 2, 2])
    }
}
