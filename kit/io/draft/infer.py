"""From a folder's exports to a draft: which table each export is, its account key, each column's
canonical field, value maps and reading conventions, each with its evidence and confidence.

Precision over recall: a wrong mapping that loads makes a silently wrong score, a gap only a
TODO. So a column is mapped only where its name and its values agree (`CONFIDENT`), keys only by
value overlap; anything less becomes a TODO line with the candidates.

1. **The accounts' key.** Among the columns whose values are unique in their export, the one whose
   values the most other exports refer to (90% or more of a column's values are among them).
   Salesforce ids count as the same id in their 15- and 18-character forms; `100001.0` is `100001`.
2. **Each export's account key**: the column whose values are account ids (by overlap, never by name).
3. **Each export's table**: every canonical table is tried; its columns are matched to headers by
   name (`fields.SYNONYMS`) where the values fit the column's type, and the table scores the names
   it matched. A table needs its required columns; renewals need outcome labels the rules place,
   usage one row per account and day (or raw events). Tables go to exports best score first, one
   export per table; an export no table fits is listed with the reason.
4. **Columns**: confident when the name matches and the values fit (for a generic name such as
   "Date" or "Score", also when no other header competes or the values are typical: 0-10 for NPS).
   Extra numeric usage columns become features.
5. **Values and conventions**: category labels mapped by `labels.place`; a slash date order that the
   values decide, a decimal comma, a non-UTF-8 encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from kit import contract
from kit.io.draft import exports as exports_mod
from kit.io.draft import fields, labels
from kit.io.draft.exports import Export, Unreadable

OVERLAP = 0.9  # share of a column's values that must be account ids for it to be an account key
CONFIDENT = 0.7  # name score from which a fitting column is mapped without a TODO
MIN_KEY_VALUES = 5


@dataclass
class Mapping:
    header: str
    column: str  # canonical column, or a usage feature's name
    confident: bool
    evidence: str
    candidates: list[str] = field(default_factory=list)  # for a TODO: the other canonical columns it might be


@dataclass
class Placed:
    export: Export
    table: str
    score: float
    evidence: str
    kind: str | None = None  # "events": raw usage events
    columns: list[Mapping] = field(default_factory=list)
    todos: list[Mapping] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    unplaced_labels: dict[str, list[str]] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)  # date_format, decimal_comma, encoding, sheet, kind
    setting_notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Draft:
    folder: Path
    placed: dict[str, Placed]  # canonical table -> its export
    unplaced: list[tuple[str, str]]  # (file, reason)
    key: tuple[Export, str] | None  # the accounts' export and id column
    exports: int


# ---------------------------------------------------------------------------- ids


def id_values(col: pl.Series) -> pl.Series:
    """Ids compared as the loader reads them: trimmed, `100001.0` as `100001`, a Salesforce 18-character id as its 15-character form."""
    v = pl.col("v").str.strip_chars().str.replace(r"^(\d+)\.0+$", "${1}")
    salesforce = v.str.contains(r"^[A-Za-z0-9]{18}$") & v.str.contains(r"\d")
    frame = pl.DataFrame({"v": col.drop_nulls().cast(pl.String)})
    return frame.select(pl.when(salesforce).then(v.str.slice(0, 15)).otherwise(v)).to_series().alias(col.name)


def overlap(col: pl.Series, ids: pl.Series) -> float:
    """The share of a column's distinct values (as ids) that are among `ids`."""
    return share_in(distinct_ids(col), ids)


def distinct_ids(col: pl.Series) -> pl.Series:
    return id_values(col.drop_nulls().unique())


def share_in(values: pl.Series, ids: pl.Series) -> float:
    if len(values) < MIN_KEY_VALUES:
        return 0.0
    return float(values.is_in(ids.implode()).mean())


def _salesforce(col: pl.Series) -> bool:
    return bool(col.drop_nulls().cast(pl.String).str.contains(r"^[A-Za-z0-9]{18}$").mean() or 0) > 0.9


# ---------------------------------------------------------------------------- the draft


