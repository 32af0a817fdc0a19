import COnsagerTape
import Foundation

/// Serialises accumulation into shared leaves, so threads that differentiate their own graphs
/// over the same parameters do not race on `grad`.
private let leafGradLock = NSLock()

/// The reverse sweep. Non-leaf nodes are ordered by an iterative depth-first search (deep
/// graphs do not overflow the stack) and hold their pending gradient in the node itself; leaves
/// are collected in a small local table, so threads that differentiate their own graphs over
/// shared parameters never write shared state except `grad`, under `leafGradLock`.
///
/// Thread rule: a non-leaf tensor belongs to the thread that computed it; do not run backward
/// passes through the same intermediate tensor on two threads at once. Leaves may be shared.
enum BackwardEngine {
    /// Non-leaf nodes reachable from `root` in post-order (walk it backwards: root first); leaves
    /// reached are appended to `leaves`.
    static func topologicalOrder<S>(from root: TapeNode<S>, stamp: UInt64, leaves: inout LeafTable<S>,
                                    order: inout [Unmanaged<TapeNode<S>>], stack: inout [(Unmanaged<TapeNode<S>>, Int)]) {
        if root.isLeaf { leaves.insert(root); return }
        root.visitStamp = stamp
        // The stack does not own its nodes (the graph keeps them alive while it is walked), and
        // nodes are read through guaranteed references: no reference counting per step.
        stack.append((Unmanaged.passUnretained(root), 0))
        while !stack.isEmpty {
            let top = stack.count - 1
            let (unmanaged, i) = stack[top]
            var finished = false
            let next: Unmanaged<TapeNode<S>>? = unmanaged._withUnsafeGuaranteedRef { node in
                guard i < node.inputCount else {
                    order.append(Unmanaged.passUnretained(node))
                    finished = true
                    return nil
                }
                stack[top].1 = i + 1
                guard let p = node.input(i) else { return nil }
                if p.isLeaf {
                    leaves.insert(p)
                } else if p.visitStamp != stamp {
                    p.visitStamp = stamp
                    return Unmanaged.passUnretained(p)
                }
                return nil
            }
            if let next { stack.append((next, 0)) } else if finished { stack.removeLast() }
        }
    }

