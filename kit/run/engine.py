"""Warm kernels for the batch runner: each notebook gets a fresh kernel, started ahead of time.

Most of a short notebook's time is fixed cost: starting a Python kernel and importing polars,
altair and the kit. The runner (kit.run.batch) hides it by starting the kernel of the next notebook
while earlier notebooks run, with the modules that notebook imports already imported:

* one kernel per notebook: it is started for that notebook, executes it (through papermill,
  which accepts a started kernel manager as `km=`) and is shut down; no variable, data or state
  can pass from one notebook or client to the next. Warming only imports modules (the notebook's
  own imports and, for kit modules, the imports in their source) and starts the chart converter,
  binding no name in the notebook's namespace and leaving its execution count at 1;
* the one exception: in a run over several months (kit.run.months) a kernel whose notebook
  succeeded is kept for the same notebook of the client's next month (`KernelPool`), with its
  namespace reset in between (`reset_code`: no name survives, the execution count is back to 1,
  the working directory is the new run's). Twelve monthly checks then pay one kernel start, not
  twelve; the range tests check that every month's outputs equal those of the month run alone;
* each warm kernel lives in its own thread, which starts it, waits for its turn, runs the
  notebook and shuts the kernel down, so the kernel, its client and their event loop stay in one
  thread;
* a kernel that cannot be started or warmed costs nothing but the warm-up: papermill then starts
  one as usual, and import errors show up in the notebook's own cell;
* kernels talk to the runner over Unix sockets in a private folder (mode 0700) rather than
  unencrypted TCP ports on localhost, which ipykernel rightly warns about.

This module is imported inside kernels (`warm`), so it imports nothing heavy at module level.
"""

from __future__ import annotations

import ast
import json
import queue
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

KIT = Path(__file__).resolve().parents[1]  # the kit package
ALWAYS = ("kit.notebook", "polars", "IPython.display")  # every notebook's first cells need these
SKIP = ("adbc_driver",)  # database drivers: imported only when a source is a SQL query
_PARSE_LOCK = threading.Lock()


# ---------------------------------------------------------------------------- what to import ahead


def _imports(source: str) -> list[str]:
    """Absolute module names imported anywhere in `source` (top level or inside functions)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append(node.module)
            if node.module == "kit" or node.module.startswith("kit."):  # a name may be a module of the package
                out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def _kit_file(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != "kit":
        return None
    folder = KIT.joinpath(*parts[1:])
    p = folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")
    return p if p.exists() else None


@lru_cache(maxsize=64)
def _preload_cached(notebook: str, mtime: float) -> tuple[str, ...]:
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells if c.get("cell_type") == "code"]
    # IPython magics and shell escapes are not Python: drop those lines
    found = [*ALWAYS, *_imports("\n".join(ln for ln in "\n".join(code).splitlines() if not ln.lstrip().startswith(("%", "!"))))]
    seen: dict[str, None] = {}
    stack = list(found)
    while stack:
        m = stack.pop(0)
        if m in seen or m.split(".")[0] in sys.stdlib_module_names or m == "__future__" or m.startswith(SKIP):
            continue
        path = _kit_file(m)
        if m.startswith("kit") and path is None:
            continue  # a name imported from a kit module, not a module
        seen[m] = None
        if path is not None and m != "kit.run.engine":
            stack += _imports(path.read_text(encoding="utf-8"))
    return tuple(seen)


def preload(notebook: str | Path) -> list[str]:
    """Modules a kernel for `notebook` can import before running it: the notebook's imports, and
    for kit modules the imports found in their source (lazy ones inside functions included), so a
    chart or a model fitted late in the notebook does not pay the import either."""
    p = Path(notebook)
    try:
        with _PARSE_LOCK:  # ast.parse in concurrent threads can fail in CPython 3.11 ("recursion depth mismatch")
            return list(_preload_cached(str(p.resolve()), p.stat().st_mtime))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # not a readable notebook
        return list(ALWAYS)


def warm(modules: list[str]) -> None:
    """Inside a fresh kernel, before the notebook: import `modules`, binding no names. Failures are
    ignored (the notebook's own import then reports them in its cell)."""
    import importlib

    for m in modules:
        try:
            if m == "altair":  # configured as the notebooks use it (static SVG, no slow IRI grammar), converter started
                charts = importlib.import_module("kit.charts")
                charts.alt()
                charts.start_renderer()
            else:
                importlib.import_module(m)
        except BaseException:  # noqa: BLE001 - warming must never break a kernel
            pass


def kernel_arguments(modules: list[str]) -> list[str]:
    """ipykernel command-line arguments that warm the kernel at start-up, before it serves a client.
    An expression statement evaluating to None: no output, no name bound, no history entry."""
    code = f"__import__('kit.run.engine', fromlist=['warm']).warm({modules!r})"
    return [f"--IPKernelApp.exec_lines={code}"]


# ---------------------------------------------------------------------------- one notebook, one kernel


class WarmKernel:
    """A thread that starts a kernel for one notebook at once, then waits: `go(fn)` runs
    `fn(km)` (km is None when the kernel could not be started), `cancel()` gives up; either way the
    kernel is shut down afterwards, unless the kernel is `kept` for the same notebook of the next
    month (`KernelPool`). `result()` waits for fn's return value."""

    def __init__(self, notebook: str | Path, cwd: str | Path, kernel_name: str = "python3",
                 on_done: Callable[["WarmKernel"], None] | None = None, kept: bool = False):
        self.notebook = Path(notebook)
        self.cwd = str(cwd)
        self.kernel_name = kernel_name
        self.on_done = on_done
        self.kept = kept  # after a notebook, wait for the next one (a range's next month) instead of shutting down
        self.runs = 0  # notebooks run so far
        self._jobs: queue.Queue = queue.Queue()
        self._job: _Job | None = None
        self.start_error: str = ""
        self.modules = preload(self.notebook)  # parsed here, in the caller's thread, not in the kernel's
        self._thread = threading.Thread(target=self._main, name=f"kernel-{self.notebook.stem}", daemon=True)
        self._thread.start()

    def go(self, fn: Callable[[Any], Any]) -> None:
        self._job = _Job(fn)
        self._jobs.put(self._job)

    def cancel(self) -> None:
        self._jobs.put(None)

    def result(self) -> Any:
        job = self._job
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.value

    @property
    def alive(self) -> bool:
        """Its thread still serves notebooks (a kept kernel whose start failed has none to serve)."""
        return self._thread.is_alive() and not self.start_error

    def move_to(self, cwd: str | Path) -> "WarmKernel":
        """The next notebook runs in `cwd`; its namespace is reset first (`reset_code`)."""
        self.cwd = str(cwd)
        return self

    def _main(self) -> None:
        km = None
        try:
            try:
                km = self._start()
            except Exception as e:  # noqa: BLE001 - papermill starts a kernel itself then
                self.start_error = f"{type(e).__name__}: {e}"
                km = None
            while (job := self._jobs.get()) is not None:
                try:
                    if self.runs and km is not None:
                        _run_silently(km, reset_code(self.cwd))
                    self.runs += 1
                    job.value = job.fn(km)
                except BaseException as e:  # noqa: BLE001 - handed to result()
                    job.error = e
                if not self.kept or km is None:
                    break  # done once the kernel is shut down
                job.done.set()
                if self.on_done is not None:
                    self.on_done(self)
        finally:
            if km is not None:
                _shutdown(km)
            if self._job is not None and not self._job.done.is_set():
                self._job.done.set()
                if self.on_done is not None and self._job.fn is not None:
                    self.on_done(self)

    def _start(self):
        from jupyter_core.utils import run_sync

        km = _manager_class()(kernel_name=self.kernel_name, transport="ipc", ip=_socket_prefix())
        run_sync(km.start_kernel)(extra_arguments=kernel_arguments(self.modules), cwd=self.cwd)
        return km


class _Job:
    def __init__(self, fn: Callable[[Any], Any]):
        self.fn, self.value, self.error, self.done = fn, None, None, threading.Event()


def reset_code(cwd: str) -> str:
    """Run in a kept kernel before its next notebook: the working directory of the new run, and the
    namespace as a fresh kernel has it (IPython's reset: every name, the output history, the execution
    count back to 1). Imported modules stay: that is what keeping the kernel saves."""
    return f"__import__('os').chdir({cwd!r}); get_ipython().reset(new_session=True)"


def _run_silently(km, code: str) -> None:
    """Execute `code` in the kernel without output or history (silent: the execution count stays)."""
    from jupyter_core.utils import run_sync

    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = run_sync(kc.execute_interactive)(code, silent=True, store_history=False, timeout=60)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"resetting the kernel failed: {reply['content'].get('evalue', '')}")
    finally:
        kc.stop_channels()


