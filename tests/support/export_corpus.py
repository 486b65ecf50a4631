"""Corpora of renamed exports, made from the demo client's data, that look like what real SaaS tools export.

`build(demo_dir, folder, variant)` writes one folder of exports (one per canonical table, plus files
that belong to no table) and returns its ground truth: which canonical table each file (or Excel
sheet) is, which canonical column each header is, and the label maps its category columns need.
The tests of `python -m kit init FOLDER` (which guesses exactly that) compare its draft with it.

Variants (`VARIANTS`):

* ``crm_en``: Salesforce reports (accounts, contacts, renewal opportunities), Zendesk tickets, Stripe
  invoices, Amplitude daily usage (Parquet), Gainsight (NPS, health score history, CTAs, connector
  job log, user logins, users). US dates, "$30,400.00" amounts, comma-separated UTF-8.
* ``crm_de``: the same tools as a German user exports them: German headers and labels, ``;``
  delimiter, decimal comma ("30.400,00"), ``dd.mm.yyyy`` dates; the accounts report in cp1252 with
  CRLF line ends (umlauts in its headers), the invoices (lexoffice) in UTF-8 with a byte-order mark
  (Excel's "CSV UTF-8"), an exchange-rate workbook.
* ``mixed``: HubSpot (companies, contacts, deals), Intercom conversations, Chargebee invoices in an
  Excel workbook with a second, unrelated "Summary" sheet, Pendo daily usage as CSV, ChurnZero
  (ChurnScore history, NPS, tasks, integration log, user logins, users). Account ids are Salesforce
  ids: 15 characters in the HubSpot, Intercom and Pendo exports, the matching 18-character ids
  (Salesforce's case-safe checksum suffix) in the Chargebee and ChurnZero exports. Mixed date
  conventions (ISO, US, UK day-first, Excel date cells).

Every variant also writes unrelated files (a campaign list, an exchange-rate table, a price list)
and one export of the same tools that belongs to no canonical table (leads; Chargebee credit
notes), in tool-named subfolders; column order is shuffled (seeded by variant and file) and most
exports carry a few unrelated columns. Data rows are the demo's (same accounts, dates, numbers and
planted defects), only reformatted, so a correct mapping (`correct_sources`) loads the same data.
Same demo data and variant, same bytes.

Truth::

    {"variant": "crm_en",
     "files": {"<posix path relative to folder>[#<sheet> for Excel]": {
         "table": "<canonical table>" | None,
         "columns": {"<header as written>": "<canonical column | usage feature name>" | None},
         "values": {"<canonical column>": {"<label as written>": "<canonical label>"}}}}}

Usage feature columns map to `feature_name(header)` (the header's snake_case). "values" lists
every label written in each category column (outcome, priority, status), including labels that
equal a canonical label but for case.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from kit import contract

VARIANTS = ("crm_en", "crm_de", "mixed")
REPO = Path(__file__).resolve().parents[2]
DEMO_PARAMS = REPO / "parameters" / "demo.yml"
EXCEL_CREATED = datetime(2026, 11, 2, 9, 0, 0)  # workbook metadata: fixed, so the bytes are the same every time

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
_SF_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DEMO_ID = re.compile(r"^0015g([A-Z]?)(\d{6,7})$")


def feature_name(header: str) -> str:
    """A usage feature's name: the header's snake_case ("API Calls" -> "api_calls", "API-Aufrufe" -> "api_aufrufe")."""
    return re.sub(r"[^0-9a-z]+", "_", header.translate(_UMLAUTS).casefold()).strip("_")


# ---------------------------------------------------------------------------- Salesforce ids


def salesforce_15(demo_id: str) -> str:
    """A deterministic, case-sensitive 15-character Salesforce account id for a demo account id (injective)."""
    m = _DEMO_ID.match(demo_id)
    if not m:
        raise ValueError(f"not a demo account id: {demo_id!r}")
    letter, digits = m.groups()
    n = (ord(letter) - 64 if letter else 0) * 10_000_000 + int(digits)  # < 62**5
    n = (n * 387_420_489) % 62**5  # a bijection of 0..62**5-1 (3**18 is prime to 2 and 31): ids look scattered
    body = "".join(_BASE62[(n // 62**k) % 62] for k in reversed(range(5)))
    return "0015g00000" + body


def salesforce_18(id15: str) -> str:
    """Salesforce's case-safe 18-character id: a checksum character per 5-character chunk (uppercase bits)."""
    if len(id15) != 15:
        raise ValueError(f"not a 15-character Salesforce id: {id15!r}")
    suffix = ""
    for i in range(3):
        chunk = id15[5 * i : 5 * i + 5]
        suffix += _SF_CHECKSUM[sum(1 << j for j, ch in enumerate(chunk) if "A" <= ch <= "Z")]
    return id15 + suffix


# ---------------------------------------------------------------------------- the demo data, as exported


def _demo_sources() -> dict:
    return yaml.safe_load(DEMO_PARAMS.read_text(encoding="utf-8"))["sources"]


def _read_demo(demo_dir: Path) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, dict[str, str]]]]:
    """Each demo export under canonical column names, values as exported (text), plus parsed
    companions: `<col>` typed for dates, datetimes and numbers, `_raw_<col>` the text as exported."""
    frames, labels = {}, {}
    for table, src in _demo_sources().items():
        path = demo_dir / src["path"].replace("../data/demo/", "")
        if path.suffix == ".parquet":
            raw = pl.read_parquet(path)
        elif path.suffix == ".xlsx":
            raw = pl.read_excel(path, sheet_name=src.get("sheet"), engine="calamine", infer_schema_length=0)
        else:
            raw = pl.read_csv(path, infer_schema=False)
        raw = raw.select([pl.col(old).alias(new) for old, new in src["columns"].items()])
        t = contract.TABLES[table]
        typed = []
        for name in raw.columns:
            col = t.column(name)
            kind = col.type if col else contract.INT  # usage features
            if raw[name].dtype != pl.String:
                continue
            s = pl.col(name).str.strip_chars()
            if kind in (contract.DATE, contract.DATETIME):
                formats = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y")
                parsed = pl.coalesce([s.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats])
                typed.append((parsed.dt.date() if kind == contract.DATE else parsed).alias(name))
            elif kind in (contract.FLOAT, contract.INT):
                typed.append(s.str.replace_all(r"[$,]", "").cast(pl.Float64, strict=False).alias(name))
            else:
                continue
            typed.append(pl.col(name).alias(f"_raw_{name}"))
        frames[table] = raw.with_columns(typed)
        labels[table] = src.get("values", {})
    return frames, labels


# ---------------------------------------------------------------------------- formatting


