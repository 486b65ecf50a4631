"""The run manifest: what ran, on which inputs, with which versions, and how it went."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import kit
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


def command_line() -> str:
    """This process's command, as a person would type it."""
    return " ".join(Path(sys.argv[0]).name if i == 0 else a for i, a in enumerate(sys.argv))


def build(params: Parameters, period: str, inputs: dict, notebooks: dict, started: float, finished: float,
          command: str | None = None) -> dict:
    failed = [n for n, r in notebooks.items() if r["status"] != "ok"]
    return {
        "client": params.client,
        "name": params.name,
        "period": period,
        "status": "failed" if failed else "ok",
        "kit_version": kit.__version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(finished - started, 2),
        "command": command or command_line(),
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
