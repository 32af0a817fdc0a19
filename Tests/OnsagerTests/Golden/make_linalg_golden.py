"""Golden values for Onsager's linear-algebra tests, from numpy.linalg in float64.
Inputs are formulas reproduced in LinearAlgebraTests.swift. Run here: python3 make_linalg_golden.py
(writes linalg.json). CI reads the committed JSON and never runs this script."""
import json
import numpy as np

A = np.array([[np.cos(1.3 * i + 0.7 * j) for j in range(5)] for i in range(5)]) + 5 * np.eye(5)
B = np.array([[np.sin(0.9 * i - 0.4 * j + 0.2) for j in range(5)] for i in range(5)])
S = B @ B.T + np.eye(5)
M = np.array([[np.cos(0.3 * i * j + i) for j in range(4)] for i in range(7)])
H = np.array([[1.0 / (i + j + 1) for j in range(6)] for i in range(6)])          # Hilbert, cond ~ 1.5e7
R = np.array([[np.sin(i + 2 * j + 1.0) for j in range(3)] for i in range(6)])
D = np.column_stack([R, R[:, 0] + R[:, 1]])                                          # 6x4, rank 3
b5 = np.array([np.sin(1.0 + k) for k in range(5)])
y6 = np.array([np.cos(0.5 * k) for k in range(6)])

q, r = np.linalg.qr(M)
sgn = np.sign(np.diag(r)); r = sgn[:, None] * r
sign, logdet = np.linalg.slogdet(A)
cases = {
    "cholesky_S": np.linalg.cholesky(S), "solve_A_b": np.linalg.solve(A, b5), "inv_A": np.linalg.inv(A),
    "det_A": np.array(np.linalg.det(A)), "slogdet_A": np.array([sign, logdet]), "qr_R_M": r,
    "eigh_S_values": np.linalg.eigvalsh(S), "eigh_H_values": np.linalg.eigvalsh(H),
    "svd_M_s": np.linalg.svd(M, compute_uv=False), "svd_H_s": np.linalg.svd(H, compute_uv=False),
    "svd_D_s": np.linalg.svd(D, compute_uv=False), "pinv_D": np.linalg.pinv(D), "rank_D": np.array(np.linalg.matrix_rank(D)),
    "cond_A": np.array(np.linalg.cond(A)), "cond_H": np.array(np.linalg.cond(H)),
    "lstsq_D_y": np.linalg.lstsq(D, y6, rcond=None)[0], "pinv_M": np.linalg.pinv(M),
}
out = {k: {"shape": list(np.shape(v)), "values": np.asarray(v, dtype=np.float64).ravel().tolist()} for k, v in cases.items()}
json.dump({"generator": "make_linalg_golden.py (numpy %s)" % np.__version__, "cases": out}, open("linalg.json", "w"), indent=1)
print("wrote", len(out), "cases")
