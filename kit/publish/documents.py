"""Documents a client signs: the Health Score Design Document and each month's maintenance report,
as PDF (Quarto's typst format) and Word (its docx format).

One source of truth: a document is assembled from the pieces the site's pages are made of, never
from its own copy of a figure.
- The methodology's sections (`methodology.sections`): sources and how they map, components,
  the scorecard table exactly as `scorecard.json` holds it, bands, reading guide, recalibration.
- The executed notebooks, as the site publishes them (personal data replaced): their Markdown
  cells and outputs, split at their `##` headings (`notebook_sections`). The back-test's verdict,
  candidates and transparency cost, and the maintenance report's status table and failing
  checks, are the same cells the site shows.
- The site's home figures (`site.headline`) and trends (`site.trends_parts`).

The pieces are the site's Markdown with one-line HTML tables (kit.present). `for_print` turns each
table into a Markdown pipe table with the same cells, numbers right-aligned, whose columns get
shares of the text block by their content (pandoc reads a pipe table's dashes as widths), so that
a table wraps instead of running past the margin; status badges become bold words. (Quarto's own
HTML table processing would parse the HTML too, but gives no widths, and for typst it starts a
CSS inliner, one Deno process per table, which this machine's offline Quarto build would fetch.)

`write_project` writes a small Quarto project (not a website) into `<site>/.docs/<client>/`:
`_quarto.yml` (paper size, running header, page numbers, the client's colours), the documents'
`.qmd` files, their figures as SVG (vector), and `print.typ`. `render` renders it (typst, then
docx with a generated reference document that carries the running header and page numbers) and
returns the files, which publish copies next to the site and links from its home page.
"""

from __future__ import annotations

import datetime as dt
import html as html_mod
import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterable

import yaml

import kit
from kit import present, status
from kit.checks import CHECKS
from kit.errors import KitError
from kit.periods import Period

DESIGN = "health-score-design"
FORMATS = {"typst": "pdf", "docx": "docx"}
PAPER = {"a4": ("a4", 210.0, 297.0), "letter": ("us-letter", 215.9, 279.4)}  # typst name, width and height in mm
MARGIN_MM = 20
NEUTRAL = "#1f3a5f"  # headings when the parameters set no brand colour

TABLE_BLOCK = re.compile(r'<div class="kit-table">(<table.*?</table>)(?:<p class="kit-table-note">(.*?)</p>)?</div>', re.S)
BADGE = re.compile(r'<span class="kit-badge kit-badge-[\w-]+">(.*?)</span>')
QUOTED = re.compile(r"""["'](\w+)["']""")  # a check's name in a code cell: the section shows that check


@dataclass(frozen=True)
class Document:
    stem: str  # file name without extension
    title: str


def maintenance_document(period: str) -> Document:
    return Document(f"maintenance-{period}", f"Maintenance report {Period.parse(period).start:%B %Y}")


DESIGN_DOCUMENT = Document(DESIGN, "Health Score Design Document")


def links_text(docs: Iterable[Document]) -> str:
    """The home page's list of documents, each as PDF and Word."""
    return "\n".join(f"- **{present.md_text(d.title)}**: [PDF]({d.stem}.pdf) · [Word]({d.stem}.docx)" for d in docs)


# ---------------------------------------------------------------------------- from site Markdown to print


def for_print(markdown: str) -> str:
    """Site Markdown for a printed document: each kit table (one line of HTML) as a Markdown pipe
    table with column widths that fit the text block, its note as a paragraph; badges as bold words."""

    def table(m: re.Match) -> str:
        note = f"\n\n*{present.md_text(_text(m.group(2)))}*" if m.group(2) else ""
        return f"\n\n{pipe_table(*parse_table(m.group(1)))}{note}\n\n"

    out = TABLE_BLOCK.sub(table, markdown)
    return BADGE.sub(lambda b: f"**{b.group(1)}**", out)


