"""Each client's documentation site, published with Quarto.

`publish(params_file, period)` does two things, in this order:

1. **Writes the complete Quarto project source** for the client into its own staging folder,
   `_site/.src/<client>/`: the shared `_quarto.yml` (copied from the repository root, plus a
   generated `profile: default: <client>` line), the generated profile `_quarto-<client>.yml` (site
   title and description), the generated pages (`index.qmd`, `methodology.qmd`,
   `maintenance/index.qmd` with its listing, `maintenance/trends.qmd` with a static SVG chart, `accounts/<YYYY-MM>.qmd`
   with each month's accounts and `accounts/<YYYY-MM>.csv` with every one of them, `accounts/index.qmd`) and
   copies of the latest executed notebooks (`reports/audit.ipynb`, `reports/weights.ipynb`,
   `reports/backtest.ipynb`, `maintenance/<YYYY-MM>.ipynb`) with front matter added, the
   `parameters`/`injected-parameters` cells removed, code hidden and personal data replaced by
   stable pseudonyms. The source is written into a fresh folder and swapped in, so it holds this
   client's material only.
2. **Renders it** with `quarto render` (one render at a time, under `_site/.render.lock`) in a
   fresh copy of the source, and swaps the result into `_site/<client>/`. Quarto never executes
   the notebooks (`execute: enabled: false`). Without a `quarto` binary it raises `QuartoMissing`,
   which says how to get Quarto and where the nbconvert HTML reports already are.

Every artefact is optional: a page whose artefact is missing says "not available yet".
"""

from __future__ import annotations

import hashlib
import html as html_mod
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from kit import REPO, REPORTS, SITE, present, registry
from kit.analyses import accounts_report, maintenance, maintenance_report, scorecard
from kit.analyses.accounts import PortfolioDocument
from kit.analyses.audit import AuditDocument
from kit.analyses.backtest import BacktestDocument
from kit.analyses.maintenance import MaintenanceDocument
from kit.analyses.weights import WeightsDocument
from kit.artefacts import D, Document
from kit.checks import CHECKS
from kit import params as params_mod
from kit.errors import KitError
from kit.io import history, locks, personal
from kit.periods import Period
from kit import status
from kit.publish import documents, methodology
from kit.publish.methodology import esc, pct, table

SHARED_CONFIG = REPO / "_quarto.yml"
SOURCE_DIR = ".src"  # _site/.src/<client>/: the client's Quarto project source
LOCK = ".render.lock"
CSS = "kit.css"  # kit/present.css, linked by every page (format: html: css in _quarto.yml)
FAVICON = "favicon.svg"  # website: favicon in _quarto.yml (without one, browsers ask for /favicon.ico: a 404)

