"""The manual (docs/, built by `make docs` with scripts/manual.py) and the README that leads into it.

* The generated reference holds every command-line flag of `kit.cli._parser()` with its help, every
  field of the parameters file (kit/params.py) with its default and description, and every reason
  code of kit/errors.py with its fix; read here independently of the generator's own walk.
* Every link of the README resolves: files and folders exist, anchors name a heading of their page,
  and links into the manual name a page of its navigation.
* The rendered manual reads clean in headless Chromium, as the client sites do (tests/test_browser.py):
  nothing loaded from the internet, no console error, no broken link, no internal id in the text; and
  its search answers offline. Rendered once per session; skips, saying why, without Quarto or Chromium.

All in one file, so one xdist worker renders the manual once (tests/conftest.py groups tests by file).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from kit import params
from kit.cli import _parser
from kit.errors import Reason

from tests.support import browser

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = REPO / "README.md"

_spec = importlib.util.spec_from_file_location("manual", REPO / "scripts" / "manual.py")  # scripts/ is no package
manual = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(manual)


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """docs/ staged with its generated pages, as `make docs` does before rendering (no Quarto needed)."""
    return manual.stage(DOCS, tmp_path_factory.mktemp("manual"))


def plain(s: str) -> str:
    """Markdown as read: no code ticks, escapes, bold or link targets; one space between words."""
    s = re.sub(r"(?<!\\)\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = s.replace("`", "").replace("\\", "").replace("**", "")
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------------------- the generated reference


def sections(page: str, level: str = "## ") -> dict[str, str]:
    """The page's sections by the code name in their heading: {'run': '...'}."""
    out, name = {}, None
    for line in page.splitlines():
        m = re.match(re.escape(level) + r"`([^`]+)`", line)
        if m:
            name = m.group(1)
            out[name] = ""
        elif line.startswith(level):
            name = None
        if name:
            out[name] += line + "\n"
    return out


def test_every_command_line_flag_is_in_the_reference_with_its_help(staged):
    page = (staged / "reference" / "commands.qmd").read_text()
    assert "<!-- generated" not in page
    by_command = sections(page)
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(by_command) == set(commands)
    checked = 0
    for name, sub in commands.items():
        rows = {plain(line.split("|")[1]): plain(line) for line in by_command[name].splitlines() if line.startswith("| `")}
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            key = action.option_strings[0] if action.option_strings else (action.metavar or action.dest.upper())
            row = next((r for k, r in rows.items() if k.split(",")[0].split(" ")[0] == key), None)
            assert row is not None, f"{name} {key} is not in the command reference"
            assert plain(action.help or "") in row, f"{name} {key}: its help is not next to it:\n{row}"
            checked += 1
    assert checked >= 30
    run = by_command["run"]
    assert re.search(r"\| `--jobs JOBS` \| `1` \| parallel workers", run)  # a default next to its flag
    assert "`reports/`" in run and str(REPO) not in page  # defaults as paths of the checkout, not of this machine


def model_fields(model: type[BaseModel], seen: set) -> list[tuple[type[BaseModel], str, typing.Any]]:
    """Every (model, field name, field) reachable from `model` through annotations, each model once."""
    if model in seen:
        return []
    seen.add(model)
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        out.append((model, name, field))
        stack = [field.annotation]
        while stack:
            a = stack.pop()
            if isinstance(a, type) and issubclass(a, BaseModel):
                out += model_fields(a, seen)
            stack += list(typing.get_args(a))
    return out


def rows_of(page: str) -> dict[str, str]:
    """key -> the row's text, for the tables of the parameters reference."""
    out = {}
    for line in page.splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        if m:
            out[m.group(1)] = plain(line)
    return out


def test_every_parameters_field_is_in_the_reference_with_its_description(staged):
    page = (staged / "reference" / "parameters.qmd").read_text()
    rows = rows_of(page)
    fields = model_fields(params.Parameters, set())
    assert len(fields) > 80
    for model, name, field in fields:
        matching = [row for key, row in rows.items() if key == name or key.endswith("." + name)]
        assert matching, f"{model.__name__}.{name} is not in the parameters reference"
        if field.description:
            assert any(plain(field.description) in row for row in matching), \
                f"{model.__name__}.{name}: its description is not in its row:\n" + "\n".join(matching)


@pytest.mark.parametrize("key, default, words", [
    ("lead_time_days", "90", "signals and back-test scores are taken this long before renewal"),
    ("weighting.bootstrap", "500", "bootstrap resamples for weight intervals"),
    ("scorecard.test_share", "0.3333", "share of renewals, the latest by date, kept out of the fit"),
    ("maintenance.false_rate", "{amber: 0.2, red: 0.25}", "false positive / negative rate"),
    ("publish.paper", "a4", "paper of the signed documents"),
    ("search.windows", "[30, 60, 90, 180, 365]", "windows, in days before the as-of date"),
    ("audit.freshness_hours", "{crm: 24, analytics: 48, platform: 24}", "flag a source whose latest record is older"),
    ("sources.<table>.timeout_seconds", "600", "cancel the query after this many seconds"),
    ("client", "required", "slug used in folder names"),
])
def test_a_setting_shows_its_default_and_meaning_next_to_its_name(staged, key, default, words):
    row = rows_of((staged / "reference" / "parameters.qmd").read_text())[key]
    cells = [c.strip() for c in row.strip("| ").split(" | ")]
    assert cells[0] == key and cells[1] == default and words in cells[3], row


