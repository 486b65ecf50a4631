"""The candidate health signals: a grammar that names every signal the kit can build, and their
plain-words definitions, labels, directions and components.

A signal is a **measure** (a column of an activity table: daily active users, logins, a usage
feature, tickets opened, CSAT, days late, NPS, contacts' activity), an **aggregation** (sum, mean
over all days, mean over the days with a record, max, min, share of days with a record, days since
the last record, the change against the window before, per seat, per active user, the latest value)
and, for windowed aggregations, a **window** in days counted back from the as-of date. Its name is
`<measure>_<aggregation>_<window>d` (`active_users_per_seat_90d`, `feature_avg_grade_mean_active_60d`,
`tickets_sum_90d`) or `<measure>_<aggregation>` without a window (`logins_days_since`, `nps_latest`).
`family()` lists every such signal for a set of measures; the signal search
(kit.analyses.search) chooses among them on earlier renewals.

Besides the grammar, `SIGNALS` holds the signals with names of their own: the kit's original
catalogue (`active_users_per_seat` is `active_users_per_seat_30d`, ...: `ALIASES`), and a few
that are not of the measure x aggregation x window shape (open urgent tickets, the NPS change, a
champion among the contacts, tenure, ARR). Parameters files may use either form.

`direction` says which way is healthy: +1 when a higher value means a healthier account, -1 when
a higher value means more risk. Exact definitions (what counts as "before the as-of date") are in
kit.analyses.signals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMPONENTS = ("usage", "support", "billing", "sentiment", "relationship")
ACCOUNT = "account"  # tenure and ARR: candidates and controls, not part of any score component
FEATURE_PREFIX = "feature_"  # extra usage columns become measures named feature_<column>
WINDOWS = (30, 60, 90, 180, 365)  # days


@dataclass(frozen=True)
class Signal:
    name: str
    component: str
    direction: int
    table: str
    description: str
    percent: bool = False  # a relative change or a share: shown as a percentage (the value itself stays a fraction)
    measure: str | None = None  # generated signals: what they aggregate ...
    aggregation: str | None = None  # ... how ...
    window: int | None = None  # ... and over how many days


@dataclass(frozen=True)
class Measure:
    """A column of an activity table, aggregated per account and day (or per record)."""

    name: str
    table: str
    component: str
    direction: int
    words: str  # "daily active users": what a day's value counts
    label: str  # "Active users"
    aggregations: tuple[str, ...]
    kind: str = "count"  # count: a day's total; value: each record's value (a mean is over records)
    total: str = ""  # what a total over a window counts, when the words of a day's value do not say it


# what each aggregation keeps: level (how much), presence (how often, how recently), trend (which way)
AGGREGATIONS = {
    "sum": "level", "mean": "level", "mean_active": "level", "mean_active_or_zero": "level", "max": "level", "min": "level",
    "per_seat": "level",
    "per_user": "level", "latest": "level", "share_active": "presence", "days_since": "presence", "change": "trend",
}
UNWINDOWED = ("days_since", "latest")
USAGE_AGGREGATIONS = ("sum", "mean", "mean_active", "mean_active_or_zero", "max", "share_active", "change", "per_seat", "per_user",
                      "days_since")

MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("active_users", "usage", "usage", +1, "active users", "Active users",
                tuple(a for a in USAGE_AGGREGATIONS if a != "per_user"), total="active-user days (the daily active users added up)"),
        Measure("logins", "usage", "usage", +1, "logins", "Logins", USAGE_AGGREGATIONS),
        Measure("tickets", "tickets", "support", -1, "support tickets opened", "Tickets", ("sum", "change", "days_since")),
        Measure("high_priority_tickets", "tickets", "support", -1, "high or urgent tickets opened", "High-priority tickets", ("sum",)),
        Measure("csat", "tickets", "support", +1, "CSAT of solved tickets", "CSAT", ("mean", "min", "change"), "value"),
        Measure("resolution_days", "tickets", "support", -1, "days to resolve a solved ticket", "Days to resolve", ("mean", "max"), "value"),
        Measure("late_invoices", "invoices", "billing", -1, "invoices paid late or overdue", "Late invoices", ("sum",)),
        Measure("days_late", "invoices", "billing", -1, "days late per invoice", "Days late", ("mean",), "value"),
        Measure("nps", "surveys", "sentiment", +1, "NPS responses (0-10)", "NPS", ("mean", "min", "latest"), "value"),
        Measure("contact_activity", "contacts", "relationship", +1, "contacts with their latest activity", "Active contacts",
                ("sum", "days_since")),
    )
}
WINDOWS_OF = {"invoices": (90, 180, 365), "surveys": (90, 180, 365)}  # tables whose records are months apart


def feature(column: str) -> Measure:
    """An extra numeric usage column as a measure (more is taken to be healthier)."""
    words = column.replace("_", " ")
    return Measure(FEATURE_PREFIX + column, "usage", "usage", +1, words, words[:1].upper() + words[1:], USAGE_AGGREGATIONS)


SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal("active_users_per_seat", "usage", +1, "usage",
               "mean daily active users over the 30 days before the as-of date, per licensed seat (days with no usage record count as zero once the account has any usage; null before its first usage record or without a seat count)"),
        Signal("logins_per_active_user", "usage", +1, "usage",
               "logins / active-user days over the 30 days before the as-of date (null when no active users)"),
        Signal("active_users_change_30d", "usage", +1, "usage",
               "relative change in mean daily active users: the 30 days before the as-of date vs the 30 days before those ((last - previous) / previous; null when the previous window has no active users)", percent=True),
        Signal("tickets_90d", "support", -1, "tickets",
               "support tickets created in the 90 days before the as-of date (0 when none; null when the window begins before the export's first ticket, unless the account was created after it)"),
        Signal("open_high_priority_tickets", "support", -1, "tickets",
               "high or urgent tickets created before the as-of date and not solved before it (null when the 90 days before the as-of date begin before the export's first ticket, unless the account was created after it)"),
        Signal("mean_csat_90d", "support", +1, "tickets",
               "mean CSAT of tickets solved in the 90 days before the as-of date (null when none was rated)"),
        Signal("days_to_resolve_90d", "support", -1, "tickets",
               "mean days from creation to resolution of tickets solved in the 90 days before the as-of date"),
        Signal("late_invoices_365d", "billing", -1, "invoices",
               "invoices paid late in the 365 days before the as-of date, plus invoices overdue and unpaid at the as-of date (null without any invoice issued before it; null when the window begins before the export's first invoice, unless the account was created after it)"),
        Signal("mean_days_late_365d", "billing", -1, "invoices",
               "mean days late over the invoices paid in the 365 days before the as-of date (0 when on time) and the invoices overdue at the as-of date (days overdue so far)"),
        Signal("latest_nps", "sentiment", +1, "surveys",
               "the latest NPS response (0-10) in the 365 days before the as-of date; values outside 0-10 are ignored"),
        Signal("nps_change", "sentiment", +1, "surveys",
               "the latest NPS response minus the one before it (both before the as-of date)"),
        Signal("contacts", "relationship", +1, "contacts",
               "contacts whose latest activity is dated before the as-of date (the snapshot has no creation dates)"),
        Signal("champion_present", "relationship", +1, "contacts",
               "1 when one of those contacts has a role containing 'champion', else 0"),
        Signal("days_since_contact_activity", "relationship", -1, "contacts",
               "days from the latest contact activity before the as-of date to the as-of date"),
        Signal("tenure_days", ACCOUNT, +1, "accounts",
               "days from the account's creation to the as-of date"),
        Signal("arr", ACCOUNT, +1, "accounts",
               "ARR at the as-of date: ARR after the latest renewal before it, else the CRM's current ARR"),
    )
}
# the original catalogue's names for signals of the grammar (same definition, same values)
ALIASES = {
    "active_users_per_seat": "active_users_per_seat_30d",
    "logins_per_active_user": "logins_per_user_30d",
    "tickets_90d": "tickets_sum_90d",
    "mean_csat_90d": "csat_mean_90d",
    "days_to_resolve_90d": "resolution_days_mean_90d",
    "late_invoices_365d": "late_invoices_sum_365d",
    "mean_days_late_365d": "days_late_mean_365d",
    "latest_nps": "nps_latest",
    "days_since_contact_activity": "contact_activity_days_since",
}
SPECIAL = tuple(s for s in SIGNALS if s not in ALIASES and s != "active_users_change_30d")

def parse(name: str, features: tuple[str, ...] | list[str] | None = None) -> Signal | None:
    """The generated signal a name stands for (None when it is not of the grammar). Usage features
    are `feature_<column>`; with `features` given, only those columns are known. A bare
    `feature_<column>` is its 30-day mean (the original catalogue's feature signals)."""
    parts = _split(name, features)
    if parts is None and name.startswith(FEATURE_PREFIX):
        m = _measure(name, features)
        parts = (m, "mean", 30) if m is not None else None
    return None if parts is None else _signal(name, *parts)


def _split(name: str, features) -> tuple[Measure, str, int | None] | None:
    """(measure, aggregation, window): the shortest measure that leaves a valid aggregation (names are
    unambiguous: no aggregation is another one with a prefix)."""
    for cut in (i for i, c in enumerate(name) if c == "_"):
        rest = re.fullmatch(r"(?P<aggregation>[a-z_]+?)(?:_(?P<window>\d+)d)?", name[cut + 1:])
        if not rest or rest["aggregation"] not in AGGREGATIONS:
            continue
        m, agg = _measure(name[:cut], features), rest["aggregation"]
        window = int(rest["window"]) if rest["window"] else None
        if m is None or agg not in m.aggregations or (window is None) != (agg in UNWINDOWED) or window == 0:
            continue
        return m, agg, window
    return None


def _measure(name: str, features) -> Measure | None:
    if name in MEASURES:
        return MEASURES[name]
    if name.startswith(FEATURE_PREFIX) and len(name) > len(FEATURE_PREFIX):
        col = name[len(FEATURE_PREFIX):]
        if features is None or col in features:
            return feature(col)
    return None


def _signal(name: str, m: Measure, agg: str, window: int | None) -> Signal:
    direction = -m.direction if agg == "days_since" else m.direction
    percent = agg == "share_active" or (agg == "change" and m.table == "usage")
    return Signal(name, m.component, direction, m.table, describe(m, agg, window), percent, m.name, agg, window)


def name_of(measure: str, aggregation: str, window: int | None = None) -> str:
    return f"{measure}_{aggregation}" + (f"_{window}d" if window is not None else "")


def describe(m: Measure, agg: str, w: int | None) -> str:
    """A generated signal's definition in plain words."""
    span = f"the {w} days before the as-of date"
    what = m.words
    if agg == "sum":
        extra = ", plus invoices overdue and unpaid at the as-of date" if m.name == "late_invoices" else ""
        return f"{m.total or what} in {span}{extra} (0 when none; unknown when the window begins before the export does)"
    if agg == "mean":
        if m.kind == "value":
            return f"mean of the {what} in {span} (unknown when there is none)"
        return f"mean {what} per day over {span} (days without a record count as zero from the account's first {m.table} record)"
    if agg == "mean_active":
        return f"mean {what} per day over the days with a record (a value above zero) in {span}"
    if agg == "mean_active_or_zero":
        return (f"mean {what} per day over the days with a record (a value above zero) in {span}, 0 when there is none "
                f"(from the account's first {m.table} record)")
    if agg == "max":
        return f"highest {what} on one day in {span}" if m.kind == "count" else f"highest {what} in {span}"
    if agg == "min":
        return f"lowest {what} in {span} (unknown when there is none)"
    if agg == "share_active":
        return f"share of the days in {span} with a record ({what} above zero), from the account's first {m.table} record"
    if agg == "days_since":
        return (f"days from the latest day with {what} to the as-of date, up to 365 (365 when there is none in the year before it; "
                "unknown when the export does not reach back that far and the account is older than the export)")
    if agg == "change":
        if m.table == "usage":
            return f"relative change in mean {what} per day: {span} against the {w} days before those"
        return f"{'mean ' if m.kind == 'value' else ''}{what} in {span} minus the {w} days before those"
    if agg == "per_seat":
        return f"mean {what} per day over {span}, per licensed seat"
    if agg == "per_user":
        return f"{what} per active-user day over {span}"
    if agg == "latest":
        return f"the latest of the {what} in the 365 days before the as-of date"
    raise ValueError(agg)


def label_of(name: str) -> str | None:
    """A generated signal's short label ("Active users per seat (90 days)"); None when not of the grammar."""
    s = parse(name)
    if s is None or s.measure is None:
        return None
    m = _measure(s.measure, None)
    what, low = m.label, m.label[:1].lower() + m.label[1:]
    text = {
        "sum": what, "mean": f"{what} per day" if m.kind == "count" else f"{what}, mean",
        "mean_active": f"{what} per day with any", "mean_active_or_zero": f"{what} per day with any, 0 without",
        "max": f"{what}, highest" + (" day" if m.kind == "count" else ""),
        "min": f"{what}, lowest", "share_active": f"Share of days with {low}", "change": f"Change in {low}",
        "per_seat": f"{what} per seat", "per_user": f"{what} per active user",
    }
    if s.aggregation == "days_since":
        return f"Days without {low}"
    if s.aggregation == "latest":
        return f"Latest {what}"
    return f"{text[s.aggregation]} ({s.window} days)"


def family(measures: list[Measure], windows: tuple[int, ...] = WINDOWS) -> list[str]:
    """Every generated signal of the measures: each aggregation at each window (tables whose records are
    months apart only at their own longer windows)."""
    out = []
    for m in measures:
        ws = [w for w in windows if w in WINDOWS_OF.get(m.table, windows)] or list(WINDOWS_OF.get(m.table, windows))
        for agg in m.aggregations:
            out += [name_of(m.name, agg)] if agg in UNWINDOWED else [name_of(m.name, agg, w) for w in ws]
    return out


def signal(name: str, features=None) -> Signal | None:
    """Any signal by name: the named catalogue, its aliases, or the grammar."""
    return SIGNALS[name] if name in SIGNALS else parse(name, features)


def canonical(name: str) -> str:
    """The grammar's name of a signal: an alias resolved, a bare feature as its 30-day mean."""
    name = ALIASES.get(name, name)
    s = parse(name)
    return name_of(s.measure, s.aggregation, s.window) if s is not None else name


def definition_of(name: str) -> str:
    """A signal's definition in plain words ("" for a name the catalogue does not know)."""
    s = signal(name)
    return s.description if s else ""


def component_of(name: str) -> str:
    """Default component of a signal."""
    s = signal(name)
    return s.component if s else ACCOUNT


def direction_of(name: str) -> int:
    """+1 when higher is healthier, -1 when higher is riskier."""
    s = signal(name)
    return s.direction if s else +1


def default_components() -> dict[str, list[str]]:
    """Signals per default score component (signals of the 'account' group are candidates only)."""
    out: dict[str, list[str]] = {c: [] for c in COMPONENTS}
    for s in SIGNALS.values():
        if s.component in out:
            out[s.component].append(s.name)
    return out
