"""The data audit: each defect type planted in a small clean client is found with its count and
nothing else; clean data scores 100; bad files give findings, not tracebacks; the demo's planted
defects are found exactly; the notebook writes audit.json, audit_failures.csv and its report."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kit.analyses import audit, audit_report
from kit import params
from kit.analyses.audit_checks import AuditCheck, billing_arr, hierarchy_cycles, usual_gap_days
from kit.errors import SourceError
from kit.io.load import ClientData
from kit.periods import Period

AS_OF = date(2026, 10, 31)
EXPORTED = datetime(2026, 11, 2, 8, 0)  # the exports were taken two days after the period closed (their files' time)
IDS = ["A1", "A2", "A3", "A4"]
INVOICE_DATES = [date(2025, 8, 3), date(2025, 11, 2), date(2026, 2, 1), date(2026, 5, 3), date(2026, 8, 2)]  # every 91 days


def clean_frames() -> dict[str, pl.DataFrame]:
    """A small client with nothing wrong: four accounts billed quarterly, daily usage in October."""
    arr = {"A1": 40000.0, "A2": 40000.0, "A3": 40000.0, "A4": 80000.0}
    accounts = pl.DataFrame({
        "account_id": IDS, "account_name": ["Alpha", "Beta", "Gamma", "Delta"], "parent_account_id": [None, "A1", None, None],
        "segment": ["SMB"] * 4, "csm_owner": ["Ann", "Ann", "Bob", "Bob"], "arr": [arr[a] for a in IDS], "seats": [10] * 4,
        "created_at": [date(2024, 1, 10)] * 4, "contract_start": [date(2024, 2, 1)] * 4, "renewal_date": [date(2027, 2, 1)] * 4,
        "industry": ["Retail"] * 4,
    })
    contacts = pl.DataFrame({"contact_id": [f"C{i}" for i in range(1, 5)], "account_id": IDS, "email": [f"c{i}@x.example" for i in range(4)],
                             "role": ["Admin"] * 4, "last_activity_at": [datetime(2026, 10, 1, 9)] * 4})
    days = [date(2026, 10, 1) + timedelta(days=i) for i in range(31)]
    usage = pl.DataFrame({"account_id": [a for a in IDS for _ in days], "date": days * 4, "active_users": [3] * 124, "logins": [5] * 124})
    created = [datetime(2026, 10, 31, 9), datetime(2026, 10, 20, 10), datetime(2026, 10, 20, 11), datetime(2026, 10, 21, 10)]
    tickets = pl.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4"], "account_id": IDS, "created_at": created,
        "resolved_at": [datetime(2026, 10, 31, 12)] + [c + timedelta(days=1) for c in created[1:]],
        "priority": ["normal"] * 4, "csat": [4.0, 5.0, 3.0, None],
    })
    invoices = pl.DataFrame({
        "invoice_id": [f"I-{a}-{k}" for a in IDS for k in range(5)], "account_id": [a for a in IDS for _ in INVOICE_DATES],
        "issued_at": INVOICE_DATES * 4, "due_at": [d + timedelta(days=30) for d in INVOICE_DATES] * 4,
        "paid_at": [d + timedelta(days=10) for d in INVOICE_DATES] * 4, "amount": [arr[a] / 4 for a in IDS for _ in INVOICE_DATES],
    })
    surveys = pl.DataFrame({"account_id": IDS, "responded_at": [AS_OF] * 4, "nps": [9.0, 8.0, 7.0, 10.0]})
    renewals = pl.DataFrame({
        "account_id": [a for a in IDS for _ in range(2)], "renewal_date": [date(2025, 2, 1), date(2026, 2, 1)] * 4,
        "outcome": ["renewed"] * 8, "arr_before": [arr[a] for a in IDS for _ in range(2)], "arr_after": [arr[a] for a in IDS for _ in range(2)],
    })
    return {"accounts": accounts, "contacts": contacts, "usage": usage, "tickets": tickets, "invoices": invoices,
            "surveys": surveys, "renewals": renewals}


def write_client(folder: Path, frames: dict[str, pl.DataFrame], **audit_settings) -> params.Parameters:
    folder.mkdir(parents=True, exist_ok=True)
    sources = {}
    for name, df in frames.items():
        path = folder / (f"{name}.parquet" if name == "usage" else f"{name}.csv")
        df.write_parquet(path) if name == "usage" else df.write_csv(path)
        os.utime(path, (EXPORTED.timestamp(), EXPORTED.timestamp()))
        sources[name] = {"path": path.name}
    raw = {"client": "t", "name": "T", "sources": sources, "audit": audit_settings}
    return params.from_dict(raw, base_dir=folder)


def audit_of(folder: Path, frames, previous=None, **settings) -> audit.AuditResult:
    result = audit.evaluate(ClientData(write_client(folder, frames, **settings)), AS_OF, period="2026-10", previous=previous)
    assert result.notes == []  # every check ran
    return result


def found(result: audit.AuditResult) -> dict[tuple, int]:
    return {(c.check, c.table, c.column): c.failing for c in result.findings}


def with_row(df: pl.DataFrame, **values) -> pl.DataFrame:
    """df plus one row: a copy of the first row with `values` replaced."""
    row = df.head(1).with_columns([pl.lit(v, dtype=df.schema[k]).alias(k) for k, v in values.items()])
    return pl.concat([df, row])


def setv(df: pl.DataFrame, key: str, ident: str, **values) -> pl.DataFrame:
    """df with `values` set on the rows whose `key` is `ident`."""
    hit = pl.col(key) == ident
    return df.with_columns([pl.when(hit).then(pl.lit(v, dtype=df.schema[k])).otherwise(pl.col(k)).alias(k) for k, v in values.items()])


# ---------------------------------------------------------------------------- clean data and the score


def test_clean_data_has_no_finding_and_scores_100(tmp_path):
    r = audit_of(tmp_path, clean_frames())
    assert r.findings == []
    assert r.score == 100.0
    assert set(r.dimensions) == set(audit.DIMENSION_WEIGHTS)
    assert all(s == 100.0 for s in r.dimensions.values())
    assert r.failures().is_empty()
    assert len([c for c in r.checks if c.total]) > 40  # the checks did look at the data


def test_score_formula_matches_a_hand_computation():
    checks = [
        AuditCheck("missing_values", "completeness", "accounts", "arr", "critical", 10, 100),  # pass .9, weight 3
        AuditCheck("missing_values", "completeness", "accounts", "industry", "warning", 0, 50),  # pass 1, weight 1
        AuditCheck("out_of_range", "validity", "surveys", "nps", "error", 1, 4),  # pass .75, weight 2
        AuditCheck("orphans", "integrity", "usage", "account_id", "error", 0, 0),  # looked at nothing: left out
    ]
    overall, dims = audit.score_checks(checks)
    completeness = 100 * (3 * 0.9 + 1 * 1.0) / 4  # 92.5
    validity = 75.0
    assert dims == pytest.approx({"completeness": completeness, "validity": validity})
    assert overall == pytest.approx((0.20 * completeness + 0.15 * validity) / (0.20 + 0.15))  # 85.0
    assert overall == pytest.approx(85.0)


# ---------------------------------------------------------------------------- each defect type, planted


def _dup_account(f):
    f["accounts"] = pl.concat([f["accounts"], f["accounts"].filter(pl.col("account_id") == "A3").with_columns(pl.lit("Gamma (old)").alias("account_name"))])


def _missing_renewal(f):
    f["accounts"] = setv(setv(f["accounts"], "account_id", "A1", renewal_date=None), "account_id", "A2", renewal_date=None)


def _missing_owner(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", csm_owner=None)


def _negative_arr(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A1", arr=-40000.0)


def _orphan_ticket(f):
    f["tickets"] = with_row(f["tickets"], ticket_id="T9", account_id="ZZ", created_at=datetime(2026, 10, 20, 9), resolved_at=None)


def _orphan_usage(f):
    f["usage"] = pl.concat([f["usage"], pl.DataFrame({"account_id": ["ZZ", "ZZ"], "date": [date(2026, 10, 5), date(2026, 10, 6)],
                                                       "active_users": [1, 1], "logins": [1, 1]}, schema=f["usage"].schema)])


def _unknown_parent(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", parent_account_id="NOPE")


def _cycle(f):
    f["accounts"] = setv(setv(f["accounts"], "account_id", "A3", parent_account_id="A4"), "account_id", "A4", parent_account_id="A3")


def _self_parent(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", parent_account_id="A3")


def _nps_and_csat(f):
    f["surveys"] = setv(f["surveys"], "account_id", "A2", nps=11.0)
    f["tickets"] = setv(f["tickets"], "ticket_id", "T2", csat=0.0)


def _future_ticket(f):
    f["tickets"] = setv(f["tickets"], "ticket_id", "T2", created_at=datetime(2026, 11, 3, 10), resolved_at=None)


def _ticket_after_the_period_before_the_export(f):
    f["tickets"] = setv(f["tickets"], "ticket_id", "T2", created_at=datetime(2026, 11, 1, 10), resolved_at=None)


def _usage_before_created(f):
    f["usage"] = pl.concat([f["usage"], pl.DataFrame({"account_id": ["A1"], "date": [date(2023, 12, 1)], "active_users": [1], "logins": [1]},
                                                     schema=f["usage"].schema)])


def _resolved_before_created(f):
    f["tickets"] = setv(f["tickets"], "ticket_id", "T3", resolved_at=datetime(2026, 10, 19, 11))


def _exact_duplicate_ticket(f):
    f["tickets"] = pl.concat([f["tickets"], f["tickets"].filter(pl.col("ticket_id") == "T3")])


def _arr_mismatch(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", arr=60000.0)


def _arr_at_tolerance(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", arr=44000.0)  # exactly 10% above billing: allowed


def _unparseable_ticket_date(f):
    f["tickets"] = f["tickets"].with_columns(pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M:%S"))
    f["tickets"] = setv(f["tickets"], "ticket_id", "T4", created_at="yesterday")


def _stale_usage(f):
    f["usage"] = f["usage"].filter(pl.col("date") <= date(2026, 10, 28))


def _renewal_outcome_missing(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", renewal_date=date(2026, 9, 1))


def _renewal_date_behind(f):
    f["accounts"] = setv(f["accounts"], "account_id", "A3", renewal_date=date(2025, 2, 1))


def _no_usage_for_an_account(f):
    f["usage"] = f["usage"].filter(pl.col("account_id") != "A4")


def _blank_usage_value(f):
    f["usage"] = f["usage"].with_columns(pl.when(pl.int_range(pl.len()) == 7).then(None).otherwise(pl.col("active_users")).alias("active_users"))


def _unknown_priority(f):
    f["tickets"] = setv(f["tickets"], "ticket_id", "T2", priority="P9 - Whatever")


DEFECTS = {
    "duplicate account id": (_dup_account, {("duplicate_key", "accounts", "account_id"): 1}),
    "missing renewal dates": (_missing_renewal, {("missing_values", "accounts", "renewal_date"): 2}),
    "missing owner": (_missing_owner, {("missing_values", "accounts", "csm_owner"): 1, ("no_owner", "accounts", "csm_owner"): 1}),
    "negative ARR": (_negative_arr, {("negative_value", "accounts", "arr"): 1}),
    "orphan ticket": (_orphan_ticket, {("orphans", "tickets", "account_id"): 1}),
    "orphan usage (lazy table)": (_orphan_usage, {("orphans", "usage", "account_id"): 2}),
    "unknown parent": (_unknown_parent, {("unknown_parent", "accounts", "parent_account_id"): 1}),
    "hierarchy cycle": (_cycle, {("hierarchy_cycle", "accounts", "parent_account_id"): 2}),
    "own parent": (_self_parent, {("hierarchy_cycle", "accounts", "parent_account_id"): 1}),
    "NPS and CSAT out of range": (_nps_and_csat, {("out_of_range", "surveys", "nps"): 1, ("out_of_range", "tickets", "csat"): 1}),
    "future date": (_future_ticket, {("future_date", "tickets", "created_at"): 1}),
    "after the period end, before the export: not a defect": (_ticket_after_the_period_before_the_export, {}),
    "before account created": (_usage_before_created, {("before_account_created", "usage", "date"): 1}),
    "resolved before created": (_resolved_before_created, {("resolved_before_created", "tickets", "resolved_at"): 1}),
    "exact duplicate row": (_exact_duplicate_ticket, {("duplicate_rows", "tickets", None): 1, ("duplicate_key", "tickets", "ticket_id"): 1}),
    "ARR vs billing": (_arr_mismatch, {("arr_billing_mismatch", "accounts", "arr"): 1}),
    "ARR at the tolerance": (_arr_at_tolerance, {}),
    "unparseable date": (_unparseable_ticket_date, {("unparseable_datetime", "tickets", "created_at"): 1}),
    "stale usage": (_stale_usage, {("stale_source", "usage", "date"): 1}),
    "renewal outcome missing": (_renewal_outcome_missing, {("renewal_outcome_missing", "accounts", "renewal_date"): 1}),
    "renewal date not rolled forward": (_renewal_date_behind, {("renewal_date_behind", "accounts", "renewal_date"): 1}),
    "no usage for an account": (_no_usage_for_an_account, {("coverage", "usage", "account_id"): 1}),
    "blank usage value": (_blank_usage_value, {("missing_values", "usage", "active_users"): 1}),
    "unknown label": (_unknown_priority, {("unknown_label", "tickets", "priority"): 1}),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_each_planted_defect_is_found_with_its_count_and_nothing_else(tmp_path, name):
    plant, expected = DEFECTS[name]
    frames = clean_frames()
    plant(frames)
    r = audit_of(tmp_path, frames)
    assert found(r) == expected
    if expected:
        assert r.score < 100
        failures = r.failures()
        for (check, table, column), n in expected.items():
            rows = failures.filter((pl.col("check") == check) & (pl.col("table") == table))
            assert rows.height >= n  # every failing record is listed (duplicates list every row carrying the id)
    else:
        assert r.score == 100.0


def test_failing_records_name_the_record_and_value(tmp_path):
    frames = clean_frames()
    _dup_account(frames), _orphan_ticket(frames), _arr_mismatch(frames), _missing_renewal(frames)
    r = audit_of(tmp_path, frames)
    f = r.failures()
    assert f.columns[:5] == ["table", "record_id", "account_id", "row", "check"] and "value" in f.columns
    dup = f.filter(pl.col("check") == "duplicate_key")
    assert sorted(dup["row"].to_list()) == [3, 5] and set(dup["record_id"]) == {"A3"}  # both rows of A3 in the export
    orphan = f.filter(pl.col("check") == "orphans").row(0, named=True)
    assert (orphan["record_id"], orphan["value"]) == ("T9", "ZZ")
    arr = f.filter(pl.col("check") == "arr_billing_mismatch").row(0, named=True)
    assert arr["record_id"] == "A3" and "60000" in arr["value"] and "40000" in arr["value"] and "50.0%" in arr["value"]
    assert [c.table for c in r.blockers] == ["accounts", "accounts"]  # missing renewal dates, duplicate account id
    assert {c.check for c in r.blockers} == {"missing_values", "duplicate_key"}
    assert r.to_json()["band"] == "blocked"
    fixes = audit_report.fix_first(r)
    assert fixes[0].startswith("**Blocker**") and len(fixes) == len(r.findings)


def test_arr_billing_last_12_months_method(tmp_path):
    frames = clean_frames()
    _arr_mismatch(frames)
    r = audit_of(tmp_path, frames, arr_billing="last_12_months")
    assert found(r) == {("arr_billing_mismatch", "accounts", "arr"): 1}
    billed = r.details["arr"].filter(pl.col("account_id") == "A1")["billed_arr"].item()
    assert billed == 40000.0  # 4 quarterly invoices of 10,000 in the 12 months to AS_OF


def test_volume_against_previous_period(tmp_path):
    previous = {"period": "2026-09", "tables": {"tickets": {"rows": 100}, "accounts": {"rows": 4}, "usage": {"rows": None}}}
    r = audit_of(tmp_path, clean_frames(), previous=previous)
    assert found(r) == {("volume_change", "tickets", None): 1}  # 4 rows against 100; accounts unchanged
    assert r.find("volume_change", "accounts").failing == 0
    assert r.previous_period == "2026-09"


def test_previous_audit_is_read_from_the_sibling_period_folder(tmp_path):
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "audit.json").write_text(json.dumps({"period": "2026-09", "tables": {}}))
    assert audit.previous_audit(tmp_path / ".tmp-2026-10-abc", Period(2026, 10))["period"] == "2026-09"
    assert audit.previous_audit(tmp_path / "2026-12", Period(2026, 12)) is None


# ---------------------------------------------------------------------------- bad files: findings, not tracebacks


def _params(folder, frames, overrides: dict) -> params.Parameters:
    p = write_client(folder, frames)
    raw = {"client": "t", "name": "T", "sources": {k: v.model_dump(exclude_none=True) for k, v in p.sources.items()}}
    raw["sources"].update(overrides)
    return params.from_dict(raw, base_dir=folder)


def test_missing_table_file_is_a_finding(tmp_path):
    p = _params(tmp_path, clean_frames(), {"tickets": {"path": "no_such_export.csv"}})
    r = audit.evaluate(ClientData(p), AS_OF)
    assert found(r) == {("table_unavailable", "tickets", None): 1}
    assert "file not found" in r.findings[0].message
    assert r.tables["tickets"]["status"] == "unavailable"


def test_empty_file_is_a_finding(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    p = _params(tmp_path, clean_frames(), {"tickets": {"path": "empty.csv"}})
    r = audit.evaluate(ClientData(p), AS_OF)
    assert found(r) == {("table_unavailable", "tickets", None): 1}
    assert "empty" in r.findings[0].message


def test_header_only_file_is_an_empty_table(tmp_path):
    frames = clean_frames()
    frames["tickets"] = frames["tickets"].head(0)
    r = audit_of(tmp_path, frames)
    assert found(r) == {("empty_table", "tickets", None): 1}


def test_column_of_unparseable_dates(tmp_path):
    frames = clean_frames()
    frames["tickets"] = frames["tickets"].with_columns(pl.lit("not recorded").alias("created_at"))
    r = audit_of(tmp_path, frames)
    assert found(r) == {("unparseable_datetime", "tickets", "created_at"): 4, ("stale_source", "tickets", "created_at"): 1}
    assert r.find("unparseable_datetime").total == 4


def test_latin1_file_is_read_and_reported(tmp_path):
    frames = clean_frames()
    frames["accounts"] = setv(frames["accounts"], "account_id", "A2", account_name="Müller Straße GmbH")
    write_client(tmp_path, frames)
    path = tmp_path / "accounts.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    r = audit.evaluate(ClientData(write_client_params(tmp_path, frames)), AS_OF)
    assert found(r) == {("encoding", "accounts", None): 1}
    assert r.findings[0].severity == "warning"


def write_client_params(folder: Path, frames) -> params.Parameters:
    sources = {n: {"path": f"{n}.parquet" if n == "usage" else f"{n}.csv"} for n in frames}
    return params.from_dict({"client": "t", "name": "T", "sources": sources}, base_dir=folder)


def test_missing_accounts_table_is_a_clear_error(tmp_path):
    frames = clean_frames()
    write_client(tmp_path, frames)
    (tmp_path / "accounts.csv").unlink()
    with pytest.raises(SourceError) as e:
        audit.evaluate(ClientData(write_client_params(tmp_path, frames)), AS_OF)
    assert "accounts.csv" in str(e.value) and "file not found" in str(e.value) and e.value.fix


# ---------------------------------------------------------------------------- helpers


def test_hierarchy_cycles():
    parent = {"a": "b", "b": "c", "c": "a", "d": "a", "e": "e", "f": "g", "g": "unknown"}
    assert hierarchy_cycles(parent) == {"a", "b", "c", "e"}  # d leads into the cycle but is not on it


def test_usual_gap_and_billing_run_rate():
    weekly = pl.Series([date(2026, 1, 5) + timedelta(days=7 * i) for i in range(10)])
    assert usual_gap_days(weekly) == 7
    assert usual_gap_days(pl.Series([date(2026, 1, 1)])) == 1
    monthly = pl.DataFrame({"account_id": ["M"] * 6 + ["S"], "issued_at": [date(2026, m, 1) for m in range(1, 7)] + [date(2026, 3, 1)],
                            "amount": [100.0] * 5 + [120.0] + [300.0]}).sort("account_id", "issued_at")
    out = {r["account_id"]: r for r in billing_arr(monthly, AS_OF).to_dicts()}
    assert out["M"]["per_year"] == 12 and out["M"]["billed_arr"] == 1440.0  # latest invoice x 12
    assert out["S"]["per_year"] == 12  # one invoice: the client's usual spacing (monthly)


# ---------------------------------------------------------------------------- the demo client

DEMO_FINDINGS = {
    ("duplicate_key", "accounts", "account_id"): "duplicate_account_ids",
    ("unknown_parent", "accounts", "parent_account_id"): "unknown_parent",
    ("hierarchy_cycle", "accounts", "parent_account_id"): "hierarchy_cycle",
    ("missing_values", "accounts", "renewal_date"): "missing_renewal_date",
    ("missing_values", "accounts", "csm_owner"): "missing_owner",
    ("no_owner", "accounts", "csm_owner"): "missing_owner",
    ("negative_value", "accounts", "arr"): "negative_arr",
    ("arr_billing_mismatch", "accounts", "arr"): "arr_billing_mismatch",
    ("orphans", "contacts", "account_id"): "orphan_contacts",
    ("orphans", "tickets", "account_id"): "orphan_tickets",
    ("orphans", "invoices", "account_id"): "orphan_invoices",
    ("duplicate_rows", "tickets", None): "duplicate_ticket_rows",
    ("duplicate_key", "tickets", "ticket_id"): "duplicate_ticket_rows",
    ("unparseable_datetime", "tickets", "created_at"): "unparseable_ticket_dates",
    ("resolved_before_created", "tickets", "resolved_at"): "resolved_before_created",
    ("out_of_range", "surveys", "nps"): "nps_out_of_range",
}


@pytest.fixture(scope="module")
def demo_audit(demo_data):
    from tests.conftest import DEMO_END

    return audit.evaluate(demo_data, DEMO_END, period="2026-10")


def test_demo_defects_found_with_exact_counts_and_ids(demo_audit, demo_truth):
    r = demo_audit
    defects, ids = demo_truth["defects"], demo_truth["defect_ids"]
    expected = {k: defects[v] for k, v in DEMO_FINDINGS.items()} | {("stale_source", "usage", "date"): 1}
    assert found(r) == expected  # every planted defect, and no false positive anywhere else
    assert r.notes == []
    for (check, table, column), truth in DEMO_FINDINGS.items():
        c = r.find(check, table, column)
        if truth == "nps_out_of_range":  # surveys have no id: the record is account / date
            got = {x.split(" / ")[0] for x in c.records["record_id"]}
        else:
            got = set(c.records["record_id"])
        assert got == set(ids[truth]), (check, table)
    stale = r.details["freshness"].filter(pl.col("table") == "usage").row(0, named=True)
    assert stale["age_hours"] == 24 * defects["stale_usage_days"]
    assert {c.check for c in r.blockers} == {"duplicate_key", "missing_values", "negative_value"}


def test_demo_zero_checks_that_must_be_zero(demo_audit):
    r = demo_audit
    for check in ("before_account_created", "future_date"):
        cs = [c for c in r.checks if c.check == check]
        assert cs and all(c.failing == 0 for c in cs) and sum(c.total for c in cs) > 100_000
    for table in ("usage", "surveys", "renewals", "health_scores", "ctas"):
        c = r.find("orphans", table)
        assert c.failing == 0 and c.total > 0


# ---------------------------------------------------------------------------- the notebook, end to end


@pytest.fixture(scope="module")
def audit_run(demo_params_file, tmp_path_factory):
    from kit.run import batch
    from tests.conftest import DEMO_PERIOD

    out = tmp_path_factory.mktemp("audit-run")
    result = batch.run_client(demo_params_file, DEMO_PERIOD, out=out, only=["audit"])
    assert result.status == "ok", result.failure
    return Path(result.folder)


def test_notebook_writes_audit_json_failures_csv_and_report(audit_run, demo_truth):
    data = json.loads((audit_run / "audit.json").read_text())
    assert 0 <= data["score"] <= 100 and set(data["dimensions"]) == set(audit.DIMENSION_WEIGHTS)
    keys = {"check", "table", "column", "severity", "failing", "total", "examples"}
    assert data["findings"] and all(keys <= set(f) for f in data["findings"])
    assert {(f["check"], f["table"]): f["failing"] for f in data["findings"]}[("orphans", "tickets")] == demo_truth["defects"]["orphan_tickets"]
    assert data["band"] == "blocked" and data["blockers"]
    # the score can be recomputed from the checks list with the documented formula
    checks = [AuditCheck(c["check"], c["dimension"], c["table"], c["column"], c["severity"], c["failing"], c["total"], scored=c["scored"]) for c in data["checks"]]
    assert audit.score_checks(checks)[0] == pytest.approx(data["score"], abs=0.01)
    csv = pl.read_csv(audit_run / "audit_failures.csv", infer_schema=False)
    assert csv.columns[:2] == ["table", "record_id"] and {"check", "column", "value"} <= set(csv.columns)
    assert csv.filter(pl.col("check") == "orphans").height == sum(demo_truth["defects"][k] for k in ("orphan_contacts", "orphan_tickets", "orphan_invoices"))
    import nbformat

    nb = nbformat.read(audit_run / "01_audit.ipynb", 4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    html = (audit_run / "01_audit.html").read_text()
    assert "What to fix first" in html and "How the score is computed" in html
    assert html.count("data:image/svg+xml") >= 10  # the charts, inline (pages work offline)
    assert "Traceback" not in html


def test_a_period_before_the_sources_begin_has_a_typed_freshness_table_and_chart(tmp_path):
    """No source has a record on or before the period end: each freshness is a finding, and the chart draws
    (a column of nulls handed to Altair failed with "Unexpected DtypeKind")."""
    from kit.analyses import audit_report

    p = write_client(tmp_path, clean_frames())
    r = audit.evaluate(ClientData(p), date(2023, 1, 31), period="2023-01")
    fresh = r.details["freshness"]
    assert fresh.schema["age_hours"] == pl.Float64 and fresh["age_hours"].null_count() == fresh.height > 0
    assert r.find("stale_source", "tickets").failing == 1 and "no dated records" in r.find("stale_source", "tickets").message
    assert audit_report.freshness_chart(r).to_dict()["data"]


def test_salesforce_id_hint_only_when_most_orphans_are_the_other_length_of_known_ids():
    from kit.analyses.audit_checks import salesforce_id_hint

    known = pl.Series(["001000000000001", "001000000000002"])  # 15 characters
    assert "CASESAFEID" in salesforce_id_hint(known, pl.Series(["001000000000001AAA", "001000000000002AAB"]), "tickets")
    assert salesforce_id_hint(known, pl.Series(["001000000000009AAA", "ZZ", "YY"]), "tickets") == ""  # not the same accounts
    assert "15-character ones" in salesforce_id_hint(pl.Series(["001000000000001AAA"]), pl.Series(["001000000000001"]), "tickets")
    assert salesforce_id_hint(pl.Series(["A1", "A2"]), pl.Series(["ZZ"]), "tickets") == ""


def test_counts_of_failing_records_are_drawn_on_whole_number_ticks(tmp_path):
    """A check failing on one record drew an axis of 0, 0.1, ... 1.0: records come whole."""
    import re

    import vl_convert as vlc

    from kit.analyses import audit_report

    p = write_client(tmp_path, clean_frames())
    r = audit.evaluate(ClientData(p), date(2023, 1, 31), period="2023-01")
    dimension = next(c.dimension for c in r.findings if c.failing == 1)
    svg = vlc.vegalite_to_svg(audit_report.checks_chart(r, dimension).to_json())
    ticks = re.findall(r">([-\d.,]+)</text>", svg)
    assert ticks and all(re.fullmatch(r"[\d,]+", t) for t in ticks), ticks
    assert len(ticks) == len(set(ticks)), ticks  # no 0.5 printed as a second "1"
