"""The run manifest: what ran, on which inputs, with which versions, and how it went."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import polars as pl

import kit
from kit import sources
from kit.errors import KitError
from kit.params import Parameters

PACKAGES = (
    "polars", "pandas", "numpy", "scipy", "statsmodels", "altair", "vl-convert-python",
    "papermill", "nbconvert", "ipykernel", "pydantic", "connectorx", "adbc-driver-postgresql", "fastexcel",
)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def fingerprint_inputs(params: Parameters) -> dict[str, dict]:
    """For every configured source: location, kind, row count and SHA-256 (of the file, or of the query).

    A source that cannot be read is recorded with its error; the notebooks report it.
    """
    out: dict[str, dict] = {}
    for table, src in params.sources.items():
        try:
            raw = sources.read(table, src, params)
            rows = raw.rows if raw.rows is not None else int(raw.frame.select(pl.len()).collect().item())
            entry = {"location": raw.location, "kind": raw.kind, "rows": rows, "sha256": raw.sha256}
            if raw.kind == "sql":
                entry = {"location": raw.location, "kind": "sql", "rows": rows, "query_sha256": raw.sha256}
            if raw.notes:
                entry["notes"] = [n.text for n in raw.notes]
        except KitError as e:
            entry = {"location": src.path or sources.mask_uri(src.uri or ""), "error": str(e)}
        out[table] = entry
    return out


def build(params: Parameters, period: str, inputs: dict, notebooks: dict, started: float, finished: float) -> dict:
    failed = [n for n, r in notebooks.items() if r["status"] != "ok"]
    return {
        "client": params.client,
        "name": params.name,
        "period": period,
        "status": "failed" if failed else "ok",
        "kit_version": kit.__version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(finished - started, 2),
        "command": " ".join(Path(sys.argv[0]).name if i == 0 else a for i, a in enumerate(sys.argv)),
        "packages": package_versions(),
        "parameters_file": str(params.path) if params.path else None,
        "parameters": params.public_dict(),
        "inputs": inputs,
        "notebooks": notebooks,
    }


def write(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2, default=str))


def read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None
