"""The client documentation site: source written without Quarto, isolation, personal data, CLI.

Quarto is not installable on the build machine: the source tests need no binary; rendering is
checked with a stand-in `quarto` script (swap, lock, isolation of the output), and with the real
Quarto only when it is installed.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest
import yaml

from kit import cli, params, registry
from kit.io import personal
from kit.publish import site
from kit.periods import Period

PERSONAL = {"jane.doe@acme.example", "Avery Müller", "sam.okafor@team.example"}
SECRET_PATH = "/secret/engagements/acme/run"


# ---------------------------------------------------------------------------- synthetic material


def write_client(folder: Path, client: str, name: str, *, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{client}.yml"
    path.write_text(
        f"client: {client}\nname: {name}\nsources:\n  accounts:\n    path: accounts.csv\n"
        "    columns: {Id: account_id, Owner: csm_owner}\n" + extra
    )
    return path


def executed_notebook(title: str, marker: str) -> nbformat.NotebookNode:
    """Like a papermill output: parameters and injected cells, outputs with personal data and a CDN-loading mime."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata = {"title": title, "description": f"{title} description {marker}",
                   "papermill": {"parameters": {"run_dir": SECRET_PATH}, "input_path": SECRET_PATH}}
    p = v4.new_code_cell('params_path = "../parameters/x.yml"\nperiod = None\nrun_dir = None', metadata={"tags": ["parameters"]})
    inj = v4.new_code_cell(f'# Parameters\nrun_dir = "{SECRET_PATH}"\n', metadata={"tags": ["injected-parameters"]})
    code = v4.new_code_cell("nb.show(frame)")
    code.outputs = [
        v4.new_output("display_data", data={
            "text/html": f"<table><tr><td>jane.doe@acme.example</td><td>Avery Müller</td><td>{marker}</td></tr></table>",
            "text/plain": "Avery Müller",
        }),
        v4.new_output("display_data", data={
            "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'><text>Avery Müller</text></svg>",
            "application/vnd.vegalite.v5+json": {"$schema": "https://cdn.jsdelivr.net/npm/vega-lite@5"},
        }),
        v4.new_output("stream", name="stdout", text="owner sam.okafor@team.example\n"),
    ]
    nb.cells = [v4.new_markdown_cell(f"# {title}\n\nIntro {marker}."), p, inj, code]
    return nb