def test_every_reason_code_has_its_section_and_fix(staged):
    page = (staged / "troubleshooting.qmd").read_text()
    by_code = sections(page, "### ")
    assert set(by_code) == {r.value for r in Reason}
    for code, text in by_code.items():
        assert f"{{#{code}}}" in text  # the anchor a message's [code] can be looked up by
        assert "fix:" in text or "message:" in text or "general code" in text, f"{code}: nothing said"
    assert "chmod -R u+w" in by_code["period_protected"]  # read from kit/run/batch.py
    assert "--accept-missing" in by_code["would_lose_results"]
    assert "date_format" in by_code["unparseable_date"] and "date_format" not in by_code["unknown_label"]
    assert "pip install -e '.[cluster]'" in plain(by_code["cluster_unreachable"])


def test_the_data_contract_is_generated_from_kit_contract(staged):
    from kit import contract

    page = (staged / "data-contract.qmd").read_text()
    for table in contract.TABLES.values():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{table.name}`"))
        for column in table.columns:
            assert (f"**`{column.name}`**" in row) == column.required, (table.name, column.name)


def test_every_page_of_docs_is_in_the_navigation_and_nothing_generated_is_in_git():
    config = yaml.safe_load((DOCS / "_quarto.yml").read_text())
    listed = set(re.findall(r"[\w/-]+\.qmd", yaml.safe_dump(config["website"]["sidebar"])))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.qmd")}
    assert pages == listed, f"pages not in the sidebar: {pages - listed}; listed but missing: {listed - pages}"
    markers = {m for p in DOCS.rglob("*.qmd") for m in manual.MARKER.findall(p.read_text())}
    assert markers == set(manual.GENERATORS)
    assert "| `lead_time_days` |" not in "".join(p.read_text() for p in DOCS.rglob("*.qmd"))


# ---------------------------------------------------------------------------- the README's links


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and pandoc make it (they agree for plain headings)."""
    heading = re.sub(r"\{#[^}]+\}\s*$", "", heading).strip().lower()
    heading = re.sub(r"[^\w\- ]", "", heading.replace("`", ""))
    return heading.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    found = set()
    for line in text.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            found.add(slug(m.group(1)))
            found |= set(re.findall(r"\{#([\w-]+)\}", m.group(1)))
    return found


def link_problems(markdown: str, base: Path, manual_pages: set[str]) -> list[str]:
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    problems = []
    links = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)
    if not links:
        return ["no links"]
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        path, _, fragment = link.partition("#")
        target = (base / path).resolve() if path else base / "README.md"
        if not target.exists():
            problems.append(f"{link}: no file {path}")
            continue
        if fragment and target.suffix in (".md", ".qmd") and fragment not in anchors(target):
            problems.append(f"{link}: no heading #{fragment} in {path or 'the README'}")
        rel = target.relative_to(base).as_posix() if target.is_relative_to(base) else path
        if rel.startswith("docs/") and rel.endswith(".qmd") and rel.removeprefix("docs/") not in manual_pages:
            problems.append(f"{link}: not a page of the manual's navigation (docs/_quarto.yml)")
    return problems


def manual_pages() -> set[str]:
    config = yaml.safe_load((DOCS / "_quarto.yml").read_text())
    return set(re.findall(r"[\w/-]+\.qmd", yaml.safe_dump(config["website"]["sidebar"])))


def test_every_link_in_the_readme_resolves():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    assert link_problems(text, REPO, manual_pages()) == []
    for page in ("docs/first-client.qmd", "docs/troubleshooting.qmd", "docs/reference/parameters.qmd"):
        assert f"({page}" in text  # it leads into the manual


def test_the_link_check_can_fail(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.qmd").write_text("# A page\n\n## Two words\n")
    (tmp_path / "docs" / "stray.qmd").write_text("# Not in the navigation\n")
    text = ("# Title\n\n[ok](docs/page.qmd#two-words) [ok](#title) [web](https://example.com/x)\n"
            "[gone](docs/missing.qmd) [anchor](docs/page.qmd#three-words) [self](#nowhere) [stray](docs/stray.qmd)\n"
            "`[in code](nowhere.md)`\n")
    (tmp_path / "README.md").write_text(text)
    problems = link_problems(text, tmp_path, {"page.qmd"})
    assert [p.split(":")[0] for p in problems] == ["docs/missing.qmd", "docs/page.qmd#three-words", "#nowhere", "docs/stray.qmd"]


# ---------------------------------------------------------------------------- the rendered manual


rendered = pytest.mark.skipif(browser.unavailable() is not None, reason=str(browser.unavailable()))


@pytest.fixture(scope="module")
def site(staged, tmp_path_factory) -> Path:
    return manual.render(staged, tmp_path_factory.mktemp("manual-site"))


@rendered
def test_the_manual_reads_clean_in_a_browser(site, chromium):
    pages = set(browser.pages(site))
    expected = {p.removesuffix(".qmd") + ".html" for p in manual_pages()}
    assert expected <= pages, expected - pages
    findings = browser.read_site(chromium, site)
    assert findings == [], "\n".join(findings)
    html = (site / "reference" / "parameters.html").read_text()
    row = re.search(r"<code>weighting\.bootstrap</code></td>(.*?)</tr>", html, re.S).group(1)
    assert "500" in row and "bootstrap resamples for weight intervals" in row


@rendered
def test_the_manual_is_searched_offline(site, chromium):
    with browser.serve(site) as base:
        page = chromium.new_page()
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
        page.goto(base + "index.html", wait_until="networkidle")
        page.click("#quarto-search")
        page.keyboard.type("would_lose_results")
        page.wait_for_selector(".aa-Item", timeout=10_000)
        hits = page.evaluate("Array.from(document.querySelectorAll('.aa-Item')).map(e => e.innerText)")
        page.close()
    assert any("Troubleshooting" in h for h in hits), hits
    assert outside == []
