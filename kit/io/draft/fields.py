"""What a column is: its name against each canonical column's synonyms, and its values' shape.

`SYNONYMS` holds the names the common tools give each canonical column (Salesforce, HubSpot,
Zendesk, Intercom, Stripe, Chargebee, Amplitude, Mixpanel, Pendo, Gainsight, ChurnZero), in
English and German, with a few French and Spanish ones. `name_score` compares a header with them
ignoring case, punctuation, camel case, Salesforce's `__c` and units in brackets. `profile`
reads a sample column's values: how many are numbers, integers, dates, date-times, e-mail
addresses, booleans; its range and distinct values. `fits` says whether a profile can be a
canonical column's type, and `shape_score` how typical its values are (0-10 for NPS, 1-5 for
CSAT, 0-100 for a health score, money, seats).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import polars as pl

from kit import contract

# table -> canonical column -> names (normalised by `words`). Generic names ("id", "date", "score")
# count less than specific ones (see `name_score`).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "account_id": ("account id", "accountid", "account number", "company id", "record id", "customer id", "customer number",
                       "client id", "client number", "org id",
                       "organization id", "organisation id", "account", "id", "konto id", "kontonummer", "firmen id",
                       "unternehmens id", "kunden id", "kundennummer", "company gsid", "gsid", "external id", "account external id",
                       "id du compte", "id de cuenta"),
        "account_name": ("account name", "accountname", "company name", "name", "organization name", "organisation name", "company",
                         "customer name", "customer", "kontoname", "account name des kontos", "firmenname", "unternehmen",
                         "unternehmensname", "kunde", "nom du compte", "nombre de la cuenta"),
        "parent_account_id": ("parent account id", "ubergeordnete account id", "ubergeordnete konto id", "parent account", "parent id", "parent company id", "parent company",
                              "ubergeordnetes konto id", "ubergeordnetes konto", "mutterkonto id", "muttergesellschaft id"),
        "segment": ("segment", "customer segment", "account segment", "tier", "account tier", "customer tier", "kundensegment",
                    "segmento"),
        "csm_owner": ("account owner", "csm", "csm owner", "customer success manager", "owner", "company owner", "account manager",
                      "kontoinhaber", "accountinhaber", "betreuer", "kundenbetreuer", "verantwortlicher", "propietario"),
        "arr": ("arr", "annual recurring revenue", "arr usd", "arr eur", "current arr", "contract value", "acv",
                "jahrlich wiederkehrender umsatz", "jahrlicher wiederkehrender umsatz", "wiederkehrender jahresumsatz",
                "jahresvertragswert", "revenu annuel recurrent"),
        "seats": ("seats", "licenses", "licences", "number of seats", "seat count", "licensed seats", "purchased seats",
                  "lizenzen", "anzahl lizenzen", "lizenzanzahl", "platze", "arbeitsplatze", "licencias"),
        "created_at": ("created date", "created", "create date", "created at", "created on", "erstellt am", "erstelldatum",
                       "erstellungsdatum", "angelegt am", "date de creation", "fecha de creacion"),
        "contract_start": ("contract start date", "contract start", "start date", "subscription start date", "subscription start",
                           "vertragsbeginn", "vertragsstart", "startdatum", "debut du contrat"),
        "renewal_date": ("renewal date", "next renewal date", "contract end date", "contract end", "renewal", "subscription end date",
                         "verlangerungsdatum", "vertragsende", "nachste verlangerung", "date de renouvellement"),
        "industry": ("industry", "branche", "sector", "vertical", "industrie", "secteur", "industria"),
    },
    "contacts": {
        "contact_id": ("contact id", "record id", "id", "contact", "kontakt id", "kontaktnummer", "person id"),
        "account_id": ("account id", "associated company id", "company id", "account", "konto id", "firmen id", "organization id"),
        "email": ("email", "e mail", "email address", "e mail address", "e mail adresse", "emailadresse", "mail", "courriel"),
        "role": ("title role", "contact role", "title", "job title", "role", "position", "funktion", "rolle", "titel", "berufsbezeichnung", "poste"),
        "last_activity_at": ("last activity", "last activity date", "last activity at", "last engagement date", "last contacted",
                             "letzte aktivitat", "letzte aktivitat am", "derniere activite"),
    },
    "usage": {
        "account_id": ("account id", "account", "acct id", "acct", "company id", "org id", "group id", "account external id"),
        "date": ("date", "day", "datum", "tag", "activity date", "event date", "usage date", "fecha"),
        "active_users": ("active users", "uniques", "unique active users", "dau", "daily active users", "unique users", "users", "aktive nutzer", "aktive benutzer",
                         "nutzer", "visitors", "unique visitors", "utilisateurs actifs"),
        "logins": ("logins", "sessions", "login count", "session count", "anmeldungen", "sitzungen", "logins count", "visits"),
    },
    "usage_events": {
        "account_id": ("account id", "account", "company id", "org id", "group id"),
        "user_id": ("user id", "user", "distinct id", "visitor id", "nutzer id", "benutzer id", "amplitude id"),
        "timestamp": ("timestamp", "time", "ts", "event ts", "event timestamp", "datetime", "event time", "server time", "zeitstempel", "zeitpunkt", "occurred at", "client event time"),
        "event": ("event", "event name", "event type", "ereignis", "ereignisname", "action"),
    },
    "tickets": {
        "ticket_id": ("ticket id", "id", "conversation id", "ticket number", "ticket", "ticket nummer", "ticketnummer", "case number",
                      "case id", "vorgangsnummer"),
        "account_id": ("organization external id", "organization id", "organization", "company id", "account id", "account",
                       "organisation", "firmen id", "konto id"),
        "created_at": ("created at", "created", "created date", "opened", "opened at", "erstellt am", "erstellt", "eroffnet am",
                       "date created"),
        "resolved_at": ("solved at", "resolved at", "closed at", "solved", "resolved", "closed", "gelost am", "geschlossen am",
                        "erledigt am", "date closed"),
        "priority": ("priority", "prioritat", "prio", "urgency", "priorite", "prioridad"),
        "csat": ("satisfaction score", "satisfaction rating", "csat", "csat score", "rating", "conversation rating",
                 "kundenzufriedenheit", "zufriedenheit", "zufriedenheitsbewertung", "bewertung", "satisfaction"),
    },
    "invoices": {
        "invoice_id": ("invoice number", "invoice id", "invoice", "id", "number", "rechnungsnummer", "rechnungs id", "rechnung",
                       "numero de facture"),
        "account_id": ("customer id", "customer", "account id", "account", "kunden id", "kundennummer", "kunde", "company id"),
        "issued_at": ("invoice date", "date", "issued", "issued at", "issue date", "created", "date utc", "created utc",
                      "rechnungsdatum", "ausstellungsdatum", "datum", "date de facture"),
        "due_at": ("due date", "due", "due date utc", "due on", "fallig am", "falligkeitsdatum", "falligkeit", "zahlungsziel",
                   "date d echeance"),
        "paid_at": ("paid date", "paid at", "paid on", "paid at utc", "payment date", "bezahlt am", "zahlungsdatum",
                    "zahlungseingang", "date de paiement"),
        "amount": ("amount due", "amount", "total", "invoice amount", "amount total", "betrag", "rechnungsbetrag", "gesamtbetrag",
                   "summe", "montant"),
    },
    "surveys": {
        "account_id": ("account", "account id", "company id", "company", "customer id", "konto", "konto id", "firmen id"),
        "responded_at": ("survey date", "response date", "responded at", "submitted at", "date", "survey response date",
                         "antwortdatum", "umfragedatum", "datum", "beantwortet am"),
        "nps": ("score", "nps", "nps score", "nps rating", "rating", "likelihood to recommend", "recommend score",
                "empfehlungswert", "nps wert", "weiterempfehlung", "bewertung"),
    },
    "renewals": {
        "account_id": ("account id", "account", "company id", "associated company id", "konto id", "account name id"),
        "renewal_date": ("close date", "renewal date", "schlusstermin", "closed date", "close", "abschlussdatum", "schlussdatum", "verlangerungsdatum",
                         "date de cloture"),
        "outcome": ("stage", "deal stage", "stage name", "opportunity stage", "phase", "outcome", "result", "ergebnis",
                    "verkaufsphase", "etape"),
        "arr_before": ("prior arr", "prior year arr", "arr vorjahr", "vorjahres arr", "previous arr", "arr before", "old arr", "current arr", "bisheriger arr", "vorheriger arr",
                       "alter arr", "arr vorher"),
        "arr_after": ("new arr", "amount", "betrag", "renewal amount", "arr after", "renewed arr", "neuer arr", "arr nachher", "nouvel arr"),
    },
    "health_scores": {
        "account_id": ("company id", "account id", "account", "company gsid", "account external id", "firmen id", "konto id"),
        "date": ("snapshot date", "date", "score date", "datum", "stichtag", "as of date"),
        "score": ("overall score", "gesamtbewertung", "score", "health score", "churnscore", "churn score", "overall health score", "gesamtwert",
                  "gesamtscore", "health"),
    },
    "ctas": {
        "cta_id": ("cta id", "id", "task id", "cta", "aufgaben id"),
        "account_id": ("company id", "account id", "account", "company gsid", "firmen id", "konto id"),
        "owner": ("owner", "owner name", "assigned to", "assignee", "verantwortlich", "zustandig", "bearbeiter", "inhaber"),
        "type": ("type", "cta type", "task type", "aufgabentyp", "typ", "art", "kategorie", "category"),
        "created_at": ("created date", "created", "created at", "created on", "erstellt am", "erstelldatum"),
        "due_at": ("due date", "due", "due on", "fallig am", "falligkeitsdatum"),
        "closed_at": ("closed date", "closed", "closed at", "closed on", "completed date", "geschlossen am", "abgeschlossen am",
                      "erledigt am"),
        "status": ("status", "cta status", "state", "zustand"),
    },
    "sync_log": {
        "source": ("connector", "connection name", "connection", "verbindung", "source", "integration", "connector name", "quelle", "konnektor", "schnittstelle"),
        "started_at": ("started", "start time", "started at", "start", "beginn", "startzeit", "gestartet", "gestartet am"),
        "finished_at": ("finished", "sync completed", "completed at", "end time", "finished at", "ended at", "end", "ende", "endzeit", "beendet", "beendet am"),
        "status": ("result", "status", "outcome", "ergebnis"),
        "records": ("records", "records synced", "synced records", "records processed", "record count", "rows", "datensatze", "anzahl datensatze", "verarbeitete datensatze"),
        "error": ("message", "error", "error message", "details", "fehlermeldung", "meldung", "fehler"),
    },
    "platform_logins": {
        "user": ("user email", "user", "email", "user name", "login", "benutzer", "nutzer", "benutzer e mail", "e mail"),
        "date": ("login date", "date", "login time", "logged in at", "anmeldedatum", "anmeldung", "datum", "login at"),
    },
    "team": {
        "user": ("user email", "email", "user", "user name", "benutzer", "nutzer", "benutzer e mail", "e mail"),
        "role": ("role", "rolle", "title", "position", "funktion"),
        "active": ("is active", "active", "aktiv", "ist aktiv", "enabled", "status"),
    },
}
# French and Spanish names (Salesforce, Zoho, Planhat, Pennylane and the like), added to the names above
MORE_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "account_id": ("id du compte", "identifiant du compte", "id de la cuenta", "id de cuenta"),
        "account_name": ("nom du compte", "nombre de la cuenta", "nombre de cuenta", "raison sociale"),
        "parent_account_id": ("id du compte parent", "compte parent", "cuenta principal", "id de la cuenta principal"),
        "segment": ("segment client", "segmento de cliente"),
        "csm_owner": ("proprietaire du compte", "responsable du compte", "gestionnaire de compte", "propietario de la cuenta",
                      "responsable de la cuenta"),
        "arr": ("revenu recurrent annuel", "ingresos recurrentes anuales", "ingreso recurrente anual"),
        "seats": ("nombre de licences", "numero de licencias", "puestos"),
        "created_at": ("cree le", "fecha de creacion", "date de creation"),
        "contract_start": ("date de debut du contrat", "inicio del contrato", "fecha de inicio del contrato"),
        "renewal_date": ("fecha de renovacion", "date de renouvellement"),
        "industry": ("secteur d activite",),
    },
    "contacts": {
        "contact_id": ("id du contact", "id del contacto"),
        "email": ("adresse e mail", "correo electronico", "correo", "email address"),
        "role": ("role du contact", "fonction", "titre", "cargo", "puesto", "rol"),
        "last_activity_at": ("derniere activite", "ultima actividad"),
    },
    "renewals": {
        "renewal_date": ("date de cloture", "fecha de cierre"),
        "outcome": ("etape", "etapa", "phase de vente"),
        "arr_before": ("arr precedent", "arr anterior"),
        "arr_after": ("montant", "nouvel arr", "importe", "nuevo arr", "deal value"),
    },
    "invoices": {
        "invoice_id": ("numero de facture", "numero de factura", "invoice number"),
        "issued_at": ("date de facture", "fecha de factura", "transaction date", "fecha de emision"),
        "due_at": ("date d echeance", "echeance", "fecha de vencimiento"),
        "paid_at": ("date de paiement", "fecha de pago", "date paid"),
        "amount": ("montant", "montant ttc", "importe", "total amount"),
    },
    "tickets": {
        "ticket_id": ("id du ticket", "id del ticket", "numero de ticket", "ticket number"),
        "created_at": ("date de creation", "fecha de creacion", "created time"),
        "resolved_at": ("date de resolution", "fecha de cierre", "fecha de resolucion", "resolved time", "closed time"),
        "priority": ("ticket priority",),
        "csat": ("note de satisfaction", "valoracion del cliente", "satisfaccion", "valoracion"),
    },
    "usage": {
        "date": ("fecha", "jour"),
        "active_users": ("utilisateurs actifs", "usuarios activos"),
        "logins": ("connexions", "inicios de sesion", "sesiones", "login events"),
    },
    "surveys": {
        "responded_at": ("date de reponse", "fecha de respuesta"),
        "nps": ("note nps", "puntuacion", "puntuacion nps", "score nps"),
    },
    "health_scores": {
        "date": ("fecha", "week of", "semaine"),
        "score": ("puntuacion de salud", "score de sante"),
    },
    "ctas": {
        "cta_id": ("id de la tarea", "id de tache"),
        "owner": ("responsable", "proprietaire", "asignado a"),
        "type": ("tipo", "type de tache"),
        "created_at": ("fecha de creacion", "date de creation"),
        "due_at": ("fecha de vencimiento", "date d echeance"),
        "closed_at": ("fecha de finalizacion", "fecha de cierre", "completed at", "date de cloture"),
        "status": ("estado", "statut"),
    },
    "sync_log": {
        "source": ("integracion", "integration name"),
        "started_at": ("inicio", "debut", "run started at"),
        "finished_at": ("fin", "run finished at"),
        "status": ("resultado", "run status", "statut", "resultat"),
        "records": ("registros procesados", "enregistrements"),
        "error": ("mensaje de error", "message d erreur"),
    },
    "platform_logins": {
        "user": ("correo electronico del usuario", "team member email", "email address", "utilisateur"),
        "date": ("fecha de acceso", "date de connexion"),
    },
    "team": {
        "user": ("correo electronico", "email address", "adresse e mail"),
        "role": ("rol", "team role"),
        "active": ("usuario activo", "actif", "activo"),
    },
}
for _table, _columns in MORE_NAMES.items():
    for _column, _names in _columns.items():
        SYNONYMS[_table][_column] = SYNONYMS[_table][_column] + _names

GENERIC = {"fecha", "fin", "inicio", "estado", "tipo", "rol", "responsable", "montant", "importe", "statut", "titre",
           "correo", "jour", "etape", "etapa", "id", "date", "name", "score", "status", "type", "created", "account", "customer", "company", "datum", "user",
           "email", "rating", "number", "total", "amount", "time", "day", "start", "end", "result", "source", "owner", "role",
           "title", "records", "message", "error", "details", "active", "tag", "art", "typ"}


def words(name: str) -> str:
    """A header as lower-case words: accents, camel case, `__c`, units in brackets and punctuation gone."""
    s = re.sub(r"__c$", "", name.lstrip("\ufeff").strip())
    s = re.sub(r"\((utc|usd|eur|gbp|%|#|\$|€)\)", " ", s, flags=re.I)
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", s)
    s = unicodedata.normalize("NFKD", s.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", s.casefold()))


# abbreviations that exports write, read as the word (`Acct #`, `Due Dt`, `Total Amt`, `Ticket No.`)
ABBREVIATIONS = {"acct": "account", "acc": "account", "dt": "date", "amt": "amount", "no": "number", "num": "number",
                 "nr": "number", "nbr": "number", "txn": "transaction", "ext": "external", "qty": "quantity", "cust": "customer",
                 "org": "org", "n": "number"}
# a record type before " - " (Pipedrive's "Organization - Owner", HubSpot's "Deal - Value"): the rest names the column
RECORD_PREFIX = re.compile(r"^\s*(organi[sz]ation|person|deal|company|account|contact|ticket|activity|lead|opportunity)\s+-\s+(.+)$", re.I)


def readings(header: str) -> list[str]:
    """The ways a header can be read: as written, without a record-type prefix, without brackets
    ("Score (0-10)", "Active (Y/N)"), with abbreviations spelled out."""
    forms = [header]
    m = RECORD_PREFIX.match(header)
    if m:
        forms.append(m.group(2))
    forms += [re.sub(r"\s*[(\[][^)\]]*[)\]]", "", f).strip() for f in forms]
    forms = [f.replace("#", " number ").replace("n°", " number ").replace("N°", " number ") for f in forms] + forms
    out = []
    for f in forms:
        w = words(f)
        out += [w, " ".join(ABBREVIATIONS.get(t, t) for t in w.split())]
    return [w for w in dict.fromkeys(out) if w]


def name_score(header: str, names: tuple[str, ...]) -> float:
    """How well a header names a column known by `names`: 1 for the same words (0.75 when the name
    is generic, like "id" or "date"), 0.7 when the header contains a specific name's words in order
    ("Contract Renewal Date"), else 0; the best of the header's `readings`."""
    best = 0.0
    for w in readings(header):
        for n in names:
            if w == n:
                best = max(best, 0.75 if n in GENERIC else 1.0)
            elif n not in GENERIC and len(n) > 3 and re.search(rf"\b{re.escape(n)}\b", w):
                best = max(best, 0.7)
    return best


