import Foundation

// Functions without a vector kernel, computed elementwise in Swift, and activations composed
// from them and from the kernel ops (their gradients follow from the composition).
extension Tensor {
    /// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt; its derivative is 2/√π · e^(−x²).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func erf() -> Tensor {
        let x = contiguousValue()
        let out = Tensor(uninitializedShape: shape)
        let src = x.basePointer, dst = out.storage.base
        for i in 0..<scalarCount { dst[i] = Scalar(Foundation.erf(Double(src[i]))) }
        guard Self.tracks(self) else { return out.checked("erf") }
        let input = self
        return out.attaching("erf", input) { g in
            g * (-(input * input)).exp() * Scalar(2 / Double.pi.squareRoot())
        }.checked("erf")
    }

    /// GELU, x·Φ(x) with the exact normal CDF Φ(x) = (1 + erf(x/√2))/2 (`torch.nn.GELU()`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func gelu() -> Tensor { self * ((self * Scalar(1 / 2.0.squareRoot())).erf() + 1) * Scalar(0.5) }

    /// SiLU (swish), x·σ(x) (`torch.nn.SiLU()`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func silu() -> Tensor { self * sigmoid() }
}