PERIOD_DIR = re.compile(r"^\d{4}-\d{2}$")

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# the same, also inside Markdown-escaped text (jane\_doe\@example.com)
EMAIL_ESCAPED = re.compile(r"(?:[A-Za-z0-9.%+-]|\\?_|&#95;)+\\?@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
BINARY_MIME = ("image/png", "image/jpeg", "image/gif")
CDN_MIME_PREFIXES = ("application/vnd.vega", "application/vnd.vegalite", "application/vnd.jupyter.widget", "application/javascript")
SCRIPT_SRC = re.compile(r"<script[^>]+src=[\"']https?://[^\"']+[\"'][^>]*>\s*</script>", re.I)


class QuartoMissing(KitError):
    code = "quarto_missing"


@dataclass
class SiteResult:
    client: str
    period: str
    source: Path
    output: Path | None = None
    rendered: bool = False
    notes: list[str] = field(default_factory=list)
    documents: Path | None = None  # the documents' Quarto project (publish --documents)
    document_files: list[Path] = field(default_factory=list)  # as published next to the site


# ---------------------------------------------------------------------------- entry points


def publish(
    params_path: str | Path,
    period: str | None = None,
    *,
    out: str | Path = REPORTS,
    site: str | Path = SITE,
    render: bool = True,
    quarto: str | None = None,
    with_documents: bool = False,
) -> SiteResult:
    """Write the client's site source, then render it with Quarto into `<site>/<client>/`.
    `with_documents`: also the design document and this month's maintenance report as PDF and Word
    (kit.publish.documents), rendered first, copied next to the site and linked from its home page."""
    params = params_mod.load(params_path)
    result = build_source(params, period, out=out, site=site, with_documents=with_documents)
    if not render:
        return result
    binary = quarto or find_quarto()
    if not binary:
        raise QuartoMissing(
            ("Quarto is not installed, so neither the documents (PDF, Word) nor the site were rendered.\n" if with_documents else
             "Quarto is not installed, so the site was not rendered.\n")
            + f"  The complete site source is written: {result.source}\n"
            f"  The notebooks' HTML reports (nbconvert) are already in {Path(out).resolve() / params.client / result.period}/*.html",
            where="publish",
            fix=(
                "install Quarto, then rerun `python -m kit publish " + str(params_path) + "`: either the conda "
                "environment (`conda env create -f environment.yml`, conda-forge's quarto), or "
                "`pip install quarto-cli` into .venv (needs internet access), or the installer from "
                "https://quarto.org/docs/get-started/. Or render the source yourself: "
                f"`quarto render {result.source} --profile {params.client}`"
            ),
        )
    if result.documents:
        try:
            files = documents.render(result.documents, params, result.period, binary)
            for f in files:
                shutil.copyfile(f, result.source / f.name)
        finally:
            shutil.rmtree(result.documents, ignore_errors=True)
    result.output = render_site(result.source, params.client, site, binary)
    result.document_files = [result.output / f.name for f in (files if result.documents else [])]
    result.rendered = True
    return result


def find_quarto() -> str | None:
    """The quarto binary: $QUARTO_PATH, then PATH, then next to this Python (pip install quarto-cli)."""
    env = os.environ.get("QUARTO_PATH")
    if env and Path(env).is_file():
        return env
    found = shutil.which("quarto")
    if found:
        return found
    local = Path(sys.executable).parent / "quarto"
    return str(local) if local.is_file() else None


# ---------------------------------------------------------------------------- periods and artefacts


def report_periods(client_reports: Path) -> list[str]:
    """Completed period folders (YYYY-MM with a manifest), oldest first; failed and temporary runs excluded."""
    if not client_reports.is_dir():
        return []
    return sorted(
        p.name for p in client_reports.iterdir()
        if p.is_dir() and PERIOD_DIR.match(p.name) and (p / registry.MANIFEST).exists()
    )


@dataclass
class Reports:
    """The client's reports folder seen from one selected period: the newest artefact at or before it."""

    root: Path
    periods: list[str]  # oldest first, all <= selected
    selected: str

    def latest(self, name: str) -> tuple[str, Path] | None:
        for p in reversed(self.periods):
            path = self.root / p / name
            if path.exists() and self.ran_ok(p, name):
                return p, path
        return None

    def json(self, name: str) -> tuple[str | None, Any]:
        found = self.latest(name)
        if not found:
            return None, None
        try:
            return found[0], json.loads(found[1].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return found[0], None

    def document(self, kind: type[D]) -> tuple[str | None, D | None]:
        """A notebook's result (kit.artefacts.Document) of the newest period that has it. One an older kit wrote,
        lacking a key the site reads, raises a KitError naming the file and the key."""
        found = self.latest(kind.FILE)
        return (found[0], kind.read(found[1].parent)) if found else (None, None)

    def ran_ok(self, period: str, name: str) -> bool:
        """A notebook is published only if the run recorded it as ok (when the manifest says)."""
        if not name.endswith(".ipynb"):
            return True
        try:
            m = json.loads((self.root / period / registry.MANIFEST).read_text())
        except (OSError, ValueError):
            return True
        for entry in (m.get("notebooks") or {}).values():
            if Path(str(entry.get("notebook", ""))).name == name:
                return entry.get("status") == "ok"
        return True


def _reports(params, period: str | None, out: Path) -> Reports:
    root = Path(out).resolve() / params.client
    periods = report_periods(root)
    if not periods:
        raise KitError(
            f"no completed reports for client {params.client!r}",
            where=str(root),
            fix=f"run the notebooks first: python -m kit run {params.path or 'PARAMS.yml'} (then publish)",
        )
    if period:
        label = Period.parse(period).label
        if label not in periods:
            raise KitError(
                f"no completed run for period {label}",
                where=str(root),
                fix=f"choose one of {', '.join(periods)} or run that period first",
            )
    else:
        label = periods[-1]
    return Reports(root, [p for p in periods if p <= label], label)


# ---------------------------------------------------------------------------- personal data


class Scrubber:
    """Replaces personal values (e-mails, user names) with stable pseudonyms such as `person-3f9a0c`.

    Stable: the same value gets the same pseudonym every month (salted with the client slug, so
    pseudonyms do not match across clients). Any e-mail address is replaced even when it is not
    in the client's data.
    """

    def __init__(self, values: set[str], salt: str):
        self.salt = salt
        self.values = {v.strip() for v in values if v and len(v.strip()) >= 3}
        # e-mail addresses are caught by pattern (fast, and also catches addresses not in the data);
        # other values (user names) by an alternation of their raw, HTML- and Markdown-escaped forms
        names = {v for v in self.values if not EMAIL.fullmatch(v)}
        self._original: dict[str, str] = {}
        for v in names:
            for form in (v, html_mod.escape(v, quote=True), html_mod.escape(v, quote=False), esc(v), present.text(v)):
                self._original[form.lower()] = v
        parts = sorted(self._original, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w.@-])(?:" + "|".join(re.escape(p) for p in parts) + r")(?![\w@-])", re.I)
            if parts else None
        )

    def pseudonym(self, value: str) -> str:
        h = hashlib.sha256(f"{self.salt}:{value.strip().lower()}".encode()).hexdigest()[:6]
        return f"person-{h}"

    def text(self, s: str) -> str:
        if not s:
            return s
        s = EMAIL_ESCAPED.sub(lambda m: self.pseudonym(m.group(0).replace("\\", "").replace("&#95;", "_")), s)
        if self._pattern is not None:
            s = self._pattern.sub(lambda m: self.pseudonym(self._original.get(m.group(0).lower(), m.group(0))), s)
        return s

    def obj(self, o: Any, key: str = "") -> Any:
        if isinstance(o, str):
            return o if key in BINARY_MIME else self.text(o)
        if isinstance(o, list):
            return [self.obj(v, key) for v in o]
        if isinstance(o, dict):
            return {k: self.obj(v, k) for k, v in o.items()}
        return o

    @classmethod
    def for_client(cls, params, reports: "Reports") -> "Scrubber":
        """The names of every period the site shows, as their runs recorded them (kit.io.personal): publishing
        reads no source. A period whose run could not read a table with personal columns stops the publish."""
        found = personal.of_periods([reports.root / p for p in reports.periods])
        found.check()
        return cls(found.values, params.client)


