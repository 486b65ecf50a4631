"""Signals: interface, hand-computed values on a tiny client, time-honesty (leakage) on the demo."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from kit.analyses import signals
from kit import catalog
from tests.support.frames import FrameData
from kit.errors import KitError


D = date


def tiny(demo_params) -> FrameData:
    """Two accounts, every table, values chosen so each signal is easy to compute by hand."""
    accounts = pl.DataFrame(
        {"account_id": ["A", "B"], "segment": ["SMB", "SMB"], "seats": [10, 5], "arr": [1000.0, 500.0],
         "created_at": [D(2025, 1, 1), D(2025, 6, 1)]}
    )
    days = pl.date_range(D(2025, 1, 1), D(2025, 3, 31), eager=True)  # A uses daily from 1 Jan
    n = len(days)
    # A: 4 active users/day in Jan, 2/day from 1 Feb onwards; logins 3 per active user
    au = [4 if d < D(2025, 2, 1) else 2 for d in days]
    usage = pl.DataFrame({"account_id": ["A"] * n, "date": days, "active_users": au, "logins": [3 * a for a in au],
                          "api_calls": [1.0] * n})
    tickets = pl.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4"],
            "account_id": ["A", "A", "A", "A"],
            "created_at": [datetime(2024, 12, 1, 9), datetime(2025, 2, 1, 9), datetime(2025, 2, 10, 9), datetime(2025, 2, 20, 9)],
            "resolved_at": [datetime(2024, 12, 3, 9), datetime(2025, 2, 3, 9), None, datetime(2025, 3, 20, 9)],
            "priority": ["high", "normal", "urgent", "high"],
            "csat": [1.0, 4.0, None, 2.0],
        }
    )
    invoices = pl.DataFrame(
        {
            "invoice_id": ["i1", "i2", "i3", "i4"],
            "account_id": ["A"] * 4,
            "issued_at": [D(2024, 6, 1), D(2024, 9, 1), D(2024, 12, 1), D(2025, 2, 1)],
            "due_at": [D(2024, 7, 1), D(2024, 10, 1), D(2024, 12, 31), D(2025, 3, 3)],
            "paid_at": [D(2024, 6, 20), D(2024, 10, 11), None, D(2025, 3, 1)],
            "amount": [250.0] * 4,
        }
    )
    surveys = pl.DataFrame({"account_id": ["A", "A", "A"], "responded_at": [D(2024, 9, 1), D(2025, 1, 15), D(2025, 3, 1)],
                            "nps": [9.0, 6.0, 3.0]})
    contacts = pl.DataFrame(
        {"contact_id": ["c1", "c2", "c3"], "account_id": ["A", "A", "A"], "role": ["Champion", "User", "Admin"],
         "last_activity_at": [datetime(2025, 1, 10), datetime(2025, 2, 20), datetime(2025, 4, 15)]}
    )
    renewals = pl.DataFrame({"account_id": ["A", "A"], "renewal_date": [D(2025, 1, 20), D(2026, 1, 20)],
                             "outcome": ["contracted", "churned"], "arr_before": [1200.0, 1000.0], "arr_after": [900.0, 0.0]})
    return FrameData(
        dict(accounts=accounts, usage=usage, tickets=tickets, invoices=invoices, surveys=surveys, contacts=contacts, renewals=renewals),
        demo_params,
    )


def test_available_lists_catalog_and_features(demo_data):
    names = signals.available(demo_data)
    assert set(catalog.SIGNALS) <= set(names)
    assert {"feature_api_calls", "feature_reports_exported"} <= set(names)


def test_available_depends_on_tables(demo_params):
    d = tiny(demo_params)
    del d.tables["surveys"]
    d.tables["tickets"] = d.tables["tickets"].drop("csat")
    names = signals.available(d)
    assert "latest_nps" not in names and "mean_csat_90d" not in names
    assert "tickets_90d" in names and "feature_api_calls" in names
    with pytest.raises(KitError, match="latest_nps: table surveys not available"):
        signals.build(d, pl.DataFrame({"account_id": ["A"], "as_of": [D(2025, 3, 1)]}), ["latest_nps"])


def test_hand_computed_values(demo_params):
    d = tiny(demo_params)
    pts = pl.DataFrame({"account_id": ["A", "B", "A", "Z"], "as_of": [D(2025, 3, 2), D(2025, 3, 2), D(2025, 1, 1), D(2025, 3, 2)]})
    out = signals.build(d, pts)
    assert out.columns[:4] == ["account_id", "as_of", "segment", "arr"]
    assert out["account_id"].to_list() == ["A", "B", "A", "Z"]  # one row per point, same order
    assert all(out.schema[s] == pl.Float64 for s in out.columns[3:])
    a = out.row(0, named=True)
    # usage window [31 Jan, 2 Mar) (February has 28 days): 1 day at 4 users + 29 days at 2 users
    assert a["active_users_per_seat"] == pytest.approx((4 + 29 * 2) / 30 / 10)
    assert a["logins_per_active_user"] == pytest.approx(3.0)
    # previous window [1 Jan, 31 Jan): 30 days at 4 users
    assert a["active_users_change_30d"] == pytest.approx(((4 + 29 * 2) / 30) / 4.0 - 1)
    assert a["feature_api_calls"] == pytest.approx(1.0)
    # tickets created in [2 Dec, 2 Mar): t2, t3, t4 (t1 was created on 1 Dec, the day before the window)
    assert a["tickets_90d"] == 3
    # open high/urgent at 2 Mar: t3 (never solved), t4 (solved 20 Mar) -> 2; t1 solved in Dec
    assert a["open_high_priority_tickets"] == 2
    # solved in the window: t1 (2 days, csat 1), t2 (2 days, csat 4); t4 solved after as_of
    assert a["days_to_resolve_90d"] == pytest.approx(2.0)
    assert a["mean_csat_90d"] == pytest.approx(2.5)
    # invoices paid in [2 Mar 2024, 2 Mar 2025): i1 on time, i2 10 days late, i4 on time (paid before due);
    # i3 unpaid and overdue since 31 Dec: 61 days at 2 Mar
    assert a["late_invoices_365d"] == 2
    assert a["mean_days_late_365d"] == pytest.approx((0 + 10 + 0 + 61) / 4)
    # surveys before 2 Mar: 1 Mar (3) and 15 Jan (6)
    assert a["latest_nps"] == 3 and a["nps_change"] == -3
    # contacts with latest activity before 2 Mar: c1 (champion, 10 Jan), c2 (20 Feb)
    assert a["contacts"] == 2 and a["champion_present"] == 1
    assert a["days_since_contact_activity"] == 10
    assert a["tenure_days"] == (D(2025, 3, 2) - D(2025, 1, 1)).days
    assert a["arr"] == 900.0  # after the 20 Jan 2025 renewal
    b = out.row(1, named=True)  # B does not exist yet (created 1 Jun 2025): nothing is known
    assert b["segment"] == "SMB" and all(b[s] is None for s in out.columns[3:])
    early = out.row(2, named=True)  # A on its creation day: nothing strictly before it
    assert early["active_users_per_seat"] is None and early["tenure_days"] is None
    z = out.row(3, named=True)  # unknown account: no segment, counts 0, no usage
    assert z["segment"] is None and z["active_users_per_seat"] is None


def test_renewal_points(demo_params):
    d = tiny(demo_params)
    p = signals.renewal_points(d, 90, contraction_as_churn=0.5, until=D(2025, 12, 31))
    assert p.columns == ["account_id", "renewal_date", "as_of", "outcome", "churned", "arr_before"]
    assert p.height == 1 and p["churned"].to_list() == [0.5]
    assert p["as_of"].to_list() == [D(2025, 1, 20) - timedelta(days=90)]
    assert signals.renewal_points(d, 30)["churned"].to_list() == [0.0, 1.0]


def _inject_future(tables: dict[str, pl.DataFrame], pts: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Extreme records dated on or after each point's as-of date (on the day itself and 5 days later)."""
    ev = pl.concat([pts.with_columns(pl.col("as_of").alias("d")), pts.with_columns((pl.col("as_of") + pl.duration(days=5)).alias("d"))])
    ev = ev.with_row_index("i")
    out = dict(tables)
    u = tables["usage"]
    out["usage"] = pl.concat([u, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), "account_id", pl.col("d").alias("date"),
                                            *[pl.lit(10_000).cast(u.schema[c]).alias(c) for c in u.columns if c not in ("_row", "account_id", "date")])])
    t = tables["tickets"]
    dt = pl.col("d").cast(pl.Datetime("us"))
    out["tickets"] = pl.concat([t, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), ("X" + pl.col("i").cast(pl.String)).alias("ticket_id"),
                                             "account_id", dt.alias("created_at"), (dt + pl.duration(hours=1)).alias("resolved_at"),
                                             pl.lit("urgent").alias("priority"), pl.lit(1.0).alias("csat"))])
    inv = tables["invoices"]
    out["invoices"] = pl.concat([inv, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), ("X" + pl.col("i").cast(pl.String)).alias("invoice_id"),
                                                "account_id", pl.col("d").alias("issued_at"), pl.col("d").alias("due_at"),
                                                (pl.col("d") + pl.duration(days=90)).alias("paid_at"), pl.lit(1.0).alias("amount"))])
    s = tables["surveys"]
    out["surveys"] = pl.concat([s, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), "account_id", pl.col("d").alias("responded_at"), pl.lit(0.0).alias("nps"))])
    c = tables["contacts"]
    out["contacts"] = pl.concat([c, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), ("X" + pl.col("i").cast(pl.String)).alias("contact_id"),
                                              "account_id", pl.lit("x@example.com").alias("email"), pl.lit("Champion").alias("role"),
                                              dt.alias("last_activity_at"))])
    r = tables["renewals"]
    out["renewals"] = pl.concat([r, ev.select(pl.col("i").cast(pl.UInt32).alias("_row"), "account_id", pl.col("d").alias("renewal_date"),
                                              pl.lit("expanded").alias("outcome"), pl.lit(1.0).alias("arr_before"), pl.lit(9e9).alias("arr_after"))])
    return out