def write_period(root: Path, client: str, period: str, marker: str, *, artefacts: bool = True, notebooks=("audit", "weights", "backtest", "maintenance"),
                 names: set[str] | None = None) -> Path:
    """A period folder as a run leaves it: executed notebooks, the manifest, the artefacts and the personal values
    the run found in the data (`names`; default PERSONAL)."""
    folder = root / client / period
    folder.mkdir(parents=True, exist_ok=True)
    personal.Personal(set(PERSONAL) if names is None else names).write(folder)
    files = {"audit": "01_audit.ipynb", "weights": "02_weights.ipynb", "backtest": "03_backtest.ipynb", "maintenance": "04_maintenance.ipynb"}
    titles = {"audit": "Data audit", "weights": "Churn correlation and weights", "backtest": "Back-test", "maintenance": "Maintenance check"}
    manifest = {"client": client, "period": period, "status": "ok", "notebooks": {}}
    for n in notebooks:
        nbformat.write(executed_notebook(titles[n], marker), folder / files[n])
        manifest["notebooks"][n] = {"name": n, "status": "ok", "notebook": files[n]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if artefacts:
        (folder / "audit.json").write_text(json.dumps({"score": 82.5, "dimensions": {}, "findings": [], "period": period, "tables": {}}))
        (folder / "weights.json").write_text(json.dumps({
            "status": "ok", "reason": None, "period": period, "search": None, "current_weights": {},
            "signals": {"latest_nps": {"component": "sentiment", "point_biserial": -0.31, "p_value": 0.001, "auc": 0.68}},
            "proposed_weights": {
                "usage": {"weight": 0.40, "ci_low": 0.31, "ci_high": 0.49},
                "support": {"weight": 0.20, "ci_low": 0.12, "ci_high": 0.28},
                "billing": {"weight": 0.10, "ci_low": 0.05, "ci_high": 0.16},
                "sentiment": {"weight": 0.20, "ci_low": 0.13, "ci_high": 0.27},
                "relationship": {"weight": 0.10, "ci_low": 0.04, "ci_high": 0.17},
            },
        }))
        (folder / "backtest.json").write_text(json.dumps({
            "configs": {"current": {"auc": 0.7712, "churned_green_share": 0.125},
                        "proposed": {"auc": 0.8123, "churned_green_share": 0.08}},
            "best": "proposed", "available": True, "as_of": f"{period}-28", "bands": {"red": 60, "green": 75},
        }))
        (folder / "maintenance.json").write_text(json.dumps({"period": period, "checks": [
            {"name": "cta_completion", "title": "CTA completion rate", "status": "red", "value": 0.52, "unit": "share",
             "threshold": {"amber": 0.7, "red": 0.6, "worse": "lower"}, "action": "Review CTA routing",
             "detail": "owner jane.doe@acme.example"},
            {"name": "sync_failures", "title": "Integration sync: failures", "status": "green", "value": 0, "unit": "count",
             "threshold": {"amber": 0, "red": 1, "worse": "higher"}, "action": "No action: keep monitoring.", "detail": ""},
        ]}))
    return folder


def write_history(root: Path, client: str, periods: list[str]) -> None:
    rows = []
    for i, p in enumerate(periods):
        rows.append({"period": p, "name": "cta_completion", "status": "red" if i else "green", "value": 0.7 - 0.1 * i, "amber": 0.7, "red": 0.6})
        rows.append({"period": p, "name": "csm_active_share", "status": "green", "value": 0.9, "amber": 0.8, "red": 0.7})
    pl.DataFrame(rows).write_parquet(root / client / "history.parquet")


@pytest.fixture
def known_personal(monkeypatch):
    """Publishing reads no source: a client's sources that cannot be read change nothing."""
    monkeypatch.setattr("kit.io.load.ClientData.table", lambda *a, **k: pytest.fail("publish read a source"))


@pytest.fixture
def acme(tmp_path, known_personal):
    """Client acme with three periods of synthetic artefacts and a history."""
    reports = tmp_path / "reports"
    for p in ("2026-08", "2026-09", "2026-10"):
        write_period(reports, "acme", p, marker="ACME-MARK")
    write_history(reports, "acme", ["2026-08", "2026-09", "2026-10"])
    pfile = write_client(tmp_path / "parameters", "acme", "Acme Corp")
    return pfile, reports, tmp_path / "_site"


def build(pfile, reports, site_root, period=None):
    return site.build_source(params.load(pfile), period, out=reports, site=site_root)


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*")) if p.is_file())


def front(path: Path) -> dict:
    """Front matter of a .qmd, or of a notebook's first raw cell."""
    if path.suffix == ".ipynb":
        cell = nbformat.read(path, as_version=4).cells[0]
        assert cell.cell_type == "raw", f"{path}: the first cell must be the raw front matter"
        text = cell.source
    else:
        text = path.read_text()
    m = re.match(r"^---\n(.*?)\n---", text, re.S)
    assert m, f"{path}: no front matter"
    return yaml.safe_load(m.group(1))


# ---------------------------------------------------------------------------- source: pages and config


def navbar_hrefs(cfg: dict) -> list[str]:
    out = []

    def walk(items):
        for it in items:
            if "href" in it:
                out.append(it["href"])
            walk(it.get("menu", []))

    nav = cfg["website"]["navbar"]
    walk(nav.get("left", []) + nav.get("right", []))
    return out


def test_every_page_and_listing_target_exists_and_yaml_parses(acme):
    pfile, reports, site_root = acme
    src = build(pfile, reports, site_root).source
    assert src == (site_root / ".src" / "acme").resolve()
    cfg = yaml.safe_load((src / "_quarto.yml").read_text())
    hrefs = navbar_hrefs(cfg)
    assert {"index.qmd", "methodology.qmd", "reports/audit.ipynb", "reports/weights.ipynb", "reports/backtest.ipynb",
            "maintenance/index.qmd", "maintenance/trends.qmd", "accounts/index.qmd"} == set(hrefs)
    for h in hrefs:
        assert (src / h).is_file(), h
        meta = front(src / h)
        assert meta["title"], h
    # every maintenance month is a page with title, period and description; the listing finds them all
    listing_page = src / "maintenance" / "index.qmd"
    listing = front(listing_page)["listing"]
    matched = sorted(listing_page.parent.glob(listing["contents"]))
    assert [p.name for p in matched] == ["2026-08.ipynb", "2026-09.ipynb", "2026-10.ipynb"]
    for p in matched:
        meta = front(p)
        per = Period.parse(p.stem)
        assert meta["date"] == per.end.isoformat()  # listing sorts on it: "date desc" = newest first
        assert per.start.strftime("%B %Y") in meta["title"] and meta["description"]
    assert listing["sort"] == "date desc"
    # the published notebooks carry title, period and description
    for page in ("reports/audit.ipynb", "reports/weights.ipynb", "reports/backtest.ipynb"):
        meta = front(src / page)
        assert "2026-10" in meta["subtitle"] and meta["description"] and meta["date"] == "2026-10-31"
    # the trends chart is a local SVG the page references
    trends = (src / "maintenance" / "trends.qmd").read_text()
    assert "](trends.svg)" in trends and (src / "maintenance" / "trends.svg").read_text().lstrip().startswith("<svg")


# Keys from Quarto's reference (quarto.org/docs/reference/projects/websites.html, .../formats/html.html,
# /docs/projects/profiles.html, /docs/websites/website-listings.html, /docs/reference/formats/html.html#execution).
NAV_ITEM = {"text": None, "href": None, "menu": "nav", "icon": None, "aria-label": None}
DOCUMENTED = {
    "project": {"type": None, "render": None, "output-dir": None, "resources": None, "pre-render": None,
                "post-render": None, "execute-dir": None, "lib-dir": None, "preview": None, "title": None},
    "website": {
        "title": None, "description": None, "site-url": None, "favicon": None, "page-navigation": None,
        "search": {"location": None, "type": None, "limit": None, "copy-button": None, "show-item-context": None},
        "navbar": {"title": None, "logo": None, "background": None, "foreground": None, "search": None,
                   "pinned": None, "collapse": None, "left": "nav", "right": "nav", "tools": None},
        "page-footer": {"left": None, "center": None, "right": None, "background": None, "border": None},
    },
    "language": {"title-block-published": None},  # quarto.org/docs/authoring/language.html
    "format": {"html": {"theme": None, "toc": None, "toc-depth": None, "html-math-method": None,
                        "anchor-sections": None, "css": None, "code-fold": None, "code-tools": None,
                        "page-layout": None, "smooth-scroll": None,
                        "grid": {"body-width": None, "margin-width": None, "sidebar-width": None, "gutter-width": None}}},
    "execute": {"enabled": None, "echo": None, "eval": None, "warning": None, "error": None, "freeze": None},
    "profile": {"default": None, "group": None},
}
LISTING = {"contents", "type", "sort", "fields", "field-display-names", "date-format", "max-description-length",
           "max-items", "sort-ui", "filter-ui", "categories", "feed", "table-striped", "table-hover", "id"}


def check_keys(value, spec, where: str) -> None:
    if spec is None:
        return
    if spec == "nav":
        for item in value:
            if isinstance(item, dict):
                check_keys(item, NAV_ITEM, where + "[]")
        return
    assert isinstance(value, dict), where
    for k, v in value.items():
        assert k in spec, f"{where}.{k} is not a documented Quarto option"
        check_keys(v, spec[k], f"{where}.{k}")


def test_configuration_uses_documented_quarto_keys(acme):
    pfile, reports, site_root = acme
    src = build(pfile, reports, site_root).source
    shared = yaml.safe_load(site.SHARED_CONFIG.read_text())
    staged = yaml.safe_load((src / "_quarto.yml").read_text())
    profile = yaml.safe_load((src / "_quarto-acme.yml").read_text())
    for name, cfg in {"shared": shared, "staged": staged, "profile": profile}.items():
        check_keys(cfg, DOCUMENTED, name)
    # shared settings: website, search, footer, no execution, code hidden; the client's come from the profile
    assert shared["project"]["type"] == "website"
    assert shared["execute"] == {"enabled": False, "echo": False}
    assert shared["website"]["search"] and shared["website"]["page-footer"]
    assert "profile" not in shared
    assert staged == {**shared, "profile": {"default": "acme"}}
    assert profile["website"]["title"] == "Acme Corp"
    assert set(front(src / "maintenance" / "index.qmd")["listing"]) <= LISTING
    # the check itself must be able to fail
    with pytest.raises(AssertionError):
        check_keys({"website": {"nav-bar": {}}}, DOCUMENTED, "x")


def test_home_shows_headline_figures_and_status(acme):
    pfile, reports, site_root = acme
    home = (build(pfile, reports, site_root).source / "index.qmd").read_text()
    assert "Acme Corp" in home and "2026-10" in home
    assert "82.5 / 100" in home  # audit.json score
    assert "0.77" in home and "12%" in home  # current weights: AUC 0.7712, churned green 0.125 -> 12% (rounded half to even)
    assert "0.81" in home and "Proposed weights (best)" in home
    # the maintenance status: title, a badge (not an emoji), the value as a percent, the threshold in words
    row = re.search(r"<tr>.*?CTA completion rate.*?</tr>", home).group(0)
    assert 'class="kit-badge kit-badge-red">red<' in row and ">52%<" in row and "red &lt; 60%, amber &lt; 70%" in row
    assert "Review CTA routing" in row and "cta_completion" not in home and "{" not in row
    assert not re.search("[\U0001F300-\U0001FAFF]", home)


def test_methodology_follows_the_configuration_in_force(tmp_path, known_personal):
    reports = tmp_path / "reports"
    write_period(reports, "acme", "2026-10", "M")
    extra = (
        "maintenance:\n  cta_completion: {amber: 0.65, red: 0.55}\n  score_stability: {amber: 0.12, red: 0.3}\n"
        "  score_tolerance: 2.5\n"
        "score:\n  bands: {red: 50, green: 80}\n  at_risk_weeks: 3\n"
    )
    pfile = write_client(tmp_path / "p", "acme", "Acme Corp", extra=extra)
    page = (build(pfile, reports, tmp_path / "_site").source / "methodology.qmd").read_text()
    assert "&lt; 55%" in page and "&lt; 65%" in page
    assert "below 50" in page and "80 or more" in page and "3 consecutive weeks" in page
    # each account, every month: the at-risk rule, the stability limits and the platform's tolerance in force
    assert "each of its last 3 weekly scores is below red (50" in page
    assert "Below 0.12 the population is stable, above 0.30 it has shifted" in page
    assert "differs by more than 2.5 points" in page
    # weights: in force (defaults 35/20/15/20/10) vs proposed 40% with its interval
    assert "40.0%" in page and "31.0% – 49.0%" in page and "35%" in page
    assert "differ from the proposal by up to 5 points" in page
    assert "Latest NPS" in page and "−0.31" in page and "1.0 × 10<sup" in page  # r and p-value of latest_nps
    # mapping and signals of the configuration
    assert "<td class=\"gt_row gt_left\"><code>Owner</code></td><td class=\"gt_row gt_left\">CSM owner</td>" in page
    assert "Active users per seat" in page and "active_users_per_seat" not in page
    # without weights.json: no invented evidence
    (reports / "acme" / "2026-10" / "weights.json").unlink()
    page = (build(pfile, reports, tmp_path / "_site").source / "methodology.qmd").read_text()
    assert "not available yet" in page and "Proposed weight" not in page


def test_missing_artefacts_say_not_available_yet(tmp_path, known_personal):
    reports = tmp_path / "reports"
    write_period(reports, "bare", "2026-10", "B", artefacts=False, notebooks=("audit",))
    pfile = write_client(tmp_path / "p", "bare", "Bare Ltd")
    src = build(pfile, reports, tmp_path / "_site").source
    home = (src / "index.qmd").read_text()
    assert home.count("not available yet") >= 4
    for page in ("reports/weights.ipynb", "reports/backtest.ipynb"):
        nb = nbformat.read(src / page, as_version=4)
        assert "not available yet" in nb.cells[1].source
    assert "not available yet" in (src / "maintenance" / "trends.qmd").read_text()
    assert "No monthly maintenance report" in (src / "maintenance" / "index.qmd").read_text()
    assert list((src / "maintenance").glob("*.ipynb")) == []
    # a period must exist
    with pytest.raises(Exception, match="no completed run for period 2026-09"):
        build(pfile, reports, tmp_path / "_site", period="2026-09")


def test_published_notebooks_hide_code_and_parameters(acme):
    pfile, reports, site_root = acme
    src = build(pfile, reports, site_root).source
    for nb_path in [*src.glob("reports/*.ipynb"), *src.glob("maintenance/*.ipynb")]:
        text = nb_path.read_text()
        assert SECRET_PATH not in text and "papermill" not in text, nb_path
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, nb_path
        for c in code:
            assert not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))
            assert c.source.startswith("#| echo: false\n")
        # the notebook's H1 is not repeated under the front matter title
        assert not any(c.source.startswith("# ") for c in nb.cells if c.cell_type == "markdown")