class NoScrub(Scrubber):
    def __init__(self):
        super().__init__(set(), "")

    def text(self, s: str) -> str:
        return s


# ---------------------------------------------------------------------------- notebooks


def front_matter(meta: dict) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---"


def publish_notebook(source: Path | None, target: Path, meta: dict, scrub: Scrubber, reason: str = "") -> None:
    """A copy of an executed notebook for the site: front matter (title, period, description) in a
    first raw cell, parameters cells removed, code hidden, personal data scrubbed, CDN-loading
    outputs dropped. Without a source, a one-page notebook that says it is not available yet."""
    import nbformat

    target.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_raw_cell(front_matter(meta)),
            nbformat.v4.new_markdown_cell(f"This report is not available yet{': ' + esc(reason) if reason else '.'}"),
        ]
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        nbformat.write(nb, target)
        return
    nb = nbformat.read(source, as_version=4)
    meta = {**meta}
    meta.setdefault("description", nb.metadata.get("description", ""))
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "code" and tags & {"parameters", "injected-parameters"}:
            continue
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags",)}
        if cell.cell_type == "code":
            cell.source = "#| echo: false\n" + cell.source
            cell.outputs = [_clean_output(o) for o in cell.outputs]
        cells.append(cell)
    # the notebook's own H1 and its description paragraph repeat the title block of the front matter
    for cell in cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            if lines and lines[0].lstrip().startswith("# "):
                cell.source = "\n".join(lines[1:]).lstrip("\n")
            cell.source = _without_paragraph(cell.source, meta.get("description") or "")
            break
    nb.cells = [nbformat.v4.new_raw_cell(front_matter(meta))] + [c for c in cells if c.cell_type != "markdown" or c.source.strip()]
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    nb = nbformat.from_dict(scrub.obj(nb))
    nbformat.write(nb, target)


def _without_paragraph(source: str, paragraph: str) -> str:
    """The Markdown without the paragraph that says `paragraph` (compared ignoring spacing)."""
    norm = " ".join(paragraph.split())
    if not norm:
        return source
    kept = [p for p in re.split(r"\n\s*\n", source) if " ".join(p.split()) != norm]
    return "\n\n".join(kept)


def _clean_output(out):
    """An output as Quarto should see it: no mime bundle that makes it load scripts from a CDN.

    Quarto adds require.js and jQuery from cdnjs to any page with an output carrying text/html or
    application/javascript (it takes them for JavaScript widgets). The kit's own tables and text
    display as Markdown (kit.present), so the executed notebooks hold none; an HTML output added by
    hand is given to Quarto as the raw HTML block it would have made of it, without that trigger."""
    data = out.get("data")
    if data:
        has_static = any(k in data for k in ("image/svg+xml", "image/png", "text/html", "text/markdown"))
        for k in list(data):
            if k.startswith(CDN_MIME_PREFIXES) and has_static:
                del data[k]
        if "text/html" in data:
            h = data.pop("text/html")
            h = "".join(h) if isinstance(h, list) else h
            data["text/markdown"] = "```{=html}\n" + SCRIPT_SRC.sub("", h).strip("\n") + "\n```\n"
    return out


# ---------------------------------------------------------------------------- the source


@dataclass
class _Ctx:
    params: Any
    reports: Reports
    dest: Path
    scrub: Scrubber
    notes: list[str]
    documents: list[documents.Document] = field(default_factory=list)  # linked from the home page
    _read: dict = field(default_factory=dict)  # each result read and scrubbed once (the home page and the documents share them)

    def json(self, name: str) -> tuple[str | None, Any]:
        """An artefact of the newest period that has it, with personal data already replaced."""
        period, data = self.reports.json(name)
        return period, self.scrub.obj(data)

    def document(self, kind: type[Document]) -> tuple[str | None, dict | None]:
        """A notebook's result of the newest period that has it, checked, with personal data already replaced."""
        if kind not in self._read:
            period, found = self.reports.document(kind)
            self._read[kind] = period, None if found is None else self.scrub.obj(found.doc)
        return self._read[kind]

    def write(self, rel: str, text: str) -> Path:
        path = self.dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.scrub.text(text), encoding="utf-8")
        return path


