"""A run's data, read once: the runner loads and maps a client's sources and writes the canonical
tables here; every notebook of the run reads them back instead of reading the sources again.

The cache lives in the run's temporary folder, `<run_dir>/.cache/`, and is removed before the run
is committed or kept as failed (and with the temporary folder when a run is stopped or killed):

    cache.json            everything a `ClientData` knows besides the records: per table its location
                          (a database URI with the password masked), kind, column mapping, export time,
                          notes and problems; per unusable table its error; and the manifest's inputs
                          (rows and SHA-256 from this same read). No query text, no secret.
    <table>.text.parquet  the records as read (the client's values under canonical names)
    <table>.parquet       the typed canonical table
    <table>.failed.parquet  every value that failed to parse: (column, record number)

So a source changed on disk during a run changes nothing the later notebooks see, a SQL source is
queried once per run, and each notebook reads Parquet instead of parsing exports. A notebook
run outside the runner (JupyterLab) finds no cache and reads the sources (kit.notebook).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from kit import errors
from kit.io import sources
from kit import contract
from kit import uris
from kit.io.load import ROW, ClientData, Problem, TableLoad, input_entry
from kit.io.notes import Note
from kit.params import Parameters

FOLDER = ".cache"
INDEX = "cache.json"
FORMAT = 1


def write(data: ClientData, run_dir: Path, store: Path | None = None) -> ClientData:
    """Load every configured table of `data`, write it to the run's cache, and return the data as
    the notebooks will see it (read from the cache).

    `store`: a folder shared by the months of a range run (kit.run.months). A table whose source the
    store holds already (the same file, or the same query: `source_key`) is linked from it, not read
    again; one it does not hold is read and written there first. So a range reads each source once,
    and a source whose path names the month (`{period}`) once per month."""
    folder = Path(run_dir) / FOLDER
    folder.mkdir()
    entries = {}
    configured = [n for n in contract.TABLES if n in data.params.sources]
    for name in sorted(configured, key=lambda n: n not in contract.REQUIRED_TABLES):  # an unusable accounts table stops first
        if store is None:
            entries[name] = _write_entry(data, name, folder)
        else:
            kept = Path(store) / source_key(data.params, name)
            if not (kept / ENTRY).exists():
                _write_entry_to(data, name, kept)
            entries[name] = json.loads((kept / ENTRY).read_text())
            for f in kept.iterdir():
                if f.name != ENTRY:
                    _link(f, folder / f.name)
        if name in contract.REQUIRED_TABLES and entries[name].get("unusable"):
            raise _error(entries[name]["unusable"])
    entries = {n: entries[n] for n in configured}
    tables = {n: e["table"] for n, e in entries.items() if e.get("table")}
    unusable = {n: _error(e["unusable"]) for n, e in entries.items() if e.get("unusable")}
    inputs = {n: e["input"] for n, e in entries.items()}
    index = {
        "format": FORMAT, "client": data.params.client, "tables": tables, "inputs": inputs,
        "unavailable": {n: e["unusable"] for n, e in entries.items() if e.get("unusable")},
    }
    (folder / INDEX).write_text(json.dumps(index, indent=1))
    loads = {name: _table(folder, name, t, rows=inputs[name]["rows"], sha256=inputs[name].get("sha256") or inputs[name].get("query_sha256"),
                          source_kind=inputs[name]["kind"]) for name, t in tables.items()}
    return ClientData.loaded(data.params, loads, unusable, inputs=inputs)


ENTRY = "entry.json"  # in a store: what the index says of the table (kit.io.cache.write)


def source_key(params: Parameters, name: str) -> str:
    """The table and its source as configured (the file after `{period}` is filled in, or the query):
    months whose key is the same read the same records."""
    src = params.sources[name]
    where = str(params.resolve(src.path)) if src.path else ""
    spec = json.dumps([name, where, src.model_dump(mode="json")], sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(spec.encode()).hexdigest()[:16]}"


def _write_entry_to(data: ClientData, name: str, kept: Path) -> None:
    """The table's files and entry into the store, atomically (a folder renamed into place)."""
    tmp = kept.with_name(f".{kept.name}.{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        entry = _write_entry(data, name, tmp)
        (tmp / ENTRY).write_text(json.dumps(entry, indent=1))
        tmp.rename(kept)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the store is next to the run folder: same file system, no copy
    except OSError:
        shutil.copy2(source, target)


def _write_entry(data: ClientData, name: str, folder: Path) -> dict:
    """Load one table of `data` and write its files into `folder`: {"table": index entry, "input": the
    manifest's entry} or, for a table that cannot be used, {"unusable": the error, "input": ...}."""
    try:
        t = data._load(name)
    except errors.KitError as e:  # the accounts table: the run stops with this reason (kit.io.cache.write)
        return {"unusable": _error_dict(e), "input": _failed_input(data, name, e)}
    if t is None:
        e = data._failed[name]
        return {"unusable": _error_dict(e), "input": _failed_input(data, name, e)}
    try:
        on_disk = _write_table(folder, t)
    except pl.exceptions.PolarsError as e:  # the export fails while it is read in full: as when loading fails
        err = sources.unreadable(t.location, e)
        return {"unusable": _error_dict(err), "input": _failed_input(data, name, err)}
    table = {
        "location": t.location, "kind": t.kind, "mapping": t.mapping, "failable": list(t._failed),
        "exported_at": t.exported_at.isoformat() if t.exported_at else None,
        "notes": [asdict(n) for n in t.notes], "problems": [asdict(p) for p in on_disk.problems],
    }
    written = pl.scan_parquet(folder / f"{name}.text.parquet").select(pl.len()).collect().item()
    entry = {k: v for k, v in input_entry(t.raw, written).items() if k != "notes"}  # the manifest counts what was written
    return {"table": table, "input": entry}


def _failed_input(data: ClientData, name: str, e: errors.KitError) -> dict:
    src = data.params.sources[name]
    raw = data._raws.get(name)
    if raw is not None:  # read, but not usable (no records, a mapped column missing, failed in full)
        rows = raw.rows if raw.rows is not None else int(raw.frame.select(pl.len()).collect().item())
        return {**input_entry(raw, rows), "error": str(e)}
    return {"location": src.path or uris.mask_uri(src.uri or ""), "error": str(e)}  # as ClientData.inputs says it


def _write_table(folder: Path, t: TableLoad) -> TableLoad:
    """The records as read, then the typed table made from that copy (the source is read once), then
    the record numbers of values that failed to parse; returns the table reading the copy."""
    name = t.name
    t.text.sink_parquet(folder / f"{name}.text.parquet")
    text = pl.scan_parquet(folder / f"{name}.text.parquet")
    on_disk = replace(t, text=text, frame=t.typing(text))
    on_disk.frame.sink_parquet(folder / f"{name}.parquet")
    failed = [on_disk.text.filter(on_disk._failed[p.column]).select(pl.lit(p.column).alias("column"), ROW) for p in on_disk.problems]
    if failed:
        pl.concat(failed).sink_parquet(folder / f"{name}.failed.parquet")
    return on_disk


def read(run_dir: str | Path | None, params: Parameters) -> ClientData | None:
    """The run's tables, if `run_dir` holds this client's cache; None otherwise (read the sources)."""
    if run_dir is None:
        return None
    folder = Path(run_dir) / FOLDER
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError):
        return None
    if index.get("format") != FORMAT or index.get("client") != params.client:
        return None
    inputs = index["inputs"]
    loads = {
        name: _table(folder, name, t, rows=inputs[name]["rows"], sha256=inputs[name].get("sha256") or inputs[name].get("query_sha256"),
                     source_kind=inputs[name]["kind"])
        for name, t in index["tables"].items()
    }
    failed = {name: _error(e) for name, e in index["unavailable"].items()}
    return ClientData.loaded(params, loads, failed, inputs=inputs)


