"""The monthly maintenance checks, defined once: what each measures, its unit, which way is worse,
when it runs, its limit in the parameters file and what to do when it is amber or red.

kit.analyses.maintenance computes the checks; the parameters validate each limit's amber and red in
its check's direction; the methodology page, the site's trends and the reports read titles, units,
cadences and actions from here. It is a shared leaf (kit/__init__.py) rather than part of the
maintenance module because the parameters file, which every layer reads, validates by it.

The actions come from the seeds' maintenance schedule and refinement triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

HIGHER, LOWER = "higher", "lower"  # which way a value is worse
MONTHLY, QUARTERLY = "monthly", "quarterly"


@dataclass(frozen=True)
class CheckSpec:
    name: str
    title: str
    unit: str  # share, count, hours, months, weight or index (kit.present.UNITS: how a unit reads)
    worse: str  # HIGHER or LOWER
    cadence: str  # MONTHLY, or QUARTERLY: periods closing a quarter only
    limit: str | None  # the params.maintenance field holding its amber and red; None: derived (see maintenance)
    measures: str  # what the value is, in words
    action: str  # what to do when it is amber or red


CHECKS: dict[str, CheckSpec] = {
    c.name: c
    for c in (
        CheckSpec("accuracy_audit", "Health score accuracy audit", "share", HIGHER, MONTHLY, "churned_healthy_share",
              "share of churned accounts that were scored healthy (green)",
              "Compare health scores to actual outcomes with CS Ops: review the churned accounts that were scored healthy "
              "and which signals missed them; if it persists, recalibrate the component weights."),
        CheckSpec("false_rate", "False positives / negatives", "share", HIGHER, MONTHLY, "false_rate",
              "larger of the false positive and false negative rates",
              "Review the false positives (red accounts that renewed) and false negatives (churned accounts not flagged "
              "red) with the CSM leads; above 25% for 2+ months in a row is a refinement trigger."),
        CheckSpec("refinement_trigger", "Refinement trigger", "months", HIGHER, MONTHLY, None,
              "consecutive months with false positives/negatives above red",
              "Refinement trigger 'health score accuracy degrades': re-engage the SME for health score recalibration "
              "(weights, components, bands)."),
        CheckSpec("sync_failures", "Integration sync: failures", "count", HIGHER, MONTHLY, "sync_failures",
              "most failed syncs of any one source in the period",
              "Check the integration error logs of the failing sources, fix the cause (credentials, API limits, changed "
              "fields) and re-run the sync; recurring failures go to the platform admin."),
        CheckSpec("sync_staleness", "Integration sync: data staleness", "hours", HIGHER, MONTHLY, "sync_staleness_hours",
              "hours since the stalest source's last successful sync, at period end",
              "Verify the stale connector is scheduled and running, trigger a manual sync and check its error log: data "
              "older than 24 h makes scores and CTAs stale."),
        CheckSpec("cta_completion", "CTA completion rate", "share", LOWER, MONTHLY, "cta_completion",
              "share of CTAs due in the period completed on time",
              "Review CTA completion and timeliness with the CSM team: overdue CTAs by owner, CTA load per CSM, and "
              "playbooks whose CTAs nobody closes (retire or rework them)."),
        CheckSpec("csm_active_share", "Platform usage (CSM daily active)", "share", LOWER, MONTHLY, "csm_active_share",
              "mean share of active CSMs logging in per business day",
              "Check platform adoption with the CSM leads: who stopped logging in and why (training, workflow friction, "
              "work kept in other tools); retrain or adjust the workspace."),
        CheckSpec("unscored_accounts", "Health scores populating", "count", HIGHER, MONTHLY, "unscored_accounts",
              "active accounts with no health score in the period",
              "Find why these active accounts have no score (missing integration ids, segment or rule filters excluding "
              "them) and fix the mapping or rules in the platform."),
        CheckSpec("score_stability", "Score stability", "index", HIGHER, MONTHLY, "score_stability",
              "population stability index (PSI) of this month's scores against the accounts' scores when the card was fitted",
              "Find what changed in the accounts (a new segment, a product change, a source whose values changed meaning): "
              "compare the bands' shares then and now and the measure that moved most; if the population has moved for good, "
              "re-run the churn correlation and the back-test to refit the card."),
        CheckSpec("discrimination", "Score discrimination", "index", HIGHER, MONTHLY, None,
              "the card's AUC on the last six months' renewals below its AUC after the back-test's cut",
              "The card ranks churn less well than when it was fitted: check the measures' data (a source that stopped "
              "syncing, a changed definition), then re-run the churn correlation and the back-test to refit it."),
        CheckSpec("platform_parity", "Platform runs the adopted card", "count", HIGHER, MONTHLY, "platform_parity",
              "accounts whose platform score differs from the adopted scorecard's by more than the score tolerance",
              "Compare the named measure's ranges in the platform with the adopted scorecard (its proposed card and "
              "platform exports) and check that the measure's data still syncs; fix the rule, then rerun the month."),
        CheckSpec("recalibration", "Quarterly recalibration", "weight", HIGHER, QUARTERLY, "recalibration_drift",
              "largest drift between current and proposed component weights",
              "Health score recalibration: adjust the component weights towards the proposed ones (weights report), add "
              "or remove components, then re-run the back-test."),
    )
}
BY_LIMIT = {c.limit: c for c in CHECKS.values() if c.limit}
