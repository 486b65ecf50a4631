"""The monthly maintenance check: is the health score still working?

Each check (defined in kit.checks: title, unit, direction, cadence, limit, action) compares one
number for the period with its amber and red thresholds (`params.maintenance`, read in the
check's direction: higher is worse ->
red when value > red, amber when value > amber; lower is worse -> red when value < red, amber
when value < amber; a value exactly at a threshold has not crossed it). A check whose data is
missing is "not checked" with the reason, never green.

Definitions (the period is a calendar month; nothing dated after its last day is used):

* accuracy_audit: renewals dated in the period; each is scored with the latest platform health
  score dated within [renewal_date - backtest.window_start_days, renewal_date - lead_time_days]
  (the same look-back as the back-test: the score a CSM saw `lead_time_days` before the renewal).
  Value: share of churned renewals whose score was green (>= the platform's green band:
  backtest.platform_bands, else score.bands, so once the proposed scorecard is adopted in the
  platform and pasted into `score:`, its own bands judge it month after month). Churned: outcome
  "churned" (also "contracted" when weighting.contraction_as_churn >= 0.5), as in the back-test.
* false_rate: the same scored renewals; a red score (< bands.red) is the "at risk" flag. False
  positive rate = red-flagged renewals that did not churn / renewals that did not churn; false
  negative rate = churned renewals not flagged red / churned renewals. Value: the larger.
* refinement_trigger: consecutive months, ending with this one, in which false_rate was red
  (from the history; a month missing from the history breaks the run, and the detail names it).
  Red when more than consecutive_months - 1, amber when more than 0.
* sync_failures: per source, failed syncs started in the period. Value: the largest count.
* sync_staleness: per source seen in the 90 days before period end, hours from the last
  successful sync (finish time, else start time) to the end of the period (no success in those
  90 days: 90 x 24 h). Value: the largest.
* cta_completion: CTAs due in the period; completed on time = closed on or before the due date.
* csm_active_share: business days (Mon-Fri) of the period; active CSMs = team members marked
  active (blank counts as active) whose role is one of `csm_roles` (no role matches: every
  active member). Value: mean over business days of distinct active CSMs logging in / active CSMs.
* unscored_accounts: active accounts (created on or before the period's first day and not
  churned by its last day) with no platform score dated in the period.
* recalibration (quarterly, periods closing a quarter only): largest absolute difference between
  a component's weight in `score.components` and `proposed_weights` in this run's weights.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from kit import registry
from kit.analyses import accounts
from kit.analyses.weights import WeightsDocument
from kit.artefacts import Document
from kit.checks import CHECKS, HIGHER, LOWER
from kit.present import label, percent_short
from kit.io import history
from kit.params import Limit, Maintenance, Parameters
from kit.periods import Period
from kit.status import AMBER, GREEN, NOT_CHECKED, RED
from kit import status

STATUS_RANK = {s: rank for rank, s in enumerate(status.CHECK_STATUSES)}
STALE_SOURCE_DAYS = 90  # a source absent from the sync log this long is no longer checked

NO_ACTION = "No action: keep monitoring."


@dataclass
class CheckResult:
    name: str
    status: str
    value: float | None = None
    threshold: dict | None = None  # {"amber", "red", "worse": "higher"|"lower"}
    action: str = ""
    detail: str = ""
    behind: pl.DataFrame | None = field(default=None, repr=False)  # accounts, sources or CSMs (not serialised)

    @property
    def title(self) -> str:
        return CHECKS[self.name].title

    @property
    def unit(self) -> str:
        return CHECKS[self.name].unit

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "status": self.status, "value": self.value,
            "threshold": self.threshold, "unit": self.unit, "action": self.action, "detail": self.detail,
        }


# ---------------------------------------------------------------------------- rating


def rate(value: float | None, limit: Limit, worse: str) -> str:
    """green / amber / red for a value against its limit (see the module docstring)."""
    if value is None:
        return NOT_CHECKED
    if worse == HIGHER:
        return RED if value > limit.red else AMBER if value > limit.amber else GREEN
    if worse == LOWER:
        return RED if value < limit.red else AMBER if value < limit.amber else GREEN
    raise ValueError(f"unknown direction {worse!r}")


def _threshold(limit: Limit, worse: str) -> dict:
    return {"amber": limit.amber, "red": limit.red, "worse": worse}


def limit_of(name: str, m: Maintenance) -> Limit:
    """A check's amber and red: its field in params.maintenance (kit.checks), or for the refinement trigger
    the months in a row: amber from the first red month, red from `consecutive_months`."""
    if name == "refinement_trigger":
        return Limit(amber=0, red=m.consecutive_months - 1)
    return getattr(m, CHECKS[name].limit)


def _rated(name: str, value: float, m: Maintenance, detail: str, behind: pl.DataFrame | None = None) -> CheckResult:
    limit, worse = limit_of(name, m), CHECKS[name].worse
    status = rate(value, limit, worse)
    return CheckResult(name, status, value, _threshold(limit, worse), CHECKS[name].action if status in (AMBER, RED) else NO_ACTION,
                 detail, behind)


def not_checked(name: str, reason: str, action: str = "") -> CheckResult:
    return CheckResult(name, NOT_CHECKED, None, None, action or "Provide the missing data to enable this check.", reason)


def _end_moment(period: Period) -> datetime:
    """The first instant after the period (period end date, 24:00)."""
    return datetime.combine(period.end + timedelta(days=1), time())


# ---------------------------------------------------------------------------- accuracy


def scored_renewals(scores: pl.DataFrame, renewals: pl.DataFrame, period: Period, params: Parameters) -> pl.DataFrame:
    """Renewals dated in the period with the platform score a CSM saw `lead_time_days` before them.

    Columns: account_id, renewal_date, outcome, churned, score (null: no score in the window),
    score_date, band (red / yellow / green / null).
    """
    lead = params.lead_time_days
    window = max(params.backtest.window_start_days, lead)
    bands = params.platform_bands
    ren = (
        renewals.filter(pl.col("renewal_date").is_between(period.start, period.end), pl.col("outcome").is_not_null())
        .select("account_id", "renewal_date", "outcome")
        .unique(["account_id", "renewal_date"], keep="first")
        .with_columns(churned=(pl.col("outcome") == "churned")
                      | ((pl.col("outcome") == "contracted") & pl.lit(params.weighting.contraction_as_churn >= 0.5)))
    )
    sc = scores.filter(pl.col("score").is_not_null(), pl.col("date") <= period.end).select(
        "account_id", pl.col("date").alias("score_date"), "score"
    )
    latest = (
        ren.join(sc, on="account_id", how="inner")
        .filter(
            pl.col("score_date") <= pl.col("renewal_date") - pl.duration(days=lead),
            pl.col("score_date") >= pl.col("renewal_date") - pl.duration(days=window),
        )
        .sort("score_date")
        .group_by("account_id", "renewal_date")
        .agg(pl.col("score").last(), pl.col("score_date").last())
    )
    return (
        ren.join(latest, on=["account_id", "renewal_date"], how="left")
        .with_columns(
            band=status.band(pl.col("score"), bands.red, bands.green)
        )
        .sort("renewal_date", "account_id")
    )


def _unscored_note(scored: pl.DataFrame, params: Parameters) -> str:
    n = scored.filter(pl.col("score").is_null()).height
    return (f"; {n} renewal(s) had no score {params.lead_time_days}+ days before and are left out" if n else "")


def accuracy_audit(scored: pl.DataFrame, params: Parameters) -> CheckResult:
    churned = scored.filter(pl.col("churned"), pl.col("score").is_not_null())
    if churned.height == 0:
        return not_checked(
            "accuracy_audit",
            f"no churned renewal in the period with a platform score {params.lead_time_days}+ days before it"
            + _unscored_note(scored, params),
            action=NO_ACTION,
        )
    healthy = churned.filter(pl.col("band") == "green")
    value = healthy.height / churned.height
    detail = (f"{healthy.height} of {churned.height} churned accounts were scored green (>= {params.platform_bands.green:g}) "
              f"{params.lead_time_days} days before renewal" + _unscored_note(scored, params))
    behind = healthy.select("account_id", "renewal_date", "score", "score_date")
    return _rated("accuracy_audit", value, params.maintenance, detail, behind)


def false_rate(scored: pl.DataFrame, params: Parameters) -> CheckResult:
    s = scored.filter(pl.col("score").is_not_null())
    retained, churned = s.filter(~pl.col("churned")), s.filter(pl.col("churned"))
    if s.height == 0:
        return not_checked("false_rate", "no renewal in the period with a platform score"
                           f" {params.lead_time_days}+ days before it", action=NO_ACTION)
    fp = retained.filter(pl.col("band") == "red")
    fn = churned.filter(pl.col("band") != "red")
    parts, rates = [], []
    if retained.height:
        rates.append(fp.height / retained.height)
        parts.append(f"false positives {fp.height} of {retained.height} renewing accounts scored red ({percent_short(rates[-1])})")
    if churned.height:
        rates.append(fn.height / churned.height)
        parts.append(f"false negatives {fn.height} of {churned.height} churned accounts not scored red ({percent_short(rates[-1])})")
    behind = pl.concat([
        fp.select(pl.lit("false positive").alias("kind"), "account_id", "renewal_date", "outcome", "score"),
        fn.select(pl.lit("false negative").alias("kind"), "account_id", "renewal_date", "outcome", "score"),
    ])
    return _rated("false_rate", max(rates), params.maintenance, "; ".join(parts) + _unscored_note(scored, params), behind)


def consecutive_red(history: pl.DataFrame | None, name: str, period: Period, current_red: bool) -> int:
    """Months in a row, ending with `period`, in which check `name` was red.

    `history` holds earlier periods (records of `period` itself are ignored: the current run's
    result is `current_red`). A month missing from the history breaks the run.
    """
    if not current_red:
        return 0
    n = 1
    if history is None or history.height == 0:
        return n
    reds = set(history.filter(pl.col("name") == name, pl.col("status") == RED)["period"].to_list())
    p = period.previous()
    while p.label in reds:
        n += 1
        p = p.previous()
    return n


def refinement_trigger(false_check: CheckResult, history: pl.DataFrame | None, period: Period, m: Maintenance) -> CheckResult:
    if false_check.status == NOT_CHECKED:
        return not_checked("refinement_trigger", f"false positives/negatives not checked: {false_check.detail}",
                           action=NO_ACTION)
    n = consecutive_red(history, "false_rate", period, false_check.status == RED)
    detail = (f"false positives/negatives above {percent_short(m.false_rate.red)} for {n} consecutive month(s); "
              f"the trigger fires at {m.consecutive_months}")
    gaps = missing_months(history, period, m.consecutive_months - 1)
    if gaps:
        detail += (f"; the history has no record for {', '.join(gaps)} (not run, or its run failed), so the count "
                   "cannot reach back past it: run that month to complete it")
    return _rated("refinement_trigger", n, m, detail)


def missing_months(history: pl.DataFrame | None, period: Period, months: int) -> list[str]:
    """Of the `months` months before `period`, those the history lacks although it starts before them."""
    if history is None or history.height == 0:
        return []
    recorded = set(history["period"].to_list())
    first = min(recorded)
    return [p.label for p in (period.previous(i) for i in range(months, 0, -1)) if p.label >= first and p.label not in recorded]


# ---------------------------------------------------------------------------- integrations


def sync_failures(sync: pl.DataFrame, period: Period, m: Maintenance) -> CheckResult:
    end = _end_moment(period)
    start = datetime.combine(period.start, time())
    in_period = sync.filter(pl.col("started_at") >= start, pl.col("started_at") < end)
    seen = sync.filter(pl.col("started_at") < end, pl.col("started_at") >= end - timedelta(days=STALE_SOURCE_DAYS))
    per = (
        in_period.group_by("source")
        .agg(
            syncs=pl.len(),
            failures=(pl.col("status") == "failure").sum(),
            last_error=pl.col("error").filter(pl.col("status") == "failure").drop_nulls().last(),
        )
    )
    per = (
        seen.select("source").unique()
        .join(per, on="source", how="full", coalesce=True)
        .with_columns(pl.col("syncs").fill_null(0), pl.col("failures").fill_null(0).cast(pl.Int64))
        .sort(["failures", "source"], descending=[True, False])
    )
    if per.height == 0:
        return not_checked("sync_failures", "the sync log has no record in the 90 days before period end",
                           action=CHECKS["sync_staleness"].action)
    worst = per.row(0, named=True)
    value = int(worst["failures"])
    failing = per.filter(pl.col("failures") > 0)
    detail = (", ".join(f"{r['source']}: {r['failures']} failure(s)" for r in failing.iter_rows(named=True))
              if failing.height else f"no failed sync among {per.height} source(s)")
    return _rated("sync_failures", value, m, detail, per)


def sync_staleness(sync: pl.DataFrame, period: Period, m: Maintenance) -> CheckResult:
    end = _end_moment(period)
    seen = sync.filter(pl.col("started_at") < end, pl.col("started_at") >= end - timedelta(days=STALE_SOURCE_DAYS))
    if seen.height == 0:
        return not_checked("sync_staleness", "the sync log has no record in the 90 days before period end",
                           action=CHECKS["sync_staleness"].action)
    done = pl.coalesce(pl.col("finished_at"), pl.col("started_at"))
    ok_at = pl.min_horizontal(done, pl.lit(end))
    per = (
        sync.filter(pl.col("started_at") < end, pl.col("source").is_in(seen["source"].unique().implode()))
        .group_by("source")
        .agg(
            last_success=ok_at.filter(pl.col("status") == "success").max(),
        )
        .with_columns(
            hours=((pl.lit(end) - pl.col("last_success").fill_null(end - timedelta(days=STALE_SOURCE_DAYS)))
                   .dt.total_seconds() / 3600),  # never succeeded: at least the whole window
            never=pl.col("last_success").is_null(),
        )
        .sort("hours", descending=True)
    )
    worst = per.row(0, named=True)
    value = round(float(worst["hours"]), 2)
    stale = per.filter(pl.col("hours") > m.sync_staleness_hours.amber)
    if stale.height:
        detail = ", ".join(
            f"{r['source']}: " + (f"no successful sync in the {STALE_SOURCE_DAYS} days before period end" if r["never"]
                                  else f"last successful sync {r['hours']:.0f} h before period end")
            for r in stale.iter_rows(named=True)
        )
    else:
        detail = f"every source ({per.height}) synced successfully within {m.sync_staleness_hours.amber:g} h of period end"
    return _rated("sync_staleness", value, m, detail, per.select("source", "last_success", "hours"))


# ---------------------------------------------------------------------------- CTAs, usage, coverage


def cta_completion(ctas: pl.DataFrame, period: Period, m: Maintenance) -> CheckResult:
    due = ctas.filter(pl.col("due_at").is_between(period.start, period.end)).with_columns(
        on_time=pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= pl.col("due_at"))
    )
    if due.height == 0:
        return not_checked("cta_completion", "no CTA was due in the period", action=NO_ACTION)
    on_time = int(due["on_time"].sum())
    value = on_time / due.height
    late = due.filter(pl.col("closed_at").is_not_null() & ~pl.col("on_time")).height
    still_open = due.filter(pl.col("closed_at").is_null()).height
    detail = f"{on_time} of {due.height} CTAs due in the period were completed on time; {late} late, {still_open} not closed"
    behind = (
        due.group_by(pl.col("owner").fill_null("(no owner)"))
        .agg(due=pl.len(), on_time=pl.col("on_time").sum())
        .with_columns(on_time_share=pl.col("on_time") / pl.col("due"))
        .sort("on_time_share", "owner")
    )
    return _rated("cta_completion", value, m, detail, behind)


def business_days(period: Period) -> list[date]:
    d, out = period.start, []
    while d <= period.end:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def active_csms(team: pl.DataFrame, m: Maintenance) -> tuple[list[str], str]:
    """Normalised user ids of active CSMs, and how they were chosen."""
    t = team.with_columns(user=pl.col("user").str.strip_chars().str.to_lowercase()).filter(
        pl.col("user").is_not_null(), pl.col("active").fill_null(True)
    )
    roles = {r.strip().lower() for r in m.csm_roles}
    if "role" in t.columns:
        csm = t.filter(pl.col("role").str.strip_chars().str.to_lowercase().is_in(list(roles)))
        if csm.height:
            return sorted(set(csm["user"].to_list())), f"active team members with role {' / '.join(m.csm_roles)}"
    return sorted(set(t["user"].to_list())), "every active team member (no role matches csm_roles)"


def csm_active_share(logins: pl.DataFrame, team: pl.DataFrame, period: Period, m: Maintenance) -> CheckResult:
    csms, chosen = active_csms(team, m)
    if not csms:
        return not_checked("csm_active_share", "the team export lists no active CSM",
                           action="Map the team export's active flag and role columns (sources.team).")
    days = business_days(period)
    seen = (
        logins.with_columns(user=pl.col("user").str.strip_chars().str.to_lowercase())
        .filter(pl.col("date").is_in(days), pl.col("user").is_in(csms))
        .select("user", "date").unique()
    )
    value = seen.height / (len(csms) * len(days))  # = mean over days of (CSMs logged in / CSMs)
    behind = (
        pl.DataFrame({"user": csms})
        .join(seen.group_by("user").agg(days_logged_in=pl.len()), on="user", how="left")
        .with_columns(pl.col("days_logged_in").fill_null(0), business_days=pl.lit(len(days)))
        .with_columns(share=pl.col("days_logged_in") / pl.col("business_days"))
        .sort("share", "user")
    )
    detail = (f"on average {value * len(csms):.1f} of {len(csms)} CSMs ({chosen}) logged in per business day "
              f"({len(days)} business days)")
    return _rated("csm_active_share", value, m, detail, behind)


def unscored_accounts(accounts: pl.DataFrame, scores: pl.DataFrame, renewals: pl.DataFrame | None,
                      period: Period, m: Maintenance) -> CheckResult:
    acc = accounts.unique("account_id", keep="first").filter(
        pl.col("account_id").is_not_null(),
        pl.col("created_at").is_null() | (pl.col("created_at") <= period.start),
    )
    note = ""
    if renewals is not None:
        gone = renewals.filter(pl.col("outcome") == "churned", pl.col("renewal_date") <= period.end)["account_id"]
        acc = acc.filter(~pl.col("account_id").is_in(gone.unique().implode()))
    else:
        note = "; renewals not available, so churned accounts could not be left out"
    scored = scores.filter(pl.col("date").is_between(period.start, period.end), pl.col("score").is_not_null())
    last = scores.filter(pl.col("date") <= period.end).group_by("account_id").agg(last_score_date=pl.col("date").max())
    missing = (
        acc.join(scored.select("account_id").unique(), on="account_id", how="anti")
        .join(last, on="account_id", how="left")
    )
    cols = [c for c in ("account_id", "account_name", "segment", "csm_owner", "arr", "last_score_date") if c in missing.columns]
    behind = missing.select(cols).sort("account_id")
    detail = f"{missing.height} of {acc.height} active accounts have no health score dated in the period" + note
    return _rated("unscored_accounts", missing.height, m, detail, behind)


# ---------------------------------------------------------------------------- quarterly


def _weights_of(obj: Any) -> dict[str, float] | None:
    if not isinstance(obj, dict) or not obj:
        return None
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            v = v.get("weight")
        if v is None:
            continue  # a component the model could not weigh, as the back-test reads it
        if not isinstance(v, (int, float)) or v != v:
            return None
        out[str(k)] = float(v)
    return out or None


def recalibration(params: Parameters, weights_json: dict | None, period: Period) -> CheckResult:
    if not period.closes_quarter:
        return not_checked("recalibration", f"quarterly check: runs in periods that close a quarter (next: {period.next_quarter_close.label})",
                           action=NO_ACTION)
    if weights_json is None:
        return not_checked("recalibration", "weights.json not found in this run: run the weights notebook in the same "
                           "batch (maintenance runs after it)", action="Run the batch with the weights notebook.")
    proposed = _weights_of(weights_json.get("proposed_weights"))
    if proposed is None:
        why = (weights_json.get("reason") or weights_json.get("not_available")
               or "no usable `proposed_weights` in weights.json")
        return not_checked("recalibration", f"no proposed weights this quarter: {why}", action=NO_ACTION)
    current = {k: c.weight for k, c in params.score.components.items()}
    names = sorted(set(current) | set(proposed))
    behind = pl.DataFrame({
        "component": names,
        "current": [current.get(n, 0.0) for n in names],
        "proposed": [proposed.get(n, 0.0) for n in names],
    }).with_columns(drift=(pl.col("proposed") - pl.col("current")).abs()).sort("drift", descending=True)
    top = behind.row(0, named=True)
    value = round(float(top["drift"]), 6)
    detail = f"largest drift: {top['component']} {top['current']:.2f} now vs {top['proposed']:.2f} proposed"
    return _rated("recalibration", value, params.maintenance, detail, behind)


@dataclass
class Schedule:
    """When the quarterly recalibration check last ran (had a value), with what result, and when it is due."""

    last: dict | None  # the history record of the last month it was checked (period, status, value, detail)
    next_due: Period
    missed: list[str]  # months closing a quarter, after the last check and up to the latest month, without one

    @property
    def text(self) -> str:
        if self.last is None:
            head = "The quarterly recalibration check has not run yet"
        else:
            head = (f"The quarterly recalibration check last ran for {self.last['period']}: "
                    f"{self.last['status']} ({self.last['detail']})")
        if self.missed:
            return (f"{head}. It was due for {', '.join(self.missed)} and did not run (run the weights notebook "
                    f"in those months' batch); next due {self.next_due.label}.")
        return f"{head}. Next due: {self.next_due.label}."


def recalibration_schedule(history: pl.DataFrame | None, latest: Period) -> Schedule:
    """From the history up to `latest`: the recalibration check's last result and its next due month
    (the quarter close after its last run; months that closed a quarter since without it are `missed`)."""
    h = history if history is not None else pl.DataFrame(schema={"period": pl.String, "name": pl.String, "status": pl.String})
    ran = h.filter(pl.col("name") == "recalibration", pl.col("status") != NOT_CHECKED, pl.col("period") <= latest.label).sort("period")
    last = ran.row(-1, named=True) if ran.height else None
    if last is not None:
        due = Period.parse(last["period"]).next_quarter_close
    else:  # never run: due from the first month the history covers
        first = Period.parse(min(h["period"].to_list())) if h.height else latest
        due = first if first.closes_quarter else first.next_quarter_close
    missed = []
    while due <= latest:
        missed.append(due.label)
        due = due.next_quarter_close
    return Schedule(last, due, missed)


# ---------------------------------------------------------------------------- all checks


def _missing(data, *tables: str) -> str | None:
    reasons = [f"{label(t)}: {data.unavailable.get(t, 'not available')}" for t in tables if not data.has(t)]
    return "; ".join(reasons) if reasons else None


def _unmapped(data, table: str, *columns: str) -> str | None:
    mapping = data.loads[table].mapping
    gone = [c for c in columns if c not in mapping]
    return f"the {label(table)} export maps no column onto {', '.join(label(c).lower() for c in gone)}" if gone else None


def evaluate(data, params: Parameters, period: Period, *, history: pl.DataFrame | None = None,
             weights: dict | None = None, stability: dict | None = None, ranking: dict | None = None,
             parity: dict | None = None) -> list[CheckResult]:
    """Every check for the period. `history`: earlier periods' records (kit.io.history); `weights`:
    this run's weights.json (None if absent); `stability`, `ranking`: the card's score stability and discrimination
    (kit.analyses.accounts); `parity`: the adopted scorecard recomputed against the platform (kit.analyses.parity).
    Missing data makes a check "not checked", never an error."""
    m = params.maintenance
    checks: list[CheckResult] = []
    add = "add the CS platform's export of {} to the parameters' sources"

    why = _missing(data, "health_scores", "renewals")
    if why:
        fc = not_checked("false_rate", why, action=add.format(f"{label('health_scores')} and {label('renewals')}"))
        checks += [not_checked("accuracy_audit", why, action=fc.action), fc]
    else:
        scored = scored_renewals(data.table("health_scores"), data.table("renewals"), period, params)
        fc = false_rate(scored, params)
        checks += [accuracy_audit(scored, params), fc]
    checks.append(refinement_trigger(fc, history, period, m))

    why = _missing(data, "sync_log")
    if why:
        checks += [not_checked(n, why, action=add.format(label("sync_log"))) for n in ("sync_failures", "sync_staleness")]
    else:
        sync = data.table("sync_log")
        checks += [sync_failures(sync, period, m), sync_staleness(sync, period, m)]

    why = _missing(data, "ctas") or _unmapped(data, "ctas", "due_at", "closed_at")
    checks.append(not_checked("cta_completion", why, action=add.format(label("ctas"))) if why
                  else cta_completion(data.table("ctas"), period, m))

    why = _missing(data, "platform_logins", "team")
    checks.append(not_checked("csm_active_share", why, action=add.format(f"{label('platform_logins')} and {label('team')}")) if why
                  else csm_active_share(data.table("platform_logins"), data.table("team"), period, m))

    why = _missing(data, "health_scores")
    checks.append(not_checked("unscored_accounts", why, action=add.format(label("health_scores"))) if why
                  else unscored_accounts(data.table("accounts"), data.table("health_scores"),
                                         data.table("renewals") if data.has("renewals") else None, period, m))

    checks.append(score_stability(stability, m))
    checks.append(discrimination(ranking, m))
    checks.append(platform_parity(parity, m))
    checks.append(recalibration(params, weights, period))
    return checks


def platform_parity(p: dict | None, m: Maintenance) -> CheckResult:
    """The accounts whose latest platform score of the month is not the adopted scorecard's (kit.analyses.parity)."""
    if p is None:
        return not_checked("platform_parity", "no adopted scorecard is named (maintenance.adopted_scorecard)",
                           action="Once the client's platform runs a proposed scorecard, name its period in "
                           "maintenance.adopted_scorecard: each month then checks that the platform's scores are the card's.")
    if not p["available"]:
        return not_checked("platform_parity", p["reason"], action="add the CS platform's export of health scores to the parameters' sources")
    explained = sorted({r["measure"] for r in p["accounts"] if r["measure"]})
    detail = (f"{p['off']:,} of {p['compared']:,} accounts' platform scores differ from the scorecard of {p['adopted']} by more "
              f"than {p['tolerance']:g} point{'' if p['tolerance'] == 1 else 's'}" + (f"; explained by {', '.join(label(x) for x in explained)}" if explained else ""))
    from kit.analyses import parity

    behind = parity.frame(p["accounts"]) if p["accounts"] else None
    return _rated("platform_parity", p["off"], m, detail, behind)