    /// Propagates `seed` from `root`. With `targets`, returns their gradients (by position) and
    /// leaves `grad` alone; without, accumulates into leaves (and retaining non-leaves).
    static func run<S>(root: TapeNode<S>, seed: Tensor<S>, targets: [TapeNode<S>]?, retainGraph: Bool,
                       createGraph: Bool) -> [Tensor<S>?] {
        let previous = onsager_set_grad_enabled(createGraph ? 1 : 0)
        defer { onsager_set_grad_enabled(previous) }
        let stamp = onsager_next_stamp()
        let scratch = SweepScratch<S>.take()
        defer { scratch.giveBack() }
        topologicalOrder(from: root, stamp: stamp, leaves: &scratch.leaves, order: &scratch.order, stack: &scratch.stack)
        if root.isLeaf { scratch.leaves.add(root, seed, inPlace: false) } else { root.pendingGrad = seed }
        var results = [Tensor<S>?](repeating: nil, count: targets?.count ?? 0)
        let checking = onsager_anomaly_enabled() != 0
        // Reference counting was 40 % of a tiny op plus backward (each count is an atomic
        // instruction), so the sweep copies nothing it can move: the order does not own its
        // nodes (the graph does, as long as no node's inputs are cleared: that waits until the
        // sweep is over), the pending gradient and each input's gradient are moved rather than
        // copied.
        var index = scratch.order.count
        while index > 0 {
            index -= 1
            scratch.order[index]._withUnsafeGuaranteedRef { node in
                guard let g = node.pendingGrad.take() else {
                    if !retainGraph { node.rule = nil }
                    return
                }
                if let targets {
                    for (k, t) in targets.enumerated() where t === node { results[k] = g }
                } else if node.retainsGrad {
                    accumulate(g, into: node, createGraph: createGraph)
                }
                // Freed as soon as it has run, with the tensors it saved.
                guard let rule = retainGraph ? node.rule : node.rule.take() else {
                    fatalError("backward: the graph through '\(node.op)' was already freed by an earlier backward pass; pass retainGraph: true to the first one")
                }
                // Ops inside a rule are not checked one by one: a non-finite gradient is reported as
                // "backward of <op>", naming the op whose rule produced it.
                let saved = checking ? onsager_set_anomaly_enabled(0) : 0
                switch rule {
                case .one(let r):
                    let g0 = r(g)
                    if checking { onsager_set_anomaly_enabled(saved) }
                    if let g0 { deliver(g0, to: node.firstInput, of: node, scratch, createGraph: createGraph, checking: checking) }
                case .two(let r):
                    let (g0, g1) = r(g)
                    if checking { onsager_set_anomaly_enabled(saved) }
                    if let g0 { deliver(g0, to: node.firstInput, of: node, scratch, createGraph: createGraph, checking: checking) }
                    if let g1 { deliver(g1, to: node.secondInput, of: node, scratch, createGraph: createGraph, checking: checking) }
                case .many(let r):
                    var grads = r(g)
                    if checking { onsager_set_anomaly_enabled(saved) }
                    check(grads.count == node.inputCount, "backward of '\(node.op)': rule returned \(grads.count) gradients for \(node.inputCount) inputs")
                    for k in 0..<grads.count {
                        guard let gk = grads[k].take() else { continue }
                        deliver(gk, to: node.input(k), of: node, scratch, createGraph: createGraph, checking: checking)
                    }
                }
            }
        }
        // Children before parents: each node is still held by its parents when its own inputs go.
        if !retainGraph {
            for node in scratch.order { node._withUnsafeGuaranteedRef { $0.cutInputs() } }
        }
        for e in 0..<scratch.leaves.entries.count {
            guard let g = scratch.leaves.entries[e].grad.take() else { continue }
            let leaf = Unmanaged.passUnretained(scratch.leaves.entries[e].node)
            leaf._withUnsafeGuaranteedRef { leaf in
                if let targets {
                    for (k, t) in targets.enumerated() where t === leaf { results[k] = g }
                } else {
                    accumulate(g, into: leaf, createGraph: createGraph)
                }
            }
        }
        return results
    }

    /// Hands `gi`, a gradient that `node`'s rule returned, to `input`: summed into the leaf table
    /// for a leaf, into the input's pending gradient otherwise. Nothing for an input that is not
    /// recorded.
    @inline(__always)
    static func deliver<S>(_ gi: consuming Tensor<S>, to input: TapeNode<S>?, of node: TapeNode<S>, _ scratch: SweepScratch<S>,
                           createGraph: Bool, checking: Bool) {
        guard let input else { return }
        check(gi.shape == input.shape,
              "backward of '\(node.op)': gradient of shape \(gi.shape) for an input of shape \(input.shape)")
        if checking { AnomalyDetection.inspect(gi, op: node.op, backward: true) }
        if input.isLeaf {
            scratch.leaves.add(input, gi, inPlace: !createGraph)
        } else if input.pendingGrad != nil {
            if createGraph { input.pendingGrad = input.pendingGrad! + gi } else { input.pendingGrad!.addInPlace(gi) }
        } else {
            input.pendingGrad = gi
        }
    }

    /// Adds `g` to the node's `grad`: in place outside `createGraph` (as PyTorch accumulates;
    /// copy-on-write leaves any tensor that shares the old gradient's storage unchanged), as a
    /// recorded sum inside it, and as a new untracked sum when the old grad was recorded.
    static func accumulate<S>(_ g: Tensor<S>, into node: TapeNode<S>, createGraph: Bool) {
        let stored = createGraph ? g : g.detached()
        leafGradLock.lock()
        if node.grad == nil {
            node.grad = stored
        } else if createGraph || node.grad!.node != nil {
            // Recorded now, or by an earlier createGraph pass (in place would keep its stale node).
            node.grad = node.grad! + stored
        } else {
            node.grad!.addInPlace(stored)
        }
        leafGradLock.unlock()
    }
}