class _TableParser(HTMLParser):
    """Rows of a kit table (kit.present): each cell as Markdown, and whether it is right-aligned."""

    INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.head: list[str] = []
        self.rows: list[list[str]] = []
        self.right: dict[int, bool] = {}
        self._cell: list[str] | None = None
        self._in_head = False
        self._col = 0
        self._spans: list[str] = []  # what each open <span> closes with: a badge is bold
        self._code = False  # inside <code>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._col = 0
            if not self._in_head:
                self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
            if not self._in_head and "gt_right" in (a.get("class") or ""):
                self.right[self._col] = True
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag in self.INLINE and self._cell is not None:
            self._cell.append(self.INLINE[tag])
            self._code = self._code or tag == "code"
        elif tag == "span" and self._cell is not None:
            mark = "**" if "kit-badge" in (a.get("class") or "") else ""
            self._spans.append(mark)
            self._cell.append(mark)

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            (self.head if self._in_head else self.rows[-1]).append(text)
            self._cell = None
            self._col += 1
        elif tag in self.INLINE and self._cell is not None:
            self._cell.append(self.INLINE[tag])
            self._code = self._code and tag != "code"
        elif tag == "span" and self._cell is not None and self._spans:
            self._cell.append(self._spans.pop())

    def handle_data(self, data):
        if self._cell is not None:  # inside code, Markdown escapes would show
            self._cell.append(_breakable(data.replace("`", "'")) if self._code else _breakable(present.md_text(data)))


def parse_table(html_table: str) -> tuple[list[str], list[list[str]], list[bool]]:
    """(header cells, body rows, right-aligned per column) of one kit table, cells as Markdown."""
    p = _TableParser()
    p.feed(html_table)
    width = max([len(p.head), *(len(r) for r in p.rows)] or [0])
    head = p.head + [""] * (width - len(p.head))
    rows = [r + [""] * (width - len(r)) for r in p.rows]
    return head, rows, [p.right.get(i, False) for i in range(width)]


TEXT_COLUMNS = 72  # pandoc's default line width: a pipe table's dashes over it are the columns' shares of the text block
LONG_CELL = 40  # a cell longer than this wraps; the column's share stops growing
LONG_WORD = 16  # a column is at least as wide as its longest word, up to this: "Component" is not split


def pipe_table(head: list[str], rows: list[list[str]], right: list[bool]) -> str:
    """A pipe table whose separator gives each column a share of the text block by its longest cell
    (capped, so sentences wrap), filling the block when the table is wide; every cell wraps, none is cut."""
    def plain(c: str) -> int:
        return len(re.sub(r"[*`\\]|\u200b", "", c))

    def longest_word(c: str) -> int:
        return max((plain(w) for w in re.split(r"[\s\u200b]+", c)), default=0)

    cells = [head, *rows]
    need = [max(4, min(LONG_CELL, max(plain(r[i]) for r in cells)), min(LONG_WORD, max(longest_word(r[i]) for r in cells)))
            for i in range(len(head))]
    scale = TEXT_COLUMNS / sum(need) if sum(need) > TEXT_COLUMNS * 0.6 else 1.0
    dashes = [max(3, round(n * scale)) for n in need]
    sep = "|" + "|".join(("-" * (d - 1) + ":") if r else ("-" * d) for d, r in zip(dashes, right)) + "|"
    line = lambda r: "| " + " | ".join(re.sub(r"(?<!\\)\|", r"\\|", c) for c in r) + " |"  # noqa: E731
    out = [line(head), sep, *(line(r) for r in rows)]
    return "\n".join(out)


def _breakable(text: str) -> str:
    """Long identifiers (file names, column names) may break after `_`, `/` or `.` in a narrow column."""
    return re.sub(r"\S{25,}", lambda m: re.sub(r"([_/.])", "\\1\u200b", m.group(0)), text)


def _text(html_fragment: str) -> str:
    return html_mod.unescape(re.sub(r"<[^>]+>", "", html_fragment or ""))


@dataclass
class Section:
    heading: str  # the `##` heading's text; "" for what comes before the first
    body: str  # Markdown for print, the heading line excluded
    checks: tuple[str, ...] = ()  # maintenance checks whose results the section shows


