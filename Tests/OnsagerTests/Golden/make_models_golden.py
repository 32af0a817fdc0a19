"""Golden values for Onsager's linear-model tests: scikit-learn LogisticRegression (C=1, lbfgs,
tight tolerance) and Ridge on formula-defined data reproduced in LinearModelTests.swift.
Run here: python3 make_models_golden.py (writes models.json). CI reads the JSON only."""
import json
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
import sklearn

n, p = 60, 5
X = np.array([[np.sin(0.37 * i + 1.1 * j) + 0.1 * j for j in range(p)] for i in range(n)])
y = np.array([1.0 if np.sin(0.37 * i) + 0.5 * np.cos(0.21 * i) > 0.1 else 0.0 for i in range(n)])
t = np.array([np.cos(0.13 * i) + 0.05 * i for i in range(n)])
lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X, y)
rg = Ridge(alpha=0.3, fit_intercept=True).fit(X, t)
out = {"logistic_coef": lr.coef_.ravel().tolist(), "logistic_intercept": float(lr.intercept_[0]),
       "ridge_coef": rg.coef_.ravel().tolist(), "ridge_intercept": float(rg.intercept_),
       "generator": "make_models_golden.py (scikit-learn %s)" % sklearn.__version__}
json.dump(out, open("models.json", "w"), indent=1)
print(out)
