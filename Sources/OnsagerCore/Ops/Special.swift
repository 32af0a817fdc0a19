import COnsagerKernels
import Foundation

// The error function and the activations built on the normal distribution: erf and GELU run
// kernels of their own; SiLU is composed from the kernel ops (its gradient follows from that).
extension Tensor {
    /// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt; its derivative is 2/√π · e^(−x²).
    /// Float runs a vectorised kernel (within 2.5 ulp); Double calls the C library's erf.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func erf() -> Tensor {
        unary(ONS_ERF, "erf") { x, _, g in g * (-(x * x)).exp() * Scalar(2 / Double.pi.squareRoot()) }
    }

    /// GELU, x·Φ(x) with the exact normal CDF Φ(x) = (1 + erf(x/√2))/2 (`torch.nn.GELU()`).
    ///
    /// One vectorised pass forward and one backward, Φ computed so that it keeps its accuracy in
    /// the left tail where 1 + erf cancels (Float: one exp and a fitted polynomial; Double:
    /// erfc(−x/√2)/2); twice differentiable.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func gelu() -> Tensor { unary(ONS_GELU, "gelu") { x, _, g in Tensor.geluBackward(g, x) } }

    /// g · GELU′(x), GELU′(x) = Φ(x) + x·φ(x), in one pass. Its own rule: linear in g, and
    /// ∂/∂x = g · GELU″(x) = g · φ(x)·(2 − x²).
    static func geluBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        binary(ONS_GELU_BACKWARD, g, x, "gelu_backward") { g, x, gg in
            let towardG: Tensor? = g.node == nil ? nil : geluBackward(gg, x)   // linear in g
            guard x.node != nil else { return (towardG, nil) }
            let density = (x * x * Scalar(-0.5)).exp() * Scalar(1 / (2 * Double.pi).squareRoot())
            return (towardG, gg * g * density * (2 - x * x))
        }
    }

    /// SiLU (swish), x·σ(x) (`torch.nn.SiLU()`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func silu() -> Tensor { self * sigmoid() }
}