def test_no_leakage_future_records_change_nothing(demo_data, demo_params):
    names = ["accounts", "usage", "tickets", "invoices", "surveys", "contacts", "renewals"]
    tables = {n: demo_data.table(n) for n in names}
    # points after every export's first record: a record injected before it would move where the export begins
    # (and so which counts it covers), which is what the export says, not a leak from the future
    first = max(tables[t].select(pl.col(c).min().cast(pl.Date)).item() for t, c in (("tickets", "created_at"), ("invoices", "issued_at")))
    pts = signals.renewal_points(demo_data, 90).filter(pl.col("as_of") > first).select("account_id", "as_of").head(400)
    before = signals.build(FrameData(tables, demo_params), pts)
    after = signals.build(FrameData(_inject_future(tables, pts), demo_params), pts)
    assert before.height == pts.height
    assert after.equals(before)
    # the injection is strong enough to show up once it is in the past
    later = pts.with_columns(pl.col("as_of") + pl.duration(days=10))
    moved = signals.build(FrameData(_inject_future(tables, pts), demo_params), later)
    plain = signals.build(FrameData(tables, demo_params), later)
    for s in ("active_users_per_seat", "tickets_90d", "latest_nps", "contacts", "late_invoices_365d", "arr"):
        assert not moved[s].equals(plain[s]), s