def notebook_sections(path: Path, save_figure: Callable[[str], str]) -> list[Section]:
    """An executed notebook (the site's copy) as print Markdown, split at its `##` headings: Markdown
    cells, Markdown outputs (`for_print`) and SVG charts (`save_figure(svg)` returns the path to
    show). Code is never shown."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    sections = [Section("", "")]
    parts: list[list[str]] = [[]]
    checks: list[set[str]] = [set()]

    def add(text: str) -> None:
        parts[-1].append(text)

    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            for block in re.split(r"(?m)^(?=## )", source):
                if block.startswith("## "):
                    head, _, rest = block.partition("\n")
                    sections.append(Section(head[3:].strip(), ""))
                    parts.append([])
                    checks.append(set())
                    block = rest
                if block.strip():
                    add(for_print(block.strip()))
        elif cell.get("cell_type") == "code":
            checks[-1] |= set(QUOTED.findall(source)) & set(CHECKS)
            for out in cell.get("outputs", []):
                data = out.get("data") or {}
                if "image/svg+xml" in data:
                    svg = data["image/svg+xml"]
                    add(f"![]({save_figure(''.join(svg) if isinstance(svg, list) else svg)}){{width=100%}}")
                elif "text/markdown" in data:
                    text = data["text/markdown"]
                    add(for_print("".join(text) if isinstance(text, list) else text))
    for s, p, c in zip(sections, parts, checks):
        s.body = "\n\n".join(x for x in p if x.strip())
        s.checks = tuple(sorted(c))
    return [s for s in sections if s.heading or s.body]


def pick(sections: list[Section], *headings: str, level: str = "##") -> list[str]:
    """The named sections, in the order asked, each with its heading at `level`."""
    by = {s.heading: s for s in sections}
    return [f"{level} {h}\n\n{by[h].body}" for h in headings if h in by]


# ---------------------------------------------------------------------------- the documents


def cover(doc: Document, params, period: str, *, logo: str | None, first_page: bool = True) -> list[str]:
    """The title block (front matter) and the table of who, which period, which kit version, when."""
    meta = {"title": doc.title, "subtitle": params.name}
    rows = [
        ["Client", params.name],
        ["Period", f"{period} (data as at {Period.parse(period).end:%d %B %Y})"],
        ["Kit version", kit.__version__],
        ["Prepared on", f"{dt.date.today():%d %B %Y}"],
    ]
    parts = ["---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---"]
    if logo:
        parts.append(f"![]({logo}){{width=35mm}}")
    parts.append(pipe_table(["", ""], [[f"**{k}**", present.md_text(v)] for k, v in rows], [False, False]))  # blank header: none
    if first_page:
        parts.append("{{< pagebreak >}}")
    return parts


def sign_off(roles: Iterable[str]) -> str:
    """A blank table to sign, on a page of its own: role, name, date, signature, each row four lines tall
    to write in (a grid table whose blank cells are line blocks of no-break spaces)."""
    widths = (30, 20, 12, 20)
    rule = lambda c="-": "+" + "+".join(c * (w + 2) for w in widths) + "+"  # noqa: E731
    row = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    blank = "| \u00a0"
    lines = [rule(), row(["Role", "Name", "Date", "Signature"]), rule("=")]
    for r in roles:
        lines += [row([r, blank, blank, blank])] + [row(["", blank, blank, blank])] * (SIGN_OFF_LINES - 1) + [rule()]
    return ("{{< pagebreak >}}\n\n## Sign-off\n\nBy signing, each party agrees to the health score formula above (components, "
            "measures, value ranges, weights and bands) as the score to run in the CS platform, and to the monthly "
            "maintenance schedule.\n\n" + "\n".join(lines))


SIGN_OFF_LINES = 4
SIGN_OFF_ROLES = ("Executive sponsor", "Head of Customer Success", "CS Operations / platform admin", "Consultant")


def design_markdown(params, period: str, *, methodology_sections: dict[str, str], backtest: list[Section],
                    headline: list[str], bands: str, logo: str | None) -> str:
    """The design document: cover, one-page summary, sources, components and measures, the scorecard,
    the evidence, bands and reading guide, recalibration, sign-off."""
    m = {k: for_print(v) for k, v in methodology_sections.items()}
    verdict = pick(backtest, "The verdict")
    parts = cover(DESIGN_DOCUMENT, params, period, logo=logo)
    parts += ["## Summary", m["intro"], bands, *headline]
    if verdict:
        parts.append("### The back-test verdict\n\n" + verdict[0].split("\n\n", 1)[-1])
    parts.append("{{< pagebreak >}}")
    parts += [m["sources"], m["components"]]
    parts.append(m["scorecard"] or "## The proposed scorecard\n\nNo scorecard is available yet: the back-test has not proposed one.")
    for section in (s for s in backtest if s.heading == "The proposed scorecard"):  # its measures' definitions
        parts += [f"### {head}\n\n{body}" for head, body in _subsections(section.body) if head == "What each measure means"]
    parts += ["## The evidence: back-test out of time", *pick(backtest, "Candidates side by side", "Calibration: is red riskier than yellow, and yellow than green?", level="###")]
    parts += [m["bands"], m["reading"], m["recalibration"], sign_off(SIGN_OFF_ROLES)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _subsections(body: str) -> list[tuple[str, str]]:
    """A section's `###` parts as (heading, body); the part before the first under ""."""
    out = []
    for block in re.split(r"(?m)^(?=### )", body):
        if block.startswith("### "):
            head, _, rest = block.partition("\n")
            out.append((head[4:].strip(), rest.strip()))
        elif block.strip():
            out.append(("", block.strip()))
    return out