def build_source(params, period: str | None = None, *, out: str | Path = REPORTS, site: str | Path = SITE,
                 with_documents: bool = False) -> SiteResult:
    """Write the client's complete Quarto project into `<site>/.src/<client>/` (fresh, then swapped in);
    `with_documents`: also the documents' project (kit.publish.documents) into `<site>/.docs/`."""
    reports = _reports(params, period, Path(out))
    root = Path(site).resolve() / SOURCE_DIR
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{params.client}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    scrub = NoScrub() if params.publish.personal_data else Scrubber.for_client(params, reports)
    ctx = _Ctx(params, reports, tmp, scrub, [])
    docs = None
    try:
        _write_notebook_pages(ctx)
        _write_maintenance(ctx)
        _write_accounts(ctx)
        _write_methodology(ctx)
        if with_documents:
            docs = _write_documents(ctx, documents.stage(Path(site), params.client))
        _write_config(ctx)
        _write_home(ctx)
        final = root / params.client
        _swap(tmp, final)
    except BaseException:
        if docs:
            shutil.rmtree(docs, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SiteResult(params.client, reports.selected, final, notes=ctx.notes, documents=docs)


def _swap(new: Path, final: Path) -> None:
    """Replace `final` by `new`; the old folder is moved aside first and deleted last."""
    old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def profile_config(params) -> dict:
    return {
        "website": {
            "title": params.name,
            "description": f"Customer health score for {params.name}: methodology, evidence and monthly maintenance reports.",
        }
    }


def _write_config(ctx: _Ctx) -> None:
    shared = SHARED_CONFIG.read_text(encoding="utf-8")
    client = ctx.params.client
    ctx.write(
        "_quarto.yml",
        shared.rstrip("\n")
        + f"\n\n# generated by `python -m kit publish` for client {client}: its settings are in _quarto-{client}.yml\n"
        + f"profile:\n  default: {client}\n",
    )
    ctx.write(CSS, present.css())
    ctx.write(FAVICON, present.FAVICON_SVG)
    ctx.write(
        f"_quarto-{client}.yml",
        f"# generated by `python -m kit publish` from the parameters of client {client}: do not edit\n"
        + yaml.safe_dump(profile_config(ctx.params), sort_keys=False, allow_unicode=True),
    )


def _write_notebook_pages(ctx: _Ctx) -> None:
    for nb in (n for n in registry.NOTEBOOKS.values() if n.page):
        nb_file, page, title = nb.file, nb.page, nb.title
        found = ctx.reports.latest(nb_file)
        meta = {"title": title, "subtitle": f"{ctx.params.name}, period {found[0] if found else ctx.reports.selected}"}
        if found:
            meta["date"] = Period.parse(found[0]).end.isoformat()
            publish_notebook(found[1], ctx.dest / page, meta, ctx.scrub)
        else:
            meta["description"] = "Not available yet."
            publish_notebook(None, ctx.dest / page, meta, ctx.scrub, reason=f"the {title.lower()} notebook has not run")
            ctx.notes.append(f"{title}: not available yet")


def _methodology_inputs(ctx: _Ctx) -> dict:
    period, weights = ctx.document(WeightsDocument)
    card_period, card = ctx.json(registry.SCORECARD_JSON)
    return dict(weights=weights, weights_period=period, card=card, card_period=card_period, schedule=_schedule(ctx))


def _write_methodology(ctx: _Ctx) -> None:
    ctx.write("methodology.qmd", methodology.page(ctx.params, **_methodology_inputs(ctx)))


# ---------------------------------------------------------------------------- documents


def _write_documents(ctx: _Ctx, folder: Path) -> Path:
    """The design document and the selected month's maintenance report, from the pages just written
    (their notebooks' site copies, the methodology's sections, the home figures, the trends)."""
    p, r = ctx.params, ctx.reports
    figures: dict[str, str] = {}

    def saver(prefix: str) -> Callable[[str], str]:
        def save(svg: str) -> str:
            name = f"figures/{prefix}-{len(figures) + 1}.svg"
            figures[name] = ctx.scrub.text(svg)
            return name
        return save

    logo = f"logo{documents.logo_path(p).suffix}" if p.publish.branding.logo else None
    if logo and not documents.logo_path(p).is_file():
        raise KitError(f"the logo file is missing: {documents.logo_path(p)}", where="publish.branding.logo",
                       fix="give the path of the client's logo (relative to the parameters file), or remove publish.branding.logo")
    backtest_page = ctx.dest / registry.NOTEBOOKS["backtest"].page
    backtest = documents.notebook_sections(backtest_page, saver("backtest")) if backtest_page.exists() else []
    audit_period, audit = ctx.document(AuditDocument)
    bt_period, bt = ctx.document(BacktestDocument)
    name, cfg = _best_config(bt if isinstance(bt, dict) else None)
    bands = (cfg or {}).get("bands_used") or {"red": p.score.bands.red, "green": p.score.bands.green}
    own = "; ".join(f"{seg}, {scorecard.bands_text(b)}" for seg, b in (bands.get("segments") or {}).items())
    bands_text = (f"**Bands of the recommended score ({present.label(name).lower() if name else 'the score in force'}):** "
                  f"{scorecard.bands_text(bands)}" + (f"; the segments with a card of their own: {own}" if own else "") + ".")
    texts = {documents.DESIGN_DOCUMENT: documents.design_markdown(
        p, r.selected, methodology_sections=methodology.sections(p, **_methodology_inputs(ctx)), backtest=backtest,
        headline=[documents.for_print(h) for h in headline(ctx, audit, audit_period, bt, bt_period)], bands=bands_text, logo=logo)}
    maint_page = ctx.dest / "maintenance" / f"{r.selected}.ipynb"
    if maint_page.exists():
        _, maint = ctx.document(MaintenanceDocument)
        statuses = {str(c.get("name")): str(c.get("status")) for c in (maint or {}).get("checks") or [] if isinstance(c, dict)}
        trends = [documents.for_print(t) for t in trends_parts(ctx, saver("trends"), level="###", printed=True)]
        ac_period, portfolio = ctx.document(PortfolioDocument)
        top = (at_risk_parts(portfolio, f"the site's Accounts page of {r.selected}", level="###", rows_shown=DOCUMENT_ROWS)
               if portfolio and ac_period == r.selected else [])
        texts[documents.maintenance_document(r.selected)] = documents.maintenance_markdown(
            p, r.selected, report=documents.notebook_sections(maint_page, saver("maintenance")), statuses=statuses,
            trends=trends, logo=logo, accounts=[documents.for_print(t) for t in top])
    else:
        ctx.notes.append(f"maintenance report {r.selected}: no document, the maintenance check of this period has not run")
    ctx.documents = list(texts)
    return documents.write_project(folder, p, r.selected, {d: ctx.scrub.text(t) for d, t in texts.items()}, figures)


def _schedule(ctx: _Ctx) -> maintenance.Schedule:
    """The quarterly recalibration check's last run and next due month, from the history up to the selected period."""
    return maintenance.recalibration_schedule(load_history(ctx.reports.root, ctx.reports.selected), Period.parse(ctx.reports.selected))


# ---------------------------------------------------------------------------- home


def _best_config(backtest: dict | None) -> tuple[str | None, dict]:
    """The candidate the back-test recommends (its best out of time), else the score in force."""
    configs = (backtest or {}).get("configs") or {}
    if not isinstance(configs, dict) or not configs:
        return None, {}
    for name in ((backtest or {}).get("best"), "current"):
        if name in configs:
            return name, configs[name]
    name = next(iter(configs))
    return name, configs[name]


def _judged(cfg: dict) -> dict:
    """A candidate's figures out of time (after the back-test's time cut) when it has them, else over all renewals."""
    o = cfg.get("out_of_time") if isinstance(cfg, dict) else None
    return o if isinstance(o, dict) else (cfg or {})


def _write_home(ctx: _Ctx) -> None:
    p, r = ctx.params, ctx.reports
    audit_period, audit = ctx.document(AuditDocument)
    bt_period, backtest = ctx.document(BacktestDocument)
    mt_period, maint = ctx.document(MaintenanceDocument)
    parts = [front_matter({"title": p.name, "subtitle": f"Customer health: latest period {r.selected}"})]
    parts.append(
        f"This site documents the customer health score of **{esc(p.name)}**: how it is built "
        "(*Methodology*), the evidence behind it (*Data audit*, *Churn correlation and weights*, *Back-test*) and "
        f"the monthly maintenance reports. Latest period: **{r.selected}**."
    )
    parts.append("## Headline figures")
    parts += headline(ctx, audit, audit_period, backtest, bt_period)
    ac_period, portfolio = ctx.document(PortfolioDocument)
    if portfolio:
        parts.append(f"## Accounts, {Period.parse(ac_period).start:%B %Y}")
        parts.append(accounts_report.summary_text(portfolio, "the month's CSV") +
                     f" Which to act on, why, and the next quarter's forecast: [Accounts {ac_period}]({ACCOUNTS_DIR}/{ac_period}.qmd).")
    if ctx.documents:
        parts.append("## Documents to sign and file\n\n" + documents.links_text(ctx.documents))
    parts.append("## Maintenance status")
    checks = (maint or {}).get("checks") if isinstance(maint, dict) else None
    if checks:
        parts.append(f"Checks of period {mt_period}:")
        parts.append(maintenance_report.status_table(checks, columns=("check", "status", "value", "threshold", "action")).html)
    else:
        parts.append("The monthly maintenance check is not available yet.")
    ctx.write("index.qmd", "\n\n".join(parts) + "\n")


def headline(ctx: _Ctx, audit, audit_period, backtest, bt_period) -> list[str]:
    """The home page's headline figures (data quality, the recommended score's back-test) and the
    candidates compared out of time; the design document's summary shows the same tables."""
    parts = []
    rows = []
    score = (audit or {}).get("score") if isinstance(audit, dict) else None
    rows.append(["Data quality score", f"{present.fmt(score, 'score')} / 100" if isinstance(score, (int, float)) else "not available yet", audit_period or "–"])
    cname, cfg = _best_config(backtest if isinstance(backtest, dict) else None)
    cfg = _judged(cfg)
    recommended = isinstance(backtest, dict) and cname == backtest.get("best")
    label = f" ({present.label(cname).lower()}{', recommended' if recommended else ''})" if cname else ""
    rows.append([f"Back-test AUC{label}", present.fmt(cfg.get("auc"), "auc") if "auc" in cfg else "not available yet", bt_period or "–"])
    rows.append([
        f"Churned accounts scored green{label}",
        pct(cfg.get("churned_green_share"), 0) if "churned_green_share" in cfg else "not available yet",
        bt_period or "–",
    ])
    parts.append(table(["Figure", "Value", "Period"], rows))
    if cname == "scorecard":
        _, card = ctx.json(registry.SCORECARD_JSON)
        if isinstance(card, dict) and card.get("measures"):
            parts.append(f"The recommended score is the proposed scorecard. {present.md_text(scorecard.describe_all(card))}.")
    if isinstance(backtest, dict) and isinstance(backtest.get("configs"), dict) and len(backtest["configs"]) > 1:
        best = backtest.get("best")
        crow = [
            [present.label(n) + (" (best)" if n == best else ""), present.fmt(_judged(c).get("auc"), "auc"), pct(_judged(c).get("churned_green_share"))]
            for n, c in backtest["configs"].items() if isinstance(c, dict)
        ]
        after = any(isinstance(c, dict) and c.get("out_of_time") for c in backtest["configs"].values())
        parts.append(("Back-test of the candidates, on the renewals none of them was fitted on (after the time cut):" if after
                      else "Back-test of the candidates:") + "\n\n" + table(["Candidate", "AUC", "Churned scored green"], crow))
    return parts


# ---------------------------------------------------------------------------- maintenance


def _write_maintenance(ctx: _Ctx) -> None:
    p, r = ctx.params, ctx.reports
    listed = 0
    for period in r.periods:
        nb = r.root / period / registry.MAINTENANCE.file
        if not nb.exists() or not r.ran_ok(period, registry.MAINTENANCE.file):
            continue
        per = Period.parse(period)
        summary = _maintenance_summary(r.root / period)
        meta = {
            "title": f"Maintenance report {per.start:%B %Y}",
            "subtitle": p.name,
            "date": per.end.isoformat(),
            "description": summary,
        }
        publish_notebook(nb, ctx.dest / "maintenance" / f"{period}.ipynb", meta, ctx.scrub)
        listed += 1
    listing = {
        "title": "Monthly maintenance reports",
        "subtitle": p.name,
        "description": "Every month's maintenance check, newest first.",
        "listing": {
            "contents": "*.ipynb",
            "type": "table",
            "sort": "date desc",
            "fields": ["date", "title", "description"],
            "field-display-names": {"date": "Period end", "title": "Report", "description": "Summary"},
            "date-format": "YYYY-MM-DD",
            "max-description-length": 300,
        },
    }
    body = "" if listed else "\nNo monthly maintenance report is available yet.\n"
    ctx.write("maintenance/index.qmd", front_matter(listing) + "\n" + body)
    _write_trends(ctx)


def _maintenance_summary(folder: Path) -> str:
    found = MaintenanceDocument.read(folder)
    counts: dict[str, int] = {}
    for c in found.checks if found else []:
        counts[str(c["status"])] = counts.get(str(c["status"]), 0) + 1
    if not counts:
        return "Monthly check of the health score and its inputs."
    order = [w for w in status.WORDS if w != status.NOT_CHECKED]
    return f"{sum(counts.values())} checks: " + ", ".join(
        f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: order.index(s) if s in order else 9)
    )


