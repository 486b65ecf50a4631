"""Shared fixtures: the demo client generated once per test session, with a fixed end date."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import nbformat
import pytest

from kit import demo, registry, params
from kit.io.load import ClientData

REPO = Path(__file__).resolve().parent.parent
DEMO_END = date(2026, 10, 31)
DEMO_PERIOD = "2026-10"


def write_params(folder: Path, data_dir: Path, name: str = "demo.yml", *, client: str | None = None, extra: str = "") -> Path:
    """A copy of parameters/demo.yml whose sources point at `data_dir`."""
    text = (REPO / "parameters" / "demo.yml").read_text().replace("../data/demo/", f"{data_dir}/")
    if client:
        text = text.replace("client: demo", f"client: {client}", 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text + extra)
    return path


def tiny_notebooks(folder: Path, fail: str | None = None, extra: str = "") -> Path:
    """Fast stand-in notebooks: each records the parameters it received; `fail` raises in its second cell;
    `extra` is code every notebook runs last."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, file in ((n.name, n.file) for n in registry.NOTEBOOKS.values()):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        p = nbformat.v4.new_code_cell("params_path = ''\nperiod = None\nrun_dir = None")
        p.metadata["tags"] = ["parameters"]
        body = f"import json, pathlib\npathlib.Path(run_dir, '{name}.out.json').write_text(json.dumps({{'period': period, 'params': params_path}}))"
        cells = [p, nbformat.v4.new_code_cell(body)]
        if name == fail:
            cells.append(nbformat.v4.new_code_cell("raise ValueError('planted failure in ' + period)"))
        if extra:
            cells.append(nbformat.v4.new_code_cell(extra))
        nb.cells = cells
        nbformat.write(nb, folder / file)
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


# Small clients (kit.demo with a few hundred accounts, each its own seed): a whole batch in seconds.
SMALL_CLIENTS = {"north": (11, 250), "south": (12, 200), "east": (13, 300)}  # client -> (seed, accounts)


@pytest.fixture(scope="session")
def small_clients(tmp_path_factory) -> Path:
    """A parameters folder with the three SMALL_CLIENTS, each with its own data folder beside it."""
    root = tmp_path_factory.mktemp("small-clients")
    for client, (seed, n) in SMALL_CLIENTS.items():
        demo.generate(root / "data" / client, DEMO_END, seed=seed, n_accounts=n)
        write_params(root / "parameters", root / "data" / client, f"{client}.yml", client=client)
    return root / "parameters"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-data")
    demo.generate(out, DEMO_END)
    return out


@pytest.fixture(scope="session")
def demo_params_file(demo_dir, tmp_path_factory) -> Path:
    return write_params(tmp_path_factory.mktemp("parameters"), demo_dir)


@pytest.fixture(scope="session")
def demo_params(demo_params_file) -> params.Parameters:
    return params.load(demo_params_file)


@pytest.fixture(scope="session")
def demo_data(demo_params) -> ClientData:
    return ClientData(demo_params)


@pytest.fixture(scope="session")
def demo_truth(demo_dir) -> dict:
    import json

    return json.loads((demo_dir / "truth.json").read_text())


@pytest.fixture(scope="session")
def demo_run(demo_params_file, tmp_path_factory):
    """The demo batch for DEMO_PERIOD, run once: every notebook's artefacts are checked from it."""
    from kit.run import batch

    out = tmp_path_factory.mktemp("reports")
    result = batch.run_client(demo_params_file, DEMO_PERIOD, out=out, jobs=2)
    assert result.status == "ok", result.failure
    return result


# ---------------------------------------------------------------------------- the planted second client


@pytest.fixture(scope="session")
def planted_params_file(tmp_path_factory) -> Path:
    """Lakeside Learning (tests/support/planted_client.py): effects the fixed catalogue could not see, planted."""
    from tests.support import planted_client

    return planted_client.build(tmp_path_factory.mktemp("lakeside"), DEMO_END)


@pytest.fixture(scope="session")
def planted_params(planted_params_file) -> params.Parameters:
    return params.load(planted_params_file)


@pytest.fixture(scope="session")
def planted_data(planted_params) -> ClientData:
    return ClientData(planted_params)


# ---------------------------------------------------------------------------- a browser


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per worker: Playwright's sync API runs one at a time in a process (a second one started
    while the first is open fails with "using Playwright Sync API inside the asyncio loop")."""
    from tests.support import browser

    with browser.chromium() as b:
        yield b


# ---------------------------------------------------------------------------- the published sites


# Test files that share a session fixture run on one xdist worker (`--dist loadgroup`); every
# other file is a group of its own, as with `--dist loadfile`.
SHARED_WORKER = {"test_browser": "sites", "test_documents": "sites"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        item.add_marker(pytest.mark.xdist_group(SHARED_WORKER.get(module, module)))


@pytest.fixture(scope="session")
def sites(demo_run, demo_params_file, tmp_path_factory) -> dict[str, Path]:
    """The demo's site as `make demo` builds it (its session run of the latest month, and the five months of
    checks before it, then `publish --documents`) and the second client's (`run --publish --documents`).
    Shared by tests/test_browser.py and tests/test_documents.py (one xdist group: built once)."""
    import shutil

    from kit import cli
    from kit.periods import Period
    from kit.run import months
    from tests.support import second_client

    root = tmp_path_factory.mktemp("sites")
    reports = tmp_path_factory.mktemp("demo-engagement")
    shutil.copytree(Path(demo_run.folder).parent.parent, reports, dirs_exist_ok=True)
    backfill = demo.engagement(Period.parse(DEMO_PERIOD))[:-1]  # run after the latest month: it is checked again
    results = months.run_months(demo_params_file, backfill, out=reports)
    assert [r.status for r in results] == ["ok"] * (len(backfill) + 1), [r.failure for r in results]
    assert cli.main(["publish", str(demo_params_file), "--period", DEMO_PERIOD, "--out", str(reports), "--site", str(root),
                     "--documents"]) == 0
    folder = tmp_path_factory.mktemp("second-client")
    params = second_client.build(demo_params_file, folder)
    code = cli.main(["run", str(params), "--period", DEMO_PERIOD, "--jobs", "2", "--out", str(folder / "reports"),
                     "--publish", "--documents", "--site", str(root)])
    assert code == 0
    return {"demo": root / "demo", second_client.CLIENT: root / second_client.CLIENT,
            "reports": {"demo": reports / "demo", second_client.CLIENT: folder / "reports" / second_client.CLIENT}}
