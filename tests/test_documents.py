"""The documents a client signs (kit/publish/documents.py): the Health Score Design Document and
the month's maintenance report, as PDF (Quarto's typst) and Word (docx).

The unit tests need nothing installed. The rendered documents are the demo's and the second
client's (the session's published sites, tests/conftest.py `sites`), read back with pdftotext and
pdftoppm (poppler-utils) and python-docx; those tests skip where Quarto or poppler is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest

from kit import present
from kit.analyses import scorecard
from kit.publish import documents, site
from tests.support import second_client
from tests.conftest import DEMO_PERIOD

# ---------------------------------------------------------------------------- unit: site Markdown to print


def test_a_kit_table_becomes_a_pipe_table_with_its_alignment_and_note():
    t = present.rows_table(["Check", "Value", "Status"], [["Sync | failures", "1,234", present.HTML(present.badge("red"))],
                                                          ["CSAT > 4", "0.78", present.HTML(present.badge("green"))]])
    md = documents.for_print(f"Before.\n\n{t.html}\n\nAfter.")
    lines = [x for x in md.splitlines() if x.startswith("|")]
    assert lines[0] == "| Check | Value | Status |"
    assert re.fullmatch(r"\|-+\|-+:\|-+\|", lines[1])  # numbers right-aligned, text left
    assert lines[2] == r"| Sync \| failures | 1,234 | **red** |"
    assert "CSAT \\> 4" in lines[3] or "CSAT > 4" in lines[3]
    assert md.startswith("Before.") and md.rstrip().endswith("After.") and "<table" not in md


def test_a_wide_table_gets_shares_of_the_text_block_and_long_names_may_break():
    long = "a_very_long_column_name_from_an_export_with_underscores"
    t = present.rows_table(["Column", "Meaning"], [[long, "word " * 40]])
    head, rows, right = documents.parse_table(t.html)
    assert head == ["Column", "Meaning"] and right == [False, False]
    assert "\u200b" in rows[0][0] and rows[0][0].replace("\u200b", "").replace("\\", "") == long
    sep = documents.pipe_table(head, rows, right).splitlines()[1]
    dashes = [len(c) for c in sep.strip("|").split("|")]
    assert abs(sum(dashes) - documents.TEXT_COLUMNS) <= len(dashes)  # the whole text block, no more
    assert dashes[1] >= dashes[0]


def test_a_table_note_and_a_badge_in_prose_survive():
    t = present.table([{"a": 1}], note="First 1 of 9 rows.")
    md = documents.for_print(present.badge("amber") + " Share: **14%**\n\n" + t.html)
    assert md.startswith("**amber** Share: **14%**") and "*First 1 of 9 rows.*" in md


def test_notebook_sections_split_at_headings_and_keep_outputs_and_checks(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nIntro."),
        nbformat.v4.new_markdown_cell("## First\n\nText one."),
        nbformat.v4.new_code_cell('report.show(result.check("sync_failures"), trend)', outputs=[
            nbformat.v4.new_output("display_data", data={"text/markdown": "**Shown**", "text/plain": "Shown"}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg>1</svg>", "text/plain": "chart"})]),
        nbformat.v4.new_markdown_cell("## Second\n\nText two.\n\n### Sub\n\nMore."),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "1"})]),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    saved = []
    sections = documents.notebook_sections(path, lambda svg: saved.append(svg) or f"fig-{len(saved)}.svg")
    assert [s.heading for s in sections] == ["", "First", "Second"]
    assert sections[1].body == "Text one.\n\n**Shown**\n\n![](fig-1.svg){width=100%}" and saved == ["<svg>1</svg>"]
    assert sections[1].checks == ("sync_failures",) and sections[2].checks == ()
    assert "### Sub" in sections[2].body and "x = 1" not in sections[2].body and "1\n" not in sections[2].body
    assert documents.pick(sections, "Second", "First", "Missing", level="###")[0].startswith("### Second\n\nText two.")


def test_sign_off_is_a_grid_table_with_blank_rows():
    md = documents.sign_off(["Sponsor", "Consultant"])
    grid = [x for x in md.splitlines() if x.startswith(("+", "|"))]
    assert grid[1].split("|")[1:5] == [f" {h:<{w}} " for h, w in zip(["Role", "Name", "Date", "Signature"], (30, 20, 12, 20))]
    assert len({len(x) for x in grid}) == 1  # every line of the grid the same width: pandoc reads it as a table
    assert sum("Sponsor" in x for x in grid) == 1 and md.count("| \u00a0") == 2 * 3 * documents.SIGN_OFF_LINES


def test_paper_and_colour_come_from_the_parameters(demo_params):
    p = demo_params.model_copy(update={"publish": demo_params.publish.model_copy(update={"paper": "letter"})})
    cfg = documents.project_config(p.publish.paper)
    assert "papersize: us-letter" in cfg and "reference-doc: reference.docx" in cfg
    typ = documents.print_typst(p, "2026-10", "#AA3300")
    assert 'rgb("#AA3300")' in typ and "Demo Co (synthetic) · period 2026-10" in typ and 'counter(page).display("1 / 1", both: true)' in typ


def test_branding_is_validated_with_a_fix(tmp_path):
    from kit import params
    from kit.errors import KitError

    with pytest.raises(KitError) as e:
        params.from_dict({"client": "x", "name": "X", "sources": {}, "publish": {"branding": {"colour": "blue"}}})
    assert "publish.branding.colour" in str(e.value)
    with pytest.raises(KitError) as e:
        params.from_dict({"client": "x", "name": "X", "sources": {}, "publish": {"branding": {"logo": "logo.gif"}}})
    assert "PNG, JPEG or SVG" in str(e.value)


def test_without_quarto_the_documents_say_what_is_missing(sites_source, monkeypatch):
    params_file, reports = sites_source
    monkeypatch.setattr(site, "find_quarto", lambda: None)
    with pytest.raises(site.QuartoMissing) as e:
        site.publish(params_file, DEMO_PERIOD, out=reports.parent, site=reports.parent.parent / "site-without-quarto", with_documents=True)
    text = str(e.value)
    assert "neither the documents (PDF, Word) nor the site were rendered" in text and "pip install quarto-cli" in text


def test_the_documents_are_built_from_the_site_pieces(sites_source, tmp_path):
    """Without rendering: the design document's Markdown holds the methodology's scorecard table and
    the back-test's candidates exactly as the site pages do."""
    params_file, reports = sites_source
    r = site.publish(params_file, DEMO_PERIOD, out=reports.parent, site=tmp_path, render=False, with_documents=True)
    design = (r.documents / f"{documents.DESIGN}.qmd").read_text()
    methodology = (r.source / "methodology.qmd").read_text()
    card = json.loads((reports / DEMO_PERIOD / "scorecard.json").read_text())
    section = methodology[methodology.index("## The proposed scorecard"):methodology.index("## Bands and the at-risk rule")]
    table = re.search(r'<div class="kit-table">.*?</div>', section, re.S).group(0)
    assert documents.for_print(table).strip() in design
    assert len(card["measures"]) >= 2
    home = (r.source / "index.qmd").read_text()
    assert "[PDF](health-score-design.pdf)" in home and f"[Word](maintenance-{DEMO_PERIOD}.docx)" in home