# ---------------------------------------------------------------------------- values

DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}/\d{2}/\d{2}|\d{1,2}[ -][A-Za-z]{3}[ -]\d{4}|"
                     r"[A-Za-z]{3} \d{1,2}, \d{4})$")
DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4})[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm])?"
                         r"\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$")
NUMBER_RE = re.compile(r"^[-+]?[$€£¥₹]?\s?[-+]?(\d{1,3}([,.\s]\d{3})+|\d+)([.,]\d+)?\s?(%|[A-Z]{3}|[$€£])?$|^[-+]?\d+(\.\d+)?[eE][-+]?\d+$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
BOOL_LABELS = contract.TRUE_LABELS | contract.FALSE_LABELS | {"ja", "nein", "wahr", "falsch", "oui", "non", "si", "sí"}


@dataclass
class Profile:
    """A sample column's values."""

    count: int  # non-null
    distinct: int
    unique: bool  # every non-null value once
    number: float  # share of values that read as numbers
    integer: float  # share of whole numbers
    date: float  # share that read as dates (without a time)
    datetime: float  # share with a time
    email: float
    boolean: float
    low: float | None  # the range of the numbers
    high: float | None
    money: bool  # currency symbols or two decimals with thousands separators
    labels: list[str]  # distinct values, when few (<= 40)
    values: pl.Series  # the distinct values (text)

    @property
    def dated(self) -> float:
        return self.date + self.datetime


def number(s: str) -> float | None:
    """A number as an export writes it: currency, thousands separators and a decimal comma allowed."""
    t = re.sub(r"[$€£¥₹%\s\u00a0\u202f]|\b[A-Z]{3}\b", "", s)
    if re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?|[-+]?\d+,\d+", t):
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", "")
    try:
        return float(t)
    except ValueError:
        return None


def profile(col: pl.Series) -> Profile:
    values = col.drop_nulls()
    n = len(values)
    distinct = values.unique()
    sample = values.head(5000).to_list()
    m = max(len(sample), 1)
    nums = [number(v) for v in sample if NUMBER_RE.match(v)]
    nums = [x for x in nums if x is not None]
    return Profile(
        count=n,
        distinct=len(distinct),
        unique=n > 0 and len(distinct) == n,
        number=len(nums) / m,
        integer=sum(1 for x in nums if float(x).is_integer()) / m,
        date=sum(1 for v in sample if DATE_RE.match(v)) / m,
        datetime=sum(1 for v in sample if DATETIME_RE.match(v)) / m,
        email=sum(1 for v in sample if EMAIL_RE.match(v)) / m,
        boolean=sum(1 for v in sample if v.strip().casefold() in BOOL_LABELS) / m,
        low=min(nums) if nums else None,
        high=max(nums) if nums else None,
        money=any(re.search(r"[$€£]|\d[.,]\d{3}[.,]\d{2}$", v) for v in sample[:500]),
        labels=sorted(distinct.to_list(), key=str)[:40] if len(distinct) <= 40 else [],
        values=distinct,
    )


FIT = 0.9  # share of a sample's values that must read as the column's type


def fits(p: Profile, column: contract.Column) -> bool:
    """Whether the values can be the canonical column's type."""
    if p.count == 0:
        return False
    t = column.type
    if t == contract.DATE:
        return p.dated >= FIT
    if t == contract.DATETIME:
        return p.dated >= FIT
    if t in (contract.FLOAT, contract.INT):
        return p.number >= FIT and (t == contract.FLOAT or p.integer >= FIT)
    if t == contract.BOOL:
        return p.boolean >= FIT
    if t == contract.CATEGORY:
        return 0 < p.distinct <= 40 and p.number < 0.5
    if column.name in ("email", "user"):
        return p.email >= FIT or (column.name == "user" and p.number < 0.5)
    if column.name.endswith("_id") or column.name in ("account_name",):
        return True
    return p.number < 0.5 and p.dated < 0.5  # free text: not a column of numbers or dates


def shape_score(p: Profile, table: str, column: str) -> float:
    """How typical the values are of the column, 0 to 1 (for columns whose values say what they are)."""
    lo, hi = p.low, p.high
    if lo is None or hi is None:
        return 0.0
    if column == "nps":
        return 1.0 if p.integer >= FIT and 0 <= lo and hi <= 10 and hi >= 6 else 0.0
    if column == "csat":
        return 1.0 if 1 <= lo and hi <= 5 else (0.5 if 0 <= lo and hi <= 10 else 0.0)
    if column == "score":
        return 1.0 if 0 <= lo and hi <= 100 and hi > 10 else 0.0
    if column in ("arr", "amount", "arr_before", "arr_after"):
        return 1.0 if lo >= 0 and (p.money or hi >= 1000) else 0.0
    if column in ("seats", "active_users", "logins", "records"):
        return 1.0 if p.integer >= FIT and lo >= 0 else 0.0
    return 0.0
