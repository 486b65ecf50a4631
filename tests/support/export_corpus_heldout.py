"""Held-out corpora of renamed exports: tools, headers, labels and layouts that tests/support/export_corpus.py does not use.

The synonyms of `python -m kit init FOLDER` were tuned on the variants of tests/support/export_corpus.py;
these two were written without looking at the guesser, so its score on them says how it does on
a client it has not seen. `build(demo_dir, folder, variant)` writes one folder and returns its
truth, in exactly the format of tests/support/export_corpus.py (`correct_sources(truth, folder)` there
turns it into the `sources` of a parameters file).

Variants (`VARIANTS`):

* ``heldout_en``: Pipedrive (organizations, persons, deals of a "Renewals" pipeline, with
  Pipedrive's "Entity - Field" headers and custom fields such as "Organization - Parent Acct #"
  and "Organization - Renewal Dt"), Freshdesk tickets ("Ticket No.", "Company Acct No.", units in
  brackets), a QuickBooks Online "Invoice List" workbook ("Txn Date", "Num", "Acct #", "Due Dt",
  "Total Amt"; Excel date and number cells) with an unrelated "AR Aging Summary" sheet, PostHog daily usage
  per group (Parquet, snake_case), Delighted NPS responses (ISO times with the US Pacific offset,
  -08:00 or -07:00 by daylight saving), Vitally (health score history in Title Case with units
  in brackets, tasks from its API with camelCase names, an integration sync log in snake_case,
  team logins and users). Comma-separated UTF-8, ISO, US and "Nov 03, 2025" dates.
* ``heldout_fr_es``: Salesforce in French (comptes, contacts, opportunités de renouvellement:
  "Fermée gagnée", "Fermée perdue") and Pennylane customer invoices in French, ``;`` delimiter,
  decimal comma with a no-break space between thousands ("30 400,00"), ``dd/mm/yyyy`` dates (the
  accounts with a byte-order mark, the invoices in cp1252 with CRLF line ends, as Excel saves
  "CSV (séparateur: point-virgule)"); Zoho Desk tickets in Spanish (``;``, decimal comma,
  "Urgente/Alta/Media/Baja", "Abierto/Cerrado") and Planhat in Spanish (comma-separated, decimal
  point, dd/mm/yyyy dates): daily usage, health scores, NPS responses in an Excel
  workbook with an unrelated "Resumen" sheet, tasks, the sync log ("Éxito/Error"), logins, users.

Both variants also write files of no canonical table, in tool-named subfolders: an export of the
same tools that is no table (Pipedrive activities; Pennylane supplier invoices), an e-mail
campaign report (Mailchimp; Brevo) and an exchange-rate table. Column order is shuffled (seeded by
variant and file), most exports carry 2-4 unrelated columns, the usage export none that is
numeric. Data rows are the demo's (same accounts, dates, numbers and planted defects), only
reformatted, so a correct mapping loads the same data. Same demo data and variant, same bytes.

Usage feature columns map to `feature_name(header)`; their headers are ASCII ("Llamadas a la
API" -> "llamadas_a_la_api"), so that name does not depend on how accents are folded.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from kit import contract
from tests.support.export_corpus import (
    EXCEL_CREATED,
    Export,
    _campaigns,
    _Corpus,
    _rates,
    feature_name,
    first_name,
    last_name,
    name_of,
    num,
    when,
)

VARIANTS = ("heldout_en", "heldout_fr_es")

NBSP = "\u00a0"  # French thousands separator as Excel and Salesforce write it


# ---------------------------------------------------------------------------- formatting


def _fr(v: float, decimals: int = 2) -> str:
    """30400.0 -> '30 400,00' (no-break space between thousands, decimal comma)."""
    return f"{v:,.{decimals}f}".replace(",", NBSP).replace(".", ",")


def fr(col: str, decimals: int = 2) -> pl.Expr:
    return pl.col(col).map_elements(lambda v: _fr(v, decimals), return_dtype=pl.String, skip_nulls=True)


def _plain(v: float) -> str:
    """85.0 -> '85', 12.5 -> '12.5' (how APIs and most SaaS exports write numbers)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