def discrimination(d: dict | None, m: Maintenance) -> CheckResult:
    """The card's AUC on the last six months' renewals against its back-test AUC: red when the back-test AUC is above
    the 95% DeLong interval of the recent one (a significant drop), amber when the drop exceeds
    maintenance.discrimination_drop without being significant."""
    if d is None:
        return not_checked("discrimination", "the accounts of the month were not scored")
    if d.get("backtest_auc") is None:
        return not_checked("discrimination", "no back-test of an earlier period has this card's AUC after its cut yet",
                           action="Run the back-test (notebook 03) in a period before this one.")
    if d.get("auc") is None:
        return not_checked("discrimination", f"renewals from {d['from']} to {d['to']}: {d['reason']}",
                           action="No action: the check judges once enough renewals have churned.")
    drop = d["backtest_auc"] - d["auc"]
    lo, hi = d["interval"]
    status = RED if d["backtest_auc"] > hi else AMBER if drop > m.discrimination_drop else GREEN
    detail = (f"AUC {d['auc']:.3f} (95% interval {lo:.3f} to {hi:.3f}) on {d['renewals']:,} renewals from {d['from']} to "
              f"{d['to']} ({d['churned']:,} churned), against {d['backtest_auc']:.3f} after the cut of the back-test of {d['backtest']}")
    return CheckResult("discrimination", status, drop, {"amber": m.discrimination_drop, "red": None, "worse": HIGHER,
                                                       "rule": "when the drop is beyond the 95% interval"},
                       CHECKS["discrimination"].action if status in (AMBER, RED) else NO_ACTION, detail)