def _number(v: float, style: str) -> str:
    """style: usd ($30,400.00), en2 (30400.00), en1, de2 (30.400,00), de1 (85,0), int (85), g / gde (85 or 85.5 / 85,5)."""
    if style == "usd":
        return f"-${-v:,.2f}" if v < 0 else f"${v:,.2f}"
    if style in ("en1", "en2"):
        return f"{v:.{style[-1]}f}"
    if style in ("de1", "de2"):
        return f"{v:,.{style[-1]}f}".translate(str.maketrans(",.", ".,"))
    if style == "int":
        return str(round(v))
    if style in ("g", "gde"):
        text = str(int(v)) if float(v).is_integer() else repr(float(v))
        return text.replace(".", ",") if style == "gde" else text
    raise ValueError(style)


def num(col: str, style: str) -> pl.Expr:
    return pl.col(col).map_elements(lambda v: _number(v, style), return_dtype=pl.String, skip_nulls=True)


def when(col: str, fmt: str) -> pl.Expr:
    """A date or datetime written in `fmt`; a value the demo wrote unparseable stays as it was written."""
    value = pl.col(col).cast(pl.Datetime("us")) if "%H" in fmt else pl.col(col)  # a date written with a time: midnight
    return pl.when(pl.col(col).is_not_null()).then(value.dt.strftime(fmt)).otherwise(pl.col(f"_raw_{col}"))


def name_of(email_col: str) -> pl.Expr:
    """"Alex Lee" from alex.lee@vendor.example (a person's name from their e-mail address)."""
    parts = pl.col(email_col).str.extract_groups(r"^([a-z]+)\.([a-z]+)")
    return (parts.struct.field("1").str.to_titlecase() + " " + parts.struct.field("2").str.to_titlecase())


def first_name(email_col: str) -> pl.Expr:
    return pl.col(email_col).str.extract(r"^([a-z]+)\.", 1).str.to_titlecase()


def last_name(email_col: str) -> pl.Expr:
    return pl.col(email_col).str.extract(r"^[a-z]+\.([a-z]+)", 1).str.to_titlecase()


# ---------------------------------------------------------------------------- exports


@dataclass
class Export:
    path: str
    table: str | None
    frame: pl.DataFrame  # headers as written, in the written order
    columns: dict[str, str | None]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet: str | None = None  # Excel
    separator: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    crlf: bool = False

    @property
    def key(self) -> str:
        return f"{self.path}#{self.sheet}" if self.sheet else self.path


class _Corpus:
    """One variant being built: the demo frames and the helpers every export uses."""

    def __init__(self, demo_dir: Path, variant: str):
        self.variant = variant
        self.demo, self.labels = _read_demo(Path(demo_dir))
        acc = self.demo["accounts"].unique("account_id", keep="first", maintain_order=True)
        self.account_name = dict(zip(acc["account_id"], acc["account_name"]))
        self.owner_of = dict(zip(acc["account_id"], acc["csm_owner"]))
        self.exports: list[Export] = []
        ids = set()
        for frame in self.demo.values():
            for c in ("account_id", "parent_account_id"):
                if c in frame.columns:
                    ids.update(x for x in frame[c].unique().to_list() if x is not None)
        self.sf15 = {i: salesforce_15(i) for i in sorted(ids)} if variant == "mixed" else {}
        self.sf18 = {k: salesforce_18(v) for k, v in self.sf15.items()}

    # -- helpers
    def rng(self, *key: str) -> np.random.Generator:
        return np.random.default_rng(zlib.crc32("/".join((self.variant, *key)).encode()))

    def choice(self, table: str, key: str, options, p=None) -> pl.Series:
        n = self.demo[table].height
        picks = self.rng(table, key).choice(np.array(options, dtype=object), n, p=p)
        return pl.Series(picks, dtype=pl.String).replace("", None)  # "" is a blank cell, as exports write it

    def per(self, col: str, options, salt: str) -> pl.Expr:
        """The same pick for each value of `col` (e.g. one region per account), from a hash of it."""
        keys = set()
        for frame in self.demo.values():
            if col in frame.columns and frame[col].dtype == pl.String:
                keys.update(x for x in frame[col].unique().to_list() if x is not None)
        pick = {k: options[zlib.crc32(f"{salt}:{k}".encode()) % len(options)] for k in keys}
        return pl.col(col).replace_strict(pick, default=None, return_dtype=pl.String)

    def name(self, col: str = "account_id") -> pl.Expr:
        return pl.col(col).replace_strict(self.account_name, default=None, return_dtype=pl.String)

    def ids(self, col: str = "account_id", length: int = 15) -> pl.Expr:
        """Account ids as this variant writes them (mixed: Salesforce 15- or 18-character ids)."""
        if self.variant != "mixed":
            return pl.col(col)
        return pl.col(col).replace_strict(self.sf15 if length == 15 else self.sf18, return_dtype=pl.String)

    def label(self, table: str, col: str, written: dict[str, str]) -> tuple[pl.Expr, dict[str, str]]:
        """Demo labels rewritten (demo label -> written label), and the truth (written label -> canonical)."""
        canonical = self.labels[table][col]
        present = set(self.demo[table][col].drop_nulls().unique().to_list())
        if present - set(written):
            raise ValueError(f"labels of {table}.{col} not rewritten: {sorted(present - set(written))}")
        truth = {}
        for demo_label, new in written.items():
            if truth.get(new, canonical[demo_label]) != canonical[demo_label]:
                raise ValueError(f"{new!r} would mean two canonical labels")
            if demo_label in present:  # the labels this file has
                truth[new] = canonical[demo_label]
        return pl.col(col).replace_strict(written, return_dtype=pl.String), truth

    # -- adding exports
    def table(self, table: str, path: str, cols: list[tuple[str, str | None, object]], values=None, **how) -> Export:
        """An export of a canonical table: cols are (header, canonical column or feature or None, expression or Series)."""
        return self._add(path, table, self.demo[table], cols, values or {}, **how)

    def other(self, path: str, frame: pl.DataFrame, **how) -> Export:
        """An export that belongs to no canonical table: every column unrelated."""
        return self._add(path, None, frame, [(c, None, pl.col(c)) for c in frame.columns], {}, **how)

    def _add(self, path, table, base: pl.DataFrame, cols, values, *, shuffle: bool = True, **how) -> Export:
        headers = [h for h, _, _ in cols]
        if len(set(headers)) != len(headers):
            raise ValueError(f"{path}: duplicate headers")
        exprs = [(e.alias(h) if isinstance(e, pl.Expr) else e.rename(h)) for h, _, e in cols]
        frame = base.select(exprs)
        order = list(headers)
        if shuffle:
            random.Random(f"{self.variant}:{path}:{how.get('sheet')}").shuffle(order)
        frame = frame.select(order)
        if table == "usage":  # any numeric column of the usage export is a feature: none may be unrelated
            for h, target, _ in cols:
                if target is None and frame[h].dtype.is_numeric():
                    raise ValueError(f"{path}: unrelated numeric column {h!r} in the usage export")
        export = Export(path, table, frame, {h: t for h, t, _ in sorted(cols, key=lambda c: order.index(c[0]))}, values, **how)
        self.exports.append(export)
        return export

    # -- writing
    def write(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        workbooks: dict[str, list[Export]] = {}
        for e in self.exports:
            target = folder / e.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if e.path.endswith(".xlsx"):
                workbooks.setdefault(e.path, []).append(e)
            elif e.path.endswith(".parquet"):
                e.frame.write_parquet(target, compression="zstd", statistics=True)
            else:
                text = e.frame.write_csv(separator=e.separator, line_terminator="\r\n" if e.crlf else "\n")
                target.write_bytes((("\ufeff" if e.bom else "") + text).encode(e.encoding))
        for path, sheets in workbooks.items():
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(folder / path))
            wb.set_properties({"created": EXCEL_CREATED, "author": "export"})
            for e in sheets:
                e.frame.write_excel(wb, worksheet=e.sheet, autofit=False, dtype_formats={pl.Date: "dd-mmm-yyyy"})
            wb.close()
        return {
            "variant": self.variant,
            "files": {e.key: {"table": e.table, "columns": dict(e.columns), "values": {k: dict(v) for k, v in e.values.items()}} for e in self.exports},
        }