class _Heldout(_Corpus):
    """tests/support/export_corpus.py's corpus, plus what these variants need: times of day on dates, and
    Excel date formats per sheet."""

    def __init__(self, demo_dir: Path, variant: str):
        super().__init__(demo_dir, variant)
        self.excel_dates: dict[str, str] = {}  # export key -> Excel number format of its date cells

    def seconds(self, table: str, key: str, low: int, high: int) -> pl.Series:
        """Seconds after midnight, one per row of `table` (a time of day for a value the demo wrote as a date)."""
        return pl.Series(self.rng(table, key, "time").integers(low, high, self.demo[table].height), dtype=pl.Int64)

    def stamp(self, table: str, col: str, fmt: str, low: int = 8 * 3600, high: int = 18 * 3600) -> pl.Expr:
        """A date column written as a time stamp in `fmt`, at a time of day between `low` and `high`
        seconds (the date itself unchanged); a value the demo wrote unparseable stays as written."""
        ts = pl.col(col).cast(pl.Datetime("us")) + pl.duration(seconds=pl.lit(self.seconds(table, col, low, high)))
        return pl.when(pl.col(col).is_not_null()).then(ts.dt.strftime(fmt)).otherwise(pl.col(f"_raw_{col}"))

    def pacific(self, table: str, col: str, key: str, extra_hours: pl.Expr | None = None) -> pl.Expr:
        """A date written as an ISO time with the US Pacific offset of that day (-08:00, or -07:00 in
        summer time), at 06:00-15:59 local time: in UTC still the same day."""
        local = pl.col(col).cast(pl.Datetime("us")) + pl.duration(seconds=pl.lit(self.seconds(table, key, 6 * 3600, 16 * 3600)))
        if extra_hours is not None:
            local = local + pl.duration(hours=extra_hours)
        zoned = local.dt.replace_time_zone("America/Los_Angeles", ambiguous="earliest", non_existent="null")
        return pl.when(pl.col(col).is_not_null()).then(zoned.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).otherwise(pl.col(f"_raw_{col}"))

    def write(self, folder: Path) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        workbooks: dict[str, list[Export]] = {}
        for e in self.exports:
            target = folder / e.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if e.path.endswith(".xlsx"):
                workbooks.setdefault(e.path, []).append(e)
            elif e.path.endswith(".parquet"):
                e.frame.write_parquet(target, compression="snappy", statistics=True)
            else:
                text = e.frame.write_csv(separator=e.separator, line_terminator="\r\n" if e.crlf else "\n")
                target.write_bytes((("\ufeff" if e.bom else "") + text).encode(e.encoding))
        for path, sheets in workbooks.items():
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(folder / path))
            wb.set_properties({"created": EXCEL_CREATED, "author": "export"})
            for e in sheets:
                e.frame.write_excel(wb, worksheet=e.sheet, autofit=False, table_style=None,
                                    dtype_formats={pl.Date: self.excel_dates.get(e.key, "yyyy-mm-dd")})
            wb.close()
        return {
            "variant": self.variant,
            "files": {e.key: {"table": e.table, "columns": dict(e.columns), "values": {k: dict(v) for k, v in e.values.items()}}
                      for e in self.exports},
        }


def _contacts_per_account(c: _Corpus) -> dict[str, int]:
    counts = c.demo["contacts"].group_by("account_id").len()
    return dict(zip(counts["account_id"], counts["len"]))


# ---------------------------------------------------------------------------- heldout_en


