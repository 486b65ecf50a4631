"""Loading client exports onto canonical tables: mapping, parsing, and the errors a consultant sees."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from kit import params
from kit.errors import KitErrors, ParseError, SourceError
from kit.io.load import ClientData, aggregate_events, load_table

ACCOUNTS_CSV = (
    "Account ID,Acct Name,ARR (USD),Seats,Created,Renewal Date,Tier\n"
    'A1,Alpha,"$12,000.00",10,01/15/2024,01/15/2025,SMB\n'
    "A2,Beta,(1500),5,02/29/2024,,SMB\n"
    "A3,Gamma,abc,x,13/45/2024,03/01/2025,Enterprise\n"
)


def make_params(tmp_path, sources: dict) -> params.Parameters:
    return params.from_dict({"client": "t", "name": "T", "sources": sources}, base_dir=tmp_path)


def accounts_source(path="accounts.csv", **extra) -> dict:
    return {
        "path": path,
        "date_format": "%m/%d/%Y",
        "columns": {
            "Account ID": "account_id", "Acct Name": "account_name", "ARR (USD)": "arr", "Seats": "seats",
            "Created": "created_at", "Renewal Date": "renewal_date", "Tier": "segment",
        },
        **extra,
    }


def test_csv_mapping_and_lenient_parsing(tmp_path):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS_CSV)
    t = load_table(make_params(tmp_path, {"accounts": accounts_source()}), "accounts")
    df = t.frame.collect()
    assert df.columns == ["_row", "account_id", "account_name", "arr", "seats", "created_at", "renewal_date", "segment"]
    assert df["arr"].to_list() == [12000.0, -1500.0, None]  # currency, thousands, accounting negatives
    assert df["seats"].to_list() == [10, 5, None]
    assert df["created_at"].to_list() == [date(2024, 1, 15), date(2024, 2, 29), None]
    assert df["renewal_date"].to_list() == [date(2025, 1, 15), None, date(2025, 3, 1)]  # blank is missing, not a failure
    found = {(p.column, p.code): (p.count, p.examples) for p in t.problems}
    assert found == {
        ("arr", "unparseable_number"): (1, ["abc"]),
        ("seats", "unparseable_integer"): (1, ["x"]),
        ("created_at", "unparseable_date"): (1, ["13/45/2024"]),
    }
    rows = t.failing_rows("created_at")
    assert rows.to_dicts() == [{"_row": 3, "account_id": "A3", "value": "13/45/2024"}]


def test_strict_loading_names_file_column_and_example(tmp_path):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS_CSV)
    with pytest.raises(KitErrors) as e:
        load_table(make_params(tmp_path, {"accounts": accounts_source()}), "accounts", strict=True)
    text = str(e.value)
    assert "accounts.csv" in text and "column 'Created' (created_at)" in text and "'13/45/2024'" in text and "fix:" in text


def test_column_names_match_ignoring_case_spacing_and_bom(tmp_path):
    (tmp_path / "a.csv").write_text("\ufeff account id ,ACCOUNT_NAME\nA1,Alpha\n", encoding="utf-8")
    p = make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"Account ID": "account_id"}}})
    df = load_table(p, "accounts").frame.collect()
    assert df.select("account_id", "account_name").rows() == [("A1", "Alpha")]  # canonical name taken as is


def test_missing_mapped_column_lists_the_file_columns(tmp_path):
    (tmp_path / "a.csv").write_text("Id,Name\nA1,Alpha\n")
    p = make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"Account ID": "account_id"}}})
    with pytest.raises(SourceError) as e:
        load_table(p, "accounts")
    text = str(e.value)
    assert "a.csv" in text and "'Account ID' (mapped to account_id)" in text and "the file has: Id, Name" in text


def test_required_column_not_mapped(tmp_path):
    (tmp_path / "t.csv").write_text("id,acct\n1,A1\n")
    p = make_params(tmp_path, {"accounts": {"path": "t.csv", "columns": {"acct": "account_id"}},
                               "tickets": {"path": "t.csv", "columns": {"id": "ticket_id", "acct": "account_id"}}})
    with pytest.raises(SourceError, match="required column.*created_at of tickets"):
        load_table(p, "tickets")


def test_unknown_labels_are_reported_with_the_labels_seen(tmp_path):
    (tmp_path / "r.csv").write_text("acct,date,stage\nA1,2025-01-01,Closed Lost\nA2,2025-02-01,Renewed\nA3,2025-03-01,Lost?\nA4,2025-03-01,Pending\n")
    src = {"path": "r.csv", "columns": {"acct": "account_id", "date": "renewal_date", "stage": "outcome"},
           "values": {"outcome": {"Closed Lost": "churned"}}}
    p = make_params(tmp_path, {"accounts": {"path": "r.csv", "columns": {"acct": "account_id"}}, "renewals": src})
    t = load_table(p, "renewals")
    assert t.frame.collect()["outcome"].to_list() == ["churned", "renewed", None, None]  # canonical labels match in any case
    (prob,) = t.problems
    assert prob.code == "unknown_label" and prob.count == 2
    assert "labels seen: Lost?, Pending" in prob.fix and "sources.renewals.values.outcome" in prob.fix


def test_parquet_and_excel_sources(tmp_path):
    frame = pl.DataFrame({"id": ["A1", "A2"], "arr": [100.5, 200.0], "created": [date(2024, 1, 1), date(2024, 2, 1)]})
    frame.write_parquet(tmp_path / "a.parquet")
    frame.write_excel(tmp_path / "a.xlsx", worksheet="Accounts")
    cols = {"id": "account_id", "arr": "arr", "created": "created_at"}
    for src in ({"path": "a.parquet", "columns": cols}, {"path": "a.xlsx", "sheet": "Accounts", "columns": cols}, {"path": "a.xlsx", "sheet": 0, "columns": cols}):
        df = load_table(make_params(tmp_path, {"accounts": src}), "accounts").frame.collect()
        assert df.select("account_id", "arr", "created_at").rows() == [("A1", 100.5, date(2024, 1, 1)), ("A2", 200.0, date(2024, 2, 1))], src


def test_date_format_inferred_when_unambiguous(tmp_path):
    (tmp_path / "a.csv").write_text("id,created\nA1,25.12.2024\nA2,01.02.2024\n")
    df = load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id", "created": "created_at"}}}), "accounts").frame.collect()
    assert df["created_at"].to_list() == [date(2024, 12, 25), date(2024, 2, 1)]


def test_datetimes_with_t_z_and_fractions(tmp_path):
    (tmp_path / "a.csv").write_text("id\nA1\n")
    (tmp_path / "t.csv").write_text("id,acct,at\n1,A1,2025-03-04T10:22:00Z\n2,A1,2025-03-04 10:22:00.250\n3,A1,2025-03-05\n")
    p = make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id"}},
                               "tickets": {"path": "t.csv", "columns": {"id": "ticket_id", "acct": "account_id", "at": "created_at"}}})
    got = load_table(p, "tickets").frame.collect()["created_at"].to_list()
    assert got == [datetime(2025, 3, 4, 10, 22), datetime(2025, 3, 4, 10, 22, 0, 250000), datetime(2025, 3, 5)]


def test_latin1_file_is_read_and_reported(tmp_path):
    (tmp_path / "a.csv").write_bytes("id,name\nA1,Müller GmbH\n".encode("latin-1"))
    t = load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id", "name": "account_name"}}}), "accounts")
    assert t.frame.collect()["account_name"].to_list() == ["Müller GmbH"]
    assert t.problems == [] and [n.code for n in t.notes] == ["encoding"] and "latin-1" in t.notes[0].fix
    assert t.notes[0].ambiguous  # a guess the parameters should confirm: a warning
    # declaring the encoding silences the note
    t = load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "encoding": "latin-1", "columns": {"id": "account_id", "name": "account_name"}}}), "accounts")
    assert t.notes == [] and t.frame.collect()["account_name"].to_list() == ["Müller GmbH"]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "file not found"),
        (lambda d: (d / "a.csv").write_text(""), "file is empty"),
        (lambda d: (d / "a.csv").write_bytes(b"PK\x03\x04 not really a zip"), "account_id"),
    ],
)
def test_unusable_required_table_is_a_clear_error(tmp_path, setup, message):
    setup(tmp_path)
    p = make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id"}}})
    with pytest.raises(SourceError) as e:
        ClientData(p)
    assert message in str(e.value) and "a.csv" in str(e.value) and "fix:" in str(e.value)


def test_unusable_optional_table_is_recorded_not_raised(tmp_path):
    (tmp_path / "a.csv").write_text("id\nA1\n")
    (tmp_path / "t.csv").write_text("")
    p = make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id"}}, "tickets": {"path": "t.csv"}})
    data = ClientData(p)
    assert data.has("accounts") and not data.has("tickets")
    assert "file is empty" in data.unavailable["tickets"]
    assert "not configured" in data.unavailable["surveys"]
    with pytest.raises(SourceError, match="table 'tickets' is not available"):
        data.table("tickets")


def test_header_only_file_is_an_empty_table(tmp_path):
    (tmp_path / "a.csv").write_text("id,arr\n")
    with pytest.raises(SourceError) as e:
        load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id", "arr": "arr"}}}), "accounts")
    assert e.value.code == "empty_table" and "a.csv" in str(e.value) and "no records" in str(e.value)


def test_booleans_and_decimal_comma(tmp_path):
    (tmp_path / "a.csv").write_text("id\nA1\n")
    (tmp_path / "team.csv").write_text("user;active\nx@a;Yes\ny@a;no\nz@a;maybe\n")
    (tmp_path / "inv.csv").write_text("id;acct;date;amount\n1;A1;2025-01-01;1.234,50\n")
    p = make_params(tmp_path, {
        "accounts": {"path": "a.csv", "columns": {"id": "account_id"}},
        "team": {"path": "team.csv"},
        "invoices": {"path": "inv.csv", "decimal_comma": True, "columns": {"id": "invoice_id", "acct": "account_id", "date": "issued_at", "amount": "amount"}},
    })
    team = load_table(p, "team")
    assert team.frame.collect()["active"].to_list() == [True, False, None]
    assert team.problems[0].code == "unparseable_bool" and team.problems[0].examples == ["maybe"]
    assert load_table(p, "invoices").frame.collect()["amount"].to_list() == [1234.5]


def test_raw_events_are_aggregated_to_daily_usage(tmp_path):
    (tmp_path / "a.csv").write_text("id\nA1\nA2\n")
    (tmp_path / "ev.csv").write_text(
        "acct,uid,ts,name\n"
        "A1,u1,2025-01-01T09:00:00Z,login\nA1,u1,2025-01-01T10:00:00Z,view\nA1,u2,2025-01-01T11:00:00Z,login\n"
        "A1,u1,2025-01-02T09:00:00Z,export\nA2,u9,2025-01-01T09:00:00Z,signin\n"
        " A1 ,u3,2025-01-02T10:00:00Z,login\n"  # padded id: the same account, so the same account group
    )
    p = make_params(tmp_path, {
        "accounts": {"path": "a.csv", "columns": {"id": "account_id"}},
        "usage": {"path": "ev.csv", "login_events": ["login", "signin"], "columns": {"acct": "account_id", "uid": "user_id", "ts": "timestamp", "name": "event"}},
    })
    t = load_table(p, "usage")
    assert t.kind == "events"
    df = t.frame.collect().sort("account_id", "date").select("account_id", "date", "active_users", "logins", "events")
    assert df.rows() == [
        ("A1", date(2025, 1, 1), 2, 2, 3),
        ("A1", date(2025, 1, 2), 2, 1, 2),
        ("A2", date(2025, 1, 1), 1, 1, 1),
    ]


def test_event_aggregation_matches_a_python_count():
    import random

    rng = random.Random(3)
    rows = [(f"A{rng.randint(1, 5)}", f"u{rng.randint(1, 30)}", datetime(2025, 1, rng.randint(1, 9), rng.randint(0, 23)), rng.choice(["login", "view"])) for _ in range(3000)]
    events = pl.DataFrame(rows, schema=["account_id", "user_id", "timestamp", "event"], orient="row").lazy()
    expected: dict = {}
    for a, u, ts, ev in rows:
        users, logins, n = expected.get((a, ts.date()), (set(), 0, 0))
        expected[(a, ts.date())] = (users | {u}, logins + (ev == "login"), n + 1)
    for partitions in (1, 3, 4):  # account groups aggregated one after the other: same counts, each account-day once
        daily = aggregate_events(events, ["login"], partitions=partitions).collect()
        got = {(r["account_id"], r["date"]): (r["active_users"], r["logins"], r["events"]) for r in daily.iter_rows(named=True)}
        assert daily.height == len(got)
        assert got == {k: (len(v[0]), v[1], v[2]) for k, v in expected.items()}


def test_demo_loads_with_only_the_planted_parse_problem(demo_data, demo_truth):
    problems = [(p.table, p.column, p.code, p.count) for p in demo_data.problems]
    assert problems == [("tickets", "created_at", "unparseable_datetime", demo_truth["defects"]["unparseable_ticket_dates"])]
    assert not demo_data.errors
    failing = demo_data.loads["tickets"].failing_rows("created_at")["ticket_id"].to_list()
    assert sorted(failing) == demo_truth["defect_ids"]["unparseable_ticket_dates"]


def test_parse_error_type_is_specific(tmp_path):
    (tmp_path / "a.csv").write_text("id,arr\nA1,zzz\n")
    with pytest.raises(ParseError, match="'arr'.*'zzz'"):
        load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id", "arr": "arr"}}}), "accounts", strict=True)


def test_footer_rows_are_totals_and_boilerplate_never_data():
    from kit.io.layout import footer_rows

    header = ["Account Name", "ARR", "Segment"]
    data = [["Acme", "10", "SMB"], ["Total Energies", "20", "ENT"]]
    assert footer_rows([header, *data], 3) == 0  # an account named "Total ..." is data
    assert footer_rows([header, *data, ["Total", "30", ""], [], ["Confidential Information - Do Not Distribute"], ["Acme Corp"]], 3) == 4
    assert footer_rows([header, *data, ["Acme Corp"]], 3) == 0  # one filled cell alone is not a footer


def test_strict_loading_of_ids_a_spreadsheet_rounded_names_the_reason(tmp_path):
    """Ids in scientific notation stop strict loading with their own reason code (it used to be unknown to Reason)."""
    (tmp_path / "a.csv").write_text("id,name\n1.23457E+11,Alpha\n1.23457E+11,Beta\n")
    with pytest.raises(ParseError) as e:
        load_table(make_params(tmp_path, {"accounts": {"path": "a.csv", "columns": {"id": "account_id", "name": "account_name"}}}),
                   "accounts", strict=True)
    assert "[unparseable_id]" in str(e.value) and "scientific notation" in str(e.value)
