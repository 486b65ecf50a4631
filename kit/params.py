"""Client parameters files: one YAML per client, validated before anything runs.

Only `client`, `name` and `sources` are required; every other setting has the default documented
on its field. Validation reports every problem at once, each naming the key and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kit import catalog, checks, contract
from kit.errors import ParametersError
from kit.uris import literal_password, mask_uri

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
WEIGHT_TOLERANCE = 0.001


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _fix(message: str, fix: str) -> ValueError:
    return ValueError(f"{message} || {fix}")


# ---------------------------------------------------------------------------- sources


class Source(Strict):
    """Where one canonical table comes from, and how the client's columns map onto it."""

    path: str | None = Field(None, description="CSV, Parquet or Excel file; relative to the parameters file; "
                             "{period} in it is the run's month (exports/{period}/renewals.csv: one export per month)")
    sheet: str | int | None = Field(None, description="Excel sheet name or index (default: first sheet)")
    uri: str | None = Field(None, description="database URI; ${VAR} is expanded from the environment")
    query: str | None = Field(None, description="SQL query run against `uri`")
    columns: dict[str, str] = Field(default_factory=dict, description="client column -> canonical column")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="canonical column -> {client label: canonical label}"
    )
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. %m/%d/%Y")
    encoding: str | None = Field(None, description="file encoding (default utf-8; e.g. latin-1)")
    decimal_comma: bool | None = Field(
        None, description="numbers use a decimal comma (1.234,50): true or false; unset, it is decided from the whole "
        "source (values only one convention reads, like 1.234,50 or 12,5) and reported by validate and the audit",
    )
    kind: Literal["daily", "events"] | None = Field(
        None, description="usage only: daily aggregates or raw events (default: guessed from columns)"
    )
    login_events: list[str] = Field(["login"], description="usage events only: event names counted as logins")
    timeout_seconds: float = Field(600, gt=0, description="database sources: cancel the query after this many seconds")
    aggregate_events: dict[str, str] = Field(
        default_factory=dict,
        description="database usage only: the query returns raw events with these columns (client column -> "
        "account_id/timestamp/user_id/event); the database sums them per account and day",
    )

    @model_validator(mode="after")
    def _one_location(self) -> "Source":
        if self.aggregate_events:
            roles = list(self.aggregate_events.values())
            bad = sorted({r for r in roles if r not in ("account_id", "timestamp", "user_id", "event")} | {r for r in roles if roles.count(r) > 1})
            if bad or not {"account_id", "timestamp"} <= set(roles) or self.path or self.kind == "events" or {"timestamp", "user_id"} & set(self.columns.values()):
                raise _fix(
                    "`aggregate_events` needs a database query and maps each raw event column once onto account_id, "
                    f"timestamp (required), user_id, event{f' (bad: {bad})' if bad else ''}",
                    "e.g. aggregate_events: {acct: account_id, event_time: timestamp, user: user_id, name: event}; "
                    "no `path`, no `kind: events`; `columns` then maps the daily result (account_id, date, active_users, logins, events)",
                )
        if self.path and (self.uri or self.query):
            raise _fix("has both `path` and `uri`/`query`", "keep either a file `path` or a database `uri` + `query`")
        if not self.path and not (self.uri and self.query):
            if self.uri or self.query:
                raise _fix("a database source needs both `uri` and `query`", "add the missing key")
            raise _fix("has no `path` and no `uri` + `query`", "add `path: exports/file.csv` (or a database `uri` and `query`)")
        if self.uri:
            if literal_password(self.uri):
                raise _fix(
                    "`uri` contains a password; credentials never go in the parameters file",
                    "reference environment variables, e.g. postgresql://${CLIENT_DB_USER}:${CLIENT_DB_PASSWORD}@host/db",
                )
        if set("{}") & set((self.path or "").replace("{period}", "")):
            raise _fix(f"`path` {self.path!r} has a placeholder other than {{period}}",
                       "write the month as {period} (YYYY-MM), e.g. exports/{period}/renewals.csv; no other placeholder is filled in")
        if self.sheet is not None and not (self.path or "").lower().endswith((".xlsx", ".xlsm", ".xls")):
            raise _fix("`sheet` is only for Excel files", "remove `sheet` or point `path` at an .xlsx file")
        return self

    @property
    def location(self) -> str:
        return self.path or "database query"

    @property
    def monthly(self) -> bool:
        """The path names the month: each period reads its own export."""
        return "{period}" in (self.path or "")