def test_truncated_history_gives_same_signals(demo_data, demo_params):
    """Dropping every record dated on or after the as-of date changes nothing."""
    cut = D(2025, 9, 1)
    date_cols = {"usage": "date", "tickets": "created_at", "invoices": "issued_at", "surveys": "responded_at",
                 "contacts": "last_activity_at", "renewals": "renewal_date"}
    tables = {n: demo_data.table(n) for n in ["accounts", *date_cols]}
    cut_tables = dict(tables)
    for n, c in date_cols.items():
        cut_tables[n] = tables[n].filter(pl.col(c).cast(pl.Date) < cut)
    pts = tables["accounts"].select("account_id").unique().head(300).with_columns(pl.lit(cut).alias("as_of"))
    assert signals.build(FrameData(cut_tables, demo_params), pts).equals(signals.build(FrameData(tables, demo_params), pts))


def test_demo_signals_point_the_planted_way(demo_data):
    """Driver signals correlate with churn in their catalog direction (planted truth)."""
    pts = signals.renewal_points(demo_data, 90)
    b = signals.build(demo_data, pts, ["logins_per_active_user", "tickets_90d", "late_invoices_365d", "latest_nps"])
    y = pts["churned"]
    for s in ("logins_per_active_user", "tickets_90d", "late_invoices_365d", "latest_nps"):
        r = pl.DataFrame({"x": b[s], "y": y}).drop_nulls().select(pl.corr("x", "y")).item()
        assert r * catalog.direction_of(s) < -0.05, (s, r)


