"""The monthly maintenance checks: each at, just below and just above its thresholds (hand-built
frames), missing sources, and the demo client run for three months through the batch runner."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl
import pytest
import yaml

from kit.run import batch
from kit.io import history
from kit import params
from kit.analyses import maintenance as mt
from kit.analyses import maintenance_report as mr
from kit.io.load import ClientData
from kit.checks import CHECKS, HIGHER, LOWER
from kit.params import Limit
from kit.periods import Period

from .conftest import write_params

OCT = Period(2026, 10)
P = params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "accounts.csv"}}})
M = P.maintenance


def with_maintenance(**kw) -> params.Parameters:
    return params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "a.csv"}}, "maintenance": kw})


# ---------------------------------------------------------------------------- rating


@pytest.mark.parametrize(
    "value, worse, expected",
    [
        (0.15, HIGHER, "green"), (0.16, HIGHER, "amber"), (0.20, HIGHER, "amber"),
        (0.21, HIGHER, "red"), (0.10, HIGHER, "green"),
        (0.20, LOWER, "green"), (0.16, LOWER, "green"), (0.15, LOWER, "green"),
        (0.14, LOWER, "amber"), (0.10, LOWER, "amber"), (0.09, LOWER, "red"),
        (None, HIGHER, "not checked"),
    ],
)
def test_rate_reads_thresholds_in_the_worse_direction(value, worse, expected):
    limit = Limit(amber=0.15, red=0.20) if worse == HIGHER else Limit(amber=0.15, red=0.10)
    assert mt.rate(value, limit, worse) == expected


# ---------------------------------------------------------------------------- accuracy


def renewals_and_scores(outcomes_scores: list[tuple[str, float]], renewal=date(2026, 10, 15)):
    """One renewal per (outcome, lead-time score); each account also has a misleading score after
    the lead time and one before the window, which must both be ignored."""
    ids = [f"A{i:03d}" for i in range(len(outcomes_scores))]
    ren = pl.DataFrame({"account_id": ids, "renewal_date": [renewal] * len(ids), "outcome": [o for o, _ in outcomes_scores]})
    rows = []
    for a, (_, s) in zip(ids, outcomes_scores):
        rows.append((a, renewal - timedelta(days=100), s))  # the lead-time score
        rows.append((a, renewal - timedelta(days=120), 100 - s))  # older, superseded
        rows.append((a, renewal - timedelta(days=30), 100 - s))  # after the lead time: not known then
        rows.append((a, renewal - timedelta(days=400), 100 - s))  # before the window
    scores = pl.DataFrame(rows, schema=["account_id", "date", "score"], orient="row")
    return scores, ren


@pytest.mark.parametrize("healthy, expected", [(2, "green"), (3, "green"), (4, "amber"), (5, "red")])
def test_accuracy_audit_share_of_churned_scored_green(healthy, expected):
    # 20 churned: healthy ones scored 80 (green), the rest 50; 10 renewed accounts do not count
    cases = [("churned", 80.0)] * healthy + [("churned", 50.0)] * (20 - healthy) + [("renewed", 90.0)] * 10
    scores, ren = renewals_and_scores(cases)
    scored = mt.scored_renewals(scores, ren, OCT, P)
    c = mt.accuracy_audit(scored, P)
    assert c.value == healthy / 20  # 0.15 is the amber line, 0.20 the red line
    assert c.status == expected
    assert c.behind.height == healthy
    assert (c.action == CHECKS["accuracy_audit"].action) == (expected in ("amber", "red"))


def test_accuracy_uses_the_score_known_lead_time_days_before_renewal():
    scores, ren = renewals_and_scores([("churned", 80.0), ("renewed", 40.0)])
    scored = mt.scored_renewals(scores, ren, OCT, P).sort("account_id")
    assert scored["score"].to_list() == [80.0, 40.0]
    assert scored["band"].to_list() == ["green", "red"]
    assert scored["score_date"].to_list() == [date(2026, 7, 7)] * 2


def test_platform_bands_judge_the_platform_score_when_they_differ_from_the_kit_score():
    """The platform's score is read on backtest.platform_bands; without them on score.bands (an adopted scorecard's)."""
    scores, ren = renewals_and_scores([("churned", 72.0), ("churned", 50.0), ("renewed", 45.0)])
    own = params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "a.csv"}},
                            "score": {"bands": {"red": 56, "green": 75}}, "backtest": {"platform_bands": {"red": 40, "green": 70}}})
    assert mt.scored_renewals(scores, ren, OCT, own).sort("account_id")["band"].to_list() == ["green", "yellow", "yellow"]
    assert mt.accuracy_audit(mt.scored_renewals(scores, ren, OCT, own), own).value == 0.5
    adopted = params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "a.csv"}},
                                "score": {"bands": {"red": 56, "green": 75}}})
    assert mt.scored_renewals(scores, ren, OCT, adopted).sort("account_id")["band"].to_list() == ["yellow", "red", "red"]


def test_renewals_outside_the_period_and_unscored_are_left_out():
    scores, ren = renewals_and_scores([("churned", 80.0)] * 2 + [("churned", 50.0)] * 2)
    ren = ren.with_columns(pl.Series("renewal_date", [date(2026, 10, 15), date(2026, 11, 2), date(2026, 10, 20), date(2026, 10, 21)]))
    scores = scores.filter(pl.col("account_id") != "A003")
    c = mt.accuracy_audit(mt.scored_renewals(scores, ren, OCT, P), P)
    # A001 renews in November; A003 has no score: 1 green (A000) of 2 scored churned (A000, A002)
    assert c.value == 0.5
    assert "1 renewal(s) had no score" in c.detail


def test_accuracy_without_churn_is_not_checked():
    scores, ren = renewals_and_scores([("renewed", 80.0)] * 3)
    c = mt.accuracy_audit(mt.scored_renewals(scores, ren, OCT, P), P)
    assert c.status == "not checked" and "no churned renewal" in c.detail


@pytest.mark.parametrize("missed, expected", [(3, "green"), (4, "green"), (5, "amber"), (6, "red")])
def test_false_negative_rate_thresholds(missed, expected):
    # 20 churned, `missed` of them not red (scored 70 = yellow); 10 renewed, none red
    cases = [("churned", 70.0)] * missed + [("churned", 40.0)] * (20 - missed) + [("renewed", 80.0)] * 10
    scores, ren = renewals_and_scores(cases)
    c = mt.false_rate(mt.scored_renewals(scores, ren, OCT, P), P)
    assert c.value == missed / 20  # 0.20 amber line, 0.25 red line
    assert c.status == expected
    assert c.behind.filter(pl.col("kind") == "false negative").height == missed


@pytest.mark.parametrize("flagged, expected", [(4, "green"), (5, "amber"), (6, "red")])
def test_false_positive_rate_thresholds(flagged, expected):
    # 20 renewing accounts, `flagged` scored red; 4 churned all red (false negative rate 0)
    cases = [("renewed", 50.0)] * flagged + [("expanded", 80.0)] * (20 - flagged) + [("churned", 30.0)] * 4
    scores, ren = renewals_and_scores(cases)
    c = mt.false_rate(mt.scored_renewals(scores, ren, OCT, P), P)
    assert c.value == flagged / 20  # 0.20 amber line, 0.25 red line
    assert c.status == expected
    assert c.behind["kind"].to_list() == ["false positive"] * flagged


def test_contraction_counts_as_churn_when_the_weighting_says_so():
    cases = [("contracted", 80.0), ("churned", 50.0)]
    scores, ren = renewals_and_scores(cases)
    p = params.from_dict({"client": "t", "name": "T", "sources": {"accounts": {"path": "a.csv"}},
                          "weighting": {"contraction_as_churn": 1.0}})
    assert mt.accuracy_audit(mt.scored_renewals(scores, ren, OCT, p), p).value == 0.5
    assert mt.accuracy_audit(mt.scored_renewals(scores, ren, OCT, P), P).value == 0.0


# ---------------------------------------------------------------------------- refinement trigger


def past(statuses: dict[str, str], name: str = "false_rate") -> pl.DataFrame:
    return pl.DataFrame({"period": list(statuses), "name": [name] * len(statuses), "status": list(statuses.values())})


def test_consecutive_red_months_across_the_history():
    h = past({"2026-06": "red", "2026-07": "amber", "2026-08": "red", "2026-09": "red"})
    assert mt.consecutive_red(h, "false_rate", OCT, True) == 3  # 08, 09 and this month; 07 breaks it
    assert mt.consecutive_red(h, "false_rate", OCT, False) == 0
    assert mt.consecutive_red(h, "false_rate", Period(2026, 8), True) == 1
    gap = past({"2026-08": "red"})  # September missing: the run is broken
    assert mt.consecutive_red(gap, "false_rate", OCT, True) == 1
    other = past({"2026-09": "red"}, name="sync_failures")
    assert mt.consecutive_red(other, "false_rate", OCT, True) == 1
    assert mt.consecutive_red(None, "false_rate", OCT, True) == 1


@pytest.mark.parametrize(
    "history_statuses, current, consecutive, expected",
    [
        ({"2026-09": "red"}, "red", 2, "red"),  # 2 months in a row: trigger
        ({"2026-09": "amber"}, "red", 2, "amber"),  # 1 month: warning
        ({"2026-09": "red"}, "amber", 2, "green"),
        ({"2026-08": "red", "2026-09": "red"}, "red", 3, "red"),
        ({"2026-09": "red"}, "red", 3, "amber"),  # 2 of 3
    ],
)
def test_refinement_trigger_fires_after_consecutive_months(history_statuses, current, consecutive, expected):
    m = with_maintenance(consecutive_months=consecutive).maintenance
    fc = mt.CheckResult("false_rate", current, 0.3)
    c = mt.refinement_trigger(fc, past(history_statuses), OCT, m)
    assert c.status == expected
    assert (c.action == CHECKS["refinement_trigger"].action) == (expected != "green")


def test_refinement_trigger_not_checked_when_accuracy_is_not():
    c = mt.refinement_trigger(mt.not_checked("false_rate", "renewals: not configured"), None, OCT, M)
    assert c.status == "not checked" and "renewals" in c.detail


# ---------------------------------------------------------------------------- integrations


def sync_log(rows: list[tuple[str, datetime, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": [r[0] for r in rows],
            "started_at": [r[1] for r in rows],
            "finished_at": [r[1] + timedelta(minutes=5) for r in rows],
            "status": [r[2] for r in rows],
            "error": [("boom" if r[2] == "failure" else None) for r in rows],
        }
    )


END = datetime(2026, 11, 1)  # the end of October


@pytest.mark.parametrize("failures, expected", [(0, "green"), (1, "amber"), (2, "red"), (3, "red")])
def test_sync_failures_per_source_in_the_period(failures, expected):
    # red line 1 (more than one failure is recurring), amber line 0
    rows = [("CRM", datetime(2026, 10, d, 6), "success") for d in range(1, 31)]
    rows += [("Desk", datetime(2026, 10, d, 6), "failure" if d <= failures else "success") for d in range(1, 31)]
    rows += [("Desk", datetime(2026, 9, 30, 23), "failure"), ("Desk", datetime(2026, 11, 1, 0), "failure")]  # outside
    c = mt.sync_failures(sync_log(rows), OCT, M)
    assert (c.value, c.status) == (failures, expected)
    desk = c.behind.filter(pl.col("source") == "Desk").row(0, named=True)
    assert desk["failures"] == failures and desk["syncs"] == 30
    assert ("Desk" in c.detail) == (failures > 0)


def test_sync_failures_green_without_failures():
    rows = [(s, datetime(2026, 10, d, 6), "success") for s in ("CRM", "Desk") for d in range(1, 32)]
    c = mt.sync_failures(sync_log(rows), OCT, M)
    assert (c.value, c.status) == (0, "green")


@pytest.mark.parametrize(
    "hours_before_end, expected",
    [(11.5, "green"), (12, "green"), (12.5, "amber"), (24, "amber"), (24.5, "red"), (72, "red")],
)
def test_sync_staleness_hours_since_last_success(hours_before_end, expected):
    finished = END - timedelta(hours=hours_before_end)
    rows = [("CRM", END - timedelta(hours=2), "success"), ("Desk", finished - timedelta(minutes=5), "success")]
    rows += [("Desk", END - timedelta(hours=1), "failure"), ("Desk", END + timedelta(hours=3), "success")]  # failure; future
    c = mt.sync_staleness(sync_log(rows), OCT, M)
    assert c.value == pytest.approx(hours_before_end)
    assert c.status == expected


def test_sync_staleness_source_that_never_succeeded_is_red():
    rows = [("CRM", END - timedelta(hours=2), "success"), ("Desk", END - timedelta(hours=5), "failure")]
    c = mt.sync_staleness(sync_log(rows), OCT, M)
    # no success in the 90 days looked at: at least 90 days stale
    assert (c.value, c.status) == (90 * 24, "red")
    assert "Desk: no successful sync" in c.detail


# ---------------------------------------------------------------------------- CTAs


def ctas(on_time: int, total: int = 10) -> pl.DataFrame:
    due = date(2026, 10, 20)
    closed = [due - timedelta(days=1)] * on_time
    rest = total - on_time
    closed += [due + timedelta(days=3)] * (rest // 2) + [None] * (rest - rest // 2)  # late, still open
    n = total + 2
    return pl.DataFrame(
        {
            "cta_id": [f"C{i}" for i in range(n)],
            "owner": ["a@x.example"] * n,
            "due_at": [due] * total + [date(2026, 9, 30), date(2026, 11, 1)],  # two due outside the period
            "closed_at": closed + [None, None],
        }
    )


@pytest.mark.parametrize("on_time, expected", [(5, "red"), (6, "amber"), (7, "green"), (8, "green")])
def test_cta_completion_on_time(on_time, expected):
    c = mt.cta_completion(ctas(on_time), OCT, M)
    assert c.value == on_time / 10  # 0.60 red line, 0.70 amber line (lower is worse)
    assert c.status == expected


def test_cta_completion_nothing_due_is_not_checked():
    c = mt.cta_completion(ctas(0, total=0), OCT, M)
    assert c.status == "not checked"


# ---------------------------------------------------------------------------- platform usage


def team_and_logins(csm_days: int):
    """10 active CSMs, an inactive CSM and an ops user; `csm_days` CSM-business-day logins in October."""
    csms = [f"csm{i}@x.example" for i in range(10)]
    team = pl.DataFrame(
        {
            "user": csms + ["gone@x.example", "ops@x.example"],
            "role": ["CSM"] * 10 + ["CSM", "CS Ops"],
            "active": [True] * 9 + [None] + [False, True],  # a blank active flag counts as active
        }
    )
    days = mt.business_days(OCT)
    assert len(days) == 22
    slots = [(u, d) for d in days for u in csms][:csm_days]
    rows = [(f"  {u.upper()} ", d) for u, d in slots]  # case and spaces differ from the team export
    rows += [(u, d) for u, d in slots[:20]]  # a second login the same day counts once
    rows += [("ops@x.example", d) for d in days] + [("gone@x.example", d) for d in days]  # not active CSMs
    rows += [("csm0@x.example", date(2026, 10, 3)), ("csm0@x.example", date(2026, 11, 2))]  # a Saturday; November
    logins = pl.DataFrame(rows, schema=["user", "date"], orient="row")
    return logins, team


@pytest.mark.parametrize("csm_days, expected", [(153, "red"), (154, "amber"), (175, "amber"), (176, "green")])
def test_csm_active_share_mean_daily_share(csm_days, expected):
    logins, team = team_and_logins(csm_days)
    c = mt.csm_active_share(logins, team, OCT, M)
    # mean over 22 business days of (CSMs logged in / 10): 0.70 red line, 0.80 amber line
    assert c.value == pytest.approx(csm_days / 220)
    assert c.status == expected
    assert c.behind.height == 10


def test_csm_active_share_all_active_members_when_no_role_matches():
    logins, team = team_and_logins(220)
    team = team.with_columns(role=pl.lit("Customer Success"))
    c = mt.csm_active_share(logins, team, OCT, M)
    assert c.behind.height == 11  # 10 CSMs + ops; the inactive one stays out
    assert "every active team member" in c.detail


# ---------------------------------------------------------------------------- score coverage


def coverage_frames():
    accounts = pl.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "a4", "a5", "a5"],
            "account_name": ["One", "Two", "Three", "Four", "Five", "Five"],
            "created_at": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2026, 10, 10), None, None],
        }
    )
    scores = pl.DataFrame(
        {"account_id": ["a1", "a2", "a5"], "date": [date(2026, 10, 5), date(2026, 9, 28), date(2026, 11, 2)],
         "score": [70.0, 70.0, 70.0]}
    )
    renewals = pl.DataFrame({"account_id": ["a3"], "renewal_date": [date(2026, 9, 1)], "outcome": ["churned"]})
    return accounts, scores, renewals


def test_unscored_active_accounts():
    accounts, scores, renewals = coverage_frames()
    c = mt.unscored_accounts(accounts, scores, renewals, OCT, M)
    # a1 scored; a2 last scored in September; a3 churned; a4 created mid-period; a5 only scored in November
    assert c.behind["account_id"].to_list() == ["a2", "a5"]
    assert (c.value, c.status) == (2, "red")
    everyone = mt.unscored_accounts(accounts, scores.with_columns(pl.lit(date(2026, 10, 5)).alias("date")), renewals, OCT, M)
    assert (everyone.value, everyone.status) == (0, "green")  # at the (zero) threshold


@pytest.mark.parametrize("missing, expected", [(1, "green"), (2, "amber"), (3, "red")])
def test_unscored_accounts_configurable_limit(missing, expected):
    m = with_maintenance(unscored_accounts={"amber": 1, "red": 2}).maintenance
    accounts = pl.DataFrame({"account_id": [f"a{i}" for i in range(5)], "created_at": [date(2024, 1, 1)] * 5})
    scores = pl.DataFrame({"account_id": [f"a{i}" for i in range(5 - missing)], "date": [date(2026, 10, 5)] * (5 - missing),
                           "score": [50.0] * (5 - missing)})
    c = mt.unscored_accounts(accounts, scores, None, OCT, m)
    assert (c.value, c.status) == (missing, expected)
    assert "churned accounts could not be left out" in c.detail


# ---------------------------------------------------------------------------- recalibration


def weights_json(**changes) -> dict:
    w = {k: c.weight for k, c in P.score.components.items()}
    w.update(changes)
    return {"proposed_weights": w}


@pytest.mark.parametrize(
    "drift, expected",
    [(0.0, "green"), (0.04, "green"), (0.05, "green"), (0.06, "amber"), (0.10, "amber"), (0.11, "red")],
)
def test_recalibration_drift(drift, expected):
    # default usage weight 0.35; amber line 0.05, red line 0.10
    c = mt.recalibration(P, weights_json(usage=0.35 + drift), Period(2026, 9))
    assert c.value == pytest.approx(drift)
    assert c.status == expected
    assert c.behind.row(0, named=True)["component"] == "usage" or drift == 0


def test_recalibration_reads_weight_dicts_and_new_components():
    sep = Period(2026, 9)
    w = {k: {"weight": c.weight} for k, c in P.score.components.items()}
    w["advocacy"] = {"weight": 0.2}
    c = mt.recalibration(P, {"proposed_weights": w}, sep)
    assert c.value == pytest.approx(0.2) and c.status == "red"
    assert c.behind.row(0, named=True)["component"] == "advocacy"


def test_recalibration_only_at_quarter_end_and_with_weights():
    assert "next: 2026-12" in mt.recalibration(P, weights_json(usage=0.9), OCT).detail
    assert mt.recalibration(P, weights_json(usage=0.9), OCT).status == "not checked"
    missing = mt.recalibration(P, None, Period(2026, 12))
    assert missing.status == "not checked" and "weights.json not found" in missing.detail
    no_model = mt.recalibration(P, {"proposed_weights": None, "reason": "too few churn events"}, Period(2026, 12))
    assert no_model.status == "not checked" and "too few churn events" in no_model.detail


# ---------------------------------------------------------------------------- missing sources


def test_missing_optional_sources_are_not_checked_and_the_rest_renders(demo_params, monkeypatch):
    drop = {"sync_log", "platform_logins", "ctas"}
    p = demo_params.model_copy(update={"sources": {k: v for k, v in demo_params.sources.items() if k not in drop}})
    data = ClientData(p)
    checks = mt.evaluate(data, p, OCT)
    by = {c.name: c for c in checks}
    assert list(by) == list(mt.CHECKS)
    for name in ("sync_failures", "sync_staleness", "cta_completion", "csm_active_share"):
        assert by[name].status == "not checked", name
        assert "not configured" in by[name].detail
    assert by["unscored_accounts"].status == "red" and by["unscored_accounts"].value == 5
    assert by["accuracy_audit"].status != "not checked"
    doc = mt.report(OCT, checks)
    json.dumps(doc, allow_nan=False)
    assert "kit-badge-not-checked" in mr.status_table(checks).html
    trend = history.trend(history.empty(), doc)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: shown.extend(objs))
    for c in checks:
        mr.show(c, trend)  # renders without raising
    text = "\n".join(getattr(o, "source", "") or getattr(o, "html", "") for o in shown).replace("\\", "")
    assert '<span class="kit-badge kit-badge-not-checked">not checked</span>' in text and "no source for Sync log" in text
    assert "sync_log" not in text  # the client reads the table by its name, not its key
    assert "kit-badge-red" in text and "Recommended action" in text


# ---------------------------------------------------------------------------- the demo, three months


MONTHS = ["2026-08", "2026-09", "2026-10"]


@pytest.fixture(scope="module")
def three_months(demo_dir, tmp_path_factory):
    """The maintenance notebook run for three consecutive months on the same data, plus one run of
    a client without the sync log, logins and CTAs."""
    folder = tmp_path_factory.mktemp("maint-params")
    params_file = write_params(folder, demo_dir)
    out = tmp_path_factory.mktemp("maint-reports")
    results = {m: batch.run_client(params_file, m, out=out, only=["maintenance"]) for m in MONTHS}
    raw = yaml.safe_load(params_file.read_text())
    raw["client"] = "partial"
    for t in ("sync_log", "platform_logins", "ctas"):
        raw["sources"].pop(t)
    partial = folder / "partial.yml"
    partial.write_text(yaml.safe_dump(raw))
    results["partial"] = batch.run_client(partial, "2026-10", out=out, only=["maintenance"])
    return out, results


def report_of(out, month, client="demo") -> dict:
    return json.loads((out / client / month / "maintenance.json").read_text())


def statuses(out, month) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report_of(out, month)["checks"]}


def test_three_runs_succeed_and_the_history_holds_three_records_per_check(three_months):
    out, results = three_months
    for m in MONTHS:
        assert results[m].status == "ok", results[m].failure
    h = history.read(out / "demo")
    assert h.height == 3 * len(mt.CHECKS)
    counts = h.group_by("name").agg(pl.col("period").sort()).sort("name")
    assert counts["period"].to_list() == [MONTHS] * len(mt.CHECKS)
    # the history holds exactly what each committed run wrote
    for m in MONTHS:
        assert dict(h.filter(pl.col("period") == m).select("name", "status").iter_rows()) == statuses(out, m)


def test_planted_sync_problems_are_red_in_the_last_month_only(three_months, demo_truth):
    out, _ = three_months
    planted = demo_truth["planted_maintenance"]
    oct_, aug = report_of(out, "2026-10"), statuses(out, "2026-08")
    by = {c["name"]: c for c in oct_["checks"]}
    assert by["sync_failures"]["status"] == "red"
    assert by["sync_failures"]["value"] == planted["sync_failures"]["failures"]
    assert planted["sync_failures"]["source"] in by["sync_failures"]["detail"]
    assert by["sync_staleness"]["status"] == "red"
    assert by["sync_staleness"]["value"] >= 24 * planted["stale_sync_source"]["days"]
    assert planted["stale_sync_source"]["source"] in by["sync_staleness"]["detail"]
    assert by["unscored_accounts"]["status"] == "red"
    assert by["unscored_accounts"]["value"] == planted["unscored_active_accounts"]
    assert aug["sync_failures"] != "red" and aug["sync_staleness"] != "red" and aug["unscored_accounts"] != "red"
    html = (out / "demo" / "2026-10" / "04_maintenance.html").read_text()
    for account in demo_truth["defect_ids"]["unscored_active_accounts"]:
        assert account in html  # the accounts behind the failure are listed


def test_planted_csm_login_drop_is_red_in_the_last_month(three_months, demo_dir, demo_truth):
    out, _ = three_months
    planted = demo_truth["planted_maintenance"]["csm_login_drop"]
    oct_ = {c["name"]: c for c in report_of(out, "2026-10")["checks"]}["csm_active_share"]
    aug = {c["name"]: c for c in report_of(out, "2026-08")["checks"]}["csm_active_share"]
    assert oct_["status"] == "red" and aug["status"] != "red"
    assert oct_["value"] == pytest.approx(planted["active_share_last_month"], abs=0.08)
    assert aug["value"] == pytest.approx(planted["active_share_before"], abs=0.08)
    # independent computation from the raw exports: distinct active CSM e-mails per business day
    team = pl.read_csv(demo_dir / "platform" / "team.csv").filter(pl.col("Is Active") == "Yes", pl.col("Role") == "CSM")
    csms = set(team["User Email"])
    logins = pl.read_csv(demo_dir / "platform" / "user_logins.csv", try_parse_dates=True)
    days = [d for d in (date(2026, 10, 1) + timedelta(i) for i in range(31)) if d.weekday() < 5]
    daily = [len({u for u, d in logins.iter_rows() if d == day and u in csms}) / len(csms) for day in days]
    assert oct_["value"] == pytest.approx(sum(daily) / len(daily))


def test_refinement_trigger_counts_months_from_the_history(three_months):
    out, _ = three_months
    false_red = [statuses(out, m)["false_rate"] == "red" for m in MONTHS]
    # expected run length, recomputed from the three reports themselves
    run, expected = 0, []
    for red in false_red:
        run = run + 1 if red else 0
        expected.append(run)
    values = [{c["name"]: c for c in report_of(out, m)["checks"]}["refinement_trigger"]["value"] for m in MONTHS]
    assert values == expected
    assert [statuses(out, m)["refinement_trigger"] == "red" for m in MONTHS] == [n >= 2 for n in expected]


def test_missing_sources_run_renders_with_not_checked(three_months):
    out, results = three_months
    r = results["partial"]
    assert r.status == "ok", r.failure
    by = {c["name"]: c for c in report_of(out, "2026-10", "partial")["checks"]}
    for name in ("sync_failures", "sync_staleness", "cta_completion", "csm_active_share"):
        assert by[name]["status"] == "not checked" and by[name]["detail"], name
    assert by["unscored_accounts"]["status"] == "red"
    html = (out / "partial" / "2026-10" / "04_maintenance.html").read_text()
    assert "Traceback" not in html and "not checked" in html and "Health scores populating" in html


def test_the_site_and_the_report_chart_every_check_at_the_same_value():
    """One value per check in the history: the maintenance report's trend chart and the site's trends page plot
    it at the same height (shares in %, a weight drift in points: kit.present.UNITS for the check's unit)."""
    from kit import present
    from kit.publish import site

    rows = []
    for i, (name, c) in enumerate(CHECKS.items()):
        for k, period in enumerate(("2026-08", "2026-09")):
            rows.append({"period": period, "name": name, "value": 0.21 + i + k, "amber": 0.1, "red": 0.2, "status": "red"})
    hist = pl.DataFrame(rows)
    site_data = site.trends_figure(hist).data
    for name, c in CHECKS.items():
        report = mr.trend_chart(hist, name, c.unit).data
        mine = report[report["series"] == "value"].sort_values("period")["y"].tolist()
        theirs = site_data[site_data["name"] == name].sort_values("period")["value"].tolist()
        scale = present.UNITS[c.unit].scale
        assert mine == pytest.approx(theirs), name
        assert mine == pytest.approx([(0.21 + list(CHECKS).index(name) + k) * scale for k in (0, 1)]), name
    assert present.UNITS[CHECKS["recalibration"].unit].scale == 100  # the weight drift: 0.21 reads as 21 points on both
