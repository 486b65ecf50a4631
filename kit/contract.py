"""The canonical tables: the kit's data contract.

A client's exports are mapped onto these tables by `parameters/<client>.yml`. Every analysis
reads canonical names only, so a new client never needs code changes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Types a canonical column can have. Loading parses client values into these.
STR, FLOAT, INT, DATE, DATETIME, BOOL, CATEGORY = "str", "float", "int", "date", "datetime", "bool", "category"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STR
    required: bool = False
    labels: tuple[str, ...] = ()  # canonical labels, for CATEGORY columns
    personal: bool = False  # personal data: kept out of published pages unless allowed

    @property
    def identifier(self) -> bool:
        """An id matched across tables (account_id, ticket_id, ...): read as text, `100001.0` as `100001`."""
        return self.type == STR and self.name.endswith("_id")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # primary key columns (uniqueness checks, record ids)
    child_of_accounts: bool = True  # has account_id referencing accounts
    date_column: str | None = None  # the column that says when a record happened
    system: str = "crm"  # crm-type or analytics-type source (freshness defaults differ)
    description: str = ""
    extra_numeric: bool = False  # accepts extra numeric columns (usage features)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _c(name: str, type: str = STR, **kw) -> Column:
    return Column(name, type, **kw)


OUTCOMES = ("renewed", "churned", "expanded", "contracted")
PRIORITIES = ("low", "normal", "high", "urgent")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            (
                _c("account_id", required=True),
                _c("account_name"),
                _c("parent_account_id"),
                _c("segment"),
                _c("csm_owner"),
                _c("arr", FLOAT),
                _c("seats", INT),
                _c("created_at", DATE),
                _c("contract_start", DATE),
                _c("renewal_date", DATE),
                _c("industry"),
            ),
            key=("account_id",),
            child_of_accounts=False,
            date_column="created_at",
            description="One row per customer account (CRM).",
        ),
        Table(
            "contacts",
            (
                _c("contact_id", required=True),
                _c("account_id", required=True),
                _c("email", personal=True),
                _c("role"),
                _c("last_activity_at", DATETIME),
            ),
            key=("contact_id",),
            date_column="last_activity_at",
            description="People at each account (CRM).",
        ),
        Table(
            "usage",
            (
                _c("account_id", required=True),
                _c("date", DATE, required=True),
                _c("active_users", INT),
                _c("logins", INT),
            ),
            key=("account_id", "date"),
            date_column="date",
            system="analytics",
            extra_numeric=True,
            description="Daily product usage per account; extra numeric columns are features.",
        ),
        Table(
            "tickets",
            (
                _c("ticket_id", required=True),
                _c("account_id", required=True),
                _c("created_at", DATETIME, required=True),
                _c("resolved_at", DATETIME),
                _c("priority", CATEGORY, labels=PRIORITIES),
                _c("csat", FLOAT),
            ),
            key=("ticket_id",),
            date_column="created_at",
            description="Support tickets with satisfaction (CSAT).",
        ),
        Table(
            "invoices",
            (
                _c("invoice_id", required=True),
                _c("account_id", required=True),
                _c("issued_at", DATE, required=True),
                _c("due_at", DATE),
                _c("paid_at", DATE),
                _c("amount", FLOAT, required=True),
            ),
            key=("invoice_id",),
            date_column="issued_at",
            description="Invoices and payments (billing).",
        ),
        Table(
            "surveys",
            (
                _c("account_id", required=True),
                _c("responded_at", DATE, required=True),
                _c("nps", FLOAT, required=True),
            ),
            date_column="responded_at",
            description="NPS survey responses (0-10).",
        ),
        Table(
            "renewals",
            (
                _c("account_id", required=True),
                _c("renewal_date", DATE, required=True),
                _c("outcome", CATEGORY, required=True, labels=OUTCOMES),
                _c("arr_before", FLOAT),
                _c("arr_after", FLOAT),
            ),
            key=("account_id", "renewal_date"),
            date_column="renewal_date",
            description="Renewal outcomes: renewed, churned, expanded, contracted.",
        ),
        Table(
            "health_scores",
            (
                _c("account_id", required=True),
                _c("date", DATE, required=True),
                _c("score", FLOAT, required=True),
            ),
            key=("account_id", "date"),
            date_column="date",
            system="platform",
            description="The CS platform's health score history.",
        ),
        Table(
            "ctas",
            (
                _c("cta_id", required=True),
                _c("account_id", required=True),
                _c("owner", personal=True),
                _c("type"),
                _c("created_at", DATE, required=True),
                _c("due_at", DATE),
                _c("closed_at", DATE),
                _c("status", CATEGORY, required=True, labels=("open", "closed")),
            ),
            key=("cta_id",),
            date_column="created_at",
            system="platform",
            description="Calls to action (tasks) from the CS platform.",
        ),
        Table(
            "sync_log",
            (
                _c("source", required=True),
                _c("started_at", DATETIME, required=True),
                _c("finished_at", DATETIME),
                _c("status", CATEGORY, required=True, labels=("success", "failure")),
                _c("records", INT),
                _c("error"),
            ),
            child_of_accounts=False,
            date_column="started_at",
            system="platform",
            description="The CS platform's integration sync log.",
        ),
        Table(
            "platform_logins",
            (_c("user", required=True, personal=True), _c("date", DATE, required=True)),
            child_of_accounts=False,
            date_column="date",
            system="platform",
            description="CSM logins to the CS platform.",
        ),
        Table(
            "team",
            (
                _c("user", required=True, personal=True),
                _c("role"),
                _c("active", BOOL),
            ),
            key=("user",),
            child_of_accounts=False,
            system="platform",
            description="The CS team: users, roles, active flag.",
        ),
    )
}

# Raw product events, aggregated by the kit into the daily `usage` table.
USAGE_EVENTS = Table(
    "usage",
    (
        _c("account_id", required=True),
        _c("user_id", required=True, personal=True),
        _c("timestamp", DATETIME, required=True),
        _c("event"),
    ),
    date_column="timestamp",
    system="analytics",
    description="Raw product events (one row per event), aggregated to daily usage.",
)

REQUIRED_TABLES = ("accounts",)
CHILD_TABLES = tuple(name for name, t in TABLES.items() if t.child_of_accounts)

TRUE_LABELS = frozenset({"true", "t", "yes", "y", "1", "active", "enabled"})
FALSE_LABELS = frozenset({"false", "f", "no", "n", "0", "inactive", "disabled"})


def table(name: str) -> Table:
    return TABLES[name]