def test_no_cdn_and_small_pages(acme):
    pfile, reports, site_root = acme
    src = build(pfile, reports, site_root).source
    for p in src.rglob("*"):
        if p.is_file():
            assert p.stat().st_size < 3_000_000, p
            text = p.read_text(errors="replace")
            assert "cdn.jsdelivr" not in text and not re.search(r"<script[^>]+src=[\"']https?://", text), p
    nb = nbformat.read(src / "reports" / "audit.ipynb", as_version=4)
    mimes = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})}
    assert "image/svg+xml" in mimes and not any(m.startswith("application/vnd.vega") for m in mimes)


# ---------------------------------------------------------------------------- personal data


def test_personal_data_replaced_by_stable_pseudonyms(acme):
    pfile, reports, site_root = acme
    src = build(pfile, reports, site_root).source
    text = all_text(src)
    for value in PERSONAL:
        assert value not in text, value
    scrub = site.Scrubber(PERSONAL, "acme")
    jane = scrub.pseudonym("jane.doe@acme.example")
    avery = scrub.pseudonym("Avery Müller")
    assert jane in text and avery in text and jane != avery
    assert jane in (src / "maintenance" / "2026-10.ipynb").read_text()  # in the report's outputs
    # stable: the same pseudonym in the next build; salted per client
    assert jane in all_text(build(pfile, reports, site_root).source)
    assert site.Scrubber(PERSONAL, "other").pseudonym("jane.doe@acme.example") != jane


