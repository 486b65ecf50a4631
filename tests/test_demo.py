"""The demo generator: deterministic, realistic, and its planted defects are there in the counts documented."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import polars as pl
import pytest

from kit import demo

from .conftest import DEMO_END


def digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, demo_dir):
    small_a, small_b, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    demo.generate(small_a, DEMO_END, n_accounts=150)
    demo.generate(small_b, DEMO_END, n_accounts=150)
    demo.generate(other, DEMO_END, n_accounts=150, seed=1)
    a, b, c = digest(small_a), digest(small_b), digest(other)
    csvs = [k for k in a if k.endswith((".csv", ".parquet"))]
    assert len(csvs) == 11
    assert {k: a[k] for k in csvs} == {k: b[k] for k in csvs}
    assert all(a[k] != c[k] for k in ("crm/accounts.csv", "product/daily_usage.parquet"))


def test_exports_use_client_column_names(demo_dir):
    header = (demo_dir / "crm" / "accounts.csv").read_text().splitlines()[0]
    assert header.startswith("Account ID,Account Name,Parent Account ID")
    assert '"$' in (demo_dir / "crm" / "accounts.csv").read_text()[:2000]  # currency strings, like a CRM report


def test_shape_of_the_customer_base(demo_data):
    acc = demo_data.table("accounts").unique("account_id")
    assert 1990 <= acc.height <= 2010
    assert set(acc["segment"].unique()) == {"SMB", "Mid-Market", "Enterprise"}
    assert acc["parent_account_id"].is_not_null().sum() > 50  # a real hierarchy
    usage = demo_data.table("usage")
    days = (usage["date"].max() - usage["date"].min()).days
    assert days >= 720  # two years of daily usage
    assert usage.height > 1_000_000
    ren = demo_data.table("renewals")
    yearly = ren.filter(pl.col("renewal_date") > DEMO_END - timedelta(days=365))
    churn_rate = (yearly["outcome"] == "churned").mean()
    assert 0.10 <= churn_rate <= 0.15, churn_rate
    assert set(ren["outcome"].unique()) == {"renewed", "churned", "expanded", "contracted"}
    # enough churn events per segment for per-segment weights
    per_segment = ren.join(acc.select("account_id", "segment"), on="account_id").filter(pl.col("outcome") == "churned").group_by("segment").len()
    assert per_segment["len"].min() >= 30


def test_churned_accounts_go_quiet_after_churn(demo_data):
    churned = demo_data.table("renewals").filter(pl.col("outcome") == "churned").select("account_id", pl.col("renewal_date").alias("churned_on"))
    late_usage = demo_data.table("usage").join(churned, on="account_id").filter(pl.col("date") >= pl.col("churned_on"))
    assert late_usage.height == 0


def test_drivers_precede_churn(demo_data):
    """Sanity of the planted truth, independent of the kit's signals: NPS before renewals is lower for churners."""
    ren = demo_data.table("renewals").with_columns((pl.col("renewal_date") - pl.duration(days=90)).alias("as_of"))
    nps = demo_data.table("surveys").filter(pl.col("nps") <= 10).sort("responded_at")
    joined = ren.sort("account_id", "as_of").join_asof(
        nps.rename({"responded_at": "as_of"}).sort("account_id", "as_of"), on="as_of", by="account_id",
        strategy="backward", allow_exact_matches=False, check_sortedness=False,
    )
    means = joined.group_by(pl.col("outcome") == "churned").agg(pl.col("nps").mean()).sort("outcome")
    renewed_mean, churned_mean = means["nps"].to_list()
    assert churned_mean < renewed_mean - 0.25


def count(df: pl.DataFrame, expr) -> int:
    return int(df.select(expr).item())