def draft(folder: Path) -> Draft:
    folder = Path(folder)
    expected = {w for table in fields.SYNONYMS.values() for names in table.values() for w in names}
    found, unplaced = [], []
    for path in exports_mod.find(folder):
        got = exports_mod.read(path, {_norm(n) for n in expected})
        if isinstance(got, Unreadable):
            unplaced.append((_rel(path, folder), got.reason))
        else:
            found += [e for e in got if e.sample.width]
    profiles = {id(e): {c: fields.profile(e.sample[c]) for c in e.columns} for e in found}
    distinct = {(id(e), c): distinct_ids(e.sample[c]) for e in found for c in e.columns if profiles[id(e)][c].dated < 0.5}
    key = account_key(found, profiles, distinct)
    ids = distinct[(id(key[0]), key[1])] if key else pl.Series([], dtype=pl.String)
    keys = {id(e): _export_key(e, key, ids, distinct) for e in found}
    options = []
    for e in found:
        for table in contract.TABLES:
            p = _try(e, table, keys[id(e)], key, profiles[id(e)])
            if p:
                options.append(p)
    placed: dict[str, Placed] = {}
    taken: set[int] = set()
    for p in sorted(options, key=lambda p: -p.score):
        if p.table in placed or id(p.export) in taken:
            continue
        placed[p.table] = p
        taken.add(id(p.export))
    for e in found:
        if id(e) in taken:
            continue
        rel = _rel(e.path, folder) + (f" (sheet {e.sheet})" if e.sheet else "")
        beaten = [p for p in options if p.export is e]
        if beaten:
            best = max(beaten, key=lambda p: p.score)
            unplaced.append((rel, f"looks like {best.table} ({best.evidence}), but {_rel(placed[best.table].export.path, folder)} "
                                  f"fits {best.table} better"))
        else:
            heads = ", ".join(e.columns[:6]) + (", ..." if len(e.columns) > 6 else "")
            unplaced.append((rel, f"no table fits its columns ({heads})" + ("" if keys[id(e)] else "; none of its columns holds account ids")))
    for p in placed.values():
        _finish(p, profiles[id(p.export)])
    return Draft(folder, dict(sorted(placed.items(), key=lambda kv: list(contract.TABLES).index(kv[0]))), unplaced, key, len(found))


def _norm(name: str) -> str:
    from kit.io.layout import normalise_name

    return normalise_name(name)