def test_personal_data_kept_when_the_parameters_allow_it(tmp_path, known_personal):
    reports = tmp_path / "reports"
    write_period(reports, "acme", "2026-10", "M")
    pfile = write_client(tmp_path / "p", "acme", "Acme Corp", extra="publish: {personal_data: true}\n")
    text = all_text(build(pfile, reports, tmp_path / "_site").source)
    assert "jane.doe@acme.example" in text and "Avery Müller" in text


def test_an_unreadable_personal_table_stops_the_publish(tmp_path, capsys):
    """The run records a table with personal columns it could not read; publishing stops on it, naming the table."""
    from kit.io.load import ClientData

    reports = tmp_path / "reports"
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "accounts.csv").write_text("Id,Owner\nA1,Avery Müller\n")
    team = "  team:\n    path: team.csv\n    columns: {Login: user, Role: role, Active: active}\n"  # team.csv missing
    pfile = write_client(folder, "acme", "Acme Corp", extra=team)
    found = personal.of(ClientData(params.load(pfile)))
    assert found.values == {"Avery Müller"} and set(found.unreadable) == {"team"}
    write_period(reports, "acme", "2026-10", "M")
    found.write(reports / "acme" / "2026-10")
    code = cli.main(["publish", str(pfile), "--out", str(reports), "--site", str(tmp_path / "_site")])
    err = capsys.readouterr().err
    assert code != 0 and "sources.team" in err and "personal data" in err and "publish.personal_data: true" in err
    assert not (tmp_path / "_site" / ".src" / "acme").exists()  # nothing written that could show the names
    # readable tables give their values
    (folder / "team.csv").write_text("Login,Role,Active\nsam.okafor,CSM,yes\n")
    found = personal.of(ClientData(params.load(pfile)))
    assert found.values == {"Avery Müller", "sam.okafor"} and not found.unreadable