/// The sweep's work arrays, kept per thread between backward passes (in a slot of the C tape
/// state) so that a small graph's pass allocates none of them: three of the 21 allocations of a
/// tiny op and its backward. A pass takes the object out of the slot, so a backward pass started
/// inside a backward rule gets a fresh one. Arrays that grew past `keptCapacity` (a big graph) are
/// not kept, and a thread's scratch is released when the thread exits.
final class SweepScratch<S: TensorScalar> {
    // Unchecked like TapeNode's fields: one pass at a time uses a scratch (take() removes it
    // from the slot), and the dynamic checks would cost more than the allocations saved.
    @exclusivity(unchecked) var order: [Unmanaged<TapeNode<S>>] = []
    @exclusivity(unchecked) var stack: [(Unmanaged<TapeNode<S>>, Int)] = []
    @exclusivity(unchecked) var leaves = LeafTable<S>()

    /// Entries each array may keep between passes (a few tens of KB per thread at most).
    static var keptCapacity: Int { 1024 }

    /// This thread's slot for `S` (nil for scalar types other than Float and Double, or when the
    /// C side could not allocate it).
    private static var slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
        let kind: Int32 = S.self == Float.self ? 0 : S.self == Double.self ? 1 : -1
        guard kind >= 0 else { return nil }
        return onsager_backward_scratch(kind) { Unmanaged<AnyObject>.fromOpaque($0!).release() }
    }

    /// This thread's scratch, or a new one when the slot is empty (first pass, or a nested one).
    static func take() -> SweepScratch {
        guard let slot, let p = slot.pointee else { return SweepScratch() }
        slot.pointee = nil
        return Unmanaged<SweepScratch>.fromOpaque(p).takeRetainedValue()
    }

    /// What this thread's slot holds now (tests).
    static var inSlot: SweepScratch? {
        guard let p = slot?.pointee else { return nil }
        return Unmanaged<SweepScratch>.fromOpaque(p).takeUnretainedValue()
    }

    /// Empties the scratch (releasing the leaves and any gradients left, keeping up to
    /// `keptCapacity` of room; the order and the stack own no nodes) and returns it to this thread's slot (dropped if a nested pass
    /// refilled it).
    func giveBack() {
        order.removeAll(keepingCapacity: order.capacity <= Self.keptCapacity)
        stack.removeAll(keepingCapacity: stack.capacity <= Self.keptCapacity)
        leaves.entries.removeAll(keepingCapacity: leaves.entries.capacity <= Self.keptCapacity)
        guard let slot = Self.slot, slot.pointee == nil else { return }
        slot.pointee = Unmanaged.passRetained(self).toOpaque()
    }
}

/// Leaves met in one sweep with their summed gradients; a linear scan (graphs have few leaves).
struct LeafTable<S: TensorScalar> {
    /// A leaf and its gradient so far (a struct, not a tuple: an array of tuples is destroyed
    /// element by element through the runtime's generic tuple witnesses).
    struct Entry {
        let node: TapeNode<S>
        var grad: Tensor<S>?
    }
    /// Each leaf with its gradient so far (nil until one arrives), in the order they were met.
    var entries: [Entry] = []

    mutating func insert(_ leaf: TapeNode<S>) {
        if !entries.contains(where: { $0.node === leaf }) { entries.append(Entry(node: leaf, grad: nil)) }
    }

    /// Adds `g` to the leaf's sum. `inPlace` (outside `createGraph`, where the sum need not be
    /// recorded) adds into the first gradient's storage instead of allocating a third tensor;
    /// copy-on-write keeps any tensor that shares that storage unchanged.
    mutating func add(_ leaf: TapeNode<S>, _ g: Tensor<S>, inPlace: Bool) {
        guard let k = entries.firstIndex(where: { $0.node === leaf }) else {
            entries.append(Entry(node: leaf, grad: g))
            return
        }
        if entries[k].grad == nil {
            entries[k].grad = g
        } else if inPlace {
            entries[k].grad!.addInPlace(g)
        } else {
            entries[k].grad = entries[k].grad! + g
        }
    }
}