def load_history(root: Path, last: str) -> "Any | None":
    """The client's maintenance history (kit.io.history) up to period `last`, or None when there is none."""
    try:
        h = history.read(root)
    except Exception:  # an unreadable history: the pages say the trends are not available
        return None
    h = h.filter(h["period"] <= last)
    return h if h.height else None


def trends_chart(hist) -> str | None:
    """A static SVG: each check's value by period in its unit (shares in %), with its red threshold."""
    chart = trends_figure(hist)
    if chart is None:
        return None
    import vl_convert as vlc

    from kit import charts

    return charts.stable_ids(vlc.vegalite_to_svg(chart.to_json()))


def trends_figure(hist):
    """The trends page's chart (Altair), from the same points as the maintenance report's trend charts."""
    import polars as pl

    from kit import charts

    if hist is None or hist.is_empty() or "value" not in hist.columns:
        return None
    points = maintenance_report.trend_points(hist).filter(pl.col("value").is_not_null())
    if points.is_empty():
        return None
    rows = []
    for rec in points.iter_rows(named=True):
        axis = present.UNITS.get(CHECKS[rec["name"]].unit, present.NUMBER).axis if rec["name"] in CHECKS else ""
        suffix = "" if axis in ("", "count") else axis
        rows.append({"period": rec["period"], "name": rec["name"], "check": present.label(rec["name"]) + (f" ({suffix})" if suffix else ""),
                     "value": rec["value"], "threshold": rec["red"]})
    pdf = pl.DataFrame(rows, schema={"period": pl.String, "name": pl.String, "check": pl.String, "value": pl.Float64,
                                     "threshold": pl.Float64}).to_pandas()
    alt = charts.alt()
    base = alt.Chart(pdf)
    line = base.mark_line(point=True, color=charts.PALETTE["blue"]).encode(
        x=alt.X("period:O", title=None, axis=charts.period_axis()), y=alt.Y("value:Q", title=None)
    )
    limit = base.mark_line(strokeDash=[4, 3], color=charts.PALETTE["red"]).encode(x="period:O", y="threshold:Q")
    ticks = base.mark_tick(color=charts.PALETTE["red"], thickness=2).encode(x="period:O", y="threshold:Q")  # seen from the first month
    order = list(dict.fromkeys(r["check"] for r in sorted(rows, key=lambda r: list(CHECKS).index(r["name"]) if r["name"] in CHECKS else 99)))
    return (
        alt.layer(line, limit, ticks, data=pdf)
        .properties(width=220, height=120)
        .facet(facet=alt.Facet("check:N", title=None, sort=order), columns=3)
        .resolve_scale(y="independent")
    )