class KernelPool:
    """Kernels kept between the months of one client's range run (kit.run.months): after a month's
    notebook succeeded, its kernel waits here for the same notebook of the next month, which then
    starts without paying the kernel's start and imports again. Only within one client and one
    notebook file; a kernel whose notebook failed is not kept. `close()` shuts down the rest."""

    def __init__(self):
        self._kernels: dict[str, list[WarmKernel]] = {}
        self._lock = threading.Lock()

    def take(self, notebook: str | Path, cwd: str | Path) -> WarmKernel | None:
        with self._lock:
            kept = self._kernels.get(str(Path(notebook).resolve()))
            return kept.pop().move_to(cwd) if kept else None

    def give(self, k: WarmKernel) -> None:
        with self._lock:
            self._kernels.setdefault(str(k.notebook.resolve()), []).append(k)

    def close(self) -> None:
        with self._lock:
            for kernels in self._kernels.values():
                for k in kernels:
                    k.cancel()
            self._kernels.clear()


@lru_cache(maxsize=1)
def _socket_dir() -> str:
    """This process's folder for kernel sockets, private to the user, removed at exit."""
    import atexit
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="kit-kernels-")  # mode 0700
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _socket_prefix() -> str:
    """A unique socket path prefix per kernel (jupyter_client appends -<n> per channel)."""
    import os
    import uuid

    return os.path.join(_socket_dir(), uuid.uuid4().hex[:12])


@lru_cache(maxsize=1)
def _manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class Manager(AsyncKernelManager):
        """Remembers the clients it hands out: papermill does not close a client of a kernel it did not
        start, so the runner closes it when it shuts the kernel down."""

        def client(self, **kwargs):
            c = super().client(**kwargs)
            self.__dict__.setdefault("_kit_clients", []).append(c)
            return c

    return Manager


def _shutdown(km) -> None:
    from jupyter_core.utils import run_sync

    for c in km.__dict__.get("_kit_clients", []):
        try:
            c.stop_channels()
        except Exception:  # noqa: BLE001
            pass
    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
        else:
            run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001 - a kernel that is already gone needs nothing more
        pass