def test_family_values_by_hand(demo_params):
    """The generated family on the tiny client, each aggregation computed by hand at 2 March 2025."""
    d = tiny(demo_params)
    names = ["active_users_sum_30d", "active_users_mean_active_30d", "active_users_share_active_30d", "active_users_max_30d",
             "active_users_days_since", "active_users_per_seat_30d", "feature_api_calls_per_user_30d",
             "feature_api_calls_per_seat_30d", "tickets_sum_30d", "tickets_change_30d", "tickets_days_since", "csat_min_90d",
             "resolution_days_max_90d", "high_priority_tickets_sum_90d", "late_invoices_sum_90d", "nps_mean_365d",
             "nps_min_365d", "contact_activity_sum_30d"]
    pts = pl.DataFrame({"account_id": ["A", "B"], "as_of": [D(2025, 3, 2), D(2025, 3, 2)]})
    a, b = signals.build(d, pts, names).row(0, named=True), signals.build(d, pts, names).row(1, named=True)
    # usage window [31 Jan, 2 Mar): 31 Jan at 4 active users, then 29 days at 2; every day has activity
    assert a["active_users_sum_30d"] == 4 + 29 * 2
    assert a["active_users_mean_active_30d"] == pytest.approx(62 / 30)
    assert a["active_users_share_active_30d"] == 1.0 and a["active_users_max_30d"] == 4
    assert a["active_users_days_since"] == 1  # the last day with active users is 1 March
    assert a["active_users_per_seat_30d"] == pytest.approx(62 / 30 / 10) == pytest.approx(signals.build(d, pts, ["active_users_per_seat"])["active_users_per_seat"][0])
    assert a["feature_api_calls_per_user_30d"] == pytest.approx(30 / 62)  # one call a day over 62 active-user days
    assert a["feature_api_calls_per_seat_30d"] == pytest.approx(1 / 10)
    # tickets created in [31 Jan, 2 Mar): t2, t3, t4; none in the 30 days before; the last one on 20 Feb
    assert a["tickets_sum_30d"] == 3 and a["tickets_change_30d"] == 3 and a["tickets_days_since"] == 10
    # solved in [2 Dec, 2 Mar): t1 (csat 1, 2 days), t2 (csat 4, 2 days); t3 and t4 are urgent/high
    assert a["csat_min_90d"] == 1 and a["resolution_days_max_90d"] == pytest.approx(2.0)
    assert a["high_priority_tickets_sum_90d"] == 2
    # invoices paid in [2 Dec, 2 Mar): i4, on time; i3 is overdue at 2 March
    assert a["late_invoices_sum_90d"] == 1
    # responses in the year before: 9, 6 and 3 (the survey export begins after the account was created)
    assert a["nps_mean_365d"] == pytest.approx(6.0) and a["nps_min_365d"] == 3
    assert a["contact_activity_sum_30d"] == 1  # c2's latest activity (20 Feb) is in the window; c1's (10 Jan) is not
    assert all(b[n] is None for n in names)  # B does not exist yet


