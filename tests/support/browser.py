"""Reading a rendered client site as a client would: a loopback HTTP server and headless Chromium.

`read_site(browser, folder)` serves `folder` on 127.0.0.1, opens every page at 1280 px and returns
what a client should never meet, one line per finding:

* a request leaving the site (any URL not on the loopback server: CDN scripts, fonts),
* a console error or an uncaught script error, a failed request or an HTTP error,
* a broken link (a page or file of the site that does not exist, an anchor not on its page),
* an element wider than the window (unless a scrolling container inside the window holds it),
* a table of the kit whose columns scroll sideways in its container (a column out of sight),
* an internal id (`accuracy_audit`, `red_precision`, `weighting.max_missing_share`), a Python
  repr (`{'amber': 0.15}`, `['a']`, None, nan, True, 0.7132684) or markup escaped twice (`&#39;`)
  in the visible text. Text in code elements is exempt: code is how a report shows a name to type
  (a column, a setting).

Chromium is Debian's package (scripts/ensure_chromium.sh), driven by Playwright for Python through
`executable_path`; the flags keep it from calling Google's hosts.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

WIDTH, HEIGHT = 1280, 900
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

INTERNAL_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PYTHON_REPR = {
    "dict": re.compile(r"\{\s*'[^']*'\s*:"),
    "list": re.compile(r"\[\s*'[^']*'\s*(?:,|\])"),
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"\b(?:nan|NaN|inf)\b"),
    "bool": re.compile(r"(?:^|(?<=[:=,(\[])\s*)(?:True|False)(?=\s*(?:$|[,)\]}]))", re.M),
    "long float": re.compile(r"(?<![\w.])-?\d+\.\d{4,}\b"),
    "markup": re.compile(r"&(?:#x?[0-9a-fA-F]+|[a-zA-Z]+);|</?[a-z]+(?:\s[^>]*)?>"),  # escaped twice
    "object": re.compile(r"<[\w.]+ object at 0x|\b(?:Timestamp|datetime\.date|datetime\.datetime|dtype)\("),
}

# Visible text outside code: text nodes whose element is rendered, not in code/pre/script/style.
VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['CODE', 'PRE', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.nodeValue.trim();
    if (!t) continue;
    let e = n.parentElement, hidden = false;
    if (!e || !e.checkVisibility({visibilityProperty: true, opacityProperty: false})) continue;
    for (let a = e; a; a = a.parentElement) { if (skip.has(a.tagName)) { hidden = true; break; } }
    if (!hidden) out.push(t);
  }
  return out.join('\\n');
}"""

# Elements sticking out of the window, unless a scrolling container inside the window clips them.
TOO_WIDE_JS = """() => {
  const W = document.documentElement.clientWidth, out = [];
  const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '');
  if (document.documentElement.scrollWidth > W + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' px');
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= W + 1 && r.left >= -1)) continue;
    if (!e.checkVisibility()) continue;
    let held = false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(a).overflowX)) {
        const ar = a.getBoundingClientRect();
        if (ar.right <= W + 1 && ar.left >= -1) { held = true; break; }
      }
    }
    if (!held) out.push(describe(e) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px');
  }
  for (const t of document.querySelectorAll('.kit-table')) {  // scrolls: its last columns are out of sight
    if (t.scrollWidth > t.clientWidth + 1 && t.checkVisibility())
      out.push('table cut off (' + t.scrollWidth + ' px in ' + t.clientWidth + ' px): ' + t.innerText.trim().slice(0, 40).replace(/\\s+/g, ' '));
  }
  return out.slice(0, 10);
}"""

# Table cells holding a date (2026-10-31) laid out on more than one line: a narrow column breaks dates at their hyphens.
BROKEN_DATES_JS = """() => {
  const out = [];
  for (const td of document.querySelectorAll('td')) {
    const s = td.innerText.trim();
    if (!/^\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2})?$/.test(s) || !td.checkVisibility()) continue;
    const r = document.createRange();
    r.selectNodeContents(td);
    if (new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top))).size > 1) out.push(s);
  }
  return out.slice(0, 5);
}"""

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href], img[src], link[href], script[src]'))
  .map(e => e.href || e.src).filter(Boolean)"""


def chromium_path() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env and Path(env).is_file():
        return env
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why the browser test cannot run here, or None."""
    from kit.publish import site

    if site.find_quarto() is None:
        return "Quarto is not installed (conda env, `pip install quarto-cli` with internet access, or quarto.org)"
    if chromium_path() is None:
        return "Chromium is not installed (make test installs Debian's chromium as root: scripts/ensure_chromium.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def serve(folder: Path):
    """A static HTTP server for `folder` on a free 127.0.0.1 port; yields its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html") if "site_libs" not in p.parts)


def text_findings(text: str) -> list[str]:
    """Internal ids and Python reprs in a page's visible text (outside code)."""
    out = [f"internal id {m!r} in the text" for m in sorted(set(INTERNAL_ID.findall(text)))]
    for kind, pattern in PYTHON_REPR.items():
        for m in sorted({m.group(0) for m in pattern.finditer(text)}):
            context = text[max(0, text.find(m) - 40): text.find(m) + len(m) + 40].replace("\n", " ")
            what = "markup escaped twice" if kind == "markup" else f"Python {kind}"
            out.append(f"{what} {m!r} in the text: ...{context}...")
    return out


def read_site(browser, folder: Path, screenshots: Path | None = None) -> list[str]:
    """Open every page of the rendered site `folder`; return the findings (empty: the site reads clean)."""
    folder = Path(folder)
    findings: list[str] = []
    with serve(folder) as base:
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        current = {"page": ""}

        def note(kind: str, detail: str) -> None:
            findings.append(f"{current['page']}: {kind}: {detail}")

        def on_request(request):
            if not request.url.startswith(base) and not request.url.startswith(("data:", "blob:", "about:")):
                note("request leaving the site", request.url)

        page.on("request", on_request)
        page.on("console", lambda m: note("console error", m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: note("script error", str(e)))
        page.on("requestfailed", lambda r: note("failed request", f"{r.url} ({r.failure})") if r.url.startswith(base) else None)
        page.on("response", lambda r: note("HTTP error", f"{r.status} {r.url}") if r.status >= 400 else None)
        for rel in pages(folder):
            current["page"] = rel
            page.goto(base + rel, wait_until="load")
            page.wait_for_load_state("networkidle")
            for link in page.evaluate(LINKS_JS):
                problem = _broken(link, base, folder, page, rel)
                if problem:
                    note("broken link", problem)
            for wide in page.evaluate(TOO_WIDE_JS):
                note(f"wider than the window ({WIDTH} px)", wide)
            for d in page.evaluate(BROKEN_DATES_JS):
                note("date broken over lines", d)
            for f in text_findings(page.evaluate(VISIBLE_TEXT_JS)):
                note("text", f)
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshots / (rel.replace("/", "_").removesuffix(".html") + ".png")), full_page=True)
        context.close()
    return findings


def _broken(link: str, base: str, folder: Path, page, rel: str) -> str | None:
    if not link.startswith(base):
        return None if link.startswith(("mailto:", "data:", "javascript:")) else None
    parts = urlsplit(link)
    path = unquote(parts.path).lstrip("/")
    target = folder / path
    if target.is_dir() or not path:
        target = target / "index.html"
    if not target.is_file():
        return f"{link} (no file {target.relative_to(folder)})"
    if parts.fragment and target.resolve() == (folder / rel).resolve():
        if not page.evaluate("id => !!document.getElementById(id)", unquote(parts.fragment)):
            return f"{link} (no element #{parts.fragment} on the page)"
    return None
