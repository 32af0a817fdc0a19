#!/usr/bin/env python3
"""Counts the library's public symbols that carry no doc comment, from the compiler's symbol
graphs (`swift package dump-symbol-graph`), not from a grep: what a user sees in the generated
documentation is what is counted.

    swift package dump-symbol-graph && python3 .ci/doc-coverage.py [--list] [--require PERCENT]

Counted: every public symbol of the library targets declared in this package (extensions of
other modules' types included), documented only by a comment of its own (not one inherited from
the protocol requirement it implements); not counted: members the compiler synthesises (default
implementations inherited from protocols, memberwise conformances). Exits 1 when coverage is
below --require (default 100)."""
import argparse, glob, json, os, sys

LIBRARY = ["OnsagerCore", "OnsagerLinearAlgebra", "OnsagerNN", "OnsagerData", "OnsagerPlot", "OnsagerEnergy",
           "Onsager", "OnsagerCommandLine"]

p = argparse.ArgumentParser()
p.add_argument("--graphs", default=None, help="symbol graph folder (default: .build/<triple>/symbolgraph)")
p.add_argument("--list", action="store_true", help="list every undocumented symbol")
p.add_argument("--require", type=float, default=100.0, help="minimum coverage in percent")
p.add_argument("--modules", nargs="*", default=LIBRARY, help="modules to count (default: the library targets)")
args = p.parse_args()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
folder = args.graphs or next(iter(glob.glob(os.path.join(root, ".build", "*", "symbolgraph"))), None)
if not folder or not os.path.isdir(folder):
    sys.exit("doc-coverage: no symbol graphs; run `swift package dump-symbol-graph` first")

seen, missing, per_module = set(), [], {}
for module in args.modules:
    files = [os.path.join(folder, f"{module}.symbols.json")] + glob.glob(os.path.join(folder, f"{module}@*.symbols.json"))
    for path in files:
        if not os.path.exists(path):
            if path.endswith(f"/{module}.symbols.json"):
                sys.exit(f"doc-coverage: missing {path}")
            continue
        graph = json.load(open(path))
        for s in graph["symbols"]:
            if s.get("accessLevel") not in ("public", "open"):
                continue
            ident = s["identifier"]["precise"]
            if "::SYNTHESIZED::" in ident or ident in seen:
                continue
            # Only symbols whose source is in this package (not re-exported ones).
            loc = s.get("location", {}).get("uri", "")
            # Only symbols written in this package's sources: none re-exported from elsewhere, and
            # none the compiler synthesises without a location (an enum's init(rawValue:)).
            if "/Sources/" not in loc:
                continue
            seen.add(ident)
            total, undocumented = per_module.get(module, (0, 0))
            # A comment of its own: one inherited from a protocol requirement (which the symbol
            # graph copies onto an implementation without one) names the protocol's file.
            doc = s.get("docComment", {})
            documented = bool(doc.get("lines")) and doc.get("uri") == loc
            per_module[module] = (total + 1, undocumented + (0 if documented else 1))
            if not documented:
                where = loc.split("/Sources/")[-1] if loc else "?"
                line = s.get("location", {}).get("position", {}).get("line", 0) + 1
                missing.append(f"{where}:{line}: {s['kind']['displayName'].lower()} {'.'.join(s['pathComponents'])}")

total = sum(t for t, _ in per_module.values())
undocumented = sum(u for _, u in per_module.values())
coverage = 100.0 * (total - undocumented) / max(total, 1)
for module, (t, u) in per_module.items():
    print(f"  {module:22s} {t - u:5d} of {t:5d} public symbols documented")
print(f"doc coverage: {total - undocumented} of {total} public symbols documented ({coverage:.1f}%)")
if args.list or (coverage < args.require and len(missing) <= 200):
    for m in sorted(missing):
        print("  undocumented:", m)
if coverage < args.require:
    print(f"doc coverage {coverage:.1f}% is below the required {args.require:g}%", file=sys.stderr)
    sys.exit(1)