def test_days_since_count_up_to_a_year_and_are_unknown_where_the_export_is_too_short(demo_params):
    d = tiny(demo_params)
    pts = pl.DataFrame({"account_id": ["A", "A", "Z", "Z"], "as_of": [D(2026, 1, 20), D(2026, 3, 1), D(2025, 3, 2), D(2026, 3, 1)]})
    got = signals.build(d, pts, ["tickets_days_since"])["tickets_days_since"].to_list()
    # A: the last ticket was on 20 Feb 2025: 334 days, then more than a year: the cap. Z (unknown, no ticket): the
    # export began on 1 Dec 2024, so in March 2025 a year without tickets cannot be known; in March 2026 it can
    assert got == [334, signals.RECENCY_CAP, None, signals.RECENCY_CAP]


def test_every_signal_of_the_family_has_a_definition_a_label_and_a_direction(demo_data):
    from kit import present

    fam = signals.family(demo_data)
    assert len(fam) > 150 and len(set(fam)) == len(fam)
    for name in fam:
        s = catalog.parse(name)
        assert s is not None and s.name == name and s.direction in (-1, 1) and s.description
        assert catalog.label_of(name) == present.label(name) and "_" not in present.label(name)
        assert catalog.name_of(s.measure, s.aggregation, s.window) == name  # names are unambiguous
    for old, new in catalog.ALIASES.items():  # the original catalogue's names are members of the family
        assert new in fam or new.startswith("nps_latest") and catalog.parse(new) is not None


def test_a_later_export_start_gives_unknown_counts_never_smaller_ones(demo_data, demo_params):
    """Planted truth: cut the ticket and invoice exports so they begin later. A windowed count (or change, or
    highest or lowest value) is given only where the shorter export holds its whole window (or the account's
    whole life); elsewhere it is null, not a smaller number. Tickets in the 90 days it gives equal the full
    export's exactly."""
    start = D(2025, 6, 1)
    tables = {n: demo_data.table(n) for n in ["accounts", "usage", "tickets", "invoices", "surveys", "contacts", "renewals"]}
    cut = dict(tables)
    cut["tickets"] = tables["tickets"].filter(pl.col("created_at").dt.date() >= start)
    cut["invoices"] = tables["invoices"].filter(pl.col("issued_at") >= start)
    accounts = tables["accounts"].select("account_id", pl.col("created_at").cast(pl.Date)).unique("account_id")
    pts = accounts.select("account_id").join(pl.DataFrame({"as_of": [D(2025, 7, 1), D(2025, 10, 1), D(2026, 7, 1)]}), how="cross")
    names = ["tickets_90d", "open_high_priority_tickets", "late_invoices_365d", "tickets_sum_60d", "tickets_change_90d",
             "resolution_days_max_180d", "csat_min_90d", "late_invoices_sum_90d"]
    full = signals.build(FrameData(tables, demo_params), pts, names)
    short = signals.build(FrameData(cut, demo_params), pts, names)
    assert {t: signals.first_record(FrameData(cut, demo_params), t) for t in ("tickets", "invoices")} == {"tickets": start, "invoices": start}
    created = pts.join(accounts, on="account_id", how="left")["created_at"]
    exists = created.is_null() | (created < pts["as_of"])
    for s in names:
        window = signals.counted_days(s)
        covered = ((pts["as_of"] - timedelta(days=window)) >= start) | (created >= start).fill_null(False)
        known = short[s].is_not_null()
        assert not (known & ~covered).any(), s  # never a count of a window the export does not hold
        assert known.sum() > 0 and (~covered & exists).sum() > 0, s  # both cases occur
    s = "tickets_90d"
    known = short[s].is_not_null()
    covered = ((pts["as_of"] - timedelta(days=90)) >= start) | (created >= start).fill_null(False)
    assert (known == (covered & exists)).all()
    assert (short[s].filter(known) == full[s].filter(known)).all()  # what is given is right
    # without the rule these would have been counted: lower than the truth for every older account with tickets
    older = (pts["as_of"] == D(2025, 7, 1)) & (created < start).fill_null(False)
    assert full[s].filter(older).sum() > 0 and short[s].filter(older).null_count() == older.sum()