# ---------------------------------------------------------------------------- score


class Tiers(Strict):
    """Value tiers of one measure (the `tiers` transform): the form a CS platform's scorecard rules take.

    `cuts` split the measure's values into len(cuts) + 1 ranges; a value equal to a cut belongs to
    the lower range, so the ranges are (lower cut, upper cut] (ChurnZero's grid: the top of a range
    is inclusive, the bottom is not). Each range scores a fixed 0-100, listed lowest values first.
    """

    cuts: list[float] = Field(min_length=1, description="ascending range boundaries; a value equal to one belongs to the lower range")
    scores: list[float] = Field(description="0-100 score of each range, lowest values first (one more than cuts)")
    missing: float | None = Field(
        None, ge=0, le=100, description="score when the measure has no value; null: left out, the others re-weighted"
    )

    @model_validator(mode="after")
    def _shape(self) -> "Tiers":
        if any(not b > a for a, b in zip(self.cuts, self.cuts[1:])):
            raise _fix(f"cuts {self.cuts} are not strictly ascending", "list each boundary once, smallest first")
        if len(self.scores) != len(self.cuts) + 1:
            raise _fix(f"{len(self.cuts)} cut(s) make {len(self.cuts) + 1} ranges but {len(self.scores)} score(s) are given",
                       "give one score per range, lowest values first")
        if any(not 0 <= x <= 100 for x in self.scores):
            raise _fix(f"scores {self.scores} must lie in 0-100", "score each range between 0 (riskiest) and 100 (healthiest)")
        return self


class Component(Strict):
    weight: float = Field(ge=0, le=1, description="share of the composite score")
    signals: list[str] = Field(min_length=1, description="signals (measures) combined into this component")
    transform: Literal["percentile", "thresholds", "tiers"] = Field(
        "percentile",
        description="percentile rank within segment, fixed thresholds mapped to 0-100, or value tiers with a score each",
    )
    thresholds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="thresholds transform: signal -> [value scoring 0, value scoring 100]"
    )
    tiers: dict[str, Tiers] = Field(default_factory=dict, description="tiers transform: signal -> value ranges and their scores")
    signal_weights: dict[str, float] = Field(
        default_factory=dict,
        description="relative weight of each signal inside the component (default: equal); the proposed scorecard writes "
                    "each measure's share of the overall score, which add up to the component's weight",
    )

    @model_validator(mode="after")
    def _rules_cover_signals(self) -> "Component":
        for kind, rules, example in (("thresholds", self.thresholds, "[value at 0, value at 100]"),
                                     ("tiers", self.tiers, "{cuts: [...], scores: [...]}")):
            missing = [s for s in self.signals if s not in rules] if self.transform == kind else []
            if missing:
                raise _fix(f"transform is '{kind}' but signals {missing} have none",
                           f"add `{kind}: {{signal: {example}}}` for each signal")
        if self.signal_weights:
            if set(self.signal_weights) != set(self.signals) or any(w < 0 for w in self.signal_weights.values()):
                raise _fix(f"signal_weights must give each of {self.signals} a weight of 0 or more",
                           "list every signal of the component once, or leave signal_weights out for equal shares")
            if sum(self.signal_weights.values()) <= 0:
                raise _fix("signal_weights add up to 0", "give at least one signal of the component a positive weight")
        return self


def _default_components() -> dict[str, Component]:
    weights = {"usage": 0.35, "support": 0.20, "billing": 0.15, "sentiment": 0.20, "relationship": 0.10}
    return {c: Component(weight=weights[c], signals=s) for c, s in catalog.default_components().items()}


