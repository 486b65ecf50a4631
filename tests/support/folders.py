"""Comparing two run folders of one period: equal apart from when and where they ran."""

from __future__ import annotations

import json
from pathlib import Path

SKIPPED = ("logs",)  # timestamps on every line
MANIFEST_TIMES = ("created_at", "seconds", "command")


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] not in SKIPPED)


def differences(a: Path, b: Path) -> list[str]:
    """The files of `a` and `b` that differ: every artefact and page byte for byte; the manifest without
    its times and command; each executed notebook without papermill's record of the run (times, the
    temporary folder it ran in) and the parameters cell (which names that folder)."""
    out = [f"only in one: {name}" for name in sorted(set(files(a)) ^ set(files(b)))]
    for name in sorted(set(files(a)) & set(files(b))):
        pa, pb = a / name, b / name
        if name == "manifest.json":
            same = _manifest(pa) == _manifest(pb)
        elif name.endswith(".ipynb"):
            same = _notebook(pa) == _notebook(pb)
        else:
            same = pa.read_bytes() == pb.read_bytes()
        if not same:
            out.append(name)
    return out


def _manifest(path: Path) -> dict:
    m = json.loads(path.read_text())
    for nb in m.get("notebooks", {}).values():
        nb.pop("seconds", None)
    return {k: v for k, v in m.items() if k not in MANIFEST_TIMES}


def _notebook(path: Path) -> dict:
    nb = json.loads(path.read_text())
    nb["metadata"].pop("papermill", None)
    for cell in nb["cells"]:
        cell["metadata"].pop("papermill", None)
        cell["metadata"].pop("execution", None)
        if "injected-parameters" in cell["metadata"].get("tags", []):
            cell["source"] = ""  # run_dir: the run's temporary folder
    return nb
