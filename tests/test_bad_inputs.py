"""The bad-input corpus: broken files, odd exports, wrong parameters, unreachable databases and
interrupted or concurrent runs, built from copies of the demo client's exports.

Each case ends either in a clear message or in a correct finding:

* a message: the exit code, the file or table, the column or key, the fix and the reason code
  (`[code]`) are all in what the consultant sees, and no traceback is;
* a finding: the values loaded are the true ones (checked against the demo's own files, read
  independently here), and what was decided is said with the same four parts.

For every case the reports of an earlier period (committed once for the module) are byte for
byte the same afterwards, and no temporary folder is left. The command line runs in-process
(`kit.cli.main`) except where a real process is the point (SIGTERM).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import yaml

from kit.analyses import audit
from kit import registry
from kit.run import batch
from kit.io import locks
from kit import cli
from kit.io.load import ClientData, load_table
from kit import params as params_mod

from .conftest import REPO, tiny_notebooks, tree_digest

DEMO = yaml.safe_load((REPO / "parameters" / "demo.yml").read_text())
EARLIER = "2026-09"  # the period whose reports every case must leave untouched


# ---------------------------------------------------------------------------- building cases


class Client:
    """A client made of the demo's exports: only the tables a case needs, any of them replaced."""

    def __init__(self, folder: Path, demo_dir: Path, *tables: str):
        self.folder = folder
        self.demo_dir = demo_dir
        folder.mkdir(parents=True, exist_ok=True)
        self.raw: dict = {"client": "case", "name": "Case", "sources": {}}
        for t in tables or ("accounts",):
            self.use(t)

    def use(self, table: str) -> dict:
        spec = copy.deepcopy(DEMO["sources"][table])
        spec["path"] = str(self.demo_dir / spec["path"].removeprefix("../data/demo/"))
        self.raw["sources"][table] = spec
        return spec

    def demo_path(self, table: str) -> Path:
        return self.demo_dir / DEMO["sources"][table]["path"].removeprefix("../data/demo/")

    def demo_rows(self, table: str) -> list[list[str]]:
        with self.demo_path(table).open(newline="", encoding="utf-8") as f:
            return list(csv.reader(f))

    def write(self, table: str, content: str | bytes, name: str | None = None, **spec) -> Path:
        """Write `content` as the table's export and point the parameters at it."""
        path = self.folder / (name or f"{table}.csv")
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        s = self.raw["sources"].get(table) or self.use(table)
        s["path"] = str(path)
        s.update(spec)
        return path

    def write_rows(self, table: str, rows: list[list], name: str | None = None, delimiter: str = ",", encoding: str = "utf-8", **spec) -> Path:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
        return self.write(table, out.getvalue().encode(encoding), name, **spec)

    def params(self, text: str | None = None) -> Path:
        path = self.folder / "case.yml"
        path.write_text(text if text is not None else yaml.safe_dump(self.raw, sort_keys=False))
        return path

    def load(self, table: str):
        return load_table(params_mod.load(self.params()), table)


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture(scope="module")
def env(demo_dir, tmp_path_factory):
    """Earlier reports of the client `case` (period EARLIER, committed by the runner), and fast notebooks."""
    root = tmp_path_factory.mktemp("corpus")
    nbs = tiny_notebooks(root / "notebooks")
    good = Client(root / "good", demo_dir)
    r = batch.run_client(good.params(), EARLIER, out=root / "reports", notebooks_dir=nbs)
    assert r.status == "ok", r.failure
    return {"root": root, "reports": root / "reports", "notebooks": nbs, "demo_dir": demo_dir}


@pytest.fixture(autouse=True)
def earlier_reports_untouched(env):
    period = env["reports"] / "case" / EARLIER
    before = tree_digest(period)
    yield
    assert tree_digest(period) == before
    assert not [p.name for p in (env["reports"] / "case").iterdir() if p.name.startswith((".tmp-", ".old-"))]


@pytest.fixture()
def client(env, tmp_path):
    return lambda *tables: Client(tmp_path / "client", env["demo_dir"], *tables)


@pytest.fixture()
def kit(capsys, env):
    """The command line, in-process: kit("validate", path) -> Outcome. `run` writes into the corpus reports."""

    def call(*argv: str | Path) -> Outcome:
        args = [str(a) for a in argv]
        if args[0] == "run":
            args += [] if "--out" in args else ["--out", str(env["reports"])]
            args += [] if "--notebooks" in args else ["--notebooks", str(env["notebooks"])]
        code = cli.main(args)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return call


def clear(o: Outcome, code: int, *names: str, fix: str, reason: str) -> None:
    """The message a consultant needs: exit code, what it concerns, the fix, the reason code, no traceback."""
    assert o.code == code, o.text
    assert "Traceback" not in o.text, o.text
    for name in names:
        assert name in o.text, f"{name!r} not in:\n{o.text}"
    assert "fix:" in o.text and fix in o.text, o.text
    assert f"[{reason}]" in o.text, o.text


def money(text: str) -> float:
    """The demo's US-formatted money ($30,400.00), read independently of the kit."""
    return float(text.replace("$", "").replace(",", "")) if text else None


ACC = {"id": 0, "name": 1, "arr": 5, "created": 7, "start": 8, "renewal": 9}
ZENDESK_TIME = "%Y-%m-%dT%H:%M:%SZ"


def with_column(rows: list[list[str]], index: int, change, *more: int) -> list[list[str]]:
    """rows (header first) with `change` applied to column `index` (and `more` columns) of every record."""
    cols = (index, *more)
    return [r if n == 0 else [change(v) if i in cols else v for i, v in enumerate(r)] for n, r in enumerate(rows)]


# ---------------------------------------------------------------------------- files: structure


