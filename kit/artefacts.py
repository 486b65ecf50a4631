"""A run's artefacts as files: strict JSON (NaN and infinities as null, dates as ISO strings), and `Document`, the
base of each analysis's result type.

A shared leaf: each analysis declares its result as a `Document` subclass in its own module (its file name from
kit.registry, the keys every reader relies on); the analyses write with it, and the runner, the history and
publishing read with it. A result written by an older kit that lacks a key fails with the file and the key named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from kit.errors import KitError, Reason, first_line

D = TypeVar("D", bound="Document")


class Document:
    """A notebook's JSON result: `FILE` (a name of kit.registry), the top-level keys every reader relies on
    (`REQUIRED`), and the keys of each record in a list (`RECORDS`: {"checks": ("name", "status")}). Subclasses add
    typed accessors; `doc` is the document as written."""

    FILE: ClassVar[str]
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    RECORDS: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc

    def get(self, key: str, default: Any = None) -> Any:
        return self.doc.get(key, default)

    def write(self, folder: str | Path) -> Path:
        return write_json(Path(folder) / self.FILE, self.doc)

    @classmethod
    def read(cls: type[D], folder: str | Path) -> D | None:
        """The result in `folder`, or None when the folder has none. Raises a KitError naming the file and the key
        when it is not JSON or lacks a key its readers rely on (written by an older kit)."""
        path = Path(folder) / cls.FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise KitError(f"{cls.FILE} is not valid JSON ({first_line(e)})", where=str(path), code=Reason.ARTEFACT_OUTDATED,
                           fix="rerun this period (python -m kit run PARAMS --period PERIOD) to write it again") from None
        return cls.checked(doc, path)

    @classmethod
    def checked(cls: type[D], doc: Any, where: str | Path = "") -> D:
        """`doc` as this result type, once every key its readers rely on is there."""
        where = str(where or cls.FILE)
        fix = "it was written by an older version of the kit: rerun this period (python -m kit run PARAMS --period PERIOD)"
        if not isinstance(doc, dict):
            raise KitError(f"{cls.FILE} holds a {type(doc).__name__}, not a JSON object", where=where,
                           code=Reason.ARTEFACT_OUTDATED, fix=fix)
        for key in cls.REQUIRED:
            if key not in doc:
                raise KitError(f"{cls.FILE} has no {key!r}", where=where, code=Reason.ARTEFACT_OUTDATED, fix=fix)
        for key, keys in cls.RECORDS.items():
            for i, rec in enumerate(doc.get(key) or []):
                missing = [k for k in keys if not isinstance(rec, dict) or k not in rec]
                if missing:
                    raise KitError(f"{cls.FILE} has no {missing[0]!r} in {key}[{i}]", where=where,
                                   code=Reason.ARTEFACT_OUTDATED, fix=fix)
        return cls(doc)


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