def test_a_period_without_its_personal_values_is_not_published(tmp_path, capsys):
    """A period folder an older kit wrote has no record of its names: publish says to rerun it, and writes nothing."""
    reports = tmp_path / "reports"
    write_period(reports, "acme", "2026-10", "M")
    (reports / "acme" / "2026-10" / registry.PERSONAL).unlink()
    folder = tmp_path / "p"
    folder.mkdir()
    pfile = write_client(folder, "acme", "Acme Corp")
    code = cli.main(["publish", str(pfile), "--out", str(reports), "--site", str(tmp_path / "_site")])
    err = capsys.readouterr().err
    assert code != 0 and registry.PERSONAL in err and "rerun the period" in err and "Traceback" not in err
    assert not (tmp_path / "_site" / ".src" / "acme").exists()


def test_scrubber_catches_escaped_forms():
    s = site.Scrubber({"Avery Müller", "O'Brien Pat", "x@y.example"}, "c")
    out = s.text("Avery Müller | O&#x27;Brien Pat | x\\@y.example | other@z.example | Avery Müllerson")
    assert "Müller |" not in out and "Brien" not in out and "@" not in out
    assert "Avery Müllerson" in out  # a longer name is not mangled
    assert out.count("person-") == 4


# ---------------------------------------------------------------------------- isolation