def _rel(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def account_key(found: list[Export], profiles: dict, distinct: dict) -> tuple[Export, str] | None:
    """The accounts' export and id column: unique values that the most other exports refer to."""
    best, best_score = None, (0, 0.0)
    for e in found:
        for c in e.columns:
            p = profiles[id(e)][c]
            if p.distinct < 0.95 * p.count or p.count < MIN_KEY_VALUES or p.dated > 0.5 or p.email > 0.5 or (p.number > 0.9 and p.integer < 0.9):
                continue
            ids = distinct[(id(e), c)]
            refs = sum(1 for other in found if other is not e and any(
                share_in(distinct[(id(other), oc)], ids) >= OVERLAP for oc in other.columns if (id(other), oc) in distinct))
            score = (refs, fields.name_score(c, fields.SYNONYMS["accounts"]["account_id"]) + len(e.columns) / 1000)
            if (refs or score[1] >= 0.75) and score > best_score:  # without references, by its name alone
                best, best_score = (e, c), score
    return best


def _export_key(e: Export, key, ids: pl.Series, distinct: dict) -> tuple[str, float] | None:
    """The column of `e` holding account ids, and the share of its distinct values that are account ids."""
    if key is None:
        return None
    if e is key[0]:
        return key[1], 1.0
    shares = [(share_in(distinct[(id(e), c)], ids), c) for c in e.columns if (id(e), c) in distinct]
    shares = [(s, c) for s, c in shares if s >= OVERLAP]
    if not shares:
        return None
    s, c = max(shares, key=lambda sc: (sc[0], fields.name_score(sc[1], fields.SYNONYMS["usage"]["account_id"])))
    return c, s


# ---------------------------------------------------------------------------- one export as one table


FILE_HINTS = {
    "accounts": r"account|compan|kunden|konten|firmen", "contacts": r"contact|kontakt|people|person",
    "usage": r"usage|product|analytics|nutzung|events|daily", "tickets": r"ticket|support|zendesk|intercom|conversation|case",
    "invoices": r"invoice|billing|rechnung|stripe|chargebee", "surveys": r"survey|nps|umfrage|feedback",
    "renewals": r"renewal|opportunit|deal|verlangerung|verlaengerung", "health_scores": r"health|score",
    "ctas": r"cta|task|aufgabe", "sync_log": r"sync|integration|connector", "platform_logins": r"login|anmeld",
    "team": r"team|users|benutzer|mitarbeiter",
}


def _try(e: Export, table: str, ekey, key, profiles: dict) -> Placed | None:
    t = contract.TABLES[table]
    if table == "accounts" and (key is None or e is not key[0]):
        return None
    if t.child_of_accounts and ekey is None:
        return None
    if not t.child_of_accounts and table != "accounts" and ekey is not None:
        return None  # an export of account records is not a team list or a sync log
    synonyms = fields.SYNONYMS[table]
    used = {ekey[0]} if ekey else set()
    chosen: dict[str, tuple[str, float]] = {}
    if table == "accounts":
        chosen["account_id"] = (ekey[0], 1.0)
    pairs = []
    for column in t.columns:
        if column.name == "account_id" and t.child_of_accounts:
            continue
        for h in e.columns:
            if h in used:
                continue
            ns = fields.name_score(h, synonyms.get(column.name, ()))
            if ns and fields.fits(profiles[h], column):
                pairs.append((ns + 0.2 * fields.shape_score(profiles[h], table, column.name), column.name, h, ns))
    for score, column, h, ns in sorted(pairs, key=lambda x: -x[0]):
        if column in chosen or h in used:
            continue
        chosen[column] = (h, ns)
        used.add(h)
    kind = None
    if table == "usage" and "date" not in chosen:  # raw events instead of daily rows?
        events = _events(e, used, profiles)
        if not events:
            return None
        chosen.update(events)
        kind = "events"
    required = [c for c in t.required if c != "account_id" or not t.child_of_accounts]
    if kind is None and any(c not in chosen for c in required):
        return None
    named = [c for c in chosen if c != "account_id"]
    if table != "accounts" and len(named) < min(2, len([c for c in t.columns if c.name != "account_id"])):
        return None  # one matching name is no evidence for a table
    if table == "usage" and kind is None and not {"active_users", "logins"} & set(chosen):
        return None  # a date and numbers per account and day are not usage unless users or logins are named
    for column in (c for c in t.columns if c.type == contract.CATEGORY and c.name in chosen):
        if labels.share_placed(table, column.name, profiles[chosen[column.name][0]].labels) < 0.5:
            return None
    if table == "usage" and kind is None and not _daily(e, ekey[0], chosen["date"][0]):
        return None
    score = sum(ns for _, ns in chosen.values()) + (1.0 if ekey else 0.0)
    hint = 0.5 if re.search(FILE_HINTS[table], fields.words(e.path.stem + " " + (e.sheet or "")).replace(" ", "")) else 0.0
    why = f"{len(chosen)} of its {len(e.columns)} columns named like the {table} table's"
    if ekey:
        why += f", account ids in {ekey[0]!r}"
    p = Placed(e, table, score + hint, why, kind=kind)
    p.columns = [Mapping(h, c, True, "") for c, (h, _) in chosen.items() if c != "account_id"]
    if ekey and t.child_of_accounts:
        why_key = f"account key: {ekey[1]:.1%} of its distinct values are account ids"
        if _salesforce(e.sample[ekey[0]]) and not _salesforce(key[0].sample[key[1]]):
            why_key += (" (Salesforce 18-character ids, whose first 15 characters are the accounts' ids: the audit lists them "
                        "as unknown until both exports write one form)")
        p.columns.insert(0, Mapping(ekey[0], "account_id", True, why_key))
    elif table == "accounts":
        dup = e.sample.height - profiles[ekey[0]].distinct
        p.columns.insert(0, Mapping(ekey[0], "account_id", True,
                                    f"account key: {profiles[ekey[0]].distinct:,} ids{f' ({dup} repeated)' if dup else ''}; "
                                    "the other exports' account ids are its values"))
    p.settings["_ns"] = {c: ns for c, (_, ns) in chosen.items()}
    return p


def _events(e: Export, used: set[str], profiles: dict) -> dict[str, tuple[str, float]]:
    syn = fields.SYNONYMS["usage_events"]
    out: dict[str, tuple[str, float]] = {}
    for column in ("timestamp", "user_id", "event"):
        best = max(((fields.name_score(h, syn[column]), h) for h in e.columns if h not in used), default=(0, None))
        if best[0] >= CONFIDENT and (column != "timestamp" or profiles[best[1]].datetime >= fields.FIT):
            out[column] = (best[1], best[0])
            used.add(best[1])
    return out if "timestamp" in out else {}


def _daily(e: Export, key: str, date: str) -> bool:
    """One row per account and day (mostly): a daily usage export rather than events or snapshots."""
    pairs = e.sample.select(key, date).drop_nulls()
    return pairs.height > 0 and pairs.unique().height >= 0.95 * pairs.height


# ---------------------------------------------------------------------------- confidence, features, values, conventions


def _finish(p: Placed, profiles: dict) -> None:
    t = contract.TABLES[p.table]
    ns_of = p.settings.pop("_ns")
    final, todos = [], []
    for m in p.columns:
        if m.column == "account_id" and m.evidence:
            final.append(m)
            continue
        prof = profiles[m.header]
        ns = ns_of.get(m.column, 1.0)
        shape = fields.shape_score(prof, p.table, m.column)
        rivals = [h for h in p.export.columns if h != m.header and fields.name_score(h, fields.SYNONYMS[p.table].get(m.column, ())) >= ns]
        words = f"name {m.header!r}"
        if p.kind == "events":
            m.evidence = f"{words}: the raw events' {m.column}"
            final.append(m)
            continue
        if ns >= CONFIDENT and (ns >= 1.0 or shape >= 1.0 or not rivals):
            m.evidence = f"{words}{' (a generic name, no other column competes)' if ns < 1.0 else ''}{_shape_words(prof, t.column(m.column))}"
            final.append(m)
        else:
            m.confident = False
            m.candidates = rivals
            m.evidence = f"{words} is generic" + (f"; also possible: {', '.join(rivals)}" if rivals else "")
            todos.append(m)
    p.columns, p.todos = final, todos
    _check_dates(p)
    if p.table == "usage" and p.kind is None:
        mapped = {m.header for m in p.columns + p.todos}
        canonical_words = {w for c in ("active_users", "logins") for n in fields.SYNONYMS["usage"][c] for w in n.split()}
        for h in p.export.columns:
            prof = profiles[h]
            if h not in mapped and prof.number >= fields.FIT and prof.dated < 0.5:
                near = set(fields.words(h).split()) & canonical_words
                m = Mapping(h, feature_name(h), not near, f"extra numeric usage column ({prof.number:.0%} numbers): a feature")
                if near:  # "login_events" may be the logins rather than a feature
                    m.evidence += f"; or a usage column? its name has {', '.join(sorted(near))}"
                    m.candidates = [c for c in ("logins", "active_users") if c not in {x.column for x in p.columns}]
                (p.columns if m.confident else p.todos).append(m)
    for m in p.columns:
        column = t.column(m.column)
        if column is not None and column.type == contract.CATEGORY:
            prof = profiles[m.header]
            mapped, same, unplaced = labels.place(p.table, m.column, prof.labels)
            if mapped:
                p.values[m.column] = mapped
            if unplaced:
                p.unplaced_labels[m.column] = unplaced
    _conventions(p, profiles)
    if p.kind:
        p.settings["kind"] = p.kind
    if p.export.sheet:
        p.settings["sheet"] = p.export.sheet


def feature_name(header: str) -> str:
    return "_".join(fields.words(header).split()) or "feature"


def _shape_words(prof: fields.Profile, column) -> str:
    if column is None:
        return ""
    if column.type in (contract.DATE, contract.DATETIME):
        return f"; {prof.dated:.0%} dates"
    if column.type in (contract.FLOAT, contract.INT) and prof.low is not None:
        return f"; {prof.number:.0%} numbers, {_num(prof.low)} to {_num(prof.high)}"
    if column.type == contract.CATEGORY:
        return f"; {prof.distinct} labels"
    if column.name in ("email", "user") and prof.email:
        return f"; {prof.email:.0%} e-mail addresses"
    if column.name.endswith("_id"):
        return "; unique" if prof.unique else f"; {prof.distinct:,} distinct"
    return ""


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def _check_dates(p: Placed) -> None:
    """Which date is which in a row: an invoice is due and paid on or after it was issued; a ticket or a
    sync ends after it starts. Where the values say otherwise, the pair becomes a TODO."""
    pairs = {"invoices": [("issued_at", "due_at"), ("issued_at", "paid_at")], "tickets": [("created_at", "resolved_at")], "sync_log": [("started_at", "finished_at")],
             "ctas": [("created_at", "due_at")]}.get(p.table, [])
    by = {m.column: m for m in p.columns}
    for first, then in pairs:
        if first not in by or then not in by:
            continue
        a, b = (_parsed(p.export.sample[by[c].header]) for c in (first, then))
        both = pl.DataFrame({"a": a, "b": b}).drop_nulls()
        if both.height < MIN_KEY_VALUES:
            continue
        order = float((both["b"] >= both["a"]).mean())
        if order >= 0.9:
            by[then].evidence += f"; on or after {by[first].header!r} in {order:.0%} of rows"
        else:
            m = by[then]
            m.confident, m.candidates = False, [first]
            m.evidence += f"; but before {by[first].header!r} in {1 - order:.0%} of rows: are the two swapped?"
            p.columns.remove(m)
            p.todos.append(m)


def _parsed(col: pl.Series) -> pl.Series:
    s = col.cast(pl.String).str.strip_chars().str.slice(0, 10)
    out = pl.Series([None] * len(s), dtype=pl.Date)
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d"):
        got = s.str.to_date(fmt, strict=False)
        out = out.fill_null(got) if out.null_count() < len(out) else got
    return out


SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})")


