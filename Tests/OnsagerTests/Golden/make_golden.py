"""Golden values for Onsager's op tests, computed with numpy in float64.

Inputs are given by formulas that the Swift tests reproduce exactly (see GoldenTests.swift), so
only the outputs are stored. Run from this folder:  python3 make_golden.py  (writes ops.json).
CI never runs this script; it reads the committed JSON.
"""
import json
import numpy as np

def x_input():   # shape [3, 4], mixed signs
    return np.array([3.0 * np.sin(0.7 * i + 0.3) for i in range(12)]).reshape(3, 4)

def p_input():   # shape [3, 4], positive
    return np.array([np.exp(np.sin(1.3 * i)) for i in range(12)]).reshape(3, 4)

def w_input():   # shape [4, 5]
    return np.array([np.cos(0.5 * i - 1.0) for i in range(20)]).reshape(4, 5)

def big_input():  # extremes for stability
    return np.array([-1000.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1000.0])

def sigmoid(x): return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
def softplus(x): return np.logaddexp(0, x)
def lse(x, axis): return np.logaddexp.reduce(x, axis=axis, keepdims=True)

x, p, w, big = x_input(), p_input(), w_input(), big_input()
with np.errstate(over="ignore"):
    cases = {
        "exp": np.exp(x), "log": np.log(p), "log1p": np.log1p(p), "sqrt": np.sqrt(p), "expm1": np.expm1(x),
        "sigmoid": sigmoid(x), "logsigmoid": -softplus(-x), "tanh": np.tanh(x), "relu": np.maximum(x, 0),
        "softplus": softplus(x), "abs": np.abs(x), "sign": np.sign(x), "square": x * x, "reciprocal": 1 / p,
        "leaky_relu_0.1": np.where(x > 0, x, 0.1 * x), "pow_1.7": p ** 1.7, "pow_tensor": p ** x,
        "clamp_-1_2": np.clip(x, -1, 2),
        "sum_axis0": x.sum(0), "sum_axis1": x.sum(1), "sum_all": np.array(x.sum()), "mean_axis1": x.mean(1),
        "var_axis0_ddof0": x.var(0), "var_axis1_ddof1": x.var(1, ddof=1), "max_axis1": x.max(1), "min_axis0": x.min(0),
        "logsumexp_axis1": lse(x, 1)[:, 0], "logsumexp_big": np.array(np.logaddexp.reduce(big)),
        "softmax_axis1": np.exp(x - lse(x, 1)), "log_softmax_axis0": x - lse(x, 0),
        "matmul": x @ w, "matmul_xT_x": x.T @ x,
        "batched_matmul": np.stack([x, x * 0.5]) @ w[:, :2],
        "maximum_broadcast": np.maximum(x, p[0]), "minimum_broadcast": np.minimum(x, p[:, :1]),
        "div_broadcast": x / p[1], "where_x_gt_0": np.where(x > 0, x, p),
        "sigmoid_big": sigmoid(big), "softplus_big": softplus(big), "logsigmoid_big": -softplus(-big),
        "tanh_big": np.tanh(big),
    }
out = {k: {"shape": list(np.shape(v)), "values": np.asarray(v, dtype=np.float64).ravel().tolist()} for k, v in cases.items()}
with open("ops.json", "w") as f:
    json.dump({"generator": "make_golden.py (numpy %s)" % np.__version__, "cases": out}, f, indent=1)
print("wrote", len(out), "cases")