def maintenance_markdown(params, period: str, *, report: list[Section], statuses: dict[str, str], trends: list[str],
                         logo: str | None, accounts: list[str] = ()) -> str:
    """A month's maintenance report: the status table, each failing check with its records and
    recommended action, the portfolio and the top accounts at risk (`accounts`, print Markdown), the trends."""
    doc = maintenance_document(period)
    parts = cover(doc, params, period, logo=logo, first_page=False)
    parts += pick(report, "This month at a glance")
    failing = [n for n in CHECKS if statuses.get(n) in (status.RED, status.AMBER)]
    parts.append("## Checks that need action")
    if not failing:
        parts.append("No check is amber or red this month.")
    # each failing check's section of the report as the site shows it: its value, records and recommended action
    parts += [f"### {s.heading}\n\n{s.body}" for s in report if set(s.checks) & set(failing)]
    if accounts:
        parts += ["## Accounts this month", *accounts]
    parts += ["## Trends", *trends]
    return "\n\n".join(p for p in parts if p) + "\n"


# ---------------------------------------------------------------------------- the project


def print_typst(params, period: str, colour: str) -> str:
    """Typst set rules for every document: running header (client, period), no hyphenation (figures and
    names are searched and copied whole), compact tables with a bold header row, brand colour on headings."""
    header = f"{params.name} · period {period}".replace("\\", "\\\\").replace('"', '\\"')
    return f"""#set page(header: context {{
  if counter(page).get().first() > 1 [
    #set text(size: 8pt, fill: luma(90))
    #"{header}" #h(1fr) #counter(page).display("1 / 1", both: true)
  ]
}})
#set text(hyphenate: false)
#set par(justify: false)
#show table: set par(justify: false)
#show heading: set block(sticky: true)
#show heading: set text(fill: rgb("{colour}"))
#show table: set text(size: 8pt)
#set table(inset: (x: 4pt, y: 3pt), stroke: (x, y) => if y == 0 {{ (bottom: 0.7pt) }} else {{ (bottom: 0.3pt + luma(200)) }})
#show table.cell.where(y: 0): strong
"""