def score_stability(stability: dict | None, m: Maintenance) -> CheckResult:
    """The PSI of this month's scores against the accounts' scores at the card's cut (kit.analyses.accounts.stability);
    not checked when the counts are too small to judge."""
    if stability is None:
        return not_checked("score_stability", "the accounts of the month were not scored")
    s = stability["score"]
    where = f"against the accounts' scores at {stability['reference']} ({stability['reference_date']})"
    if s["psi"] is None or not s["judged"]:
        return not_checked("score_stability", f"{s['current']:,} accounts this month and {s['reference']:,} {where}: too few to judge",
                           action="No action: the check judges once the book holds five accounts a score band.")
    moved = stability.get("moved_most")
    detail = f"PSI {s['psi']:.3f} {where}" + (f"; the measure that moved most: {label(moved)}" if moved else "")
    return _rated("score_stability", s["psi"], m, detail)


@dataclass
class Result:
    checks: list[CheckResult]
    doc: dict  # maintenance.json
    trend: pl.DataFrame  # the earlier months' records with this one's (kit.io.history.trend)
    accounts: "accounts.Result | None" = None  # every account this month, the portfolio (kit.analyses.accounts)

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)


class MaintenanceDocument(Document):
    """maintenance.json (`report`): the period's checks; read by the runner (into the history), reruns and the site."""

    FILE = registry.MAINTENANCE_JSON
    REQUIRED = ("period", "checks")  # what the history, a rerun and the site read
    RECORDS = {"checks": ("name", "status")}

    @property
    def checks(self) -> list[dict[str, Any]]:
        return self.doc["checks"]


def run_for(ctx) -> Result:
    """The notebook's one call: every check of ctx's period, judged with the history of the earlier months;
    writes maintenance.json (the runner records it in the history once the run is committed)."""
    past = history.read(history.client_root(ctx.run_dir), before=ctx.period.label)
    weights = WeightsDocument.read(ctx.run_dir)
    scored = accounts.run_for(ctx)  # every account this month: accounts.csv, portfolio.json
    checks = evaluate(ctx.data, ctx.params, ctx.period, history=past, weights=weights.doc if weights else None,
                      stability=scored.portfolio["stability"], ranking=scored.portfolio["discrimination"],
                      parity=scored.portfolio["parity"])
    doc = report(ctx.period, checks)
    MaintenanceDocument(doc).write(ctx.run_dir)
    return Result(checks, doc, history.trend(past, doc), scored)


def report(period: Period, checks: list[CheckResult]) -> dict:
    """The maintenance.json document."""
    counts = {s: sum(c.status == s for c in checks) for s in (RED, AMBER, GREEN, NOT_CHECKED)}
    worst = max((c.status for c in checks), key=STATUS_RANK.get, default=NOT_CHECKED)
    return {"period": period.label, "status": worst, "counts": counts, "checks": [c.to_dict() for c in checks]}