def test_ragged_rows_are_an_error_naming_the_line(client, kit):
    c = client("accounts", "tickets")
    rows = c.demo_rows("tickets")
    rows[100] = rows[100] + ["an unquoted, comma"]
    path = c.write_rows("tickets", rows)
    o = kit("validate", c.params())
    clear(o, 2, str(path), "line 101 has 7 fields where the header has 6", fix="re-export the file", reason="malformed_csv")
    # the audit says the same instead of quietly marking the tickets checks "could not be checked"
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    assert r.notes == [] and r.find("table_unavailable", "tickets").failing == 1
    assert "line 101" in r.find("table_unavailable", "tickets").message


def test_unescaped_quote_is_an_error_naming_file_and_line(client, kit):
    c = client("accounts")
    rows = c.demo_path("accounts").read_text().splitlines()
    head, name, rest = rows[5].split(",", 2)
    rows[5] = f'{head},"Acme "Best, Co",{rest}'
    path = c.write("accounts", "\n".join(rows) + "\n")
    o = kit("validate", c.params())
    clear(o, 2, str(path), "line 6", "quote", fix="quotes inside fields doubled", reason="malformed_csv")
    o = kit("run", c.params(), "--period", "2026-10")  # the run refuses before any notebook, naming the file
    clear(o, 1, str(path), "line 6", fix="quotes inside fields doubled", reason="malformed_csv")


def test_quote_inside_an_unquoted_field_is_text(client, kit):
    c = client("accounts")
    rows = c.demo_path("accounts").read_text().splitlines()
    head, name, rest = rows[5].split(",", 2)
    rows[5] = f'{head},Acme 27" Monitors,{rest}'
    c.write("accounts", "\n".join(rows) + "\n")
    o = kit("validate", c.params())
    assert o.code == 0 and "accounts.csv: quotes inside unquoted fields read as text" in o.text and "[quotes_as_text]" in o.text
    df = c.load("accounts").frame.collect()
    assert df.height == 2004 and df["account_name"][4] == 'Acme 27" Monitors'