def _heldout_en(c: _Heldout) -> None:
    people = _contacts_per_account(c)
    c.table("accounts", "pipedrive/organizations.csv", [
        ("Organization - ID", "account_id", pl.col("account_id")),
        ("Organization - Name", "account_name", pl.col("account_name")),
        ("Organization - Parent Acct #", "parent_account_id", pl.col("parent_account_id")),
        ("Organization - Segment", "segment", pl.col("segment")),
        ("Organization - Owner", "csm_owner", pl.col("csm_owner")),
        ("Organization - ARR (USD)", "arr", pl.col("arr").map_elements(_plain, return_dtype=pl.String, skip_nulls=True)),
        ("Organization - Licensed Seats", "seats", pl.col("_raw_seats")),
        ("Organization - Organization created", "created_at", c.stamp("accounts", "created_at", "%Y-%m-%d %H:%M:%S")),
        ("Organization - Contract Start", "contract_start", when("contract_start", "%Y-%m-%d")),
        ("Organization - Renewal Dt", "renewal_date", when("renewal_date", "%Y-%m-%d")),
        ("Organization - Industry", "industry", pl.col("industry")),
        ("Organization - People", None, pl.col("account_id").replace_strict(people, default=0, return_dtype=pl.Int64).cast(pl.String)),
        ("Organization - Open deals", None, c.choice("accounts", "open_deals", ["0", "0", "0", "1", "2"])),
        ("Organization - Address", None, c.per("account_id", [
            "100 Summer St, Boston, MA", "500 W 2nd St, Austin, TX", "1 Yonge St, Toronto, ON", "55 Market St, San Francisco, CA",
            "200 S Wacker Dr, Chicago, IL", "1201 3rd Ave, Seattle, WA", "", ""], "address")),
    ])
    c.table("contacts", "pipedrive/persons.csv", [
        ("Person - ID", "contact_id", pl.col("contact_id")),
        ("Organization - ID", "account_id", pl.col("account_id")),
        ("Person - Email - Work", "email", pl.col("email")),
        ("Person - Contact role", "role", pl.col("role")),
        ("Person - Last activity date", "last_activity_at", when("last_activity_at", "%Y-%m-%d")),
        ("Person - Name", None, name_of("email")),
        ("Person - Phone - Work", None, pl.format("+1 555 01{}", (pl.int_range(pl.len()) % 100).cast(pl.String).str.zfill(2))),
        ("Person - Owner", None, c.choice("contacts", "owner", ["Kim Sales", "Pat Sales", "Lee SDR"])),
    ])
    stage, stage_truth = c.label("renewals", "outcome", {
        "Closed Won - Renewal": "Renewed", "Closed Won - Expansion": "Upsold",
        "Closed Won - Downsell": "Downgraded", "Closed Lost": "Churned",
    })
    n = c.demo["renewals"].height
    lost = pl.col("outcome") == "Closed Lost"
    c.table("renewals", "pipedrive/deals_renewals_pipeline.csv", [
        ("Deal - ID", None, pl.Series([str(4_100 + 3 * i) for i in range(1, n + 1)])),
        ("Deal - Title", None, c.name() + " - renewal FY" + pl.col("renewal_date").dt.strftime("%y")),
        ("Organization - ID", "account_id", pl.col("account_id")),
        ("Deal - Expected close date", "renewal_date", when("renewal_date", "%Y-%m-%d")),
        ("Deal - Stage", "outcome", stage),
        ("Deal - Previous ARR", "arr_before", num("arr_before", "g")),
        ("Deal - Value", "arr_after", num("arr_after", "g")),
        ("Deal - Status", None, pl.when(lost).then(pl.lit("lost")).otherwise(pl.lit("won"))),
        ("Deal - Pipeline", None, pl.lit("Renewals")),
    ], {"outcome": stage_truth})
    prio, prio_truth = c.label("tickets", "priority", {"P1 - Urgent": "Urgent", "P2 - High": "High", "P3 - Normal": "Medium", "P4 - Low": "Low"})
    open_ = pl.col("_raw_resolved_at").is_null()
    hours = (pl.col("resolved_at") - pl.col("created_at")).dt.total_seconds() / 3600
    sla = pl.col("priority").replace_strict({"P1 - Urgent": 4, "P2 - High": 8, "P3 - Normal": 24, "P4 - Low": 48}, return_dtype=pl.Int64)
    c.table("tickets", "freshdesk/tickets_export.csv", [
        ("Ticket No.", "ticket_id", pl.col("ticket_id")),
        ("Company Acct No.", "account_id", pl.col("account_id")),
        ("Created time", "created_at", when("created_at", "%Y-%m-%d %H:%M:%S")),
        ("Resolved time", "resolved_at", when("resolved_at", "%Y-%m-%d %H:%M:%S")),
        ("Ticket Priority", "priority", prio),
        ("Satisfaction Rating (1-5)", "csat", num("csat", "g")),
        ("Subject", None, c.choice("tickets", "subject", [
            "Unable to sign in", "CSV export times out", "Webhook not firing", "Invoice address change", "Add seats", "SAML setup help"])),
        ("Status", None, pl.when(open_).then(c.choice("tickets", "status", ["Open", "Pending"])).otherwise(pl.lit("Closed"))),
        ("Resolution time (in hrs)", None, hours.round(2).map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String, skip_nulls=True)),
        ("Due by Time", None, (pl.col("created_at") + pl.duration(hours=sla)).dt.strftime("%Y-%m-%d %H:%M:%S")),
    ], {"priority": prio_truth})
    unpaid = pl.col("paid_at").is_null()
    inv = c.table("invoices", "quickbooks/Invoice List.xlsx", [
        ("Txn Date", "issued_at", pl.col("issued_at")),
        ("Num", "invoice_id", pl.col("invoice_id")),
        ("Customer", None, c.name()),
        ("Acct #", "account_id", pl.col("account_id")),
        ("Due Dt", "due_at", pl.col("due_at")),
        ("Date Paid", "paid_at", pl.col("paid_at")),
        ("Total Amt", "amount", pl.col("amount")),
        ("Open Balance", None, pl.when(unpaid).then(pl.col("amount")).otherwise(pl.lit(0.0))),
        ("Terms", None, pl.lit("Net 30")),
    ], sheet="Invoice List")
    c.excel_dates[inv.key] = "mm/dd/yyyy"
    invoices = c.demo["invoices"]
    as_of = invoices["issued_at"].max()
    overdue = (pl.lit(as_of) - pl.col("due_at")).dt.total_days()
    buckets = {"Current": overdue <= 0, "1 - 30": (overdue > 0) & (overdue <= 30), "31 - 60": (overdue > 30) & (overdue <= 60),
               "61 - 90": (overdue > 60) & (overdue <= 90), "91 and over": overdue > 90}
    aging = (
        invoices.filter(pl.col("paid_at").is_null() & pl.col("amount").is_not_null())
        .with_columns(c.name().alias("Customer"))
        .group_by("Customer")
        .agg([pl.col("amount").filter(cond).sum().alias(k) for k, cond in buckets.items()])
        .with_columns(pl.sum_horizontal(list(buckets)).alias("Total"))
        .sort("Customer")
    )
    aging = pl.concat([aging, aging.select(pl.lit("TOTAL").alias("Customer"), *[pl.col(k).sum() for k in [*buckets, "Total"]])])
    c.other("quickbooks/Invoice List.xlsx", aging, sheet="AR Aging Summary", shuffle=False)
    c.table("usage", "posthog/daily_usage_by_group.parquet", [
        ("group_key", "account_id", pl.col("account_id")),
        ("day", "date", pl.col("date")),
        ("unique_users", "active_users", pl.col("active_users")),
        ("login_events", "logins", pl.col("logins")),
        ("api_requests", feature_name("api_requests"), pl.col("api_calls")),
        ("report_exports", feature_name("report_exports"), pl.col("reports_exported")),
        ("group_type", None, pl.lit("organization")),
        ("plan_tier", None, c.per("account_id", ["starter", "growth", "enterprise"], "plan")),
    ])
    c.table("surveys", "delighted/nps_responses.csv", [
        ("Response ID", None, pl.format("{}", 73_000_000 + 17 * pl.int_range(1, pl.len() + 1))),
        ("account_number", "account_id", pl.col("account_id")),
        ("Score (0-10)", "nps", pl.col("_raw_nps")),
        ("Comment", None, c.choice("surveys", "comment", ["", "", "", "Easy to roll out", "The mobile app lags", "Pricing went up too much"])),
        ("Created At", "responded_at", c.pacific("surveys", "responded_at", "created")),
        ("Updated At", None, c.pacific("surveys", "responded_at", "created", pl.lit(c.seconds("surveys", "updated", 0, 8)))),
    ])
    c.table("health_scores", "vitally/account_health_history.csv", [
        ("Account Ext. ID", "account_id", pl.col("account_id")),
        ("Account", None, c.name()),
        ("Week Of", "date", when("date", "%m/%d/%Y")),
        ("Health Score [0-100]", "score", num("score", "g")),
        ("Health Trend", None, c.choice("health_scores", "trend", ["Improving", "Declining", "Stable", "Stable"])),
    ])
    status, status_truth = c.label("ctas", "status", {"Open": "open", "Closed - Success": "completed", "Closed - No Response": "dismissed"})
    c.table("ctas", "vitally/tasks_api_export.csv", [
        ("taskId", "cta_id", pl.col("cta_id")),
        ("accountExternalId", "account_id", pl.col("account_id")),
        ("name", None, pl.lit("Health score dropped - reach out")),
        ("assignedToEmail", "owner", pl.col("owner")),
        ("taskType", "type", pl.col("type")),
        ("createdAt", "created_at", c.stamp("ctas", "created_at", "%Y-%m-%dT%H:%M:%S.000Z")),
        ("dueDate", "due_at", when("due_at", "%Y-%m-%d")),
        ("completedAt", "closed_at", c.stamp("ctas", "closed_at", "%Y-%m-%dT%H:%M:%S.000Z")),
        ("status", "status", status),
        ("playbookName", None, pl.lit("At-risk account")),
        ("archived", None, pl.lit("false")),
    ], {"status": status_truth})
    sync, sync_truth = c.label("sync_log", "status", {"OK": "SUCCEEDED", "Error": "FAILED"})
    c.table("sync_log", "vitally/integration_sync_runs.csv", [
        ("run_id", None, pl.format("run_{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6))),
        ("integration", "source", pl.col("source")),
        ("run_started_at", "started_at", when("started_at", "%Y-%m-%dT%H:%M:%SZ")),
        ("run_finished_at", "finished_at", when("finished_at", "%Y-%m-%dT%H:%M:%SZ")),
        ("run_status", "status", sync),
        ("rows_synced", "records", pl.col("_raw_records")),
        ("error_message", "error", pl.col("error")),
        ("trigger_type", None, pl.lit("scheduled")),
        ("duration_sec", None, (pl.col("finished_at") - pl.col("started_at")).dt.total_seconds().cast(pl.String)),
    ], {"status": sync_truth})
    c.table("platform_logins", "vitally/team_logins.csv", [
        ("Team Member Email", "user", pl.col("user")),
        ("Team Member", None, name_of("user")),
        ("Login Date (UTC)", "date", when("date", "%b %d, %Y")),
        ("Client", None, c.choice("platform_logins", "client", ["Web app", "Web app", "Chrome extension"])),
    ])
    c.table("team", "vitally/users.csv", [
        ("Email Address", "user", pl.col("user")),
        ("Full Name", None, name_of("user")),
        ("Team Role", "role", pl.col("role")),
        ("Active (Y/N)", "active", pl.col("active").replace_strict({"Yes": "Y", "No": "N"})),
        ("Seat Type", None, pl.when(pl.col("role") == "Admin").then(pl.lit("Admin")).otherwise(pl.lit("Full"))),
    ])
    # files of no canonical table
    acc = c.demo["accounts"].unique("account_id", keep="first", maintain_order=True)
    rng = c.rng("activities")
    k = 900
    picks = rng.integers(0, acc.height, k)
    due = np.datetime64("2025-01-06") + rng.integers(0, 660, k).astype("timedelta64[D]")
    c.other("pipedrive/activities.csv", pl.DataFrame({
        "Activity - ID": [str(20_000 + i) for i in range(1, k + 1)],
        "Activity - Subject": rng.choice(["Intro call", "QBR prep", "Send proposal", "Follow-up email", "Pricing discussion"], k),
        "Activity - Type": rng.choice(["Call", "Meeting", "Email", "Task"], k),
        "Activity - Due date": pl.Series(due).dt.strftime("%Y-%m-%d"),
        "Activity - Done": rng.choice(["Done", "To do"], k, p=[0.8, 0.2]),
        "Activity - Assigned to user": rng.choice(["Kim Sales", "Pat Sales", "Lee SDR"], k),
        "Organization - ID": acc["account_id"].gather(picks),
        "Organization - Name": acc["account_name"].gather(picks),
    }))
    cp = _campaigns(c)
    recipients = cp["leads"] * 37
    opens = np.round(recipients * 0.31).astype(int)
    clicks = np.round(recipients * 0.042).astype(int)
    c.other("mailchimp/campaign_report.csv", pl.DataFrame({
        "Title": cp["name"], "Subject": [f"{t}: what's new this month" for t in cp["type"]], "List": ["Customers - all"] * len(cp["name"]),
        "Send Date": (pl.Series(cp["start"]).cast(pl.Datetime("us")) + timedelta(hours=10)).dt.strftime("%b %d, %Y %I:%M %p"), "Total Recipients": recipients.astype(str),
        "Unique Opens": opens.astype(str), "Open Rate": [f"{o / r:.2%}" for o, r in zip(opens, recipients)],
        "Unique Clicks": clicks.astype(str), "Click Rate": [f"{x / r:.2%}" for x, r in zip(clicks, recipients)],
    }))
    r = _rates(c)
    c.other("treasury/fx_month_end_rates.csv", r.select(
        pl.col("date").dt.month_end().dt.strftime("%m/%d/%Y").alias("Month End"), (pl.lit("USD/") + pl.col("currency")).alias("Currency Pair"),
        pl.col("rate").map_elements(lambda v: f"{v:.4f}", return_dtype=pl.String).alias("Mid Rate"), pl.lit("ECB").alias("Rate Source"),
    ))


# ---------------------------------------------------------------------------- heldout_fr_es


def _heldout_fr_es(c: _Heldout) -> None:
    fr_csv = {"separator": ";"}
    c.table("accounts", "salesforce_fr/Comptes.csv", [
        ("ID du compte", "account_id", pl.col("account_id")),
        ("Nom du compte", "account_name", pl.col("account_name")),
        ("ID du compte parent", "parent_account_id", pl.col("parent_account_id")),
        ("Segment client", "segment", pl.col("segment")),
        ("Propriétaire du compte", "csm_owner", pl.col("csm_owner")),
        ("Revenu récurrent annuel (USD)", "arr", fr("arr")),
        ("Nombre de licences", "seats", pl.col("_raw_seats")),
        ("Date de création", "created_at", when("created_at", "%d/%m/%Y")),
        ("Date de début du contrat", "contract_start", when("contract_start", "%d/%m/%Y")),
        ("Date de renouvellement", "renewal_date", when("renewal_date", "%d/%m/%Y")),
        ("Secteur d'activité", "industry", pl.col("industry")),
        ("Type de compte", None, pl.lit("Client")),
        ("Pays de facturation", None, c.per("account_id", ["France", "Belgique", "Suisse", "Canada", "Espagne", "Maroc"], "pays")),
        ("Dernière modification par", None, c.choice("accounts", "modif", ["Utilisateur d'intégration", "Camille Martin", "Hugo Bernard"])),
    ], bom=True, **fr_csv)
    c.table("contacts", "salesforce_fr/Contacts.csv", [
        ("ID du contact", "contact_id", pl.col("contact_id")),
        ("ID du compte", "account_id", pl.col("account_id")),
        ("Adresse e-mail", "email", pl.col("email")),
        ("Rôle du contact", "role", pl.col("role")),
        ("Date de dernière activité", "last_activity_at", when("last_activity_at", "%d/%m/%Y")),
        ("Civilité", None, c.choice("contacts", "civilite", ["M.", "Mme", ""])),
        ("Prénom", None, first_name("email")),
        ("Nom de famille", None, last_name("email")),
    ], **fr_csv)
    stage, stage_truth = c.label("renewals", "outcome", {
        "Closed Won - Renewal": "Fermée gagnée", "Closed Won - Expansion": "Fermée gagnée - Extension",
        "Closed Won - Downsell": "Fermée gagnée - Réduction", "Closed Lost": "Fermée perdue",
    })
    n = c.demo["renewals"].height
    c.table("renewals", "salesforce_fr/Opportunites_renouvellement.csv", [
        ("ID de l'opportunité", None, pl.Series([f"0065g00000{i:05d}QX" for i in range(1, n + 1)])),
        ("Nom de l'opportunité", None, c.name() + " - Renouvellement " + pl.col("renewal_date").dt.year().cast(pl.String)),
        ("ID du compte", "account_id", pl.col("account_id")),
        ("Date de clôture", "renewal_date", when("renewal_date", "%d/%m/%Y")),
        ("Étape", "outcome", stage),
        ("ARR précédent", "arr_before", fr("arr_before")),
        ("Montant", "arr_after", fr("arr_after")),
        ("Probabilité (%)", None, pl.when(pl.col("outcome") == "Closed Lost").then(pl.lit("0")).otherwise(pl.lit("100"))),
        ("Type", None, pl.lit("Renouvellement")),
    ], {"outcome": stage_truth}, **fr_csv)
    c.table("invoices", "pennylane/factures_clients.csv", [
        ("Numéro de facture", "invoice_id", pl.col("invoice_id")),
        ("N° client", "account_id", pl.col("account_id")),
        ("Client", None, c.name()),
        ("Date de facture", "issued_at", when("issued_at", "%d/%m/%Y")),
        ("Date d'échéance", "due_at", when("due_at", "%d/%m/%Y")),
        ("Date de paiement", "paid_at", when("paid_at", "%d/%m/%Y")),
        ("Montant", "amount", fr("amount")),
        ("Devise", None, pl.lit("USD")),
        ("Statut", None, pl.when(pl.col("paid_at").is_null()).then(pl.lit("À régler")).otherwise(pl.lit("Payée"))),
    ], encoding="cp1252", crlf=True, **fr_csv)
    prio, prio_truth = c.label("tickets", "priority", {"P1 - Urgent": "Urgente", "P2 - High": "Alta", "P3 - Normal": "Media", "P4 - Low": "Baja"})
    hours = (pl.col("resolved_at") - pl.col("created_at")).dt.total_seconds() / 3600
    c.table("tickets", "zoho_desk/tickets.csv", [
        ("ID del ticket", "ticket_id", pl.col("ticket_id")),
        ("ID externo de la cuenta", "account_id", pl.col("account_id")),
        ("Fecha de creación", "created_at", when("created_at", "%d/%m/%Y %H:%M:%S")),
        ("Fecha de cierre", "resolved_at", when("resolved_at", "%d/%m/%Y %H:%M:%S")),
        ("Prioridad", "priority", prio),
        ("Valoración del cliente", "csat", num("csat", "gde")),
        ("Asunto", None, c.choice("tickets", "asunto", [
            "No puedo iniciar sesión", "Error al exportar informe", "Límite de la API", "Consulta de facturación", "Configurar SSO"])),
        ("Estado", None, pl.when(pl.col("_raw_resolved_at").is_null()).then(pl.lit("Abierto")).otherwise(pl.lit("Cerrado"))),
        ("Canal", None, c.choice("tickets", "canal", ["Correo electrónico", "Web", "Teléfono", "Chat"])),
        ("Tiempo de resolución (horas)", None, hours.map_elements(lambda v: _fr(v, 1).replace(NBSP, "."), return_dtype=pl.String, skip_nulls=True)),
    ], {"priority": prio_truth}, **fr_csv)
    c.table("usage", "planhat/uso_diario.csv", [
        ("ID externo de la empresa", "account_id", pl.col("account_id")),
        ("Fecha", "date", pl.col("date").dt.strftime("%d/%m/%Y")),
        ("Usuarios activos", "active_users", pl.col("active_users")),
        ("Inicios de sesión", "logins", pl.col("logins")),
        ("Llamadas a la API", feature_name("Llamadas a la API"), pl.col("api_calls")),
        ("Informes exportados", feature_name("Informes exportados"), pl.col("reports_exported")),
        ("Fase", None, pl.lit("Cliente")),
        ("Plan", None, c.per("account_id", ["Básico", "Profesional", "Empresa"], "plan")),
    ])
    c.table("health_scores", "planhat/puntuaciones_salud.csv", [
        ("ID externo de la empresa", "account_id", pl.col("account_id")),
        ("Empresa", None, c.name()),
        ("Fecha", "date", when("date", "%d/%m/%Y")),
        ("Puntuación de salud", "score", num("score", "g")),
        ("Tendencia", None, c.choice("health_scores", "tendencia", ["Sube", "Baja", "Estable", "Estable"])),
    ])
    nps = c.table("surveys", "planhat/encuestas_nps.xlsx", [
        ("ID externo de la empresa", "account_id", pl.col("account_id")),
        ("Empresa", None, c.name()),
        ("Fecha de respuesta", "responded_at", pl.col("responded_at")),
        ("Puntuación", "nps", pl.col("nps")),
        ("Comentario", None, c.choice("surveys", "comentario", ["", "", "", "Muy buen soporte", "Faltan integraciones", "Demasiado caro"])),
        ("Encuesta", None, pl.lit("NPS relacional")),
    ], sheet="Respuestas")
    c.excel_dates[nps.key] = "dd/mm/yyyy"
    s = c.demo["surveys"].filter(pl.col("nps").is_not_null())
    resumen = (
        s.with_columns(pl.col("responded_at").dt.strftime("%m/%Y").alias("Mes"), pl.col("responded_at").dt.strftime("%Y-%m").alias("_orden"))
        .group_by("Mes", "_orden").agg(
            pl.len().alias("Respuestas"), (pl.col("nps") >= 9).sum().alias("Promotores"),
            ((pl.col("nps") >= 7) & (pl.col("nps") < 9)).sum().alias("Pasivos"), (pl.col("nps") < 7).sum().alias("Detractores"),
        )
        .with_columns(pl.col("Respuestas", "Promotores", "Pasivos", "Detractores").cast(pl.Int64))
        .with_columns(((pl.col("Promotores") - pl.col("Detractores")) * 100 / pl.col("Respuestas")).round(1).alias("NPS"))
        .sort("_orden").drop("_orden")
    )
    c.other("planhat/encuestas_nps.xlsx", resumen, sheet="Resumen", shuffle=False)
    status, status_truth = c.label("ctas", "status", {"Open": "Abierta", "Closed - Success": "Cerrada - Éxito", "Closed - No Response": "Cerrada - Sin respuesta"})
    c.table("ctas", "planhat/tareas.csv", [
        ("ID de la tarea", "cta_id", pl.col("cta_id")),
        ("ID externo de la empresa", "account_id", pl.col("account_id")),
        ("Título", None, pl.lit("Bajada de la puntuación de salud")),
        ("Responsable", "owner", pl.col("owner")),
        ("Tipo", "type", pl.col("type")),
        ("Fecha de creación", "created_at", when("created_at", "%d/%m/%Y")),
        ("Fecha de vencimiento", "due_at", when("due_at", "%d/%m/%Y")),
        ("Fecha de finalización", "closed_at", when("closed_at", "%d/%m/%Y")),
        ("Estado", "status", status),
        ("Prioridad", None, c.choice("ctas", "prioridad", ["Alta", "Media", "Baja"])),
    ], {"status": status_truth})
    sync, sync_truth = c.label("sync_log", "status", {"OK": "Éxito", "Error": "Error"})
    c.table("sync_log", "planhat/registro_sincronizacion.csv", [
        ("ID de ejecución", None, pl.format("EJ-{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(5))),
        ("Integración", "source", pl.col("source")),
        ("Inicio", "started_at", when("started_at", "%d/%m/%Y %H:%M:%S")),
        ("Fin", "finished_at", when("finished_at", "%d/%m/%Y %H:%M:%S")),
        ("Resultado", "status", sync),
        ("Registros procesados", "records", pl.col("_raw_records")),
        ("Mensaje de error", "error", pl.col("error")),
        ("Dirección", None, pl.lit("Entrante")),
        ("Duración (s)", None, (pl.col("finished_at") - pl.col("started_at")).dt.total_seconds().cast(pl.String)),
    ], {"status": sync_truth})
    c.table("platform_logins", "planhat/inicios_sesion.csv", [
        ("Correo electrónico del usuario", "user", pl.col("user")),
        ("Nombre del usuario", None, name_of("user")),
        ("Fecha de acceso", "date", when("date", "%d/%m/%Y")),
        ("Dispositivo", None, c.choice("platform_logins", "dispositivo", ["Escritorio", "Escritorio", "Móvil"])),
    ])
    c.table("team", "planhat/usuarios.csv", [
        ("Correo electrónico", "user", pl.col("user")),
        ("Nombre completo", None, name_of("user")),
        ("Rol", "role", pl.col("role")),
        ("Usuario activo", "active", pl.col("active").replace_strict({"Yes": "true", "No": "false"})),
        ("Equipo", None, pl.when(pl.col("role") == "CSM").then(pl.lit("Customer Success")).otherwise(pl.lit("Operaciones"))),
    ])
    # files of no canonical table
    rng = c.rng("fournisseurs")
    k = 240
    vendors = np.array(["OVHcloud", "Amazon Web Services", "Google Workspace", "Slack", "Figma", "Qonto", "Alan", "WeWork"])
    categories = {"OVHcloud": "Hébergement", "Amazon Web Services": "Hébergement", "Google Workspace": "Logiciels", "Slack": "Logiciels",
                  "Figma": "Logiciels", "Qonto": "Frais bancaires", "Alan": "Mutuelle", "WeWork": "Loyer"}
    who = vendors[rng.integers(0, len(vendors), k)]
    issued = np.datetime64("2024-11-01") + np.sort(rng.integers(0, 730, k)).astype("timedelta64[D]")
    ht = np.round(rng.uniform(40, 9_000, k), 2)
    tva = np.round(ht * 0.2, 2)
    paid = rng.random(k) < 0.9
    c.other("pennylane/factures_fournisseurs.csv", pl.DataFrame({
        "Numéro de facture": [f"FF-{str(d)[:4]}-{i:04d}" for i, d in enumerate(issued, 1)],
        "Fournisseur": who,
        "Catégorie": [categories[v] for v in who],
        "Date de facture": pl.Series(issued).dt.strftime("%d/%m/%Y"),
        "Date d'échéance": (pl.Series(issued) + timedelta(days=30)).dt.strftime("%d/%m/%Y"),
        "Montant HT": [_fr(v) for v in ht], "TVA": [_fr(v) for v in tva], "Montant TTC": [_fr(a + b) for a, b in zip(ht, tva)],
        "Statut": np.where(paid, "Payée", "À payer"),
    }), encoding="cp1252", crlf=True, **fr_csv)
    cp = _campaigns(c)
    dest = cp["leads"] * 41
    ouv = np.round(dest * 0.28).astype(int)
    clics = np.round(dest * 0.035).astype(int)
    c.other("brevo/campagnes_email.csv", pl.DataFrame({
        "Nom de la campagne": cp["name"], "Date d'envoi": pl.Series(cp["start"]).dt.strftime("%d/%m/%Y 10:00"),
        "Destinataires": dest.astype(str), "Ouvertures uniques": ouv.astype(str),
        "Taux d'ouverture (%)": [_fr(100 * o / d) for o, d in zip(ouv, dest)], "Clics uniques": clics.astype(str),
        "Taux de clic (%)": [_fr(100 * x / d) for x, d in zip(clics, dest)],
        "Désinscriptions": (cp["leads"] // 9).astype(str),
    }), **fr_csv)
    r = _rates(c)
    libelles = {"EUR": "Euro", "GBP": "Livre sterling", "CHF": "Franc suisse", "CAD": "Dollar canadien", "JPY": "Yen japonais"}
    c.other("banque_de_france/cours_de_change.csv", r.select(
        pl.col("date").dt.strftime("%d/%m/%Y").alias("Date"), pl.col("currency").alias("Devise"),
        pl.col("currency").replace_strict(libelles).alias("Libellé"),
        pl.col("rate").map_elements(lambda v: _fr(v, 4), return_dtype=pl.String).alias("Cours pour 1 USD"),
    ), **fr_csv)


_BUILDERS = {"heldout_en": _heldout_en, "heldout_fr_es": _heldout_fr_es}


def build(demo_dir: Path, folder: Path, variant: str) -> dict:
    """Write one held-out corpus into `folder` (created) from the demo data in `demo_dir`; return its truth."""
    if variant not in _BUILDERS:
        raise ValueError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    corpus = _Heldout(Path(demo_dir), variant)
    _BUILDERS[variant](corpus)
    tables = [e.table for e in corpus.exports if e.table]
    assert sorted(tables) == sorted(contract.TABLES), tables
    return corpus.write(Path(folder))
