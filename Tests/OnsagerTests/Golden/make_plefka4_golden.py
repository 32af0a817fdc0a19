"""Golden values for Onsager's order-4 Plefka tests, from the numpy oracle in
shared/reference/plefka4.py (float64). Inputs are stored beside the outputs.
Run here: python3 make_plefka4_golden.py [path/to/shared/reference] (writes plefka4.json).
CI reads the committed JSON and never runs this script."""
import json, os, sys
import numpy as np

ref = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../shared/reference")
sys.path.insert(0, os.path.abspath(ref))
import plefka4 as P

rng = np.random.default_rng(2026)
cases = []
for nv, nh, sigma in [(7, 5, 0.5), (5, 8, 0.5), (6, 6, 0.3)]:
    W = rng.normal(0, sigma, (nv, nh)); a = rng.normal(0, 1, nv); b = rng.normal(0, 1, nh)
    mv = rng.uniform(0.1, 0.9, nv); mh = rng.uniform(0.1, 0.9, nh)
    case = {"W": W.ravel().tolist(), "shape": [nv, nh], "a": a.tolist(), "b": b.tolist(), "mv": mv.tolist(), "mh": mh.tolist(),
            "terms": P.terms(mv, mh, a, b, W).tolist(),
            "cycle4": P.cycle4_brute(W, P.kap(mv), P.kap(mh))}
    for order in (1, 2, 3, 4):
        hv, hh = P.fields(mv, mh, a, b, W, order)
        case["fields%d" % order] = {"visible": hv.tolist(), "hidden": hh.tolist()}
    sv, sh, it, ok = P.tap_solve(a, b, W, order=4, damping=0.5, iters=20000, tol=1e-14)
    assert ok
    case["fixed_point4"] = {"visible": sv.tolist(), "hidden": sh.tolist(), "sweeps": it, "negG": P.negG(sv, sh, a, b, W, 4)}
    cases.append(case)
json.dump({"generator": "make_plefka4_golden.py (plefka4.py oracle, numpy %s)" % np.__version__, "cases": cases},
          open("plefka4.json", "w"), indent=1)