class Bands(Strict):
    red: float = Field(60, ge=0, le=100, description="scores below this are red")
    green: float = Field(75, ge=0, le=101, description="scores at or above this are green; between is yellow "
                         "(101: no score is green, when the data single out no healthy group)")

    @model_validator(mode="after")
    def _ordered(self) -> "Bands":
        if not self.red < self.green:
            raise _fix(f"red ({self.red}) must be below green ({self.green})", "e.g. red: 60, green: 75")
        return self


class Card(Strict):
    """A scorecard: components (each with its signals and their rules) weighted into 0-100, and its bands."""

    components: dict[str, Component] = Field(description="the score's components, weights adding up to 1")
    bands: Bands = Field(default_factory=Bands)

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> "Card":
        total = sum(c.weight for c in self.components.values())
        if abs(total - 1) > WEIGHT_TOLERANCE:
            shares = ", ".join(f"{k}: {v.weight:g}" for k, v in self.components.items())
            raise _fix(f"component weights sum to {total:.3f}, not 1 ({shares})", "adjust the weights so they add up to 1")
        return self


class Score(Card):
    components: dict[str, Component] = Field(default_factory=_default_components)
    at_risk_weeks: int = Field(2, ge=1, description="consecutive weekly scores below red that make an account at risk")
    trend_days: int = Field(30, ge=1, description="the trend indicator is the change in score over this many days")
    segments: dict[str, Card] = Field(
        default_factory=dict,
        description="segments (values of the accounts' segment column) scored by a card of their own, as Gainsight's "
                    "Scorecard Resolver does; every other account is scored by the components and bands above",
    )


# ---------------------------------------------------------------------------- analyses


class Audit(Strict):
    freshness_hours: dict[Literal["crm", "analytics", "platform"], float] = Field(
        default_factory=lambda: {"crm": 24, "analytics": 48, "platform": 24},
        description="flag a source whose latest record is older than this at period end",
    )
    arr_tolerance: float = Field(0.10, ge=0, description="relative gap allowed between CRM ARR and billing")
    volume_change: float = Field(0.5, gt=0, description="flag row counts changing more than this vs last period")
    csat_scale: tuple[float, float] = Field((1, 5), description="lowest and highest valid CSAT")
    max_amount: float = Field(
        1e9, gt=0, description="ARR, invoice amounts and renewal ARR above this are implausible (a unit, scale or parsing error)"
    )
    critical_columns: list[str] = Field(
        ["account_id", "arr", "renewal_date", "csm_owner"], description="accounts columns a health score needs"
    )
    arr_billing: Literal["run_rate", "last_12_months"] = Field(
        "run_rate", description="billing side of CRM ARR vs billing: latest invoice x invoices per year, or last 12 months"
    )
    coverage_days: dict[str, int | None] = Field(
        default_factory=lambda: {"usage": 30, "invoices": 365, "contacts": None, "tickets": 365, "surveys": 365},
        description="coverage: an active account counts as present in a source with a record in this many days (null: ever)",
    )
    coverage_expected: list[str] = Field(
        ["usage", "invoices", "contacts"], description="sources every active account must appear in (others are shown, not scored)"
    )


class Weighting(Strict):
    contraction_as_churn: float = Field(0.0, ge=0, le=1, description="0: contraction counts as retained, 1: as churn")
    correlation_threshold: float = Field(0.6, gt=0, lt=1, description="signals correlated above this form a group")
    vif_threshold: float = Field(5.0, gt=1, description="variance inflation factor flagged above this")
    significance: float = Field(0.05, gt=0, lt=1, description="p-value a signal must beat to be retained")
    bootstrap: int = Field(500, ge=0, description="bootstrap resamples for weight intervals")
    seed: int = Field(20240601, description="random seed for the bootstrap")
    min_churn_events: int = Field(20, ge=1, description="fewer churned renewals than this: no model is fitted")
    min_segment_churn_events: int = Field(30, ge=1, description="per-segment weights need this many churn events")
    max_missing_share: float = Field(0.5, gt=0, le=1, description="signals missing for more renewals than this are excluded")