@pytest.fixture(scope="module")
def sites_source(demo_run, demo_params_file):
    return demo_params_file, Path(demo_run.folder).parent


# ---------------------------------------------------------------------------- rendered

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
rendered = pytest.mark.skipif(
    site.find_quarto() is None or not POPPLER,
    reason="needs Quarto (conda environment, `pip install quarto-cli` or quarto.org) and poppler-utils (pdftotext, pdftoppm)")
CLIENTS = ["demo", second_client.CLIENT]


def pdf_text(path: Path, page: int | None = None, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), *(["-f", str(page), "-l", str(page)] if page else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    """Text as one line: no zero-width break points, straight quotes and hyphen-minus signs, single spaces."""
    text = text.replace("\u200b", "").replace("\u00ad", "").translate(str.maketrans("‘’“”\u2212", "''\"\"-"))  # typst's typography
    return " ".join(text.split())


def nospace(text: str) -> str:
    return re.sub(r"[\s\u200b]", "", text).replace("\u2212", "-")  # typst sets a minus sign for "-14%"


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def docx_tables(path: Path) -> list[list[list[str]]]:
    import docx

    return [[[flat(c.text) for c in row.cells] for row in t.rows] for t in docx.Document(str(path)).tables]


def beyond_margin(pdf: Path, paper_mm: tuple[float, float], margin_mm: float, dpi: int = 40) -> list[str]:
    """Pages with ink left or right of the text block (rendered with pdftoppm): a table cut off or too wide."""
    from PIL import Image

    out = pdf.parent / f".pages-{pdf.stem}"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(out / "p")], check=True, capture_output=True)
    found = []
    for png in sorted(out.glob("p-*.png")):
        a = np.asarray(Image.open(png))
        per_mm = a.shape[1] / paper_mm[0]
        left, right = int((margin_mm - 1) * per_mm), int((paper_mm[0] - margin_mm + 1) * per_mm) + 1
        if (a[:, :left] < 200).any() or (a[:, right:] < 200).any():
            found.append(png.stem)
    shutil.rmtree(out)
    return found