def _write_trends(ctx: _Ctx) -> None:
    meta = {
        "title": "Maintenance trends",
        "subtitle": ctx.params.name,
        "description": "Each monthly check across past periods: values against thresholds, and status by month.",
    }
    body = trends_parts(ctx, lambda svg: ctx.write("maintenance/trends.svg", svg) and "trends.svg")
    ctx.write("maintenance/trends.qmd", "\n\n".join([front_matter(meta), *body]) + "\n")


def trends_parts(ctx: _Ctx, save_figure: Callable[[str], str], level: str = "##", printed: bool = False) -> list[str]:
    """The trends page's sections (values against thresholds, status by month, the quarterly check),
    up to the selected period; `save_figure(svg)` stores the chart and returns the path to show.
    The maintenance document shows the same parts (`printed`: the chart's key in its caption, so that
    the chart and its key stay on one page)."""
    hist = load_history(ctx.reports.root, ctx.reports.selected)
    quarterly = f"{level} Quarterly recalibration\n\n" + esc(_schedule(ctx).text)
    if hist is None or hist.is_empty():
        return ["The history of monthly checks is not available yet: it builds up as the maintenance check runs each month.", quarterly]
    parts = []
    periods = sorted(set(hist.get_column("period").to_list()))[-ctx.params.publish.trend_months:]
    hist = hist.filter(hist["period"].is_in(periods))
    svg = trends_chart(hist)
    if svg:
        key = "Blue: the value each month; red: the red threshold."
        caption = f"Monthly check values by period. {key}" if printed else "Monthly check values by period"
        parts.append(f"{level} Values against thresholds" + ("" if printed else f"\n\n{key}"))
        parts.append(f"![{caption}]({save_figure(svg)}){{fig-alt=\"Each maintenance check's value by month, with its red threshold\"}}")
    if "status" in hist.columns:
        status = {(str(row["name"]), row["period"]): row["status"] for row in hist.iter_rows(named=True)}
        seen = {n for n, _ in status}
        names = [n for n in CHECKS if n in seen] + sorted(seen - set(CHECKS))
        rows = [[present.label(n)] + [present.HTML(present.badge(status[(n, per)])) if status.get((n, per)) else present.MISSING
                                      for per in periods] for n in names]
        parts.append(f"{level} Status by month\n\n" + table(["Check"] + periods, rows))
    return [*parts, quarterly]