def test_planted_defects_have_their_documented_counts(demo_data, demo_truth):
    d = demo.DEFECTS
    assert demo_truth["defects"] == d
    acc = demo_data.table("accounts")
    ids = set(acc["account_id"])
    assert acc.group_by("account_id").len().filter(pl.col("len") > 1).height == d["duplicate_account_ids"]
    first = acc.unique("account_id", keep="first")
    parents = first.filter(pl.col("parent_account_id").is_not_null())
    assert parents.filter(~pl.col("parent_account_id").is_in(list(ids))).height == d["unknown_parent"]
    pmap = dict(zip(parents["account_id"], parents["parent_account_id"]))
    in_cycle = {a for a in pmap if pmap.get(pmap.get(a)) == a}
    assert len(in_cycle) == d["hierarchy_cycle"]
    churned = set(demo_data.table("renewals").filter(pl.col("outcome") == "churned")["account_id"])
    active = first.filter(~pl.col("account_id").is_in(list(churned)))
    assert active["renewal_date"].is_null().sum() == d["missing_renewal_date"]
    assert first["csm_owner"].is_null().sum() == d["missing_owner"]
    assert (first["arr"] < 0).sum() == d["negative_arr"]
    for table, key in (("contacts", "orphan_contacts"), ("tickets", "orphan_tickets"), ("invoices", "orphan_invoices")):
        assert (~demo_data.table(table)["account_id"].is_in(list(ids))).sum() == d[key], table
    for table in ("usage", "surveys", "renewals", "health_scores", "ctas"):
        assert (~demo_data.table(table)["account_id"].is_in(list(ids))).sum() == 0, table
    tickets = demo_data.table("tickets")
    assert tickets.drop("_row").is_duplicated().sum() // 2 == d["duplicate_ticket_rows"]
    assert tickets["created_at"].is_null().sum() == d["unparseable_ticket_dates"]
    assert (tickets["resolved_at"] < tickets["created_at"]).sum() == d["resolved_before_created"]
    assert (demo_data.table("surveys")["nps"] > 10).sum() == d["nps_out_of_range"]
    assert demo_data.table("usage")["date"].max() == DEMO_END - timedelta(days=d["stale_usage_days"])


def test_arr_mismatch_plant_against_billing_run_rate(demo_data, demo_truth):
    inv = demo_data.table("invoices").sort("issued_at")
    latest = inv.group_by("account_id").agg(pl.col("amount").last().alias("amount"))
    acc = demo_data.table("accounts").unique("account_id", keep="first").filter(pl.col("arr") > 0)
    j = acc.join(latest, on="account_id")
    mismatched = j.filter((pl.col("arr") - 4 * pl.col("amount")).abs() > 0.1 * pl.col("arr"))
    assert sorted(mismatched["account_id"]) == demo_truth["defect_ids"]["arr_billing_mismatch"]
    assert len(demo_truth["defect_ids"]["arr_billing_mismatch"]) == demo.DEFECTS["arr_billing_mismatch"]


def test_planted_maintenance_problems_fall_in_the_last_month(demo_data):
    month = date(DEMO_END.year, DEMO_END.month, 1)
    sync = demo_data.table("sync_log")
    failures = sync.filter((pl.col("status") == "failure") & (pl.col("started_at").dt.date() >= month))
    assert failures.group_by("source").len().rows() == [("Zendesk", 3)]
    last_ok = sync.filter(pl.col("status") == "success").group_by("source").agg(pl.col("started_at").max())
    stale = dict(last_ok.rows())["Amplitude"]
    assert (DEMO_END + timedelta(days=1) - stale.date()).days >= 3
    logins = demo_data.table("platform_logins")
    team = demo_data.table("team").filter(pl.col("active") & (pl.col("role") == "CSM"))

    def share(frm, to):
        daily = logins.filter(pl.col("date").is_between(frm, to) & pl.col("user").is_in(team["user"].to_list())).group_by("date").agg(pl.col("user").n_unique())
        return daily["user"].mean() / team.height

    assert team.height == team["user"].n_unique() == 23
    assert share(month, DEMO_END) < 0.6 < 0.8 < share(month - timedelta(days=60), month - timedelta(days=1))


@pytest.mark.parametrize("end", [date(2025, 2, 28), date(2026, 12, 31)])
def test_any_period_end_works(tmp_path, end):
    d = demo.generate(tmp_path, end, n_accounts=120)
    assert (d.out_dir / "truth.json").exists()
    usage = pl.read_parquet(d.files["usage"])
    assert usage["day"].max() == end - timedelta(days=demo.DEFECTS["stale_usage_days"])