# ---------------------------------------------------------------------------- unrelated files (shared data)


def _leads(c: _Corpus, n: int = 420) -> dict[str, np.ndarray]:
    rng = c.rng("leads")
    first = np.array(["Maria", "Jonas", "Lena", "Omar", "Priya", "Lukas", "Hannah", "Felix", "Sofia", "Ben", "Mia", "Noah"])
    last = np.array(["Schmidt", "Becker", "Wagner", "Hoffmann", "Ivanova", "Moreau", "Brown", "Wilson", "Tanaka", "Fischer"])
    f, la = first[rng.integers(0, len(first), n)], last[rng.integers(0, len(last), n)]
    companies = np.array([f"{a} {b}" for a in ("Nova", "Vertex", "Alpine", "Harbor", "Quantum", "Cedar", "Orbit") for b in ("Systems", "Labs", "Logistik", "Media", "Health")])
    comp = companies[rng.integers(0, len(companies), n)]
    created = np.datetime64("2025-01-02") + rng.integers(0, 660, n).astype("timedelta64[D]")
    return {
        "id": np.array([f"00Q5g00000{i:05d}" for i in range(1, n + 1)]),
        "first": f, "last": la,
        "email": np.array([f"{a.lower()}.{b.lower()}{i}@prospect.example" for i, (a, b) in enumerate(zip(f, la))]),
        "company": comp,
        "title": rng.choice(["Head of Operations", "CTO", "IT Manager", "VP Sales", "Director Customer Success"], n),
        "source": rng.choice(["Web", "Webinar", "Partner Referral", "Trade Show", "Paid Search"], n),
        "status": rng.integers(0, 4, n),
        "created": created,
        "owner": rng.choice(["Kim Sales", "Pat Sales", "Lee SDR"], n),
    }


def _campaigns(c: _Corpus, n: int = 24) -> dict[str, np.ndarray]:
    rng = c.rng("campaigns")
    start = np.datetime64("2025-01-06") + (np.arange(n) * 28).astype("timedelta64[D]")
    kind = rng.choice(["Webinar", "Email", "Conference", "Paid Social"], n)
    budget = np.round(rng.uniform(2, 40, n)) * 500
    return {
        "id": np.array([f"7015g00000{i:05d}" for i in range(1, n + 1)]),
        "name": np.array([f"{k} {str(s)[:7]}" for k, s in zip(kind, start)]),
        "type": kind,
        "start": start, "end": start + rng.integers(1, 45, n).astype("timedelta64[D]"),
        "budget": budget, "actual": np.round(budget * rng.uniform(0.6, 1.2, n), 2),
        "leads": rng.integers(5, 400, n),
        "status": np.where(start < np.datetime64("2026-09-01"), "Completed", "Planned"),
    }