def test_duplicate_header_of_a_mapped_column_is_an_error(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    rows = [r + ([r[ACC["arr"]]] if i else ["ARR"]) for i, r in enumerate(rows)]
    path = c.write_rows("accounts", rows)
    o = kit("validate", c.params())
    clear(o, 2, str(path), "'ARR' (2 times, mapped to arr)", fix="rename or delete the repeated column", reason="duplicate_column")


def test_duplicate_header_of_an_unused_column_is_noted(client, kit):
    c = client("accounts")
    rows = [r + ["x", "y"] if i else r + ["Notes", "Notes"] for i, r in enumerate(c.demo_rows("accounts"))]
    c.write_rows("accounts", rows)
    o = kit("validate", c.params())
    assert o.code == 0 and "repeats 'Notes' (2 times); not used" in o.text and "[duplicate_header]" in o.text


def test_header_only_table_is_unavailable_not_empty(client, kit):
    c = client("accounts", "renewals")
    path = c.write("renewals", "Account ID,Close Date,Stage,Prior ARR,New ARR\n")
    o = kit("validate", c.params())
    clear(o, 2, str(path), "has a header but no records", fix="export renewals again", reason="empty_table")


@pytest.mark.e2e
def test_header_only_renewals_the_weights_report_says_so(client, kit, env):
    """The real weights notebook: "not available" with the reason, instead of a rounding error on an empty frame."""
    c = client(*[t for t in DEMO["sources"]])
    c.write("renewals", "Account ID,Close Date,Stage,Prior ARR,New ARR\n")
    o = kit("run", c.params(), "--period", "2026-10", "--only", "weights", "--notebooks", REPO / "notebooks")
    assert o.code == 0, o.text
    weights = json.loads((env["reports"] / "case" / "2026-10" / "weights.json").read_text())
    assert weights["status"] == "not_available"
    assert "renewals" in weights["messages"][0] and "has a header but no records" in weights["messages"][0]


def test_empty_file_missing_file_folder_and_wrong_type(client, kit, tmp_path):
    c = client("accounts", "tickets")
    cases = [
        (lambda: c.write("tickets", b""), "file is empty (0 bytes)", "export the table again", "empty_file"),
        (lambda: str(tmp_path / "nowhere.csv"), "file not found", "check sources.tickets.path", "file_not_found"),
        (lambda: str(tmp_path), "is a folder, not a file", "point sources.tickets.path at the export file", "file_not_found"),
        (lambda: c.write("tickets", "{}", "tickets.json"), "unsupported file type '.json'", "export as CSV", "file_type"),
    ]
    for make, what, fix, reason in cases:
        where = make()
        c.raw["sources"]["tickets"]["path"] = str(where)
        o = kit("validate", c.params())
        clear(o, 2, str(where), what, fix=fix, reason=reason)


def test_validate_reads_every_row_to_the_last(client, kit):
    """Past any sample: a bad value and a broken row on the last lines of an 85,000-row export are found."""
    c = client("accounts", "health_scores")
    rows = c.demo_rows("health_scores")
    rows[-1][1] = "31/31/2026"
    path = c.write_rows("health_scores", rows)
    o = kit("validate", "--strict", c.params())
    clear(o, 1, str(path), "column 'Snapshot Date' (date): 1 value is not a date (e.g. '31/31/2026')", fix="date_format",
          reason="unparseable_date")
    path.write_text(path.read_text() + "0015g0000001,2026-10-31,70,oops\n")
    o = kit("validate", c.params())
    clear(o, 2, str(path), f"line {len(rows) + 1} has 4 fields where the header has 3", fix="re-export", reason="malformed_csv")


def test_mapped_column_missing_lists_the_file_columns(client, kit):
    c = client("accounts")
    c.raw["sources"]["accounts"]["columns"]["Annual Revenue"] = c.raw["sources"]["accounts"]["columns"].pop("ARR")
    o = kit("validate", c.params())
    clear(o, 2, "accounts.csv", "'Annual Revenue' (mapped to arr)", fix="the file has: Account ID, Account Name", reason="missing_column")


def test_a_zip_named_csv_and_a_missing_excel_sheet(client, kit):
    c = client("accounts", "invoices")
    path = c.write("invoices", b"PK\x03\x04" + bytes(range(256)) * 4, "invoices.csv", sheet=None)
    del c.raw["sources"]["invoices"]["sheet"]
    o = kit("validate", c.params())
    assert o.code == 2 and str(path) in o.text and "Traceback" not in o.text and "fix:" in o.text
    c.raw["sources"]["invoices"]["path"] = str(c.demo_path("invoices"))
    c.raw["sources"]["invoices"]["sheet"] = "Invoices 2026"
    o = kit("validate", c.params())
    clear(o, 2, "invoices.xlsx", "Invoices 2026", fix="check the export opens", reason="unreadable")


# ---------------------------------------------------------------------------- files: report layouts


def salesforce_formatted(rows: list[list[str]]) -> str:
    """A Salesforce report exported as it shows: title, filters, the table, Grand Totals and the footer."""
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerows([["Account Report"], ["Filtered By: Type equals Customer"], []])
    w.writerows(rows)
    total = sum(money(r[ACC["arr"]]) or 0 for r in rows[1:])
    w.writerows([["Grand Totals (2,004 records)", "", "", "", "", f"${total:,.2f}"], [],
                 ["Confidential Information - Do Not Distribute"],
                 ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."]])
    return out.getvalue()


def test_title_rows_and_grand_totals_are_not_accounts(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    path = c.write("accounts", salesforce_formatted(rows))
    o = kit("validate", c.params())
    assert o.code == 0 and "Traceback" not in o.text
    assert f"{path}: 3 row(s) above the header skipped" in o.text and "[title_rows]" in o.text
    assert "4 row(s) after the data left out" in o.text and "Grand Totals (2,004 records)" in o.text and "[footer_rows]" in o.text
    df = c.load("accounts").frame.collect()
    assert df.height == len(rows) - 1 and df["account_id"].to_list() == [r[0] for r in rows[1:]]
    assert df["arr"].max() == max(money(r[ACC["arr"]]) for r in rows[1:] if r[ACC["arr"]])  # no $61M account


def test_excel_title_rows_and_total_row(client, kit):
    c = client("accounts", "invoices")
    inv = pl.read_excel(c.demo_path("invoices"), sheet_name="Invoices").head(50)
    path = c.folder / "invoices.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("Invoices")
        ws.write_row(0, 0, ["Invoices - October 2026"])
        ws.write_row(2, 0, inv.columns)
        for i, row in enumerate(inv.iter_rows(), start=3):
            ws.write_row(i, 0, [str(v) if isinstance(v, (date, datetime)) else v for v in row])
        ws.write_row(3 + inv.height, 0, ["Total", None, None, None, None, float(inv["Amount Due"].sum())])
    c.raw["sources"]["invoices"]["path"] = str(path)
    o = kit("validate", c.params())
    assert o.code == 0 and "row(s) above the header skipped" in o.text and "1 row(s) after the data left out" in o.text
    t = c.load("invoices").frame.collect()
    assert t.height == 50 and t["amount"].sum() == pytest.approx(inv["Amount Due"].sum())


def test_blank_lines_and_delimiter_only_rows_are_left_out(client, kit):
    c = client("accounts")
    lines = c.demo_path("accounts").read_text().splitlines()
    lines[10:10] = ["", ",,,,,,,,,,"]
    lines += ["", ",,,,,,,,,,", ""]
    path = c.write("accounts", "\n".join(lines) + "\n")
    with path.open(newline="") as f:
        blank = sum(1 for row in list(csv.reader(f))[1:] if not "".join(row).strip())
    o = kit("validate", c.params())
    assert o.code == 0 and f"{blank} blank row(s) left out" in o.text and "[blank_rows]" in o.text
    t = c.load("accounts")
    df = t.frame.collect()
    assert t.rows == df.height == 2004 and df["account_id"].null_count() == 0
    assert df.filter(pl.col("account_id") == lines[12].split(",")[0])["_row"].item() == 12  # row numbers count the blank rows


def test_bom_and_semicolons_from_european_excel(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    c.write_rows("accounts", rows, delimiter=";", encoding="utf-8-sig")
    o = kit("validate", c.params())
    assert o.code == 0 and "warning" not in o.text
    assert c.load("accounts").frame.collect()["account_id"].to_list() == [r[0] for r in rows[1:]]


def test_quoted_line_breaks_inside_fields(client, kit):
    c = client("accounts", "tickets")
    rows = c.demo_rows("tickets")
    rows = [r + (["Description"] if i == 0 else [f"Customer wrote:\n\"it broke\", line {i}\r\nthanks"]) for i, r in enumerate(rows)]
    c.write_rows("tickets", rows)
    o = kit("validate", c.params())
    assert o.code == 0 and "Traceback" not in o.text
    t = c.load("tickets")
    assert t.rows == len(rows) - 1 and t.frame.collect()["ticket_id"].to_list() == [r[0] for r in rows[1:]]


def test_latin1_file_reads_and_the_warning_is_well_formed(client, kit):
    c = client("accounts")
    text = c.demo_path("accounts").read_text().replace("Green Harbor GmbH", "Grün Hafen GmbH")
    path = c.write("accounts", text.encode("latin-1"))
    o = kit("validate", c.params())
    assert o.code == 0
    assert f"{path}: not UTF-8" in o.text and "::" not in o.text and "0 encoding" not in o.text and "[encoding]" in o.text
    assert "fix: set `encoding: latin-1` in sources.accounts" in o.text
    assert "Grün Hafen GmbH" in c.load("accounts").frame.collect()["account_name"].to_list()


def test_tab_separated_text_file(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    c.write_rows("accounts", rows, name="accounts.txt", delimiter="\t")
    o = kit("validate", c.params())
    assert o.code == 0 and c.load("accounts").rows == len(rows) - 1


# ---------------------------------------------------------------------------- values: decided from the whole column


def european(value: str) -> str:
    """$30,400.00 -> 30.400,00"""
    if not value:
        return value
    whole, cents = f"{money(value):,.2f}".split(".")
    return whole.replace(",", ".") + "," + cents


def day_first(value: str) -> str:
    m, d, y = value.split("/") if value else ("", "", "")
    return f"{d}/{m}/{y}" if value else value


def test_decimal_comma_is_decided_from_the_column(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    path = c.write_rows("accounts", with_column(rows, ACC["arr"], european), delimiter=";")
    o = kit("validate", c.params())
    assert o.code == 0 and f"{path}: column 'ARR' (arr): read with a decimal comma" in o.text
    assert "fix: set sources.accounts.decimal_comma: false to override" in o.text and "[decimal_separator]" in o.text
    arr = c.load("accounts").frame.collect()["arr"].to_list()
    assert arr == [money(r[ACC["arr"]]) for r in rows[1:]]  # 30.400,00 is 30400, not 30.4
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))  # the audit says what was decided
    assert any("read with a decimal comma" in n for n in r.to_json()["tables"]["accounts"]["notes"])


def test_decimal_comma_false_makes_european_values_unparseable_not_small(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    c.write_rows("accounts", with_column(rows, ACC["arr"], european), delimiter=";", decimal_comma=False)
    o = kit("validate", "--strict", c.params())
    n = sum(1 for r in rows[1:] if r[ACC["arr"]])
    clear(o, 1, "column 'ARR' (arr)", f"{n:,} values are not numbers", fix="decimal_comma: true", reason="unparseable_number")
    assert c.load("accounts").frame.collect()["arr"].drop_nulls().len() == 0  # never 30.4


def test_mixed_decimal_separators_read_one_way_and_report_the_rest(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    c.write_rows("accounts", with_column(rows[:4], ACC["arr"], european) + rows[4:])
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'ARR' (arr)", "mixes decimal commas (3", fix="correct the minority", reason="decimal_separator")
    arr = c.load("accounts").frame.collect()["arr"]
    assert arr[:3].to_list() == [None] * 3 and arr[3:].to_list() == [money(r[ACC["arr"]]) for r in rows[4:]]


def test_ambiguous_thousands_are_a_warning(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")[:40]
    c.write_rows("accounts", with_column(rows, ACC["arr"], lambda v: f"{int(money(v) or 0):,}"))
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'ARR' (arr)", "could be a thousand or one and a bit", fix="decimal_comma: true if that is wrong",
          reason="decimal_separator")
    assert c.load("accounts").frame.collect()["arr"].to_list() == [float(int(money(r[5]) or 0)) for r in rows[1:]]


def test_day_first_dates_are_decided_from_the_whole_column(client, kit):
    """A daily snapshot export sorted by date, written day-first: its first 24,000 rows (the 1st to the 12th)
    read either way; only the whole column shows the order. Deciding from the first rows read them month-first."""
    c = client("accounts", "health_scores")
    ids = [r[0] for r in c.demo_rows("accounts")[1:]]
    days = [date(2026, 1, d) for d in range(1, 16)]
    rows = [["Company ID", "Snapshot Date", "Overall Score"]] + [[a, f"{d:%d/%m/%Y}", "70"] for d in days for a in ids]
    path = c.write_rows("health_scores", rows)
    o = kit("validate", c.params())
    n = 3 * len(ids)  # the 13th, 14th and 15th
    assert o.code == 0 and f"{path}: column 'Snapshot Date' (date): read day-first (DD/MM/YYYY): {n:,} values" in o.text
    assert "[date_order]" in o.text and "fix: set sources.health_scores.date_format to override" in o.text
    assert c.load("health_scores").frame.collect()["date"].to_list() == [d for d in days for _ in ids]


def test_ambiguous_dates_warn_and_date_format_settles_them(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    keep = [rows[0]] + [r for r in rows[1:] if all(int(x.split("/")[1]) <= 12 for x in r[7:10] if x)][:30]
    c.write_rows("accounts", with_column(keep, ACC["created"], day_first, ACC["start"], ACC["renewal"]))
    del c.raw["sources"]["accounts"]["date_format"]
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'Created Date' (created_at)", "ambiguous", fix="date_format: '%d/%m/%Y' if they are day-first",
          reason="date_order")
    finding = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31)).find("date_order", "accounts", "created_at")
    assert finding.severity == "warning" and "date_format" in finding.fix  # the audit reports the guess as a finding
    c.raw["sources"]["accounts"]["date_format"] = "%d/%m/%Y"
    o = kit("validate", "--strict", c.params())
    assert o.code == 0 and "date_order" not in o.text
    truth = [datetime.strptime(r[ACC["created"]], "%m/%d/%Y").date() for r in keep[1:]]
    assert c.load("accounts").frame.collect()["created_at"].to_list() == truth


def test_mixed_date_orders_read_one_way_and_report_the_rest(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    late = [i for i, r in enumerate(rows) if i and int(r[7].split("/")[1]) > 12]
    for i in late[:2]:
        rows[i] = rows[i][:7] + [day_first(rows[i][7])] + rows[i][8:]
    c.write_rows("accounts", rows)
    del c.raw["sources"]["accounts"]["date_format"]
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'Created Date' (created_at)", "mixes day-first dates (2", fix="set sources.accounts.date_format",
          reason="date_order")
    assert "2 values are not dates" in o.text


def test_ids_exported_as_decimals_match(client, kit, tmp_path):
    """A billing export with numeric customer ids: 100001.0 in one file, 100001 in the other."""
    c = client()
    accounts = [["Account ID", "Account Name", "ARR"]] + [[str(100000 + i), f"Acct {i}", "1000"] for i in range(1, 21)]
    c.write_rows("accounts", accounts, columns={"Account ID": "account_id", "Account Name": "account_name", "ARR": "arr"})
    del c.raw["sources"]["accounts"]["date_format"]
    tickets = [["Ticket ID", "Org", "Created"]] + [[f"{500000 + i}.0", f"{100000 + i % 20 + 1}.0", "2026-10-01"] for i in range(60)]
    path = c.write_rows("tickets", tickets, columns={"Ticket ID": "ticket_id", "Org": "account_id", "Created": "created_at"})
    for key in ("values", "date_format"):
        c.raw["sources"]["tickets"].pop(key, None)
    o = kit("validate", c.params())
    assert o.code == 0 and f"{path}: column 'Org' (account_id): 60 ids written as decimal numbers" in o.text and "[float_ids]" in o.text
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    assert r.find("orphans", "tickets").failing == 0 and r.find("orphans", "tickets").total == 60


def test_ids_in_scientific_notation_are_reported(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    rows[3][ACC["id"]] = "1.00001E+11"
    c.write_rows("accounts", rows)
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'Account ID' (account_id)", "scientific notation", fix="export account_id as text", reason="unparseable_id")


def test_non_numbers_inf_nan_and_absurd_arr_are_findings(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")
    rows[1][ACC["arr"]], rows[2][ACC["arr"]], rows[3][ACC["arr"]], rows[4][ACC["arr"]] = "inf", "NaN", "-inf", "1e15"
    c.write_rows("accounts", rows)
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'ARR' (arr)", "3 values are not numbers", "'inf'", "'NaN'", "'-inf'", fix="fix the values at the source",
          reason="unparseable_number")
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    assert r.notes == []  # every check ran: -inf no longer hides the validity checks
    assert r.find("unparseable_number", "accounts", "arr").failing == 3 and r.find("unparseable_number", "accounts", "arr").severity == "critical"
    big = r.find("implausible_value", "accounts", "arr")
    assert big.failing == 1 and big.severity == "critical" and big.records["record_id"].to_list() == [rows[4][0]]


def test_currency_codes_symbols_accounting_and_trailing_minus(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")[:9]
    written = ["USD 30,400.00", "68,100.00 USD", "$ 1,200.50", "(1,500.00)", "1500.00-", "US$ 12", "12'345.00", "€5", ""]
    for r, v in zip(rows[1:], written):
        r[ACC["arr"]] = v
    c.write_rows("accounts", rows)
    o = kit("validate", c.params())
    assert o.code == 0 and "amounts in several currencies (USD 4, EUR 1)" in o.text and "[currencies]" in o.text
    assert c.load("accounts").frame.collect()["arr"].to_list() == [30400.0, 68100.0, 1200.5, -1500.0, -1500.0, None, 12345.0, None]


def test_percent_strings(client, kit):
    c = client("accounts", "health_scores")
    rows = c.demo_rows("health_scores")[:50]
    c.write_rows("health_scores", with_column(rows, 2, lambda v: f"{float(v):.0f}%"))
    o = kit("validate", c.params())
    assert o.code == 0 and "49 values end in %" in o.text and "[percent]" in o.text
    assert c.load("health_scores").frame.collect()["score"].to_list() == [float(f"{float(r[2]):.0f}") for r in rows[1:]]


def test_french_thousands_with_non_breaking_spaces(client, kit):
    c = client("accounts")
    rows = c.demo_rows("accounts")[:20]
    c.write_rows("accounts", with_column(rows, ACC["arr"], lambda v: european(v).replace(".", "\u202f") + "\u00a0€"), delimiter=";")
    o = kit("validate", c.params())
    assert o.code == 0 and "read with a decimal comma" in o.text
    assert c.load("accounts").frame.collect()["arr"].to_list() == [money(r[5]) for r in rows[1:]]


def test_excel_day_numbers_in_a_date_column(client, kit):
    c = client("accounts", "invoices")
    inv = pl.read_excel(c.demo_path("invoices"), sheet_name="Invoices").head(30)
    serial = inv.with_columns(((pl.col("Invoice Date").cast(pl.Date) - date(1899, 12, 30)).dt.total_days()).alias("Invoice Date"))
    path = c.folder / "invoices.csv"
    serial.write_csv(path)
    c.raw["sources"]["invoices"].update(path=str(path))
    del c.raw["sources"]["invoices"]["sheet"]
    o = kit("validate", c.params())
    assert o.code == 0 and f"{path}: column 'Invoice Date' (issued_at): 30 values are Excel day numbers" in o.text and "[excel_dates]" in o.text
    assert c.load("invoices").frame.collect()["issued_at"].to_list() == inv["Invoice Date"].cast(pl.Date).to_list()


def unix_seconds(v: str) -> str:
    return str(int(datetime.strptime(v, ZENDESK_TIME).replace(tzinfo=timezone.utc).timestamp())) if v else v


def in_three_zones():
    """Each time written in its own offset (+02:00, -05:00, +00:00 in turn): the same instants."""
    hours = iter([2, -5, 0] * 100)

    def write(v: str) -> str:
        h = next(hours)
        return (datetime.strptime(v, ZENDESK_TIME) + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S") + f"{h:+03d}:00"

    return write


@pytest.mark.parametrize("rewrite, said", [
    (lambda: unix_seconds, "29 values are Unix times in seconds, read as UTC times [epoch_times]"),  # Stripe's API exports
    (in_three_zones, "times written in 3 time zones (+0000, +0200, -0500); converted to UTC [time_zones]"),
], ids=["unix-epochs", "mixed-time-zones"])
def test_times_written_other_ways_read_as_the_same_instants(client, kit, rewrite, said):
    c = client("accounts", "tickets")
    rows = c.demo_rows("tickets")[:30]
    path = c.write_rows("tickets", with_column(rows, 2, rewrite()))
    o = kit("validate", c.params())
    assert o.code == 0 and f"{path}: column 'Created at' (created_at): {said}" in o.text
    got = c.load("tickets").frame.collect()["created_at"].to_list()
    assert got == [datetime.strptime(r[2], ZENDESK_TIME) for r in rows[1:]]


def test_unknown_labels_name_the_labels_seen_and_the_key(client, kit):
    c = client("accounts", "renewals")
    rows = c.demo_rows("renewals")
    rows[5][2] = "Closed Lost - Competitor"
    c.write_rows("renewals", rows)
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'Stage' (outcome)", "labels seen: Closed Lost - Competitor", fix="sources.renewals.values.outcome",
          reason="unknown_label")


def test_unparseable_dates_under_a_wrong_date_format(client, kit):
    c = client("accounts")
    c.raw["sources"]["accounts"]["date_format"] = "%d.%m.%Y"
    o = kit("validate", "--strict", c.params())
    clear(o, 1, "column 'Created Date' (created_at)", "values are not dates", fix="check sources.accounts.date_format (%d.%m.%Y)",
          reason="unparseable_date")


# ---------------------------------------------------------------------------- the audit: dates after the period


def test_after_the_period_end_is_not_the_future(client):
    """Records dated after the period end but before the export are ignored by the analyses, not defects."""
    c = client("accounts", "tickets")
    rows = c.demo_rows("tickets")
    exported = datetime(2026, 11, 20, 9, 0)
    rows[1][2] = "2026-11-10T10:00:00Z"  # after the period, before the export
    rows[2][2] = "2027-01-05T10:00:00Z"  # after the export: truly in the future
    path = c.write_rows("tickets", rows)
    os.utime(path, (exported.timestamp(), exported.timestamp()))
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    future = r.find("future_date", "tickets", "created_at")
    assert future.failing == 1 and future.records["record_id"].to_list() == [rows[2][0]]
    assert "after the export was taken (2026-11-20 09:00)" in future.message


def test_salesforce_15_and_18_character_ids_are_named_as_such(client):
    """A report export (15-character ids) against a Data Loader export (18): every ticket an orphan, and the fix says why."""
    c = client("accounts", "tickets")
    accounts = c.demo_rows("accounts")
    sf15 = {r[0]: f"0015g00000{i:05d}" for i, r in enumerate(accounts[1:])}
    c.write_rows("accounts", with_column(accounts, ACC["id"], lambda v: sf15[v]))
    c.write_rows("tickets", with_column(c.demo_rows("tickets"), 1, lambda v: sf15[v] + "AAC" if v in sf15 else v))
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    orphans = r.find("orphans", "tickets")
    assert orphans.failing == orphans.total > 0
    assert "15-character Salesforce ids and tickets 18-character ones" in orphans.fix and "CASESAFEID" in orphans.fix


def test_stripe_amounts_in_cents_are_an_arr_mismatch(client):
    """Stripe's API gives amounts in cents: read as dollars, billing is 100 times the CRM's ARR, and the audit says so."""
    c = client("accounts", "invoices")
    before = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31)).find("arr_billing_mismatch")
    inv = pl.read_excel(c.demo_path("invoices"), sheet_name="Invoices")
    path = c.folder / "invoices.csv"
    inv.with_columns((pl.col("Amount Due") * 100).cast(pl.Int64)).write_csv(path)
    c.raw["sources"]["invoices"].update(path=str(path))
    del c.raw["sources"]["invoices"]["sheet"]
    mismatch = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31)).find("arr_billing_mismatch")
    assert mismatch.failing > 0.9 * mismatch.total and mismatch.failing > 10 * before.failing
    assert mismatch.records["value"].str.contains(r"\(-99\.\d%\)").mean() > 0.9  # CRM ARR about 1% of billing


# ---------------------------------------------------------------------------- parameters


def test_parameters_path_is_a_folder(kit, tmp_path):
    o = kit("validate", tmp_path)
    clear(o, 2, str(tmp_path), "is a folder", fix="run --all --params-dir", reason="parameters_not_a_file")
    o = kit("run", tmp_path, "--period", "2026-10")
    clear(o, 1, str(tmp_path), "is a folder", fix="run --all --params-dir", reason="parameters_not_a_file")


def test_duplicate_key_in_the_yaml(client, kit):
    c = client()
    text = yaml.safe_dump(c.raw) + "score:\n  bands: {red: 50, green: 70}\nscore:\n  bands: {red: 10, green: 20}\n"
    path = c.params(text)
    o = kit("validate", path)
    clear(o, 2, str(path), "key 'score' appears twice", "lines", fix="merge the two blocks", reason="duplicate_key")


def test_duplicate_key_inside_a_source(client, kit):
    c = client()
    text = yaml.safe_dump(c.raw).replace("  accounts:\n", "  accounts:\n    path: old.csv\n", 1)
    o = kit("validate", c.params(text))
    clear(o, 2, "key 'path' appears twice", fix="keep one of them", reason="duplicate_key")


@pytest.mark.parametrize("change, names, fix", [
    ({"lead_time_day": 90}, ["unknown key 'lead_time_day'"], "check its spelling"),
    ({"score": {"components": {"usage": {"weight": 0.5, "signals": ["active_users_per_seat"]}}}}, ["component weights sum to 0.500"], "add up to 1"),
    ({"sources": {"tickts": {"path": "t.csv"}}}, ["unknown table(s) ['tickts']"], "use only canonical tables"),
    ({"client": "../other"}, ["'../other' is not a safe folder name"], "lowercase letters"),
    ({"maintenance": {"cta_completion": {"amber": 0.5, "red": 0.6}}}, ["cta_completion: amber (0.5) must not be below red (0.6)"], "swap amber and red"),
], ids=["misspelt-key", "weights-not-summing-to-1", "unknown-table", "unsafe-client-slug", "thresholds-out-of-order"])
def test_wrong_settings_name_the_key_and_the_fix(client, kit, change, names, fix):
    c = client()
    raw = copy.deepcopy(c.raw)
    for k, v in change.items():
        raw[k] = {**raw[k], **v} if isinstance(v, dict) and k in raw else v
    o = kit("validate", c.params(yaml.safe_dump(raw)))
    clear(o, 2, "case.yml", *names, fix=fix, reason="invalid")


def test_decimal_comma_of_the_wrong_type(client, kit):
    c = client()
    c.raw["sources"]["accounts"]["decimal_comma"] = "sometimes"
    o = kit("validate", c.params())
    clear(o, 2, "sources.accounts.decimal_comma", "'sometimes'", fix="give a value of the right type", reason="invalid")


def test_yaml_syntax_error_names_the_line(client, kit):
    c = client()
    path = c.params("client: case\nname: Case\nsources:\n  accounts: {path: a.csv\n")
    o = kit("validate", path)
    clear(o, 2, str(path), "not valid YAML at line", fix="fix the YAML syntax", reason="yaml_syntax")


def test_bad_period_arguments(client, kit):
    c = client()
    clear(kit("run", c.params(), "--period", "2026-13"), 2, "--period", "'2026-13' is not a month", fix="YYYY-MM", reason="bad_period")
    clear(kit("run", c.params(), "--period", "2026-10..2026-02"), 2, "--period", "the range 2026-10..2026-02 ends before it starts",
          fix="--period 2026-02..2026-10", reason="bad_period")
    clear(kit("run", c.params(), "--period", "2026-01", "--since", "3"), 2, "--since", "give --period or --since, not both", fix="--since 12",
          reason="bad_period")
    clear(kit("run", c.params(), "--jobs", "0"), 2, "--jobs", "must be at least 1", fix="--jobs 2", reason="kit_error")


def test_a_period_before_any_data(client, kit, env):
    c = client("accounts", "renewals", "tickets")
    o = kit("run", c.params(), "--period", "2020-01")
    clear(o, 1, "--period", "period 2020-01 ends (2020-01-31) before any of the client's data", "accounts from", fix="choose a period from",
          reason="period_before_data")
    assert not (env["reports"] / "case" / "2020-01").exists()


# ---------------------------------------------------------------------------- databases


@pytest.fixture()
def sqlite_db(tmp_path, demo_dir):
    db = tmp_path / "crm.sqlite"
    con = sqlite3.connect(db)
    rows = list(csv.reader((demo_dir / "crm" / "accounts.csv").open()))
    con.execute("CREATE TABLE accounts (id TEXT, name TEXT, arr REAL, num_id REAL)")
    con.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?)", [(r[0], r[1], money(r[5]), 100000 + i) for i, r in enumerate(rows[1:])])
    con.commit()
    con.close()
    return db


def db_client(client, uri: str, query: str, **spec) -> Client:
    c = client()
    c.raw["sources"]["accounts"] = {"uri": uri, "query": query, "columns": {"id": "account_id", "name": "account_name", "arr": "arr"}, **spec}
    return c


def test_database_variable_not_set(client, kit, monkeypatch):
    monkeypatch.delenv("CORPUS_DB_USER", raising=False)
    monkeypatch.delenv("CORPUS_DB_PASSWORD", raising=False)
    c = db_client(client, "postgresql://${CORPUS_DB_USER}:${CORPUS_DB_PASSWORD}@127.0.0.1:1/crm", "SELECT * FROM accounts")
    o = kit("validate", c.params())
    clear(o, 2, "sources.accounts", "CORPUS_DB_USER, CORPUS_DB_PASSWORD not set", fix="export CORPUS_DB_USER=", reason="missing_env")


def test_database_password_in_the_parameters_is_refused(client, kit):
    c = db_client(client, "postgresql://consultant:s3cret@db.example/crm", "SELECT * FROM accounts")
    o = kit("validate", c.params())
    clear(o, 2, "sources.accounts", "contains a password", fix="${CLIENT_DB_PASSWORD}", reason="invalid")
    assert "s3cret" not in o.text


def test_database_unreachable(client, kit, monkeypatch):
    monkeypatch.setenv("CORPUS_DB_USER", "consultant")
    monkeypatch.setenv("CORPUS_DB_PASSWORD", "pw-not-shown")
    c = db_client(client, "postgresql://${CORPUS_DB_USER}:${CORPUS_DB_PASSWORD}@127.0.0.1:1/crm", "SELECT * FROM accounts", timeout_seconds=5)
    o = kit("validate", c.params())
    clear(o, 2, "sources.accounts", "cannot connect to 127.0.0.1:1", fix="check the host and port in sources.accounts.uri", reason="sql_connect")
    assert "pw-not-shown" not in o.text


def test_database_query_errors(client, kit, sqlite_db):
    uri = f"sqlite://{sqlite_db}"
    for query, what, fix, reason in [
        ("SELECT * FROM acounts", "no such table", "run sources.accounts.query in a SQL client", "sql_query"),
        ("SELECT id, name, arr, id FROM accounts", "two columns with one name", "give each column", "duplicate_column"),
        ("SELECT * FROM accounts WHERE 0", "has a header but no records", "export accounts again", "empty_table"),
    ]:
        o = kit("validate", db_client(client, uri, query).params())
        clear(o, 2, "accounts", what, fix=fix, reason=reason)


def test_database_numeric_ids_match_text_ids(client, kit, sqlite_db, tmp_path):
    """A REAL id column from the database (100001.0) against ids written as text in a file."""
    c = db_client(client, f"sqlite://{sqlite_db}", "SELECT num_id, name, arr FROM accounts",
                  columns={"num_id": "account_id", "name": "account_name", "arr": "arr"})
    c.write_rows("surveys", [["Account", "Survey Date", "Score"]] + [[str(100000 + i), "2026-10-01", "9"] for i in range(30)])
    o = kit("validate", c.params())
    assert o.code == 0 and "ids written as decimal numbers" in o.text
    r = audit.evaluate(ClientData(params_mod.load(c.params())), date(2026, 10, 31))
    assert r.find("orphans", "surveys").failing == 0


# ---------------------------------------------------------------------------- runs


def test_reports_folder_not_writable(client, kit, env, tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="corpus-ro-"))
    try:
        os.chmod(folder, 0o755)
        c = Client(folder / "client", env["demo_dir"])
        c.write("accounts", c.demo_path("accounts").read_bytes())
        params = c.params()
        for p in (folder, c.folder, params, Path(c.raw["sources"]["accounts"]["path"])):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        out = folder / "reports"
        (out / "case").mkdir(parents=True)
        os.chmod(out / "case", 0o555)
        with (as_nobody() if os.geteuid() == 0 else nullcontext()):
            o = kit("run", params, "--period", "2026-10", "--out", out, "--notebooks", env["notebooks"])
        clear(o, 1, str(out / "case"), "cannot write the reports (Permission denied", fix="make the folder writable", reason="reports_not_writable")
        assert list((out / "case").iterdir()) == []
    finally:
        os.chmod(folder / "reports" / "case", 0o755) if (folder / "reports" / "case").exists() else None
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_reports_path_blocked_by_a_file(client, kit, env, tmp_path):
    c = client()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "case").write_text("not a folder")
    o = kit("run", c.params(), "--period", "2026-10", "--out", tmp_path / "reports", "--notebooks", env["notebooks"])
    clear(o, 1, str(tmp_path / "reports" / "case"), "cannot write the reports", fix="choose another with --out", reason="reports_not_writable")


def test_read_only_period_is_kept_and_nothing_left_behind(client, kit, env):
    c = client()
    period = env["reports"] / "case" / EARLIER
    before = tree_digest(period)
    os.chmod(period, 0o555)
    try:
        o = kit("run", c.params(), "--period", EARLIER)
        clear(o, 1, str(period), "the period folder is read-only, so it is kept as it is", fix=f"chmod -R u+w {period}",
              reason="period_protected")
    finally:
        os.chmod(period, 0o755)
    assert tree_digest(period) == before and not (env["reports"] / "case" / f"{EARLIER}.failed").exists()


def test_sigterm_stops_the_run_cleanly(client, env, tmp_path):
    """A scheduler's stop: exit 143 with a message, the temporary folder removed, earlier reports intact."""
    c = client()
    slow = tiny_notebooks(tmp_path / "slow", extra="pathlib.Path(run_dir, 'started').write_text('x')\nimport time\ntime.sleep(120)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kit", "run", str(c.params()), "--period", "2026-08", "--out", str(env["reports"]), "--notebooks", str(slow)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 120
        while not list((env["reports"] / "case").glob(".tmp-2026-08-*/started")):
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 143, out + err
    assert "stopped (SIGTERM)" in err and "[interrupted]" in err and "Traceback" not in out + err
    assert not (env["reports"] / "case" / "2026-08").exists()
    assert not list((env["reports"] / "case").glob(".tmp-*"))


def test_leftovers_of_killed_runs_are_cleaned_and_live_runs_kept(client, kit, env):
    root = env["reports"] / "case"
    dead = root / ".tmp-2026-07-deadbeef"
    old = root / ".old-2026-07-cafe0000"
    live = root / ".tmp-2026-07-11ve0000"
    for f in (dead, old, live):
        (f / "logs").mkdir(parents=True)
        (f / "01_audit.ipynb").write_text("half written")
    handle = locks.claim(live)  # a run in progress holds its folder
    try:
        o = kit("run", client().params(), "--period", "2026-07")
        assert o.code == 0, o.text
        assert not dead.exists() and not old.exists() and live.exists()
    finally:
        locks.release(handle)
        import shutil

        shutil.rmtree(live)


def test_commits_of_one_client_wait_for_the_client_lock(client, env, tmp_path):
    """Proof that a run commits under the per-client lock: while the test holds it, a finished run waits."""
    gate = tmp_path / "go"
    nbs = tiny_notebooks(tmp_path / "gated", extra=f"import time\nwhile not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.05)")
    root = env["reports"] / "case"
    result = {}
    t = threading.Thread(target=lambda: result.update(r=batch.run_client(client().params(), "2026-06", out=env["reports"], notebooks_dir=nbs)))
    t.start()
    wait_for(lambda: list(root.glob(".tmp-2026-06-*")), t)
    with locks.client(root):
        gate.write_text("go")
        wait_for(lambda: list(root.glob(".tmp-2026-06-*/manifest.json")), t)  # every notebook done, the manifest written
        time.sleep(1.0)
        assert t.is_alive() and not (root / "2026-06").exists()  # waiting for the lock to commit
    t.join(60)
    assert result["r"].status == "ok" and (root / "2026-06" / "manifest.json").exists()


def test_two_runs_of_one_period_at_once_leave_one_complete_version(client, env):
    """Two processes (two consultants, or a scheduler and a person) run the same period together."""
    params = client().params()
    root = env["reports"] / "case"
    cmd = [sys.executable, "-m", "kit", "run", str(params), "--period", "2026-05", "--out", str(env["reports"]), "--notebooks", str(env["notebooks"])]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("Traceback" not in out + err for out, err in outs)
    final = root / "2026-05"
    m = json.loads((final / "manifest.json").read_text())
    assert m["status"] == "ok" and all((final / f"{n}.out.json").exists() for n in registry.NAMES)
    assert not list(root.glob(".tmp-2026-05-*")) and not list(root.glob(".old-2026-05-*"))


def wait_for(condition, thread: threading.Thread, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert thread.is_alive() and time.time() < deadline
        time.sleep(0.05)


def test_a_bug_prints_one_line_and_logs_the_traceback(client, kit, monkeypatch):
    def boom(args):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(cli, "cmd_validate", boom)
    o = kit("validate", client().params())
    assert o.code == 3 and "Traceback" not in o.text and "unexpected RuntimeError: planted bug" in o.text
    log = Path(o.err.split("the details are in ")[1].split()[0])
    assert "Traceback" in log.read_text() and "planted bug" in log.read_text()
    log.unlink()


# ---------------------------------------------------------------------------- helpers


class as_nobody:
    """Run a block with the file permissions of user `nobody` (tests run as root in CI, and root may write anywhere)."""

    def __enter__(self):
        os.setegid(65534)
        os.seteuid(65534)

    def __exit__(self, *exc):
        os.seteuid(0)
        os.setegid(0)
        return False