# ---------------------------------------------------------------------------- accounts


ACCOUNTS_DIR = "accounts"  # accounts/<YYYY-MM>.qmd: a month's portfolio; accounts/<YYYY-MM>.csv: its every account
DOCUMENT_ROWS = 10  # the at-risk accounts the monthly document lists (the site's page lists accounts.TOP)


def at_risk_parts(portfolio: dict, csv: str, link: str = "", level: str = "##", rows_shown: int | None = None) -> list[str]:
    """A month's portfolio by band and segment and its at-risk accounts by ARR: the monthly document's accounts section,
    and the start of the site's Accounts page. `csv`: where every account is, in words; `link`: the same as a Markdown
    link, for the text (the tables' notes are plain text)."""
    p = portfolio
    shown = {} if rows_shown is None else {"rows_shown": rows_shown}
    return [
        accounts_report.summary_text(p, link or csv),
        accounts_report.band_table(p).html,
        f"{level} At risk, by ARR\n\nRed in each of the last {p['at_risk_weeks']} weekly scores; the two measures that moved "
        "each score most over the last 30 days.",
        accounts_report.accounts_table(p["at_risk"], of=p["at_risk_accounts"], csv=csv, **shown).html,
    ]


def accounts_parts(portfolio: dict, csv: str, link: str = "") -> list[str]:
    """A month's Accounts page: `at_risk_parts`, then the month's biggest drops, the renewals ahead, the next quarter's
    forecast and the earlier forecasts against what happened."""
    p = portfolio
    checked = accounts_report.checked_table(p)
    return [
        *at_risk_parts(p, csv, link),
        "## The month's biggest drops",
        accounts_report.accounts_table(p["biggest_drops"], of=p["dropped_accounts"], csv=csv).html,
        "## Renewals ahead\n\nThe renewal playbook starts 90 to 120 days before a contract ends.",
        accounts_report.renewals_table(p).html,
        "## The next quarter's renewals: forecast, and earlier forecasts against what happened",
        accounts_report.forecast_text(p),
        checked if isinstance(checked, str) else checked.html,
    ]


