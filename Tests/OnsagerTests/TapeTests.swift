import Dispatch
import Foundation
import Testing
import Onsager
@testable import OnsagerCore
@testable import OnsagerNN
@testable import OnsagerEnergy
@testable import OnsagerData
@testable import OnsagerLinearAlgebra

@Suite struct TapeTests {
    typealias T = Tensor<Double>

    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = T([1, 2, 3]).requiringGrad()
        (x * x).sum().backward()
        #expect(x.grad!.scalars == [2, 4, 6])
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [5, 7, 9])
        x.zeroGrad()
        #expect(x.grad == nil)
        x.sum().backward()
        #expect(x.grad!.scalars == [1, 1, 1])
    }

    @Test func noGradScopesAndDetachCutTheTape() {
        let x = T([1, 2]).requiringGrad()
        let y = withoutGrad { x * 2 }
        #expect(!y.requiresGrad)
        #expect(GradMode.isEnabled)
        withoutGrad {
            withGradEnabled(true) { #expect(GradMode.isEnabled) }
            #expect(!GradMode.isEnabled)
        }
        let z = (x.detached() * x).sum()   // only the second factor carries gradient
        z.backward()
        #expect(x.grad!.scalars == [1, 2])
        #expect(x.isLeaf && !z.isLeaf)
        #expect(z.gradOp == "sum")
    }

    @Test func broadcastGradientsAreReducedToOperandShapes() {
        let a = T(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGrad()
        let b = T([10, 20, 30]).requiringGrad()
        let s = T(2).requiringGrad()
        ((a + b) * s).sum().backward()
        #expect(b.grad!.shape == [3] && b.grad!.scalars == [4, 4, 4])
        #expect(s.grad!.shape == [] && s.grad!.item == 21 + 120)
        #expect(a.grad!.scalars == [2, 2, 2, 2, 2, 2])
    }

    @Test func nonScalarBackwardTakesASeed() {
        let x = T([1, 2, 3]).requiringGrad()
        (x * x).backward(seed: T([1, 0, 2]))
        #expect(x.grad!.scalars == [2, 0, 12])
    }

    @Test func retainGradKeepsIntermediateGradients() {
        let x = T([1, 2]).requiringGrad()
        let h = x * 3
        h.retainGrad()
        (h * h).sum().backward()
        #expect(h.grad!.scalars == [6, 12])
        #expect(x.grad!.scalars == [18, 36])
    }

    /// Gradients of a tensor used several times are summed in place outside `createGraph`; a rule
    /// that hands the same gradient tensor to two inputs (add) must not see it changed, nor may a
    /// retained intermediate gradient or the caller's seed.
    @Test func repeatedUsesSumWithoutCorruptingSharedGradients() {
        let x = T([1, 2]).requiringGrad()
        let h = x + x                       // add's rule returns h's gradient itself for both inputs
        h.retainGrad()
        (h * 2 + h).backward(seed: T([1, 10]))   // x's first contribution is h's retained gradient
        #expect(h.grad!.scalars == [3, 30])
        #expect(x.grad!.scalars == [6, 60])
        let z = T([1, 2]).requiringGrad(), seed = T([1, 10])
        ((z + z) + z).backward(seed: seed)  // z's first contribution is the seed itself
        #expect(z.grad!.scalars == [3, 30])
        #expect(seed.scalars == [1, 10])
        let y = T([1, 2]).requiringGrad()
        let g1 = gradients(of: (y * y + y).sum(), wrt: [y], createGraph: true)[0]
        #expect(g1.scalars == [3, 5])
        g1.sum().backward()                 // second derivative of y² + y: 2
        #expect(y.grad!.scalars == [2, 2])
    }

    /// A second backward adds into `grad` in place; a gradient the caller kept from the first, the
    /// seed that became it, and a gradient that is another leaf's too stay unchanged.
    @Test func leafGradientsAccumulateInPlaceWithoutChangingKeptCopies() {
        let x = T([1, 2]).requiringGrad()
        let seed = T([1, 1])
        x.backward(seed: seed)              // x.grad is the seed itself
        let first = x.grad!
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [4, 4])
        #expect(first.scalars == [1, 1] && seed.scalars == [1, 1])
        let a = T([1, 2]).requiringGrad(), b = T([3, 4]).requiringGrad()
        (a + b).sum().backward()            // add hands one gradient tensor to both leaves
        (a * 2).sum().backward()
        #expect(a.grad!.scalars == [3, 3] && b.grad!.scalars == [1, 1])
        let y = T([1, 2]).requiringGrad()
        (y * y).sum().backward()
        _ = gradients(of: (y * y).sum(), wrt: [y], createGraph: true)   // leaves grad alone
        (y * y).sum().backward(createGraph: true)
        #expect(y.grad!.scalars == [4, 8] && y.grad!.requiresGrad)
        (y * y).sum().backward()            // a plain pass after a recorded one: an untracked sum
        #expect(y.grad!.scalars == [6, 12] && !y.grad!.requiresGrad)
    }

    @Test func graphMemoryIsFreedAfterBackward() {
        weak var saved: TensorStorage<Double>?
        let x = T.uniform([1000]).requiringGrad()
        var loss: T
        do {
            let h = x * 2            // saved by exp's rule (as its input)
            saved = h.storage
            loss = h.exp().sum()
        }
        #expect(saved != nil, "the tape holds the intermediate before backward")
        loss.backward()
        #expect(saved == nil, "the intermediate is released once backward has run")
        #expect(loss.requiresGrad)
    }

    @Test func sumsAndDifferencesSaveNeitherOperand() {
        weak var left: TensorStorage<Double>?, right: TensorStorage<Double>?
        let x = T([1, 2, 3]).requiringGrad()
        var loss: T
        do {
            let a = x * 2, b = T([[1], [2]])           // b broadcasts: shape [2, 1] against [3]
            left = a.storage; right = b.storage
            loss = ((a - b) + b).sum()
        }
        #expect(left == nil && right == nil, "add and sub keep only their operands' shapes")
        loss.backward()
        #expect(x.grad!.scalars == [4, 4, 4])
        // Only the subtrahend tracked, broadcast: its gradient is minus the count it was spread over.
        let s = T([[0.5], [1.5]]).requiringGrad()
        (T.ones([2, 3]) - s).sum().backward()
        #expect(s.grad!.shape == [2, 1] && s.grad!.scalars == [-3, -3])
    }

    /// The sweep reuses per-thread work arrays; a backward pass started inside a backward rule
    /// must get its own, and neither pass may see the other's nodes or leaves.
    @Test func backwardInsideABackwardRule() {
        let inner = T([2, 3]).requiringGrad()
        let x = T([1, 4]).requiringGrad()
        let y = T.custom("scaled", inputs: [x], value: x * 5) { g in
            let gi = withGradEnabled(true) { gradients(of: (inner * inner * x.detached()).sum(), wrt: [inner])[0] }
            #expect(gi.scalars == [4, 24])           // 2 · inner · x
            return [g * 5]
        }
        (y * y).sum().backward()
        #expect(x.grad!.scalars == [50, 200])        // d(25 x²)/dx
        #expect(inner.grad == nil)
        (x * x).sum().backward()                      // the next pass after the nested one
        #expect(x.grad!.scalars == [52, 208])
    }

    /// The sweep's per-thread work arrays: kept between passes, bounded, released with the thread.
    @Test func backwardScratchIsKeptBoundedAndReleasedWithItsThread() {
        let x = T([1, 2]).requiringGrad()
        (x * x).sum().backward()
        #expect(SweepScratch<Double>.inSlot != nil, "kept on this thread between passes")
        var deep = x
        for _ in 0..<5_000 { deep = deep * 1.0 }
        deep.sum().backward()
        let kept = SweepScratch<Double>.inSlot
        #expect(kept != nil && kept!.order.capacity <= SweepScratch<Double>.keptCapacity
                && kept!.stack.capacity <= SweepScratch<Double>.keptCapacity, "a big graph's arrays are not kept")

        final class Box: @unchecked Sendable { weak var scratch: SweepScratch<Double>?; var held = false }
        let box = Box()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            let y = Tensor<Double>([3]).requiringGrad()
            (y * y).sum().backward()
            box.scratch = SweepScratch<Double>.inSlot
            box.held = box.scratch != nil
            return nil
        }, Unmanaged.passRetained(box).toOpaque())
        #expect(created == 0)
        pthread_join(thread, nil)
        #expect(box.held, "the thread kept one while it ran")
        #expect(box.scratch == nil, "released when the thread exited")
    }

    @Test func retainGraphAllowsASecondBackward() {
        let x = T([1, 2]).requiringGrad()
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        y.backward()
        #expect(x.grad!.scalars == [4, 8])
    }

    @Test func inPlaceUpdatesKeepTheLeafAndDoNotCorruptSavedValues() {
        var w = T([1, 2, 3]).requiringGrad()
        let y = (w * w).sum()          // saves w
        w.addInPlace(T([10, 10, 10]), alpha: -1)   // copy-on-write: the tape keeps [1,2,3]
        y.backward()
        #expect(w.grad!.scalars == [2, 4, 6])
        #expect(w.scalars == [-9, -8, -7])
        #expect(w.requiresGrad && w.isLeaf)
    }

    @Test func gradientsOfDoesNotTouchGradFields() {
        let x = T([1, 2]).requiringGrad(), y = T([3, 4]).requiringGrad()
        let unrelated = T([5]).requiringGrad()
        let gs = gradients(of: (x * y).sum(), wrt: [x, unrelated])
        #expect(gs[0].scalars == [3, 4])
        #expect(gs[1].scalars == [0])
        #expect(x.grad == nil && y.grad == nil)
    }

    @Test func valueWithGradientConvenience() {
        let (v, g) = valueWithGradient(at: T([1, 2, 3])) { ($0 * $0).sum() }
        #expect(v.item == 14)
        #expect(g.scalars == [2, 4, 6])
    }

    @Test func deepChainsDoNotOverflowTheStack() {
        let x = T([0.5]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        y.sum().backward()
        #expect(Swift.abs(x.grad!.item - Foundation.pow(1.0001, 20_000)) < 1e-9 * Foundation.pow(1.0001, 20_000))
    }

    /// The documented rule: each thread builds and differentiates its own graphs; graphs on
    /// different threads may share leaves (accumulation into a shared leaf is serialised), and
    /// grad mode is per thread.
    @Test func threadsBuildIndependentGraphsOverSharedLeaves() {
        let w = T([1, 2, 3]).requiringGrad()
        let iterations = 200
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<iterations {
                let x = T([Double(t), 1, Double(i)])
                if t == 0 {
                    // This thread works without recording; others must still record.
                    withoutGrad { #expect(!(w * x).requiresGrad) }
                }
                (w * x).sum().backward()
            }
        }
        // Σ over threads t and iterations i of x = (t, 1, i).
        let n = Double(iterations)
        let expected = [n * (0 + 1 + 2 + 3), 4 * n, 4 * n * (n - 1) / 2]
        #expect(w.grad!.scalars == expected)
    }

    @Test func anomalyDetectionNamesTheFirstNonFiniteOp() {
        let x = T([1, -1, 2]).requiringGrad()
        do {
            _ = try AnomalyDetection.run { (x.log() * 2).sum() }
            Issue.record("expected a NonFiniteError")
        } catch let e as NonFiniteError {
            #expect(e.op == "log")
            #expect(e.count == 1)
            #expect(e.description.contains("log"))
        } catch { Issue.record("unexpected \(error)") }
        // In backward: sqrt at 0 is finite forward, infinite backward.
        let z = T([0, 4]).requiringGrad()
        #expect(throws: NonFiniteError.self) { try AnomalyDetection.run { z.sqrt().sum().backward() } }
        do {
            try AnomalyDetection.run { z.sqrt().sum().backward() }
        } catch let e as NonFiniteError {
            #expect(e.op == "backward of sqrt")
        } catch {}
        // Nothing is reported for finite work.
        #expect(throws: Never.self) { try AnomalyDetection.run { (x.exp() * 2).sum() } }
    }
}