@pytest.fixture(scope="module")
def docs(sites) -> dict[str, dict[str, Path]]:
    """Each client's documents as published next to its site: {"design.pdf": ..., "maintenance.docx": ...}."""
    stems = {"design": documents.DESIGN, "maintenance": f"maintenance-{DEMO_PERIOD}"}
    return {c: {f"{kind}.{ext}": sites[c] / f"{stem}.{ext}" for kind, stem in stems.items() for ext in ("pdf", "docx")} for c in CLIENTS}


@rendered
@pytest.mark.parametrize("client", CLIENTS)
def test_the_design_document_holds_the_scorecard_exactly_as_exported(client, sites, docs):
    card = json.loads((sites["reports"][client] / DEMO_PERIOD / "scorecard.json").read_text())
    text = flat(pdf_text(docs[client]["design.pdf"]))
    lines = [nospace(x) for x in pdf_text(docs[client]["design.pdf"], layout=True).splitlines()]  # a table row per line
    tables = docx_tables(docs[client]["design.docx"])
    word_rows = [row for t in tables if t[0][:3] == ["Measure", "Weight", "Value range"] for row in t[1:]]
    rows = scorecard.tier_rows(card, people=True)
    assert len(word_rows) == len(rows) and rows
    measure = weight = ""
    for expected, got in zip(rows, word_rows):
        if got[0]:
            measure, weight = got[0], got[1]
        assert measure == present.label(expected["measure"]) and weight == f"{round(100 * expected['weight'])}%"
        assert got[2:4] == [flat(expected["range"]), str(expected["score"])], (got, expected)
        row = nospace(f"{expected['range']} {expected['score']} {expected['colour']}")
        if got[0]:
            row = nospace(weight) + row
        assert any(row in x for x in lines), (row, expected)
    for m in card["measures"]:  # straight from the export: every measure and its weight, every bound
        assert present.label(m["signal"]) in text and f"{round(100 * m['weight'])}%" in text
        bounds = m["cuts"]
        shown = " ".join(r["range"] for r in rows if r["measure"] == m["signal"])
        for b in bounds:
            assert (f"{b:g}" in shown) or (f"{100 * b:g}%" in shown), (m["signal"], b)
    assert f"red below {card['bands']['red']:g}" in text and f"green from {card['bands']['green']:g}" in text


@rendered
@pytest.mark.parametrize("client", CLIENTS)
def test_the_back_test_aucs_read_as_on_the_site(client, sites, docs):
    bt = json.loads((sites["reports"][client] / DEMO_PERIOD / "backtest.json").read_text())
    text = flat(pdf_text(docs[client]["design.pdf"]))
    page = (sites[client] / "reports" / "backtest.html").read_text()
    configs = bt["configs"]
    lines = [nospace(x) for x in pdf_text(docs[client]["design.pdf"], layout=True).splitlines()]
    for key, label in (("auc_in_sample", "AUC before the cut"), ("auc_out_of_time", "AUC after the cut")):
        shown = [present.fmt(c[key], "auc") for c in configs.values()]
        assert label in text and any(x.startswith("AUC") and x.endswith("".join(shown)) for x in lines), (label, shown)
        row = next(r for t in docx_tables(docs[client]["design.docx"]) for r in t if r[0] == label)
        assert row[1:] == shown
        assert all(v in page for v in shown)


@rendered
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", ["design", "maintenance"])
def test_every_page_numbered_under_a_running_header(client, kind, sites, docs):
    import docx

    pdf = docs[client][f"{kind}.pdf"]
    n = pages(pdf)
    assert n >= (5 if kind == "design" else 2)
    name = second_client.NAME if client == second_client.CLIENT else "Demo Co (synthetic)"
    for i in range(1, n + 1):
        text = nospace(pdf_text(pdf, i))  # pdftotext drops some spaces between lone characters: "1/7"
        assert f"{i}/{n}" in text, i
        if i > 1:
            assert nospace(f"{name} · period {DEMO_PERIOD}") in text, i
    word = docx.Document(str(docs[client][f"{kind}.docx"]))
    assert word.sections[0].header.paragraphs[0].text == f"{name} · period {DEMO_PERIOD}"
    assert 'w:instr="PAGE"' in word.sections[0].footer._element.xml
    assert round(word.sections[0].page_width.mm) == 210  # publish.paper: a4 by default


