"""Golden values for ImageDeformation's elastic smoothing: scipy.ndimage.gaussian_filter with
mode="constant" (zero padding) and truncate=3 on fixed, deterministic fields, times alpha.
Run: python3 make_deformation_golden.py  (needs numpy and scipy; writes deformation.json)."""
import json
import numpy as np
from scipy.ndimage import gaussian_filter

cases = []
# (height, width, sigma, alpha): a non-square image, a kernel wider than the image, σ giving a
# radius that rounds (3·1.1 = 3.3 → 3).
for h, w, sigma, alpha in [(9, 13, 1.5, 2.0), (6, 5, 4.0, 3.0), (11, 7, 1.1, 1.0)]:
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    fields = [np.sin(1.3 * i + 0.7 * j + f) + 0.5 * np.cos(0.4 * i * j - f) for f in range(3)]
    smoothed = [alpha * gaussian_filter(u, sigma, mode="constant", cval=0.0, truncate=3.0) for u in fields]
    cases.append({"height": h, "width": w, "sigma": sigma, "alpha": alpha,
                  "fields": [u.ravel().tolist() for u in fields],          # row-major [y, x]
                  "smoothed": [s.ravel().tolist() for s in smoothed]})     # row-major [y, x]
with open("deformation.json", "w") as f:
    json.dump({"source": "scipy.ndimage.gaussian_filter(mode='constant', truncate=3.0) * alpha", "cases": cases}, f)
