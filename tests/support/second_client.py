"""A second client built from the demo data: every export column renamed, the invoices moved from
Excel to CSV, and its own parameters file (name, bands, lead time, maintenance thresholds).

The kit must need no code change for it (the data contract), and its published site must read as
well as the demo's: the browser test opens both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

CLIENT = "northwind"
NAME = "Northwind Traders"
OWN_SETTINGS = {
    "lead_time_days": 60,
    "score": {"bands": {"red": 50, "green": 70}},
    "maintenance": {"cta_completion": {"amber": 0.75, "red": 0.65}, "csm_active_share": {"amber": 0.85, "red": 0.75}},
}


def renamed(column: str, canonical: str) -> str:
    """The second client's name for a column: its own words, nothing like the demo's."""
    return f"NW {canonical.replace('_', ' ').title()} [{column[:3].strip()}]"


def build(demo_params_file: Path, folder: Path) -> Path:
    """Write the renamed exports and parameters/northwind.yml into `folder`; returns the parameters file."""
    demo = yaml.safe_load(Path(demo_params_file).read_text())
    data = folder / "exports"
    data.mkdir(parents=True, exist_ok=True)
    sources = {}
    for table, src in demo["sources"].items():
        path = Path(src["path"])
        if not path.is_absolute():
            path = Path(demo_params_file).parent / path
        mapping = {old: renamed(old, canonical) for old, canonical in src["columns"].items()}
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path).rename(mapping)
            out = data / f"{table}.parquet"
            frame.write_parquet(out)
        elif path.suffix in (".xlsx", ".xls"):
            frame = pl.read_excel(path, sheet_name=src.get("sheet")).rename(mapping)
            out = data / f"{table}.csv"
            frame.write_csv(out)
        else:
            frame = pl.read_csv(path, infer_schema=False).rename(mapping)
            out = data / f"{table}.csv"
            frame.write_csv(out)
        new = {k: v for k, v in src.items() if k not in ("path", "columns", "sheet")}
        if path.suffix in (".xlsx", ".xls"):
            new.pop("date_format", None)
        new["path"] = str(out)
        new["columns"] = {mapping[old]: canonical for old, canonical in src["columns"].items()}
        sources[table] = new
    params = {"client": CLIENT, "name": NAME, "sources": sources, **{k: v for k, v in demo.items() if k not in ("client", "name", "sources")}}
    for key, value in OWN_SETTINGS.items():
        params[key] = _merge(params.get(key), value)
    path = folder / f"{CLIENT}.yml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))
    return path


def _merge(base, extra):
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in extra.items()}}
    return extra
