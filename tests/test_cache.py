"""The run's cache (kit.io.cache): the runner reads a client's sources once, and every notebook of the
run reads that copy; a notebook outside a run reads the sources."""

from __future__ import annotations

import hashlib
import inspect
import json
import pickle
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kit.run import batch
from kit.io import cache
from kit import notebook, params
from kit.io.load import ClientData
from tests.conftest import DEMO_PERIOD, tiny_notebooks, write_params


def view(data) -> dict:
    """Everything a notebook can read of the client's data, in plain values (also run inside the kernels)."""
    out = {"_unavailable": data.unavailable, "_failures": {n: str(data.failure(n)) for n in data.unavailable if data.failure(n)}}
    for name, t in data.loads.items():
        out[name] = {
            "table": data.table(name), "text": t.text.collect(), "rows": t.rows, "mapping": t.mapping, "kind": t.kind,
            "location": t.location, "exported_at": t.exported_at, "notes": [vars(n) for n in t.notes],
            "problems": [vars(p) for p in t.problems], "failing": {p.column: t.failing_rows(p.column) for p in t.problems},
        }
    return out


def assert_same_view(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for name, e in expected.items():
        g = got[name]
        if name.startswith("_"):
            assert g == e, name
            continue
        assert_frame_equal(g.pop("table"), e["table"])
        assert_frame_equal(g.pop("text"), e["text"])
        failing = g.pop("failing")
        assert failing.keys() == e["failing"].keys(), name
        for column, frame in failing.items():
            assert_frame_equal(frame, e["failing"][column])
        assert g == {k: v for k, v in e.items() if k not in ("table", "text", "failing")}, name


@pytest.fixture
def client(small_clients, tmp_path) -> Path:
    """A copy of the small client `north` (its exports may be changed by a test)."""
    data = shutil.copytree(small_clients.parent / "data" / "north", tmp_path / "data")
    return write_params(tmp_path / "parameters", data, "north.yml", client="north")


def test_cache_round_trip_equals_a_direct_load(client, tmp_path):
    """Tables, the values as read, problems, failing records, notes, row counts, export times and the
    manifest's inputs; and an unusable optional table keeps its error."""
    text = client.read_text().replace("nps_responses.csv", "missing.csv")
    client.write_text(text)
    p = params.load(client)
    direct = ClientData(p)
    assert direct.failure("surveys").code == "file_not_found"  # the unusable table of this case
    assert any(t.problems for t in direct.loads.values())  # and parse problems (the demo plants some)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    written = cache.write(ClientData(p), run_dir)
    # the unusable table is in the cache too: no notebook of the run goes back to the source for it
    assert json.loads((run_dir / cache.FOLDER / cache.INDEX).read_text())["unavailable"]["surveys"]["code"] == "file_not_found"
    read = cache.read(run_dir, p)
    expected = view(direct)
    assert_same_view(view(written), expected)
    assert_same_view(view(read), view(direct))
    assert read.inputs == written.inputs == direct.inputs
    assert read.failure("surveys").code == "file_not_found" and str(read.failure("surveys")) == str(direct.failure("surveys"))


def test_raw_events_are_cached_as_their_daily_aggregate(tmp_path):
    start = datetime(2026, 9, 1)
    events = pl.DataFrame({
        "acct": [f"A{i % 3}" if i % 50 else None for i in range(600)],
        "ts": [start + timedelta(hours=5 * i) for i in range(600)],
        "who": [f"u{i % 7}" for i in range(600)],
        "what": ["login" if i % 4 == 0 else "view" for i in range(600)],
    })
    events.write_parquet(tmp_path / "events.parquet")
    (tmp_path / "accounts.csv").write_text("account_id\nA0\nA1\nA2\n")
    p = params.from_dict({"client": "t", "name": "T", "sources": {
        "accounts": {"path": "accounts.csv"},
        "usage": {"path": "events.parquet", "login_events": ["login"], "columns": {"acct": "account_id", "ts": "timestamp", "who": "user_id", "what": "event"}},
    }}, base_dir=tmp_path)
    direct = ClientData(p)
    assert direct.loads["usage"].kind == "events" and direct.table("usage").height < 600
    cache.write(ClientData(p), tmp_path)
    got, expected = view(cache.read(tmp_path, p)), view(direct)
    for v in (got, expected):  # polars' group_by leaves the days in another order on every read (kit.io.load.aggregate_events)
        v["usage"]["table"] = v["usage"]["table"].drop("_row").sort("account_id", "date")
    assert_same_view(got, expected)


SEEN = """
import pickle, uuid
import kit.notebook as nb
pathlib.Path(run_dir, f"seen-{uuid.uuid4().hex}.pkl").write_bytes(pickle.dumps(view(nb.setup(params_path, period, run_dir).data)))
"""

CHANGE = """
accounts = pathlib.Path({path!r})
if not accounts.with_suffix(".changed").exists():  # the first notebook of the run cuts the export in half
    lines = accounts.read_text().splitlines(keepends=True)
    accounts.write_text("".join(lines[: len(lines) // 2]))
    accounts.with_suffix(".changed").touch()
"""


def test_every_notebook_of_a_run_sees_the_tables_the_runner_read(client, tmp_path):
    """Each notebook records what it sees; the first one then changes a source on disk: the later ones
    still see the tables as the run read them, and the manifest's fingerprint is of that read."""
    p = params.load(client)
    accounts = p.resolve(p.sources["accounts"].path)
    original_sha = hashlib.sha256(accounts.read_bytes()).hexdigest()
    expected = view(ClientData(p))
    extra = inspect.getsource(view) + SEEN + CHANGE.format(path=str(accounts))
    r = batch.run_client(client, DEMO_PERIOD, out=tmp_path / "reports", notebooks_dir=tiny_notebooks(tmp_path / "nb", extra=extra))
    assert r.status == "ok", r.failure
    folder = Path(r.folder)
    seen = [pickle.loads(f.read_bytes()) for f in folder.glob("seen-*.pkl")]
    assert len(seen) == 4
    for s in seen:
        assert_same_view(s, expected)
    after = ClientData(p)  # the change is real: read now, the accounts table is shorter
    assert after.loads["accounts"].rows < expected["accounts"]["rows"]
    m = json.loads((folder / "manifest.json").read_text())
    assert m["inputs"]["accounts"]["sha256"] == original_sha != hashlib.sha256(accounts.read_bytes()).hexdigest()
    assert m["inputs"]["accounts"]["rows"] == expected["accounts"]["rows"]
    assert not (folder / cache.FOLDER).exists()  # the cache goes when the run is committed
    # outside a run (JupyterLab), a notebook reads the sources as they are now
    assert notebook.setup(str(client), DEMO_PERIOD, str(tmp_path / "lab")).data.loads["accounts"].rows == after.loads["accounts"].rows


def test_a_failed_run_keeps_its_notebooks_but_not_the_cache(client, tmp_path):
    nbs = tiny_notebooks(tmp_path / "nb", fail="backtest", extra=f"assert pathlib.Path(run_dir, {cache.FOLDER!r}, {cache.INDEX!r}).exists()")
    r = batch.run_client(client, DEMO_PERIOD, out=tmp_path / "reports", notebooks_dir=nbs)
    assert r.status == "failed" and "planted failure" in r.failure, r.failure
    failed = Path(r.folder)
    assert failed.name == f"{DEMO_PERIOD}.failed" and (failed / "audit.out.json").exists()
    assert not (failed / cache.FOLDER).exists()
    assert [p.name for p in failed.parent.iterdir() if p.name.startswith(".tmp")] == []


def test_a_cache_of_another_client_is_not_used(client, tmp_path, small_clients):
    other = params.load(small_clients / "south.yml")
    cache.write(ClientData(other), tmp_path)
    assert cache.read(tmp_path, other) is not None
    assert cache.read(tmp_path, params.load(client)) is None


def test_an_export_that_fails_while_cached_is_unusable_like_one_that_fails_to_load(client, tmp_path):
    """Reading a table in full can fail where its first rows read fine: an optional table is then
    unavailable with the reason (the audit reports it), the accounts table stops the run."""
    from dataclasses import replace

    from kit.errors import SourceError

    failing = pl.LazyFrame({"nps": ["7", "x"]}).select(pl.col("nps").cast(pl.Int64))  # strict cast: fails when read
    data = ClientData(params.load(client)).load_all()
    data._loads["surveys"] = replace(data._loads["surveys"], text=failing)
    (tmp_path / "a").mkdir()
    cached = cache.write(data, tmp_path / "a")
    err = cached.failure("surveys")
    assert err.code == "unreadable" and err.where.endswith("nps_responses.csv") and "surveys" in cached.unavailable
    assert cache.read(tmp_path / "a", data.params).failure("surveys").code == "unreadable"
    data._loads["accounts"] = replace(data._loads["accounts"], text=failing)
    (tmp_path / "b").mkdir()
    with pytest.raises(SourceError, match="cannot be read") as e:
        cache.write(data, tmp_path / "b")
    assert e.value.code == "unreadable"
