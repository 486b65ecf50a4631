"""The personal values of a client's data (e-mails, user names, owners), kept with each run.

The runner takes them from the data the run read (the schema's personal columns plus each account's
CSM owner) and writes them into the period folder (kit.registry.PERSONAL). Publishing replaces them in
every page it builds, from the files of the periods it shows, so it never reads a source again (the run
has removed its copy of the data; a SQL source may be out of reach). The file stays in reports/; it is
never copied into a site.

A configured table with personal columns that the run could not read is recorded as such: its names
could not be collected, so publishing stops on it rather than show them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kit import contract, registry
from kit.errors import KitError, Reason
from kit.io.load import ClientData

EXTRA = {"accounts": ("csm_owner",)}  # personal beyond the schema's flags: the CSM owner of each account


def columns(name: str) -> list[str]:
    """The personal columns of a canonical table."""
    return [c.name for c in contract.TABLES[name].columns if c.personal] + list(EXTRA.get(name, ()))


@dataclass
class Personal:
    values: set[str] = field(default_factory=set)
    unreadable: dict[str, str] = field(default_factory=dict)  # table: why its personal values could not be read

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / registry.PERSONAL
        path.write_text(json.dumps({"values": sorted(self.values), "unreadable": self.unreadable}, indent=1, ensure_ascii=False),
                        encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> "Personal":
        """A period's personal values; a folder without them (run by an older kit) cannot be published safely."""
        path = Path(folder) / registry.PERSONAL
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(set(doc["values"]), dict(doc["unreadable"]))
        except FileNotFoundError:
            raise KitError("this period has no record of its personal data (names and e-mails to replace in the site)",
                           where=str(path), code=Reason.PERSONAL_DATA_UNREADABLE,
                           fix="rerun the period with this kit (python -m kit run PARAMS --period PERIOD), or set "
                           "publish.personal_data: true if the client agreed to show these names") from None
        except (ValueError, KeyError, TypeError) as e:
            raise KitError(f"{registry.PERSONAL} cannot be read ({type(e).__name__}: {e})", where=str(path),
                           code=Reason.ARTEFACT_OUTDATED, fix="rerun the period (python -m kit run PARAMS --period PERIOD)") from None

    def check(self) -> None:
        """Raise when a table with personal columns could not be read: its names could not be replaced."""
        for name, why in sorted(self.unreadable.items()):
            raise KitError(
                f"cannot read this table to find the personal data ({', '.join(columns(name))}) to replace in the site: {why}",
                where=f"sources.{name}", code=Reason.PERSONAL_DATA_UNREADABLE,
                fix=f"fix sources.{name} (python -m kit validate shows why) and rerun the period, remove it from the "
                "parameters, or set publish.personal_data: true if the client agreed to show these names",
            )


def of(data: ClientData) -> Personal:
    """Every value of a personal column in the data a run read (contacts.email, ctas.owner, team.user,
    platform_logins.user, accounts.csm_owner, ...)."""
    out = Personal()
    for name in contract.TABLES:
        cols = columns(name)
        if not cols or name not in data.params.sources:
            continue
        try:
            frame = data.table(name)
        except KitError as e:
            out.unreadable[name] = e.message
            continue
        for c in cols:
            if c in frame.columns:
                out.values |= {str(v) for v in frame.get_column(c).drop_nulls().unique().to_list()}
    return out


def of_periods(folders: list[Path]) -> Personal:
    """The personal values of every period shown (a month's export may name people the others do not)."""
    out = Personal()
    for folder in folders:
        p = Personal.read(folder)
        out.values |= p.values
        out.unreadable.update(p.unreadable)
    return out
