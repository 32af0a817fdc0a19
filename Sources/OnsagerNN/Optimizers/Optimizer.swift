import OnsagerCore

/// An update rule: reads each parameter's `grad` and changes the parameter in place.
///
/// State (moment buffers, step counts) is kept per parameter *name*, so adding, removing or
/// reordering parameters never pairs a buffer with the wrong tensor. `groups` give a subset of
/// the parameters its own learning rate or weight decay (PyTorch's parameter groups).
///
/// A rule implements `update(_:gradient:slots:settings:)` for one parameter; `step` is shared.
public protocol Optimizer {
    /// The element type of the parameters it updates.
    associatedtype Scalar: TensorScalar
    /// The base step size (schedules set it; a group scales it by its factor).
    var learningRate: Double { get set }
    /// The weight decay of parameters outside every group.
    var weightDecay: Double { get set }
    /// Parameter groups: the first group whose predicate accepts a parameter's name decides its
    /// learning-rate factor and weight decay.
    var groups: [ParameterGroup] { get set }
    /// The per-parameter state.
    var state: OptimizerState<Scalar> { get set }
    /// One update of `parameter` from `gradient` (detached), with its own state `slots`
    /// (empty on the first step) and the hyperparameters in force for it. Everything it keeps
    /// goes through `slots`: during a step `state` is held by the step's loop, and reads empty here.
    func update(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, slots: inout [String: Tensor<Scalar>],
                settings: StepSettings)
}

/// The hyperparameters in force for one parameter at one step.
public struct StepSettings: Sendable {
    /// The step size: the optimizer's learning rate times the group's factor.
    public var learningRate: Double
    /// The weight decay of the parameter's group (or the optimizer's).
    public var weightDecay: Double
    /// How many times this parameter has been updated, this update included (1 on the first).
    public var step: Int
}

extension Optimizer {
    /// Updates every named parameter that has a gradient (others, such as frozen ones, are left
    /// alone), each with its own state and its group's settings.
    public mutating func step(_ parameters: inout [NamedTensor<Scalar>]) {
        if !state.groupsChecked { checkGroups(parameters.map(\.name)) }
        // The state is moved out for the loop, so that its buffers stay held once (updated in
        // place), and the rule is called on a copy of the optimizer holding none of it.
        var held = OptimizerState<Scalar>()
        swap(&held, &state)
        let rule = self
        withoutGrad {
            held.update(&parameters, groups: groups, learningRate: learningRate, weightDecay: weightDecay) {
                rule.update(&$0, gradient: $1, slots: &$2, settings: $3)
            }
        }
        state = held
    }

    /// Updates parameters that are not part of a module, named by position ("0", "1", …).
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        var named = parameters.enumerated().map { NamedTensor(name: String($0.offset), value: $0.element) }
        parameters = []
        step(&named)
        parameters = named.map { $0.value }   // not \.value: a key path costs a runtime instantiation per call here
    }

    /// The optimizer's type and parameter groups, as checkpoints record them: state written by one
    /// optimizer must not be resumed into another (Adam would read SGD's step count).
    package var checkpointSignature: String {
        "\(Self.self)" + (groups.isEmpty ? "" : " with groups " + groups.map { "'\($0.name)'" }.joined(separator: ", "))
    }

    /// The state as flat named tensors for a checkpoint: "<parameter>.<slot>" ("0.weight.exp_avg")
    /// and "<parameter>.step"; assigning restores it.
    public var stateTensors: [String: Tensor<Scalar>] {
        get { state.flattened }
        set { state = OptimizerState(flattened: newValue) }
    }

    /// Applies `rule` to `parameter` in one pass, the rule's state buffer i being the slot
    /// `names[i]` (held once while it runs, so it is updated in place; an absent slot starts
    /// filled with `initial`).
    func apply(_ rule: UpdateRule, to parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>,
               slots: inout [String: Tensor<Scalar>], names: [String], initial: Scalar = 0) {
        OptimizerState.apply(rule, to: &parameter, gradient: gradient, slots: &slots, names: names, initial: initial)
    }

    /// Stops when a group matches no parameter: a group that changes nothing is a mistake.
    private mutating func checkGroups(_ names: [String]) {
        for g in groups where !names.contains(where: g.contains) {
            check(false, "Optimizer: parameter group '\(g.name)' matches none of the parameters \(names)")
        }
        state.groupsChecked = true
    }
}