def remove(run_dir: Path) -> None:
    shutil.rmtree(Path(run_dir) / FOLDER, ignore_errors=True)


def _table(folder: Path, name: str, t: dict, *, rows: int | None, sha256: str, source_kind: str) -> TableLoad:
    text = pl.scan_parquet(folder / f"{name}.text.parquet")
    client_names = {canon: client for canon, client in t["mapping"].items() if canon in text.collect_schema().names()}
    exported = datetime.fromisoformat(t["exported_at"]) if t["exported_at"] else None
    raw = sources.RawSource(name, t["location"], text.rename(client_names), sha256, source_kind, rows=rows, exported_at=exported)
    row = text.collect_schema()[ROW]
    failing = pl.read_parquet(folder / f"{name}.failed.parquet") if t["problems"] else pl.DataFrame(schema={"column": pl.String, ROW: row})
    failed = {c: pl.col(ROW).is_in(failing.filter(pl.col("column") == c)[ROW].implode()) for c in t["failable"]}
    loaded = TableLoad(name, raw, pl.scan_parquet(folder / f"{name}.parquet"), text, t["mapping"], t["kind"],
                       [Note(**n) for n in t["notes"]], failed)
    loaded.problems = [Problem(**p) for p in t["problems"]]  # counted when the cache was written
    return loaded


def _error_dict(e: errors.KitError) -> dict:
    return {"type": type(e).__name__, "message": e.message, "where": e.where, "fix": e.fix, "code": str(e.code)}


def _error(d: dict) -> errors.KitError:
    """The error as it was raised (its class, message, place, fix and reason code)."""
    cls = getattr(errors, d["type"], errors.KitError)
    if not (isinstance(cls, type) and issubclass(cls, errors.KitError)) or cls is errors.KitErrors:
        cls = errors.KitError  # lenient loading records single errors; anything else is shown as one
    return cls(d["message"], where=d["where"], fix=d["fix"], code=d["code"])