def _conventions(p: Placed, profiles: dict) -> None:
    t = contract.TABLES[p.table]
    dated = [m.header for m in p.columns if t.column(m.column) is not None and t.column(m.column).type in (contract.DATE, contract.DATETIME)]
    first = second = 0
    example = None
    for h in dated:
        values = p.export.sample[h].drop_nulls().head(5000)
        if not len(values) or float(values.str.contains(SLASH.pattern).mean()) < 0.9:
            continue  # the column is not written day/month/year: a stray value decides nothing
        for v in values:
            m = SLASH.match(v)
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                first += a > 12
                second += b > 12
                if example is None and (a > 12 or b > 12):
                    example = v
    if second and not first:
        p.settings["date_format"] = "%m/%d/%Y"
        p.setting_notes["date_format"] = f"dates month first: {example} cannot be read day first"
    elif first and not second:
        p.settings["date_format"] = "%d/%m/%Y"
        p.setting_notes["date_format"] = f"dates day first: {example} cannot be read month first"
    numeric = [m.header for m in p.columns if t.column(m.column) is not None and t.column(m.column).type in (contract.FLOAT, contract.INT)]
    comma = point = 0
    for h in numeric:
        for v in p.export.sample[h].drop_nulls().head(2000):
            comma += bool(re.search(r"\d,\d{1,2}$|\d\.\d{3},\d", v))
            point += bool(re.search(r"\d\.\d{1,2}$|\d,\d{3}\.\d", v))
    if comma and not point:
        p.settings["decimal_comma"] = True
        p.setting_notes["decimal_comma"] = "numbers written with a decimal comma (1.234,50)"
    if p.export.encoding:
        p.settings["encoding"] = p.export.encoding
        p.setting_notes["encoding"] = "not UTF-8: read as Windows-1252 (cp1252)"