def test_building_a_after_b_leaves_nothing_of_b(tmp_path, known_personal):
    reports = tmp_path / "reports"
    site_root = tmp_path / "_site"
    write_period(reports, "acme", "2026-10", "ACME-MARK")
    for p in ("2026-08", "2026-09", "2026-10"):
        write_period(reports, "globex", p, "GLOBEX-MARK")
    write_history(reports, "globex", ["2026-08", "2026-09", "2026-10"])
    a = write_client(tmp_path / "p", "acme", "Acme Corp")
    b = write_client(tmp_path / "p", "globex", "Globex Inc")
    src_a = build(a, reports, site_root).source
    (src_a / "stale-from-last-time.qmd").write_text("old")
    src_b = build(b, reports, site_root).source
    src_a = build(a, reports, site_root).source
    text_a = all_text(src_a)
    for needle in ("globex", "Globex", "GLOBEX-MARK"):
        assert needle not in text_a
    files = {str(p.relative_to(src_a)) for p in src_a.rglob("*") if p.is_file()}
    assert "stale-from-last-time.qmd" not in files
    assert {f for f in files if f.startswith("maintenance/") and f.endswith(".ipynb")} == {"maintenance/2026-10.ipynb"}
    assert "GLOBEX-MARK" in all_text(src_b) and "ACME-MARK" not in all_text(src_b)
    leftovers = [p.name for p in (site_root / ".src").iterdir()]
    assert sorted(leftovers) == ["acme", "globex"]


