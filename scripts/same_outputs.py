"""Do two versions of the kit produce the same artefacts? For structure-only changes (moves, renames).

    .venv/bin/python scripts/same_outputs.py --before COMMIT [--period 2026-10] [--keep DIR]

Extracts the kit and notebooks of COMMIT (git archive), runs the demo client's batch with that kit
and with the working tree, each into a folder of its own, from the same demo data, and compares the
artefacts byte for byte: every JSON but the manifest (which records times and versions),
scores.parquet, the CSV and YAML exports. Prints one line per file and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
PATTERNS = ("*.json", "*.parquet", "*.csv", "*.yml")
SKIP = {"manifest.json"}


def tree(commit: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit, "kit", "notebooks"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(kit_tree: Path, params: Path, period: str, out: Path) -> Path:
    cmd = [PY, "-m", "kit", "run", str(params), "--period", period, "--out", str(out), "--notebooks", str(kit_tree / "notebooks")]
    done = subprocess.run(cmd, cwd=kit_tree, env={"PYTHONPATH": str(kit_tree), "PATH": str(Path(PY).parent) + ":/usr/bin:/bin"},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the run with {kit_tree} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return out / "demo" / period


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the commit to compare the working tree with")
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--keep", type=Path, help="keep both output folders here")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="same-outputs-"))
    data = work / "data"
    if not (data / "crm" / "accounts.csv").exists():

        from kit import demo
        from kit.periods import Period

        demo.generate(data, Period.parse(args.period).end)
    params = work / "demo.yml"
    params.write_text((REPO / "parameters" / "demo.yml").read_text().replace("../data/demo/", f"{data}/"))
    a = run(tree(args.before, work / "before-tree"), params, args.period, work / "before")
    b = run(REPO, params, args.period, work / "after")
    names = sorted({p.name for pat in PATTERNS for d in (a, b) for p in d.glob(pat)} - SKIP)
    differ = 0
    for name in names:
        same = (a / name).exists() and (b / name).exists() and filecmp.cmp(a / name, b / name, shallow=False)
        differ += not same
        print(f"{'same   ' if same else 'DIFFERS'}  {name}")
    print(f"\n{len(names) - differ} of {len(names)} artefacts byte-identical ({args.before} vs the working tree, period {args.period})"
          + (f"; outputs in {work}" if args.keep else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