def project_config(paper: str) -> str:
    typst_paper = PAPER[paper][0]
    return yaml.safe_dump({
        "project": {"type": "default", "render": ["*.qmd"]},
        "format": {
            "typst": {"papersize": typst_paper, "margin": {"x": f"{MARGIN_MM}mm", "y": f"{MARGIN_MM}mm"}, "fontsize": "10pt",
                      "page-numbering": "1 / 1", "include-in-header": "print.typ"},
            "docx": {"reference-doc": "reference.docx"},
        },
        "execute": {"enabled": False},
    }, sort_keys=False)


def write_project(folder: Path, params, period: str, documents: dict[Document, str], figures: dict[str, str]) -> Path:
    """The documents' Quarto project, fresh: config, print rules, each document's Markdown, its figures."""
    folder.mkdir(parents=True, exist_ok=True)
    branding = params.publish.branding
    (folder / "_quarto.yml").write_text(project_config(params.publish.paper), encoding="utf-8")
    (folder / "print.typ").write_text(print_typst(params, period, branding.colour or NEUTRAL), encoding="utf-8")
    for name, svg in figures.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(svg, encoding="utf-8")
    if branding.logo:
        shutil.copyfile(logo_path(params), folder / f"logo{logo_path(params).suffix}")
    for doc, text in documents.items():
        (folder / f"{doc.stem}.qmd").write_text(text, encoding="utf-8")
    return folder


def render(folder: Path, params, period: str, quarto: str, run: Callable = subprocess.run) -> list[Path]:
    """Render every document of the project to PDF (typst) and Word (docx); return the files."""
    reference_doc(folder / "reference.docx", params, period, quarto, run)
    for fmt in FORMATS:
        proc = run([quarto, "render", str(folder), "--to", fmt], capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
            raise KitError(f"quarto could not render the documents as {fmt}:\n{tail}", where=str(folder),
                           fix="read Quarto's message above; the site and earlier documents are untouched")
    files = sorted(p for p in folder.iterdir() if p.suffix.lstrip(".") in FORMATS.values() and p.name != "reference.docx")
    missing = {f for d in _stems(folder) for f in (f"{d}.pdf", f"{d}.docx")} - {p.name for p in files}
    if missing:
        raise KitError(f"quarto wrote no {', '.join(sorted(missing))}", where=str(folder), fix="check the Quarto version (1.4 or later renders typst)")
    return files


def _stems(folder: Path) -> list[str]:
    return [p.stem for p in folder.glob("*.qmd")]


def reference_doc(path: Path, params, period: str, quarto: str, run: Callable = subprocess.run) -> Path:
    """Pandoc's reference document for Word, set up for this client: paper size and margins, the
    running header (client, period), page numbers in the footer, headings in the brand colour."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    proc = run([quarto, "pandoc", "-o", str(path), "--print-default-data-file", "reference.docx"], capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        raise KitError("quarto could not write pandoc's reference document for Word", where=str(path),
                       fix="check the Quarto installation: `quarto check`")
    d = docx.Document(str(path))
    _, width, height = PAPER[params.publish.paper]
    colour = RGBColor.from_string((params.publish.branding.colour or NEUTRAL).lstrip("#").upper())
    for section in d.sections:
        section.page_width, section.page_height = Mm(width), Mm(height)
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
        head = section.header.paragraphs[0] if section.header.paragraphs else section.header.add_paragraph()
        head.text = f"{params.name} · period {period}"
        head.runs[0].font.size = Pt(8)
        foot = section.footer.paragraphs[0] if section.footer.paragraphs else section.footer.add_paragraph()
        foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run_ = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run_.append(text)
        field.append(run_)
        foot._p.append(field)
    for style in d.styles:
        if getattr(style, "name", "").startswith(("Heading", "Title")) and hasattr(style, "font"):
            style.font.color.rgb = colour
    d.save(str(path))
    return path


def logo_path(params) -> Path:
    return (params.base_dir / params.publish.branding.logo).resolve()


def stage(site: Path, client: str) -> Path:
    """A fresh folder for the documents' project under `<site>/.docs/`."""
    root = Path(site).resolve() / ".docs"
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{client}-{uuid.uuid4().hex[:8]}"