# ---------------------------------------------------------------------------- rendering


FAKE_QUARTO = """#!{python}
# Stand-in for `quarto render DIR --profile NAME`: one .html per page (its source text) plus a
# search.json listing them, in DIR/_site/. Records its calls.
import json, sys, pathlib
args = sys.argv[1:]
assert args[0] == "render" and args[2] == "--profile", args
project = pathlib.Path(args[1])
with open({log!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
out = project / "_site"
pages = [p for p in project.rglob("*") if p.suffix in (".qmd", ".ipynb") and "_site" not in p.relative_to(project).parts]
out.mkdir(exist_ok=True)
for p in pages:
    target = out / p.relative_to(project).with_suffix(".html")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(p.read_text())
(out / "search.json").write_text(json.dumps([str(p.relative_to(project)) for p in pages] + [(project / ("_quarto-" + args[3] + ".yml")).read_text()]))
"""


@pytest.fixture
def fake_quarto(tmp_path, monkeypatch):
    log = tmp_path / "quarto-calls.log"
    path = tmp_path / "bin" / "quarto"
    path.parent.mkdir()
    path.write_text(FAKE_QUARTO.format(python=sys.executable, log=str(log)))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("QUARTO_PATH", str(path))
    return log


def test_publish_renders_into_the_client_folder_and_replaces_it(tmp_path, known_personal, fake_quarto, capsys):
    reports = tmp_path / "reports"
    site_root = tmp_path / "_site"
    write_period(reports, "acme", "2026-10", "ACME-MARK")
    write_period(reports, "globex", "2026-10", "GLOBEX-MARK")
    a = write_client(tmp_path / "p", "acme", "Acme Corp")
    b = write_client(tmp_path / "p", "globex", "Globex Inc")
    assert cli.main(["publish", str(a), "--out", str(reports), "--site", str(site_root)]) == 0
    (site_root / "acme" / "stale.html").write_text("old")
    assert cli.main(["publish", str(b), "--out", str(reports), "--site", str(site_root)]) == 0
    assert cli.main(["publish", str(a), "--out", str(reports), "--site", str(site_root)]) == 0
    out_a = site_root / "acme"
    assert (out_a / "index.html").is_file() and (out_a / "maintenance" / "index.html").is_file()
    assert not (out_a / "stale.html").exists()
    text = all_text(out_a)
    assert "Acme Corp" in text and "Globex" not in text and "GLOBEX-MARK" not in text
    assert "Acme" not in all_text(site_root / "globex")
    calls = [json.loads(line) for line in fake_quarto.read_text().splitlines()]
    assert [c[3] for c in calls] == ["acme", "globex", "acme"]
    # renders ran in throw-away copies: no build folders or Quarto output left in the source
    assert sorted(p.name for p in site_root.iterdir() if not p.name.startswith(".render")) == [".src", "acme", "globex"]
    assert not (site_root / ".src" / "acme" / "_site").exists()
    assert (site_root / site.LOCK).exists()


def test_failed_render_keeps_the_previous_site(tmp_path, known_personal, fake_quarto):
    reports = tmp_path / "reports"
    site_root = tmp_path / "_site"
    write_period(reports, "acme", "2026-10", "M")
    a = write_client(tmp_path / "p", "acme", "Acme Corp")
    site.publish(a, out=reports, site=site_root)
    before = (site_root / "acme" / "index.html").read_text()
    Path(os.environ["QUARTO_PATH"]).write_text("#!/bin/sh\necho 'ERROR: broken theme' >&2\nexit 1\n")
    with pytest.raises(Exception, match="broken theme"):
        site.publish(a, out=reports, site=site_root)
    assert (site_root / "acme" / "index.html").read_text() == before


