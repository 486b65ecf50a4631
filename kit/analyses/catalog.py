"""The candidate health signals the kit knows how to build, and their default components.

Exact definitions (windows, what counts as "before the as-of date") are in kit.analyses.signals.DEFINITIONS.
`direction` says which way is healthy: +1 when a higher value means a healthier account,
-1 when a higher value means more risk. The signals module builds them; the scoring module
turns them into component scores; the parameters assign them to components.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPONENTS = ("usage", "support", "billing", "sentiment", "relationship")


@dataclass(frozen=True)
class Signal:
    name: str
    component: str
    direction: int
    table: str
    description: str
    percent: bool = False  # a relative change or a share: shown as a percentage (the value itself stays a fraction)


SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal("active_users_per_seat", "usage", +1, "usage", "mean daily active users over the 30 days before the as-of date, per licensed seat"),
        Signal("logins_per_active_user", "usage", +1, "usage", "logins per active-user day over the 30 days before the as-of date"),
        Signal("active_users_change_30d", "usage", +1, "usage", "relative change in mean daily active users, last 30 days vs the 30 before", percent=True),
        Signal("tickets_90d", "support", -1, "tickets", "support tickets opened in the last 90 days"),
        Signal("open_high_priority_tickets", "support", -1, "tickets", "high or urgent tickets created before the as-of date and not solved before it"),
        Signal("mean_csat_90d", "support", +1, "tickets", "mean CSAT of tickets solved in the 90 days before the as-of date"),
        Signal("days_to_resolve_90d", "support", -1, "tickets", "mean days to resolve tickets resolved in the last 90 days"),
        Signal("late_invoices_365d", "billing", -1, "invoices", "invoices paid late in the 365 days before the as-of date, plus invoices overdue at it"),
        Signal("mean_days_late_365d", "billing", -1, "invoices", "mean days late over invoices paid in the last 365 days and invoices overdue at the as-of date"),
        Signal("latest_nps", "sentiment", +1, "surveys", "latest NPS response (0-10) in the 365 days before the as-of date"),
        Signal("nps_change", "sentiment", +1, "surveys", "latest NPS minus the previous response"),
        Signal("contacts", "relationship", +1, "contacts", "contacts whose latest activity is dated before the as-of date (the export is a snapshot)"),
        Signal("champion_present", "relationship", +1, "contacts", "1 when one of those contacts has a champion role"),
        Signal("days_since_contact_activity", "relationship", -1, "contacts", "days since the latest contact activity before the as-of date"),
        Signal("tenure_days", "account", +1, "accounts", "days since the account was created"),
        Signal("arr", "account", +1, "accounts", "annual recurring revenue at the as-of date"),
    )
}

FEATURE_PREFIX = "feature_"  # extra usage columns become signals named feature_<column>


def default_components() -> dict[str, list[str]]:
    """Signals per default score component (signals of the 'account' group are candidates only)."""
    out: dict[str, list[str]] = {c: [] for c in COMPONENTS}
    for s in SIGNALS.values():
        if s.component in out:
            out[s.component].append(s.name)
    return out
