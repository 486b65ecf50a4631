"""kit.run.engine: warm kernels import ahead but share nothing, and talk over private Unix sockets."""

from __future__ import annotations

import os
import stat
import time

import nbformat
import papermill
import pytest

from kit.run import engine


def _notebook(path, *sources: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _run(kernel: engine.WarmKernel, src, out):
    kernel.go(lambda km: papermill.execute_notebook(str(src), str(out), km=km, progress_bar=False, cwd=kernel.cwd))
    kernel.result()
    return nbformat.read(out, as_version=4)


def _text(cell) -> str:
    return "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


def test_preload_follows_the_notebook_and_kit_imports_but_skips_stdlib_and_drivers(tmp_path):
    nb = _notebook(tmp_path / "n.ipynb", "import json\nfrom kit.analyses import weights\n%matplotlib inline\n", "import adbc_driver_postgresql")
    mods = engine.preload(nb)
    assert "kit.analyses.weights" in mods and "polars" in mods
    assert "statsmodels.api" in mods or any(m.startswith("statsmodels") for m in mods)  # imported inside weights
    assert "json" not in mods and not any(m.startswith("adbc_driver") for m in mods)


def test_a_warm_kernel_has_imports_done_binds_no_names_and_shares_nothing(tmp_path, capfd):
    first = _notebook(
        tmp_path / "first.ipynb",
        "import sys\nprint(sorted(m for m in ('polars', 'kit.notebook') if m in sys.modules))",
        "print('pl' in globals(), 'polars' in globals(), get_ipython().execution_count)",
        "secret = 'client A'",
    )
    second = _notebook(tmp_path / "second.ipynb", "print('secret' in globals())")
    a = engine.WarmKernel(first, tmp_path)
    b = engine.WarmKernel(second, tmp_path)  # started while the first runs, as the batch runner does
    nb = _run(a, first, tmp_path / "a.out.ipynb")
    assert a.start_error == "" and b.start_error == ""
    assert _text(nb.cells[0]).strip() == "['kit.notebook', 'polars']"
    assert _text(_run(b, second, tmp_path / "b.out.ipynb").cells[0]).strip() == "False"
    assert "without encryption" not in capfd.readouterr().err  # (a papermill-started kernel warns)
    cold = papermill.execute_notebook(str(first), str(tmp_path / "cold.ipynb"), progress_bar=False, cwd=str(tmp_path))
    assert _text(nb.cells[1]) == _text(cold.cells[1])  # as in a cold kernel: no names bound, same execution count
    assert _text(nb.cells[1]).startswith("False False ")


def test_kernels_use_unix_sockets_in_a_private_folder(tmp_path):
    seen = {}

    def sockets(ip):
        return [f for f in os.listdir(os.path.dirname(ip)) if f.startswith(os.path.basename(ip))]

    def inspect(km):
        seen.update(transport=km.transport, ip=km.ip)
        deadline = time.monotonic() + 60
        while len(sockets(km.ip)) < 5 and time.monotonic() < deadline:  # the kernel binds once it is up
            time.sleep(0.1)
        seen["sockets"] = sockets(km.ip)

    k = engine.WarmKernel(_notebook(tmp_path / "n.ipynb", "1"), tmp_path)
    k.go(inspect)
    k.result()
    assert seen["transport"] == "ipc" and len(seen["sockets"]) >= 5  # shell, iopub, stdin, control, hb
    folder = os.path.dirname(seen["ip"])
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert sockets(seen["ip"]) == []  # removed at shutdown


@pytest.mark.parametrize("bad", ["not json", '{"cells": 3}'])
def test_an_unreadable_notebook_preloads_only_the_basics(tmp_path, bad):
    p = tmp_path / "bad.ipynb"
    p.write_text(bad)
    assert engine.preload(p) == list(engine.ALWAYS)
