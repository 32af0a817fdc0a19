"""Validates the notebooks `onsager notebook NAME` wrote, with nbformat (pip install nbformat).
Run by hand after rendering: python3 Tutorials/validate_notebooks.py [onsager-output]
CI does not run this (it must not need Jupyter); the Swift tests check the notebooks' structure."""
import glob, os, sys
import nbformat

root = sys.argv[1] if len(sys.argv) > 1 else "onsager-output"
paths = sorted(glob.glob(os.path.join(root, "*", "*.ipynb")))
if not paths:
    sys.exit(f"no notebooks under {root}/ (render one with: swift run onsager notebook NAME)")
failed = 0
for p in paths:
    nb = nbformat.read(p, as_version=4)
    try:
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        outputs = sum(len(c.outputs) for c in code)
        svgs = sum(1 for c in code for o in c.outputs if o.output_type == "display_data" and "image/svg+xml" in o.data)
        print(f"valid  {p}: {len(nb.cells)} cells ({len(code)} code), {outputs} outputs, {svgs} figures (nbformat {nbformat.__version__})")
    except nbformat.ValidationError as e:
        failed += 1
        print(f"INVALID {p}: {e.message}")
sys.exit(1 if failed else 0)
