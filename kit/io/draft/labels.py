"""Value maps: a client's labels onto the canonical labels of a category column.

Each canonical label has words that place a client's label ("Closed Lost" is churned, "Closed
Won - Expansion" expanded, "Urgent" high priority, "error" a failed sync), in English and German
with a few French and Spanish ones. The rules are tried in order, so the more specific come
first: a won expansion is an expansion before it is a win. A label no rule places is left out of
the map and listed (the loader then reports its rows as unparseable, never as a guess).
"""

from __future__ import annotations

import re

from kit.io.draft.fields import words

# (table, column) -> [(canonical label, pattern on the label's words)], tried in order
RULES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("renewals", "outcome"): [
        ("expanded", r"\b(expan\w*|upsell\w*|upgrade\w*|erweiter\w*|ausweitung|expansion|ampliacion)\b"),
        ("contracted", r"\b(downsell\w*|downgrade\w*|contract(ed|ion)|reduc\w*|reduzier\w*|verkleiner\w*|reduction)\b"),
        ("churned", r"\b(lost|churn\w*|cancel\w*|verloren|gekundigt|kundigung|perdu\w*|perdid\w*|nicht verlangert)\b"),
        ("renewed", r"\b(won|renew\w*|verlanger\w*|gewonnen|renouvel\w*|gagne\w*|ganad\w*|renovad\w*)\b"),
    ],
    ("tickets", "priority"): [
        ("urgent", r"\b(urgent|critical|p1|p0|blocker|dringend|kritisch|urgente|critique)\b"),
        ("high", r"\b(high|p2|hoch|haute|alta|important)\b"),
        ("normal", r"\b(normal|medium|p3|mittel|normale|media|moyenne)\b"),
        ("low", r"\b(low|p4|p5|niedrig|gering|basse|baja|minor)\b"),
    ],
    ("ctas", "status"): [
        ("closed", r"\b(closed|close|done|complete\w*|success\w*|resolved|cancel\w*|no response|geschlossen|erledigt|"
                   r"abgeschlossen|ferme\w*|cerrad\w*)\b"),
        ("open", r"\b(open|new|in progress|pending|offen|neu|in bearbeitung|ouvert\w*|abiert\w*)\b"),
    ],
    ("sync_log", "status"): [
        ("failure", r"\b(error\w*|fail\w*|fehler\w*|fehlgeschlagen|abgebrochen|echec|erreur)\b"),
        ("success", r"\b(ok|success\w*|succeeded|complete\w*|done|erfolgreich|abgeschlossen|reussi|exito\w*)\b"),
    ],
}


def place(table: str, column: str, labels: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """({client label: canonical label} for the labels that need a map, labels that are canonical as
    they are, labels no rule places)."""
    from kit import contract

    canonical = set(contract.TABLES[table].column(column).labels)
    rules = RULES.get((table, column), [])
    mapped, same, unplaced = {}, [], []
    for label in labels:
        w = words(label)
        if label.strip().casefold() in canonical:  # the loader reads it as it is (ignoring case)
            same.append(label)
            continue
        hit = next((canon for canon, pattern in rules if re.search(pattern, w)), None)
        if hit:
            mapped[label] = hit
        else:
            unplaced.append(label)
    return mapped, same, unplaced


def share_placed(table: str, column: str, labels: list[str]) -> float:
    if not labels:
        return 0.0
    mapped, same, _ = place(table, column, labels)
    return (len(mapped) + len(same)) / len(labels)