def _rates(c: _Corpus) -> pl.DataFrame:
    rng = c.rng("rates")
    months = pl.date_range(date(2024, 11, 1), date(2026, 10, 1), "1mo", eager=True)
    base = {"EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "CAD": 1.36, "JPY": 151.0}
    rows = [(m, cur, round(rate * float(np.exp(rng.normal(0, 0.02))), 4)) for m in months for cur, rate in base.items()]
    return pl.DataFrame(rows, schema={"date": pl.Date, "currency": pl.String, "rate": pl.Float64}, orient="row")


PRODUCTS = (
    ("CH-PLAT-SMB", "Platform - Starter (per seat)", "Subscription", 800.0),
    ("CH-PLAT-MM", "Platform - Growth (per seat)", "Subscription", 900.0),
    ("CH-PLAT-ENT", "Platform - Enterprise (per seat)", "Subscription", 1000.0),
    ("CH-API-ADD", "API Access Add-on", "Add-on", 2400.0),
    ("CH-SSO", "SSO & SCIM", "Add-on", 1800.0),
    ("CH-ONB", "Onboarding Package", "Services", 5000.0),
    ("CH-TRN", "Training Day", "Services", 1500.0),
    ("CH-PREM-SUP", "Premium Support", "Support", 6000.0),
)


# ---------------------------------------------------------------------------- crm_en


def _crm_en(c: _Corpus) -> None:
    users = ["Integration User", "Casey Lead", "Robin Ops", "Drew Admin"]
    c.table("accounts", "salesforce/accounts.csv", [
        ("Account ID", "account_id", pl.col("account_id")),
        ("Account Name", "account_name", pl.col("account_name")),
        ("Parent Account ID", "parent_account_id", pl.col("parent_account_id")),
        ("Customer Segment", "segment", pl.col("segment")),
        ("Account Owner", "csm_owner", pl.col("csm_owner")),
        ("ARR", "arr", num("arr", "usd")),
        ("Seats", "seats", pl.col("_raw_seats")),
        ("Created Date", "created_at", when("created_at", "%m/%d/%Y")),
        ("Contract Start Date", "contract_start", when("contract_start", "%m/%d/%Y")),
        ("Renewal Date", "renewal_date", when("renewal_date", "%m/%d/%Y")),
        ("Industry", "industry", pl.col("industry")),
        ("Account Record Type", None, pl.lit("Customer")),
        ("Billing Country", None, c.per("account_id", ["United States", "Canada", "United Kingdom", "Germany", "France", "Netherlands"], "country")),
        ("Last Modified By", None, c.choice("accounts", "modified", users)),
    ])
    c.table("contacts", "salesforce/contacts.csv", [
        ("Contact ID", "contact_id", pl.col("contact_id")),
        ("Account ID", "account_id", pl.col("account_id")),
        ("Email", "email", pl.col("email")),
        ("Contact Role", "role", pl.col("role")),
        ("Last Activity", "last_activity_at", when("last_activity_at", "%m/%d/%Y")),
        ("First Name", None, first_name("email")),
        ("Last Name", None, last_name("email")),
        ("Lead Source", None, c.choice("contacts", "source", ["Web", "Partner Referral", "Trade Show", "Other"])),
    ])
    stage, stage_truth = c.label("renewals", "outcome", {
        "Closed Won - Renewal": "Closed Won - Renewal", "Closed Won - Expansion": "Closed Won - Expansion",
        "Closed Won - Downsell": "Closed Won - Downsell", "Closed Lost": "Closed Lost",
    })
    n = c.demo["renewals"].height
    c.table("renewals", "salesforce/renewal_opportunities.csv", [
        ("Opportunity ID", None, pl.Series([f"0065g0000{i:06d}" for i in range(1, n + 1)])),
        ("Opportunity Name", None, c.name() + " - Renewal " + pl.col("renewal_date").dt.year().cast(pl.String)),
        ("Account ID", "account_id", pl.col("account_id")),
        ("Close Date", "renewal_date", when("renewal_date", "%m/%d/%Y")),
        ("Stage", "outcome", stage),
        ("Prior Year ARR", "arr_before", num("arr_before", "en2")),
        ("Amount", "arr_after", num("arr_after", "en2")),
        ("Type", None, pl.lit("Renewal")),
        ("Probability (%)", None, pl.when(pl.col("outcome") == "Closed Lost").then(pl.lit("0")).otherwise(pl.lit("100"))),
    ], {"outcome": stage_truth})
    prio, prio_truth = c.label("tickets", "priority", {"P1 - Urgent": "Urgent", "P2 - High": "High", "P3 - Normal": "Normal", "P4 - Low": "Low"})
    c.table("tickets", "zendesk/tickets.csv", [
        ("Ticket ID", "ticket_id", pl.col("ticket_id")),
        ("Organization External ID", "account_id", pl.col("account_id")),
        ("Organization", None, c.name()),
        ("Created at", "created_at", pl.col("_raw_created_at")),
        ("Solved at", "resolved_at", pl.col("_raw_resolved_at")),
        ("Priority", "priority", prio),
        ("Satisfaction Score", "csat", num("csat", "en1")),
        ("Subject", None, c.choice("tickets", "subject", ["Cannot log in", "Report export fails", "API rate limit", "Billing question", "SSO setup", "Feature request"])),
        ("Status", None, pl.when(pl.col("_raw_resolved_at").is_null()).then(pl.lit("open")).otherwise(pl.lit("solved"))),
        ("Tags", None, c.choice("tickets", "tags", ["", "login", "api", "billing", "export reporting", "sso"])),
    ], {"priority": prio_truth})
    c.table("invoices", "stripe/invoices.csv", [
        ("id", "invoice_id", pl.col("invoice_id")),
        ("Customer", "account_id", pl.col("account_id")),
        ("Customer Name", None, c.name()),
        ("Date (UTC)", "issued_at", when("issued_at", "%Y-%m-%d %H:%M")),
        ("Due Date (UTC)", "due_at", when("due_at", "%Y-%m-%d %H:%M")),
        ("Paid At (UTC)", "paid_at", when("paid_at", "%Y-%m-%d %H:%M")),
        ("Amount Due", "amount", num("amount", "en2")),
        ("Currency", None, pl.lit("usd")),
        ("Status", None, pl.when(pl.col("paid_at").is_null()).then(pl.lit("open")).otherwise(pl.lit("paid"))),
    ])
    c.table("usage", "amplitude/daily_usage.parquet", [
        ("account", "account_id", pl.col("account_id")),
        ("event_date", "date", pl.col("date")),
        ("uniques", "active_users", pl.col("active_users")),
        ("session_count", "logins", pl.col("logins")),
        ("api_calls", feature_name("api_calls"), pl.col("api_calls")),
        ("reports_exported", feature_name("reports_exported"), pl.col("reports_exported")),
        ("platform", None, pl.lit("Web")),
        ("plan_name", None, c.per("account_id", ["Growth", "Business", "Enterprise"], "plan")),
    ])
    c.table("surveys", "gainsight/nps_responses.csv", [
        ("Company ID", "account_id", pl.col("account_id")),
        ("Company Name", None, c.name()),
        ("Response Date", "responded_at", when("responded_at", "%m/%d/%Y")),
        ("NPS Score", "nps", pl.col("_raw_nps")),
        ("Survey Name", None, pl.lit("Relationship NPS")),
        ("Comment", None, c.choice("surveys", "comment", ["", "", "", "Great support team", "Reporting is slow", "Too expensive"])),
    ])
    c.table("health_scores", "gainsight/health_score_history.csv", [
        ("Company ID", "account_id", pl.col("account_id")),
        ("Company Name", None, c.name()),
        ("Snapshot Date", "date", when("date", "%m/%d/%Y")),
        ("Overall Score", "score", num("score", "en1")),
        ("Scorecard Name", None, pl.lit("Customer Health")),
    ])
    status, status_truth = c.label("ctas", "status", {"Open": "Open", "Closed - Success": "Closed Success", "Closed - No Response": "Closed No Response"})
    c.table("ctas", "gainsight/ctas.csv", [
        ("CTA ID", "cta_id", pl.col("cta_id")),
        ("Company ID", "account_id", pl.col("account_id")),
        ("Name", None, pl.lit("Health score below 60")),
        ("Owner", "owner", pl.col("owner")),
        ("Type", "type", pl.col("type")),
        ("Created Date", "created_at", when("created_at", "%m/%d/%Y")),
        ("Due Date", "due_at", when("due_at", "%m/%d/%Y")),
        ("Closed Date", "closed_at", when("closed_at", "%m/%d/%Y")),
        ("Status", "status", status),
        ("Priority", None, c.choice("ctas", "priority", ["High", "Medium", "Low"])),
        ("Reason", None, pl.lit("Health Score Drop")),
    ], {"status": status_truth})
    sync, sync_truth = c.label("sync_log", "status", {"OK": "Success", "Error": "Failed"})
    c.table("sync_log", "gainsight/connector_jobs.csv", [
        ("Connection Name", "source", pl.col("source")),
        ("Job Name", None, pl.col("source") + " Daily Sync"),
        ("Start Time", "started_at", when("started_at", "%m/%d/%Y %H:%M:%S")),
        ("End Time", "finished_at", when("finished_at", "%m/%d/%Y %H:%M:%S")),
        ("Status", "status", sync),
        ("Records Processed", "records", pl.col("_raw_records")),
        ("Error Message", "error", pl.col("error")),
        ("Triggered By", None, pl.lit("Scheduler")),
    ], {"status": sync_truth})
    c.table("platform_logins", "gainsight/user_logins.csv", [
        ("User Email", "user", pl.col("user")),
        ("Login Date", "date", when("date", "%m/%d/%Y")),
        ("User Name", None, name_of("user")),
        ("License Type", None, pl.lit("Full")),
    ])
    c.table("team", "gainsight/users.csv", [
        ("Email", "user", pl.col("user")),
        ("Name", None, name_of("user")),
        ("Role", "role", pl.col("role")),
        ("Is Active", "active", pl.col("active").replace_strict({"Yes": "true", "No": "false"})),
        ("License Type", None, pl.lit("Full")),
    ])
    # files of no canonical table
    ld = _leads(c)
    c.other("salesforce/leads.csv", pl.DataFrame({
        "Lead ID": ld["id"], "First Name": ld["first"], "Last Name": ld["last"], "Email": ld["email"], "Company": ld["company"],
        "Title": ld["title"], "Lead Source": ld["source"],
        "Lead Status": np.array(["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"])[ld["status"]],
        "Created Date": pl.Series(ld["created"]).dt.strftime("%m/%d/%Y"), "Lead Owner": ld["owner"],
    }))
    cp = _campaigns(c)
    c.other("salesforce/campaigns.csv", pl.DataFrame({
        "Campaign ID": cp["id"], "Campaign Name": cp["name"], "Type": cp["type"], "Status": cp["status"],
        "Start Date": pl.Series(cp["start"]).dt.strftime("%m/%d/%Y"), "End Date": pl.Series(cp["end"]).dt.strftime("%m/%d/%Y"),
        "Budgeted Cost in Campaign": [f"{v:.2f}" for v in cp["budget"]], "Actual Cost in Campaign": [f"{v:.2f}" for v in cp["actual"]],
        "Leads in Campaign": cp["leads"].astype(str),
    }))
    r = _rates(c)
    c.other("netsuite/currency_exchange_rates.csv", r.select(
        pl.col("date").dt.strftime("%m/%d/%Y").alias("Effective Date"), pl.lit("USD").alias("Base Currency"),
        pl.col("currency").alias("Transaction Currency"), pl.col("rate").map_elements(lambda v: f"{v:.4f}", return_dtype=pl.String).alias("Exchange Rate"),
    ))
    c.other("salesforce/price_book_entries.csv", pl.DataFrame({
        "Product Code": [p[0] for p in PRODUCTS], "Product Name": [p[1] for p in PRODUCTS], "Product Family": [p[2] for p in PRODUCTS],
        "List Price": [f"{p[3]:.2f}" for p in PRODUCTS], "Price Book": ["Standard Price Book"] * len(PRODUCTS), "Active": ["true"] * len(PRODUCTS),
    }))


# ---------------------------------------------------------------------------- crm_de


def _crm_de(c: _Corpus) -> None:
    de = {"separator": ";"}
    users = ["Integrationsbenutzer", "Casey Lead", "Robin Ops", "Drew Admin"]
    c.table("accounts", "salesforce/Accounts_Bericht.csv", [
        ("Account-ID", "account_id", pl.col("account_id")),
        ("Accountname", "account_name", pl.col("account_name")),
        ("Übergeordnete Account-ID", "parent_account_id", pl.col("parent_account_id")),
        ("Kundensegment", "segment", pl.col("segment")),
        ("Accountinhaber", "csm_owner", pl.col("csm_owner")),
        ("ARR", "arr", num("arr", "de2")),
        ("Lizenzen", "seats", pl.col("_raw_seats")),
        ("Erstelldatum", "created_at", when("created_at", "%d.%m.%Y")),
        ("Vertragsbeginn", "contract_start", when("contract_start", "%d.%m.%Y")),
        ("Verlängerungsdatum", "renewal_date", when("renewal_date", "%d.%m.%Y")),
        ("Branche", "industry", pl.col("industry")),
        ("Accountdatensatztyp", None, pl.lit("Kunde")),
        ("Region", None, c.per("account_id", ["DACH", "EMEA", "Nordamerika"], "region")),
        ("Zuletzt geändert von", None, c.choice("accounts", "modified", users)),
    ], encoding="cp1252", crlf=True, **de)
    c.table("contacts", "salesforce/Kontakte.csv", [
        ("Kontakt-ID", "contact_id", pl.col("contact_id")),
        ("Account-ID", "account_id", pl.col("account_id")),
        ("E-Mail", "email", pl.col("email")),
        ("Rolle", "role", pl.col("role")),
        ("Letzte Aktivität", "last_activity_at", when("last_activity_at", "%d.%m.%Y")),
        ("Anrede", None, c.choice("contacts", "salutation", ["Frau", "Herr", ""])),
        ("Vorname", None, first_name("email")),
        ("Nachname", None, last_name("email")),
    ], **de)
    stage, stage_truth = c.label("renewals", "outcome", {
        "Closed Won - Renewal": "Geschlossen und gewonnen - Verlängerung", "Closed Won - Expansion": "Geschlossen und gewonnen - Erweiterung",
        "Closed Won - Downsell": "Geschlossen und gewonnen - Reduzierung", "Closed Lost": "Geschlossen und verloren",
    })
    n = c.demo["renewals"].height
    c.table("renewals", "salesforce/Verlaengerungschancen.csv", [
        ("Opportunity-ID", None, pl.Series([f"0065g0000{i:06d}" for i in range(1, n + 1)])),
        ("Opportunity-Name", None, c.name() + " - Verlängerung " + pl.col("renewal_date").dt.year().cast(pl.String)),
        ("Account-ID", "account_id", pl.col("account_id")),
        ("Schlusstermin", "renewal_date", when("renewal_date", "%d.%m.%Y")),
        ("Phase", "outcome", stage),
        ("ARR Vorjahr", "arr_before", num("arr_before", "de2")),
        ("Betrag", "arr_after", num("arr_after", "de2")),
        ("Typ", None, pl.lit("Verlängerung")),
        ("Wahrscheinlichkeit (%)", None, pl.when(pl.col("outcome") == "Closed Lost").then(pl.lit("0")).otherwise(pl.lit("100"))),
    ], {"outcome": stage_truth}, **de)
    prio, prio_truth = c.label("tickets", "priority", {"P1 - Urgent": "Dringend", "P2 - High": "Hoch", "P3 - Normal": "Normal", "P4 - Low": "Niedrig"})
    c.table("tickets", "zendesk/tickets_export.csv", [
        ("Ticket-ID", "ticket_id", pl.col("ticket_id")),
        ("Externe ID der Organisation", "account_id", pl.col("account_id")),
        ("Organisation", None, c.name()),
        ("Erstellt am", "created_at", when("created_at", "%d.%m.%Y %H:%M:%S")),
        ("Gelöst am", "resolved_at", when("resolved_at", "%d.%m.%Y %H:%M:%S")),
        ("Priorität", "priority", prio),
        ("Zufriedenheitsbewertung", "csat", num("csat", "gde")),
        ("Betreff", None, c.choice("tickets", "subject", ["Anmeldung nicht möglich", "Export schlägt fehl", "API-Limit erreicht", "Frage zur Rechnung", "SSO einrichten"])),
        ("Status", None, pl.when(pl.col("_raw_resolved_at").is_null()).then(pl.lit("Offen")).otherwise(pl.lit("Gelöst"))),
        ("Tags", None, c.choice("tickets", "tags", ["", "login", "api", "rechnung", "export", "sso"])),
    ], {"priority": prio_truth}, **de)
    c.table("invoices", "lexoffice/rechnungen.csv", [
        ("Rechnungsnummer", "invoice_id", pl.col("invoice_id")),
        ("Kundennummer", "account_id", pl.col("account_id")),
        ("Kunde", None, c.name()),
        ("Rechnungsdatum", "issued_at", when("issued_at", "%d.%m.%Y")),
        ("Fälligkeitsdatum", "due_at", when("due_at", "%d.%m.%Y")),
        ("Bezahlt am", "paid_at", when("paid_at", "%d.%m.%Y")),
        ("Rechnungsbetrag", "amount", num("amount", "de2")),
        ("Währung", None, pl.lit("USD")),
        ("Status", None, pl.when(pl.col("paid_at").is_null()).then(pl.lit("Offen")).otherwise(pl.lit("Bezahlt"))),
    ], bom=True, **de)
    c.table("usage", "amplitude/nutzung_taeglich.parquet", [
        ("Konto-ID", "account_id", pl.col("account_id")),
        ("Datum", "date", pl.col("date")),
        ("Aktive Nutzer", "active_users", pl.col("active_users")),
        ("Sitzungen", "logins", pl.col("logins")),
        ("API-Aufrufe", feature_name("API-Aufrufe"), pl.col("api_calls")),
        ("Exportierte Berichte", feature_name("Exportierte Berichte"), pl.col("reports_exported")),
        ("Plattform", None, pl.lit("Web")),
        ("Tarif", None, c.per("account_id", ["Growth", "Business", "Enterprise"], "plan")),
    ])
    c.table("surveys", "gainsight/nps_antworten.csv", [
        ("Unternehmens-ID", "account_id", pl.col("account_id")),
        ("Unternehmensname", None, c.name()),
        ("Antwortdatum", "responded_at", when("responded_at", "%d.%m.%Y")),
        ("NPS-Wert", "nps", pl.col("_raw_nps")),
        ("Umfrage", None, pl.lit("Beziehungs-NPS")),
        ("Kommentar", None, c.choice("surveys", "comment", ["", "", "", "Super Support", "Berichte sind langsam", "Zu teuer"])),
    ], **de)
    c.table("health_scores", "gainsight/health_score_verlauf.csv", [
        ("Unternehmens-ID", "account_id", pl.col("account_id")),
        ("Unternehmensname", None, c.name()),
        ("Stichtag", "date", when("date", "%d.%m.%Y")),
        ("Gesamtbewertung", "score", num("score", "de1")),
        ("Scorecard", None, pl.lit("Kundengesundheit")),
    ], **de)
    status, status_truth = c.label("ctas", "status", {"Open": "Offen", "Closed - Success": "Geschlossen", "Closed - No Response": "Geschlossen"})
    c.table("ctas", "gainsight/ctas.csv", [
        ("CTA-ID", "cta_id", pl.col("cta_id")),
        ("Unternehmens-ID", "account_id", pl.col("account_id")),
        ("Verantwortlich", "owner", pl.col("owner")),
        ("Typ", "type", pl.col("type")),
        ("Erstellt am", "created_at", when("created_at", "%d.%m.%Y")),
        ("Fällig am", "due_at", when("due_at", "%d.%m.%Y")),
        ("Geschlossen am", "closed_at", when("closed_at", "%d.%m.%Y")),
        ("Status", "status", status),
        ("Priorität", None, c.choice("ctas", "priority", ["Hoch", "Mittel", "Niedrig"])),
        ("Grund", None, pl.lit("Health Score gesunken")),
    ], {"status": status_truth}, **de)
    sync, sync_truth = c.label("sync_log", "status", {"OK": "Erfolgreich", "Error": "Fehler"})
    c.table("sync_log", "gainsight/sync_protokoll.csv", [
        ("Verbindung", "source", pl.col("source")),
        ("Auftrag", None, pl.col("source") + " tägliche Synchronisierung"),
        ("Startzeit", "started_at", when("started_at", "%d.%m.%Y %H:%M:%S")),
        ("Endzeit", "finished_at", when("finished_at", "%d.%m.%Y %H:%M:%S")),
        ("Status", "status", sync),
        ("Verarbeitete Datensätze", "records", pl.col("_raw_records")),
        ("Fehlermeldung", "error", pl.col("error")),
        ("Ausgelöst von", None, pl.lit("Zeitplan")),
    ], {"status": sync_truth}, **de)
    c.table("platform_logins", "gainsight/anmeldungen.csv", [
        ("Benutzer-E-Mail", "user", pl.col("user")),
        ("Anmeldedatum", "date", when("date", "%d.%m.%Y")),
        ("Benutzername", None, name_of("user")),
    ], **de)
    c.table("team", "gainsight/benutzer.csv", [
        ("E-Mail", "user", pl.col("user")),
        ("Name", None, name_of("user")),
        ("Rolle", "role", pl.col("role")),
        ("Aktiv", "active", pl.col("active").replace_strict({"Yes": "1", "No": "0"})),
        ("Lizenztyp", None, pl.lit("Vollständig")),
    ], **de)
    # files of no canonical table
    ld = _leads(c)
    c.other("salesforce/Leads.csv", pl.DataFrame({
        "Lead-ID": ld["id"], "Vorname": ld["first"], "Nachname": ld["last"], "E-Mail": ld["email"], "Firma": ld["company"],
        "Titel": ld["title"], "Leadquelle": ld["source"],
        "Leadstatus": np.array(["Offen - Nicht kontaktiert", "In Bearbeitung - Kontaktiert", "Geschlossen - Konvertiert", "Geschlossen - Nicht konvertiert"])[ld["status"]],
        "Erstelldatum": pl.Series(ld["created"]).dt.strftime("%d.%m.%Y"), "Leadinhaber": ld["owner"],
    }), **de)
    cp = _campaigns(c)
    c.other("salesforce/Kampagnen.csv", pl.DataFrame({
        "Kampagnen-ID": cp["id"], "Kampagnenname": cp["name"], "Typ": cp["type"],
        "Status": np.where(cp["status"] == "Completed", "Abgeschlossen", "Geplant"),
        "Startdatum": pl.Series(cp["start"]).dt.strftime("%d.%m.%Y"), "Enddatum": pl.Series(cp["end"]).dt.strftime("%d.%m.%Y"),
        "Budgetierte Kosten": [_number(v, "de2") for v in cp["budget"]], "Tatsächliche Kosten": [_number(v, "de2") for v in cp["actual"]],
        "Leads in der Kampagne": cp["leads"].astype(str),
    }), **de)
    r = _rates(c)
    c.other("ezb/wechselkurse.xlsx", r.select(
        pl.col("date").alias("Datum"), pl.lit("USD").alias("Basiswährung"), pl.col("currency").alias("Währung"), pl.col("rate").alias("Kurs"),
    ), sheet="Kurse")
    c.other("salesforce/Preisbuch.csv", pl.DataFrame({
        "Produktcode": [p[0] for p in PRODUCTS], "Produktname": [p[1] for p in PRODUCTS], "Produktfamilie": [p[2] for p in PRODUCTS],
        "Listenpreis": [_number(p[3], "de2") for p in PRODUCTS], "Preisbuch": ["Standardpreisbuch"] * len(PRODUCTS), "Aktiv": ["1"] * len(PRODUCTS),
    }), **de)


# ---------------------------------------------------------------------------- mixed


def _mixed(c: _Corpus) -> None:
    c.table("accounts", "hubspot/companies.csv", [
        ("Record ID", "account_id", c.ids()),
        ("Company name", "account_name", pl.col("account_name")),
        ("Parent Company ID", "parent_account_id", c.ids("parent_account_id")),
        ("Customer segment", "segment", pl.col("segment")),
        ("Company owner", "csm_owner", pl.col("csm_owner")),
        ("Annual recurring revenue", "arr", num("arr", "g")),
        ("Number of seats", "seats", pl.col("_raw_seats")),
        ("Create Date", "created_at", when("created_at", "%Y-%m-%d %H:%M")),
        ("Contract start date", "contract_start", when("contract_start", "%Y-%m-%d")),
        ("Renewal date", "renewal_date", when("renewal_date", "%Y-%m-%d")),
        ("Industry", "industry", pl.col("industry")),
        ("Lifecycle Stage", None, pl.lit("Customer")),
        ("Company Domain Name", None, pl.col("account_name").str.to_lowercase().str.replace_all(r"[^a-z]", "") + ".example"),
        ("Last Activity Date", None, c.choice("accounts", "activity", [f"2026-10-{d:02d} {h:02d}:{m:02d}" for d in range(1, 31) for h in (9, 14) for m in (5, 40)])),
        ("City", None, c.per("account_id", ["Boston", "Austin", "Toronto", "London", "Berlin", "Amsterdam", "Denver"], "city")),
    ])
    c.table("contacts", "hubspot/contacts.csv", [
        ("Record ID", "contact_id", pl.col("contact_id")),
        ("First Name", None, first_name("email")),
        ("Last Name", None, last_name("email")),
        ("Email", "email", pl.col("email")),
        ("Job Title", "role", pl.col("role")),
        ("Associated Company ID", "account_id", c.ids()),
        ("Last Activity Date", "last_activity_at", when("last_activity_at", "%Y-%m-%d %H:%M")),
        ("Lifecycle Stage", None, pl.lit("Customer")),
    ])
    stage, stage_truth = c.label("renewals", "outcome", {
        "Closed Won - Renewal": "Closed won", "Closed Won - Expansion": "Closed won - Upsell",
        "Closed Won - Downsell": "Closed won - Downgrade", "Closed Lost": "Closed lost",
    })
    n = c.demo["renewals"].height
    c.table("renewals", "hubspot/deals.csv", [
        ("Record ID", None, pl.Series([str(9_100_000_000 + 37 * i) for i in range(1, n + 1)])),
        ("Deal Name", None, c.name() + " renewal " + pl.col("renewal_date").dt.year().cast(pl.String)),
        ("Associated Company ID", "account_id", c.ids()),
        ("Close Date", "renewal_date", when("renewal_date", "%Y-%m-%d %H:%M")),
        ("Deal Stage", "outcome", stage),
        ("Previous ARR", "arr_before", num("arr_before", "g")),
        ("Amount", "arr_after", num("arr_after", "g")),
        ("Pipeline", None, pl.lit("Renewals")),
        ("Deal Type", None, pl.lit("Existing Business")),
    ], {"outcome": stage_truth})
    prio, prio_truth = c.label("tickets", "priority", {"P1 - Urgent": "Critical", "P2 - High": "High", "P3 - Normal": "Medium", "P4 - Low": "Low"})
    c.table("tickets", "intercom/conversations.csv", [
        ("Conversation ID", "ticket_id", pl.col("ticket_id")),
        ("Company ID", "account_id", c.ids()),
        ("Company name", None, c.name()),
        ("Created at", "created_at", when("created_at", "%d/%m/%Y %H:%M:%S")),
        ("Last closed at", "resolved_at", when("resolved_at", "%d/%m/%Y %H:%M:%S")),
        ("Priority", "priority", prio),
        ("Conversation rating", "csat", num("csat", "g")),
        ("State", None, pl.when(pl.col("_raw_resolved_at").is_null()).then(pl.lit("open")).otherwise(pl.lit("closed"))),
        ("Channel", None, c.choice("tickets", "channel", ["Messenger", "Email", "Chat"])),
        ("Tags", None, c.choice("tickets", "tags", ["", "bug", "how-to", "billing", "integration"])),
    ], {"priority": prio_truth})
    paid = pl.col("paid_at").is_not_null()
    c.table("invoices", "chargebee/invoices.xlsx", [
        ("Invoice Number", "invoice_id", pl.col("invoice_id")),
        ("Customer Id", "account_id", c.ids(length=18)),
        ("Customer Company", None, c.name()),
        ("Invoice Date", "issued_at", pl.col("issued_at")),
        ("Due Date", "due_at", pl.col("due_at")),
        ("Paid On", "paid_at", pl.col("paid_at")),
        ("Amount", "amount", pl.col("amount")),
        ("Currency", None, pl.lit("USD")),
        ("Status", None, pl.when(paid).then(pl.lit("Paid")).otherwise(pl.lit("Payment Due"))),
    ], sheet="Invoices")
    inv = c.demo["invoices"]
    summary = (
        inv.with_columns(pl.col("issued_at").dt.strftime("%Y-%m").alias("Month"))
        .group_by("Month").agg(
            pl.len().alias("Invoices"), pl.col("amount").sum().alias("Amount Billed"),
            pl.col("amount").filter(pl.col("paid_at").is_not_null()).sum().alias("Amount Collected"),
        )
        .with_columns((pl.col("Amount Billed") - pl.col("Amount Collected")).alias("Outstanding"))
        .sort("Month")
    )
    c.other("chargebee/invoices.xlsx", summary, sheet="Summary", shuffle=False)
    c.table("usage", "pendo/daily_account_usage.csv", [
        ("Account ID", "account_id", c.ids()),
        ("Date", "date", pl.col("date").dt.strftime("%Y-%m-%d")),
        ("Active Visitors", "active_users", pl.col("active_users")),
        ("Logins", "logins", pl.col("logins")),
        ("API Calls", feature_name("API Calls"), pl.col("api_calls")),
        ("Reports Exported", feature_name("Reports Exported"), pl.col("reports_exported")),
    ])
    c.table("health_scores", "churnzero/churnscore_history.csv", [
        ("Account External ID", "account_id", c.ids(length=18)),
        ("Account Name", None, c.name()),
        ("Date", "date", when("date", "%m/%d/%Y")),
        ("ChurnScore", "score", num("score", "int")),
    ])
    c.table("surveys", "churnzero/nps_responses.csv", [
        ("Account External ID", "account_id", c.ids(length=18)),
        ("Account Name", None, c.name()),
        ("Response Date", "responded_at", when("responded_at", "%m/%d/%Y")),
        ("Score", "nps", pl.col("_raw_nps")),
        ("Survey Name", None, pl.lit("NPS - Relationship")),
        ("Comment", None, c.choice("surveys", "comment", ["", "", "", "Love the dashboards", "Support is slow", "Missing integrations"])),
    ])
    status, status_truth = c.label("ctas", "status", {"Open": "Open", "Closed - Success": "Completed", "Closed - No Response": "Cancelled"})
    c.table("ctas", "churnzero/tasks.csv", [
        ("Task ID", "cta_id", pl.col("cta_id")),
        ("Account External ID", "account_id", c.ids(length=18)),
        ("Subject", None, pl.lit("Follow up: ChurnScore dropped")),
        ("Assigned To", "owner", pl.col("owner")),
        ("Task Type", "type", pl.col("type")),
        ("Created Date", "created_at", when("created_at", "%m/%d/%Y")),
        ("Due Date", "due_at", when("due_at", "%m/%d/%Y")),
        ("Completed Date", "closed_at", when("closed_at", "%m/%d/%Y")),
        ("Status", "status", status),
        ("Priority", None, c.choice("ctas", "priority", ["High", "Normal", "Low"])),
    ], {"status": status_truth})
    sync, sync_truth = c.label("sync_log", "status", {"OK": "Succeeded", "Error": "Failed"})
    c.table("sync_log", "churnzero/integration_log.csv", [
        ("Integration", "source", pl.col("source")),
        ("Sync Started", "started_at", when("started_at", "%Y-%m-%d %H:%M:%S")),
        ("Sync Completed", "finished_at", when("finished_at", "%Y-%m-%d %H:%M:%S")),
        ("Result", "status", sync),
        ("Records Synced", "records", pl.col("_raw_records")),
        ("Error", "error", pl.col("error")),
        ("Direction", None, pl.lit("Inbound")),
    ], {"status": sync_truth})
    c.table("platform_logins", "churnzero/user_logins.csv", [
        ("User", "user", pl.col("user")),
        ("Full Name", None, name_of("user")),
        ("Login Date", "date", when("date", "%m/%d/%Y")),
    ])
    c.table("team", "churnzero/users.csv", [
        ("Email", "user", pl.col("user")),
        ("First Name", None, first_name("user")),
        ("Last Name", None, last_name("user")),
        ("Role", "role", pl.col("role")),
        ("Status", "active", pl.col("active").replace_strict({"Yes": "Active", "No": "Inactive"})),
    ])
    # files of no canonical table
    credit = c.demo["invoices"].filter(pl.col("paid_at").is_not_null()).gather_every(90)
    c.other("chargebee/credit_notes.csv", credit.with_row_index("i", 1).select(
        pl.format("CN-{}", pl.col("i").cast(pl.String).str.zfill(5)).alias("Credit Note Id"),
        pl.col("account_id").replace_strict(c.sf18, return_dtype=pl.String).alias("Customer Id"),
        pl.col("invoice_id").alias("Reference Invoice Number"),
        pl.col("paid_at").dt.strftime("%d-%b-%Y").alias("Credit Note Date"),
        (pl.col("amount") * 0.1).map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String).alias("Total"),
        pl.lit("Service Issue").alias("Reason Code"),
        pl.lit("Refunded").alias("Status"),
    ))
    cp = _campaigns(c)
    c.other("hubspot/marketing_campaigns.csv", pl.DataFrame({
        "Campaign name": cp["name"], "Campaign owner": ["Kim Sales"] * len(cp["name"]),
        "Start date": pl.Series(cp["start"]).dt.strftime("%Y-%m-%d"), "End date": pl.Series(cp["end"]).dt.strftime("%Y-%m-%d"),
        "Budget": [_number(v, "g") for v in cp["budget"]], "Campaign status": cp["status"], "Influenced contacts": cp["leads"].astype(str),
    }))
    r = _rates(c)
    c.other("openexchangerates/usd_rates.csv", r.select(
        pl.col("date").dt.strftime("%Y-%m-%d").alias("date"), pl.col("currency").alias("currency"),
        pl.col("rate").map_elements(lambda v: f"{v:.6f}", return_dtype=pl.String).alias("rate"),
    ))
    c.other("chargebee/plans.csv", pl.DataFrame({
        "Plan Id": [p[0].lower() for p in PRODUCTS], "Plan Name": [p[1] for p in PRODUCTS], "Price": [_number(p[3], "g") for p in PRODUCTS],
        "Currency Code": ["USD"] * len(PRODUCTS), "Period Unit": ["year"] * len(PRODUCTS), "Status": ["active"] * len(PRODUCTS),
    }))


_BUILDERS = {"crm_en": _crm_en, "crm_de": _crm_de, "mixed": _mixed}


def build(demo_dir: Path, folder: Path, variant: str) -> dict:
    """Write one corpus of exports into `folder` (created), from the demo data in `demo_dir`; return its truth."""
    if variant not in _BUILDERS:
        raise ValueError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    corpus = _Corpus(Path(demo_dir), variant)
    _BUILDERS[variant](corpus)
    tables = [e.table for e in corpus.exports if e.table]
    assert sorted(tables) == sorted(contract.TABLES), tables
    return corpus.write(Path(folder))


def correct_sources(truth: dict, folder: Path) -> dict:
    """The `sources` of a parameters file that maps the corpus in `folder` as its truth says (absolute paths)."""
    out = {}
    for key, f in truth["files"].items():
        if not f["table"]:
            continue
        path, _, sheet = key.partition("#")
        src = {"path": str(Path(folder) / path)}
        if sheet:
            src["sheet"] = sheet
        src["columns"] = {h: t for h, t in f["columns"].items() if t}
        if f["values"]:
            src["values"] = f["values"]
        out[f["table"]] = src
    return out