def test_mean_over_days_with_a_record_or_zero_by_hand(demo_params):
    """Sparse records: the mean over the days with a record in the window, 0 when the window has none (the plain
    mean over those days is unknown there), unknown before the account's first usage record."""
    d = tiny(demo_params)
    usage = d.tables["usage"]
    # A's usage stops after 31 Jan: 31 days at 4 active users, then nothing
    d.tables["usage"] = usage.filter(pl.col("date") <= D(2025, 1, 31))
    pts = pl.DataFrame({"account_id": ["A", "A", "A"], "as_of": [D(2025, 2, 10), D(2025, 3, 20), D(2024, 12, 1)]})
    got = signals.build(d, pts, ["active_users_mean_active_or_zero_30d", "active_users_mean_active_30d"])
    # 10 Feb: window [11 Jan, 10 Feb) holds 21 days at 4; 20 Mar: no record in [18 Feb, 20 Mar); 1 Dec 2024: before A's
    # first record, unknown
    assert got["active_users_mean_active_or_zero_30d"].to_list() == [4.0, 0.0, None]
    assert got["active_users_mean_active_30d"].to_list() == [4.0, None, None]
    s = catalog.parse("feature_api_calls_mean_active_or_zero_60d")
    assert s.aggregation == "mean_active_or_zero" and s.window == 60 and "0 when there is none" in s.description
    assert catalog.label_of("feature_api_calls_mean_active_or_zero_60d") == "Api calls per day with any, 0 without (60 days)"


def test_unknown_flags_where_the_export_does_not_hold_the_window(demo_params):
    """A windowed count is unknown where its window reaches back before the export's first record and the account is
    older than the export: the flag says so, the value is null there, and a null elsewhere is a real absence."""
    d = tiny(demo_params)  # tickets begin 1 Dec 2024; A was created 1 Jan 2025, B on 1 Jun 2025
    d.tables["accounts"] = d.tables["accounts"].with_columns(pl.Series("created_at", [D(2024, 1, 1), D(2025, 6, 1)]))
    pts = pl.DataFrame({"account_id": ["A", "A", "B", "A"], "as_of": [D(2025, 1, 15), D(2025, 6, 1), D(2025, 7, 1), D(2025, 1, 15)]})
    names = ["tickets_sum_90d", "csat_mean_90d", "active_users_mean_30d"]
    flags = signals.unknown(d, pts, names)
    values = signals.build(d, pts, names)
    # 15 Jan: [17 Oct, 15 Jan) begins before the ticket export (1 Dec) and A is older: unknown; 1 Jun: covered;
    # B, created after the export began, is covered whatever the window
    assert flags["tickets_sum_90d"].to_list() == [True, False, False, True]
    assert values["tickets_sum_90d"].is_null().to_list() == [True, False, False, True]
    # a mean over what the window holds, and usage means, are never unknown for this reason
    assert not flags["csat_mean_90d"].any() and not flags["active_users_mean_30d"].any()
    assert flags.height == pts.height and flags.columns == names