@rendered
@pytest.mark.parametrize("client", CLIENTS)
def test_the_design_document_ends_with_a_blank_sign_off_table(client, docs):
    text = flat(pdf_text(docs[client]["design.pdf"]))
    assert "Sign-off" in text and all(r in text for r in documents.SIGN_OFF_ROLES)
    table = next(t for t in docx_tables(docs[client]["design.docx"]) if t[0] == ["Role", "Name", "Date", "Signature"])
    assert [r[0] for r in table[1:]] == list(documents.SIGN_OFF_ROLES)
    assert all(c == "" for r in table[1:] for c in r[1:])


@rendered
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", ["design", "maintenance"])
def test_no_table_wider_than_the_text_block_and_charts_are_vector(client, kind, docs):
    pdf = docs[client][f"{kind}.pdf"]
    assert beyond_margin(pdf, (210, 297), documents.MARGIN_MM) == []
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert images == []  # every chart is vector (SVG), no bitmap


@rendered
def test_the_margin_check_finds_a_table_too_wide(tmp_path):
    """Planted: a table of unbreakable words runs past the right margin, and the check says so."""
    folder = tmp_path / "wide"
    folder.mkdir()
    (folder / "_quarto.yml").write_text(documents.project_config("a4").replace("    include-in-header: print.typ\n", ""))
    (folder / "wide.qmd").write_text("---\ntitle: Wide\n---\n\n```{=typst}\n#box(width: 240mm, fill: black, height: 1cm)\n```\n")
    subprocess.run([site.find_quarto(), "render", str(folder / "wide.qmd"), "--to", "typst"], check=True, capture_output=True)
    assert beyond_margin(folder / "wide.pdf", (210, 297), documents.MARGIN_MM) != []


@rendered
def test_the_maintenance_report_shows_each_failing_check_with_its_action(sites, docs):
    m = json.loads((sites["reports"]["demo"] / DEMO_PERIOD / "maintenance.json").read_text())
    text = flat(pdf_text(docs["demo"]["maintenance.pdf"]))
    failing = [c for c in m["checks"] if c["status"] in ("red", "amber")]
    assert failing
    part = text[text.index("Checks that need action"):text.index("Trends")]
    from kit.checks import CHECKS

    for c in failing:
        assert flat(CHECKS[c["name"]].action) in part, c["name"]
    assert "Status by month" in text and "Values against thresholds" in text
    status = next(t for t in docx_tables(docs["demo"]["maintenance.docx"]) if t[0][:2] == ["Check", "Status"])
    assert len(status) - 1 == len(m["checks"])


@rendered
def test_the_maintenance_report_lists_the_top_accounts_at_risk(sites, docs):
    """The ten at-risk accounts with the most ARR, from the run's accounts.parquet, with the owners' names replaced."""
    import polars as pl

    truth = pl.read_parquet(sites["reports"]["demo"] / DEMO_PERIOD / "accounts.parquet")
    risky = truth.filter(pl.col("at_risk")).sort(["arr", "account_id"], descending=[True, False]).head(10)
    table = next(t for t in docx_tables(docs["demo"]["maintenance.docx"]) if t[0][:3] == ["Account", "Owner", "ARR"])
    assert [r[0] for r in table[1:]] == risky["account_name"].to_list()
    assert [r[2] for r in table[1:]] == [f"{a:,.0f}" for a in risky["arr"]]
    assert not {r[1] for r in table[1:]} & set(truth["csm_owner"].drop_nulls())
    text = flat(pdf_text(docs["demo"]["maintenance.pdf"]))
    part = text[text.index("Accounts this month"):text.index("Trends")]
    assert f"{truth.filter(pl.col('at_risk')).height:,} are at risk" in part and risky["account_name"][0] in part


@rendered
def test_each_client_reads_only_its_own_data(sites, docs):
    for client, other in (("demo", second_client.NAME), (second_client.CLIENT, "Demo Co")):
        for path in docs[client].values():
            text = pdf_text(path) if path.suffix == ".pdf" else "\n".join(" ".join(r) for t in docx_tables(path) for r in t)
            assert other not in text, (client, path.name)
    home = (sites["demo"] / "index.html").read_text()
    assert 'href="health-score-design.pdf"' in home and f'href="maintenance-{DEMO_PERIOD}.docx"' in home


def test_code_in_a_cell_is_not_escaped():
    t = present.rows_table(["Client column", "Used as"], [[present.HTML("<code>acct_id</code>"), "Account_key"]])
    head, rows, _ = documents.parse_table(t.html)
    assert rows == [["`acct_id`", "Account\\_key"]]
