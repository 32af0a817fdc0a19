"""The environment each implementation is timed in, shared by compare.py and rotation.py.

numpy runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this host sets them), so that
OpenBLAS picks its kernels from the CPU as on a user's machine.

With avx2=True every implementation is held to AVX2 and FMA, as a stand-in on an AVX-512 host
for the AVX2-only CPUs the speed tables cannot otherwise reach (AMD Zen 2 and 3, Intel's client
cores): Onsager by ONSAGER_ISA=avx2, OpenBLAS by OPENBLAS_CORETYPE=Zen (the kernels it picks on
Zen 1-3), PyTorch by ATEN_CPU_CAPABILITY=avx2 for its own kernels, MKL_ENABLE_INSTRUCTIONS=AVX2
for MKL and ONEDNN_MAX_CPU_ISA=AVX2 for oneDNN, JAX by XLA's --xla_cpu_max_isa=AVX2. On AMD's
AVX-512 cores the 256-bit FMAs run on the same two pipes as Zen 3's; caches and clocks differ.
"""
import os

def environments(avx2=False):
    """A dict: implementation ("onsager", "numpy", "torch", "jax") -> its environment."""
    base = dict(os.environ)
    numpy = {k: v for k, v in base.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    envs = {"onsager": dict(base), "numpy": numpy, "torch": dict(base), "jax": dict(base)}
    if avx2:
        envs["onsager"]["ONSAGER_ISA"] = "avx2"
        envs["numpy"]["OPENBLAS_CORETYPE"] = "Zen"
        envs["torch"].update(ATEN_CPU_CAPABILITY="avx2", MKL_ENABLE_INSTRUCTIONS="AVX2", ONEDNN_MAX_CPU_ISA="AVX2")
        envs["jax"]["XLA_FLAGS"] = (base.get("XLA_FLAGS", "") + " --xla_cpu_max_isa=AVX2").strip()
    return envs