def test_publish_without_quarto_writes_the_source_and_says_how_to_get_it(tmp_path, known_personal, monkeypatch, capsys):
    reports = tmp_path / "reports"
    write_period(reports, "acme", "2026-10", "M")
    a = write_client(tmp_path / "p", "acme", "Acme Corp")
    monkeypatch.setattr(site, "find_quarto", lambda: None)
    code = cli.main(["publish", str(a), "--out", str(reports), "--site", str(tmp_path / "_site")])
    err = capsys.readouterr().err
    assert code != 0
    for needed in ("Quarto is not installed", "environment.yml", "pip install quarto-cli", "quarto.org",
                   str(reports.resolve() / "acme" / "2026-10"), str((tmp_path / "_site" / ".src" / "acme").resolve())):
        assert needed in err, needed
    assert (tmp_path / "_site" / ".src" / "acme" / "index.qmd").is_file()
    assert not (tmp_path / "_site" / "acme").exists()


def test_find_quarto_honours_quarto_path(tmp_path, monkeypatch):
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    assert site.find_quarto() == str(fake)
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert site.find_quarto() in (None, str(Path(sys.executable).parent / "quarto"))


# ---------------------------------------------------------------------------- the demo, for real


@pytest.fixture(scope="module")
def demo_reports(demo_params_file, tmp_path_factory):
    """One real run of the audit notebook on the demo client."""
    from kit.run import batch

    out = tmp_path_factory.mktemp("site-reports")
    r = batch.run_client(demo_params_file, "2026-10", out=out, only=["audit"])
    assert r.status == "ok", r.failure
    return out


def test_demo_site_source_has_no_personal_data(demo_reports, demo_params_file, demo_data, tmp_path):
    p = params.load(demo_params_file)
    # plant the demo's real personal values where a notebook might show them
    emails = demo_data.table("contacts").get_column("email").drop_nulls().head(3).to_list()
    owners = demo_data.table("accounts").get_column("csm_owner").drop_nulls().unique().sort().head(3).to_list()
    users = demo_data.table("team").get_column("user").drop_nulls().head(2).to_list()
    planted = [*emails, *owners, *users]
    folder = demo_reports / "demo" / "2026-10"
    (folder / "maintenance.json").write_text(json.dumps({"period": "2026-10", "checks": [
        {"name": "Platform usage", "status": "amber", "value": 0.75, "threshold": 0.7, "action": "train",
         "detail": "inactive: " + ", ".join(planted)}]}))
    nb = nbformat.read(folder / "01_audit.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": "<td>" + "</td><td>".join(planted) + "</td>", "text/plain": " ".join(planted)})]))
    nbformat.write(nb, folder / "01_audit.ipynb")

    src = site.build_source(p, "2026-10", out=demo_reports, site=tmp_path / "_site").source
    text = all_text(src)
    for value in planted:
        assert value not in text, value
    assert site.EMAIL.search(text) is None
    audit = front(src / "reports" / "audit.ipynb")
    assert audit["title"] == "Data audit" and "2026-10" in audit["subtitle"]
    assert "Demo Co" in (src / "index.qmd").read_text()


@pytest.mark.skipif(site.find_quarto() is None, reason="Quarto is not installed: get it with the conda environment, "
                    "`pip install quarto-cli` (internet access) or the installer from quarto.org")
def test_real_quarto_render(demo_reports, demo_params_file, tmp_path):
    result = site.publish(demo_params_file, "2026-10", out=demo_reports, site=tmp_path / "_site")
    out = result.output
    assert (out / "index.html").is_file() and (out / "reports" / "audit.html").is_file()
    assert (out / "search.json").is_file()
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r"<script[^>]+src=[\"']https?://", html), page
        assert page.stat().st_size < 5_000_000
    assert "params_path" not in (out / "reports" / "audit.html").read_text()