def _write_accounts(ctx: _Ctx) -> None:
    """Per period with a portfolio, its Accounts page and every account as a CSV (personal data replaced), and
    the listing of the months."""
    p, r = ctx.params, ctx.reports
    listed = 0
    for period in r.periods:
        folder = r.root / period
        if not r.ran_ok(period, registry.MAINTENANCE.file):
            continue
        found = PortfolioDocument.read(folder)
        if found is None:
            continue
        doc = ctx.scrub.obj(found.doc)
        per = Period.parse(period)
        csv = f"{period}.csv"
        _scrubbed_csv(ctx, folder / registry.ACCOUNTS_PARQUET, ctx.dest / ACCOUNTS_DIR / csv)
        red = doc["by_band"].get(status.RED, {"accounts": 0})
        meta = {"title": f"Accounts {per.start:%B %Y}", "subtitle": p.name, "date": per.end.isoformat(),
                "description": (f"{present.fmt(doc['accounts'], 'count')} active accounts, {present.fmt(red['accounts'], 'count')} red, "
                                f"{present.fmt(doc['at_risk_accounts'], 'count')} at risk ({present.fmt(doc['at_risk_arr'], 'money')} ARR)")}
        intro = (f"Every active account scored as at {per.end.isoformat()}: which to act on now, why, and how much revenue is "
                 f"at stake. The checks of the month are in its [maintenance report](../maintenance/{period}.html).")
        ctx.write(f"{ACCOUNTS_DIR}/{period}.qmd", "\n\n".join([front_matter(meta), intro,
                                                               *accounts_parts(doc, csv, f"[{csv}]({csv})")]) + "\n")
        listed += 1
    listing = {
        "title": "Accounts by month",
        "subtitle": p.name,
        "description": "Each month's accounts: the portfolio by band, the accounts at risk, the biggest drops and the forecast.",
        "listing": {"contents": "20*.qmd", "type": "table", "sort": "date desc", "fields": ["date", "title", "description"],
                    "field-display-names": {"date": "Period end", "title": "Month", "description": "Summary"},
                    "date-format": "YYYY-MM-DD", "max-description-length": 300},
    }
    body = "" if listed else "\nNo month's accounts are available yet: the maintenance check scores them.\n"
    ctx.write(f"{ACCOUNTS_DIR}/index.qmd", front_matter(listing) + "\n" + body)


def _scrubbed_csv(ctx: _Ctx, parquet: Path, target: Path) -> None:
    """Every account of a month as a CSV for the client, its personal values (owners) replaced like the pages'."""
    import polars as pl

    frame = pl.read_parquet(parquet)
    text = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(pl.col(c).replace_strict({v: ctx.scrub.text(v) for v in frame[c].drop_nulls().unique()},
                                                        default=None, return_dtype=pl.String) for c in text)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(target)


# ---------------------------------------------------------------------------- rendering


def render_lock(site: Path):
    """One Quarto render at a time across processes (parallel renders race on shared files)."""
    return locks.exclusive(site / LOCK)


def render_site(source: Path, client: str, site: str | Path, quarto: str, run: Callable = subprocess.run) -> Path:
    """Render a fresh copy of the source and swap the output into `<site>/<client>/`."""
    site = Path(site).resolve()
    final = site / client
    with render_lock(site):
        build = site / f".build-{client}-{uuid.uuid4().hex[:8]}"
        try:
            shutil.copytree(source, build)
            proc = run([quarto, "render", str(build), "--profile", client], capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
                raise KitError(f"quarto render failed:\n{tail}", where=str(source), fix="read Quarto's message above; the previous site is untouched")
            output = build / "_site"
            if not output.is_dir():
                raise KitError("quarto render produced no _site folder", where=str(build), fix="check the project type in _quarto.yml")
            staged = site / f".new-{client}-{uuid.uuid4().hex[:8]}"
            output.rename(staged)
            _swap(staged, final)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return final
