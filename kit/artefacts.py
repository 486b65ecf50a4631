"""A run's artefacts as files: strict JSON (NaN and infinities as null, dates as ISO strings).

A shared leaf: the analyses write their artefacts with it, the notebook context reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, obj: Any) -> Path:
    """Strict JSON (NaN and infinities as null, dates as ISO strings), indented for people."""
    path.write_text(json.dumps(clean_json(obj), indent=2, default=_json_default, allow_nan=False))
    return path


def clean_json(obj: Any) -> Any:
    """NaN and infinities become null, so artefacts are strict JSON."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if hasattr(obj, "item") and not hasattr(obj, "__len__"):  # numpy scalar
        return clean_json(obj.item())
    return obj


def _json_default(o):
    import datetime as dt

    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