class Sweep(Strict):
    start: float = 40
    stop: float = 80
    step: float = Field(5, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Sweep":
        if not self.start < self.stop:
            raise _fix(f"start ({self.start}) must be below stop ({self.stop})", "e.g. start: 40, stop: 80")
        return self


class Backtest(Strict):
    window_start_days: int = Field(
        365, ge=1, description="scores from this many days before each renewal (a contract year: where first at-risk flags are looked for) ..."
    )
    window_end_days: int = Field(0, ge=0, description="... up to this many days before it")
    score_every_days: int = Field(7, ge=1, description="scoring frequency in the back-test")
    sweep: Sweep = Field(default_factory=Sweep)
    platform_bands: Bands | None = Field(
        None, description="bands of the client's platform score (health_scores) when they differ from score.bands"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Backtest":
        if not self.window_end_days < self.window_start_days:
            raise _fix("window_end_days must be below window_start_days", "e.g. window_start_days: 365, window_end_days: 0")
        return self


class Scorecard(Strict):
    """How the back-test proposes a scorecard (kit.analyses.scorecard): fitted on earlier renewals, judged on later ones."""

    test_share: float = Field(1 / 3, gt=0, lt=1, description="share of renewals, the latest by date, kept out of the fit")
    max_measures: int = Field(8, ge=1, description="at most this many measures (signals)")
    min_weight: float = Field(0.03, ge=0, lt=1, description="measures weighing less than this are dropped")
    min_tier_share: float = Field(0.05, gt=0, le=0.2, description="each value range holds at least this share of the renewals with a value")
    max_red_share: float = Field(0.35, gt=0, le=1, description="red may flag at most this share of renewals")
    red_tolerance: float = Field(0.02, ge=0, lt=1, description="red thresholds this close to the best recall minus false positive rate count as equally good")
    green_churn_ratio: float = Field(0.5, gt=0, le=1, description="green: churn rate at most this times the base rate")
    max_churned_green: float = Field(0.10, ge=0, le=1, description="green: holds at most this share of churned renewals (95% upper bound)")
    min_churn_events: int = Field(20, ge=1, description="fewer churned renewals before the cut than this: no scorecard")
    cv_folds: int = Field(5, ge=2, le=20, description="time blocks of the fit renewals that cross-validate the tiers and the composite")
    band_blocks: int = Field(3, ge=1, description="the bands are fitted on the latest this many time blocks before the cut")
    max_tiers: int = Field(10, ge=2, le=20, description="at most this many value ranges per measure (the held-out likelihood chooses how many)")
    weight_penalty: float = Field(
        1.0, ge=0, description="ridge penalty on the measures' weights (log-odds per full range of points): steadies "
        "them on a few dozen churn events, and fades as they grow")
    min_red_recall: float = Field(0.60, ge=0, le=1, description="red aims to catch at least this share of churn (the report says when it cannot)")
    min_green_share: float = Field(0.15, ge=0, le=1, description="green aims to hold at least this share of renewals (the report says when it cannot)")
    segment_min_churn_events: int = Field(
        30, ge=1, description="a segment gets a card of its own to try with at least this many churned renewals before the cut")
    segment_margin: float = Field(
        0.01, ge=0, lt=1, description="a segment's own card is adopted when, cross-validated in time, it ranks the segment's "
        "renewals better than the overall card by at least this much AUC (and by more than one standard error)")


class Search(Strict):
    """How the signal search chooses candidate signals on earlier renewals (kit.analyses.search)."""

    windows: list[int] = Field(list(catalog.WINDOWS), min_length=1, description="windows, in days before the as-of date, the family is built over")
    max_candidates: int = Field(12, ge=1, description="at most this many candidate signals")
    duplicate_correlation: float = Field(
        0.8, gt=0, lt=1, description="candidates whose rank correlation exceeds this measure the same thing: the weaker is "
        "folded into the stronger (below it, two signals of one driver each carry evidence the other lacks)")
    pin: list[str] = Field(default_factory=list, description="signals that are always candidates (names of kit.catalog)")
    forbid: list[str] = Field(
        default_factory=list, description="signals never tried: names or patterns such as `feature_api_calls_*` or `*_days_since`"
    )

    @field_validator("windows")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(w <= 0 for w in v):
            raise _fix(f"windows {v} must be positive numbers of days", "e.g. windows: [30, 60, 90, 180, 365]")
        return sorted(set(v))


class Limit(Strict):
    """A red-flag threshold with an amber warning level before it."""

    amber: float
    red: float


class Maintenance(Strict):
    """Thresholds of the monthly maintenance check (kit.analyses.maintenance).

    Each Limit is read in the direction of its check (kit.checks): higher is worse -> red when
    value > red, amber when value > amber; lower is worse -> red when value < red, amber when
    value < amber. A value exactly at a threshold has not crossed it.
    """

    churned_healthy_share: Limit = Field(Limit(amber=0.15, red=0.20), description="churned accounts scored green")
    false_rate: Limit = Field(Limit(amber=0.20, red=0.25), description="false positive / negative rate")
    consecutive_months: int = Field(2, ge=1, description="false rate above red this many months: refinement trigger")
    sync_failures: Limit = Field(Limit(amber=0, red=1), description="failures per source in the period (red: more than 1)")
    sync_staleness_hours: Limit = Field(Limit(amber=12, red=24), description="hours since a source's last success")
    cta_completion: Limit = Field(Limit(amber=0.70, red=0.60), description="share of CTAs completed on time")
    csm_active_share: Limit = Field(Limit(amber=0.80, red=0.70), description="daily active CSMs / team")
    unscored_accounts: Limit = Field(Limit(amber=0, red=0), description="active accounts with no score in the period")
    recalibration_drift: Limit = Field(Limit(amber=0.05, red=0.10), description="largest component weight drift")
    discrimination_drop: float = Field(0.05, ge=0, le=1, description="the card's AUC on the last six months' renewals this "
                                       "far below its back-test AUC is amber; a drop beyond the 95% DeLong interval is red")
    platform_parity: Limit = Field(Limit(amber=0, red=0), description="accounts whose platform score differs from the "
                                   "adopted scorecard's (maintenance.adopted_scorecard) by more than score_tolerance")
    score_stability: Limit = Field(Limit(amber=0.10, red=0.25), description="population stability index of the month's scores "
                                   "against the accounts' scores when the card was fitted (credit scoring's 0.10 and 0.25)")
    adopted_scorecard: str | None = Field(
        None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the period (YYYY-MM) whose scorecard.json the client's platform "
        "runs: each month its scores are recomputed from the exports and set against the platform's (kit.analyses.parity)")
    score_tolerance: float = Field(1.0, ge=0, description="points a platform score may differ from the adopted card's before "
                                   "the account is listed")
    csm_roles: list[str] = Field(
        ["CSM", "Customer Success Manager"],
        description="team roles counted as CSMs for platform usage (case-insensitive; none match: every active member)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Maintenance":
        bad = []
        for name, check in checks.BY_LIMIT.items():  # each limit is read in its check's direction
            lim: Limit = getattr(self, name)
            if check.worse == checks.HIGHER and lim.amber > lim.red:
                bad.append(f"{name}: amber ({lim.amber:g}) must not be above red ({lim.red:g}), higher is worse")
            if check.worse == checks.LOWER and lim.amber < lim.red:
                bad.append(f"{name}: amber ({lim.amber:g}) must not be below red ({lim.red:g}), lower is worse")
        if bad:
            raise _fix("thresholds out of order: " + "; ".join(bad), "swap amber and red so amber warns before red")
        return self


HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"


class Branding(Strict):
    logo: str | None = Field(None, description="the client's logo (PNG, JPEG or SVG, relative to this file) on the documents' first page")
    colour: str | None = Field(None, pattern=HEX_COLOUR, description="headings of the documents, as #RRGGBB (default a neutral dark blue)")

    @field_validator("logo")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        if v is not None and Path(v).suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
            raise _fix(f"{v!r} is not a PNG, JPEG or SVG image", "give the path of the logo as a .png, .jpg or .svg file")
        return v


class Publish(Strict):
    personal_data: bool = Field(False, description="allow contact e-mails and user names in published pages")
    trend_months: int = Field(12, ge=1, description="months shown on the site's maintenance trends page")
    paper: Literal["a4", "letter"] = Field("a4", description="paper of the signed documents (publish --documents): a4 or letter")
    branding: Branding = Field(default_factory=Branding)


# ---------------------------------------------------------------------------- the file


class Parameters(Strict):
    client: str = Field(description="slug used in folder names: lowercase letters, digits, - and _")
    name: str = Field(min_length=1, description="client name shown in reports")
    sources: dict[str, Source] = Field(description="canonical table -> where it comes from")
    lead_time_days: int = Field(90, ge=1, description="signals and back-test scores are taken this long before renewal")
    score: Score = Field(default_factory=Score)
    audit: Audit = Field(default_factory=Audit)
    weighting: Weighting = Field(default_factory=Weighting)
    backtest: Backtest = Field(default_factory=Backtest)
    scorecard: Scorecard = Field(default_factory=Scorecard)
    search: Search = Field(default_factory=Search)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    publish: Publish = Field(default_factory=Publish)

    # Set by `load`, not by the file.
    base_dir: Path = Field(default=Path("."), exclude=True)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("client")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise _fix(
                f"{v!r} is not a safe folder name",
                "use lowercase letters, digits, '-' and '_' only (no '/', '..' or spaces), e.g. acme-corp",
            )
        return v

    @field_validator("sources")
    @classmethod
    def _known_tables(cls, v: dict[str, Source]) -> dict[str, Source]:
        unknown = sorted(set(v) - set(contract.TABLES))
        if unknown:
            raise _fix(f"unknown table(s) {unknown}", f"use only canonical tables: {', '.join(contract.TABLES)}")
        missing = [t for t in contract.REQUIRED_TABLES if t not in v]
        if missing:
            raise _fix(f"required table(s) {missing} missing", "add `sources.accounts` with the CRM accounts export")
        return v

    @model_validator(mode="after")
    def _mappings(self) -> "Parameters":
        problems = []
        for name, src in self.sources.items():
            problems += _mapping_problems(name, src)
        features = self.usage_features
        for key, names in [*((f"score.components.{c}.signals", comp.signals) for c, comp in self.score.components.items()),
                           ("search.pin", self.search.pin)]:
            unknown = [s for s in names if catalog.signal(s, features) is None]
            if unknown:
                problems.append(
                    f"{key}: unknown signal(s) {unknown} (the named ones: {', '.join(sorted(catalog.SIGNALS))}; or "
                    "<measure>_<aggregation>_<window>d such as active_users_per_seat_90d, see the README's signal search)"
                )
        if problems:
            raise _fix("; ".join(problems), "map onto canonical names listed in the README's data contract")
        return self

    @property
    def usage_features(self) -> list[str]:
        """Extra numeric usage columns: usage mappings onto names that are not canonical."""
        src = self.sources.get("usage")
        if not src:
            return []
        canonical = set(contract.TABLES["usage"].column_names) | set(contract.USAGE_EVENTS.column_names)
        return [c for c in src.columns.values() if c not in canonical]

    @property
    def platform_bands(self) -> Bands:
        """The bands that judge the platform's recorded score: backtest.platform_bands, else score.bands."""
        return self.backtest.platform_bands or self.score.bands

    def for_period(self, period: str) -> "Parameters":
        """These parameters for one month: `{period}` in source paths becomes it (YYYY-MM)."""
        if not any(src.monthly for src in self.sources.values()):
            return self
        sources = {n: src.model_copy(update={"path": src.path.replace("{period}", period)}) if src.monthly else src
                   for n, src in self.sources.items()}
        return self.model_copy(update={"sources": sources})

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def public_dict(self) -> dict[str, Any]:
        """The parameters as the manifest records them (no secrets: URIs are masked)."""
        data = self.model_dump(mode="json")
        for src in data["sources"].values():
            if src.get("uri"):
                src["uri"] = mask_uri(src["uri"])
        return data


def _mapping_problems(table_name: str, src: Source) -> list[str]:
    table = contract.TABLES[table_name]
    canonical = set(table.column_names)
    if table_name == "usage":
        canonical |= set(contract.USAGE_EVENTS.column_names)
    where = f"sources.{table_name}"
    problems = []
    targets = list(src.columns.values())
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        problems.append(f"{where}.columns: several client columns map onto {dupes}")
    if not table.extra_numeric:
        unknown = sorted(set(targets) - canonical)
        if unknown:
            problems.append(
                f"{where}.columns: {unknown} are not columns of {table_name} "
                f"(valid: {', '.join(table.column_names)})"
            )
    categorical = {c.name: c for c in table.columns if c.type == contract.CATEGORY}
    for col, mapping in src.values.items():
        if col not in categorical:
            problems.append(
                f"{where}.values.{col}: not a categorical column of {table_name}"
                + (f" (categorical: {', '.join(categorical)})" if categorical else " (it has none)")
            )
            continue
        bad = sorted({v for v in mapping.values() if v not in categorical[col].labels})
        if bad:
            problems.append(f"{where}.values.{col}: {bad} are not labels of {col} (valid: {', '.join(categorical[col].labels)})")
    if src.kind and table_name != "usage":
        problems.append(f"{where}.kind: only the usage table has a kind")
    return problems


# ---------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (YAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"key {key!r} appears twice in the same block (lines {seen[key] + 1} and {key_node.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load(path: str | Path) -> Parameters:
    """Read and validate a parameters file; raise ParametersError naming every bad key and its fix."""
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise ParametersError("file not found", where=where, fix="check the path, e.g. parameters/demo.yml", code="parameters_not_found")
    if path.is_dir():
        raise ParametersError(
            "is a folder, not a parameters file", where=where, code="parameters_not_a_file",
            fix=f"give one client's file, e.g. {path / 'acme.yml'}; to run every file in the folder: run --all --params-dir {path}",
        )
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.constructor.ConstructorError as e:
        if "appears twice" not in str(e.problem):
            raise ParametersError(f"not valid YAML: {e.problem}", where=where, fix="fix the YAML syntax", code="yaml_syntax") from None
        raise ParametersError(
            e.problem, where=where, code="duplicate_key",
            fix="keep one of them: YAML would silently use the last one, so merge the two blocks into one",
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ParametersError(f"not valid YAML{line}: {getattr(e, 'problem', e)}", where=where, fix="fix the YAML syntax", code="yaml_syntax") from None
    except UnicodeDecodeError:
        raise ParametersError("not UTF-8 text", where=where, fix="save the file as UTF-8", code="yaml_syntax") from None
    except OSError as e:
        raise ParametersError(
            f"cannot be read ({e.strerror or type(e).__name__})", where=where, code="parameters_not_a_file",
            fix="check the file's permissions (the user running the batch must be able to read it)",
        ) from None
    if not isinstance(raw, dict):
        raise ParametersError(
            "must be a mapping of keys to values", where=where, fix="start from parameters/demo.yml", code="invalid"
        )
    return from_dict(raw, base_dir=path.parent.resolve(), where=where, path=path.resolve())


def from_dict(raw: dict, *, base_dir: Path = Path("."), where: str = "parameters", path: Path | None = None) -> Parameters:
    try:
        params = Parameters.model_validate(raw)
    except ValidationError as e:
        raise ParametersError(_explain(e), where=where, code="invalid") from None
    params.base_dir = base_dir
    params.path = path
    return params


def _explain(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        kind = e["type"]
        msg = e["msg"]
        if kind == "extra_forbidden":
            text = f"unknown key {key!r} || remove it or check its spelling against the README's parameters reference"
        elif kind == "missing":
            text = f"required key {key!r} is missing || add `{e['loc'][-1]}:` (see parameters/demo.yml)"
        elif kind == "value_error":
            text = f"{key}: {msg.removeprefix('Value error, ')}"
        else:
            got = e.get("input")
            shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            text = f"{key}: {msg} (got {shown}) || give a value of the right type"
        problem, _, fix = text.partition(" || ")
        lines.append(f"{problem}\n    fix: {fix}" if fix else problem)
    return f"{len(lines)} invalid setting(s):\n  - " + "\n  - ".join(lines)
