"""The kit's four notebooks, defined once: the batch runs them, the site publishes them, `--only` names them.

Each has a name (what `run --only` takes), its file in notebooks/, the notebooks whose artefacts it
reads (the batch runs those first and skips it when they failed), its main artefact, every file it
writes into the period folder (a partial rerun removes them before it runs, so nothing of the last
run stays behind), and its page on the client's site (the maintenance notebook has one page per
month, under maintenance/). Listed in the order the batch runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notebook:
    name: str
    file: str
    needs: tuple[str, ...]  # notebooks whose artefacts it reads
    artefact: str
    page: str | None  # its page in the client's site; None: one page per month (maintenance)
    title: str
    writes: tuple[str, ...] = ()  # the files it writes besides its main artefact (some only when they have content)

    @property
    def files(self) -> tuple[str, ...]:
        """Everything of it in a period folder: the executed notebook, its HTML, its log and what it writes."""
        return (self.file, self.file.replace(".ipynb", ".html"), f"logs/{self.name}.log", self.artefact, *self.writes)


NOTEBOOKS: dict[str, Notebook] = {
    n.name: n
    for n in (
        Notebook("audit", "01_audit.ipynb", (), "audit.json", "reports/audit.ipynb", "Data audit", ("audit_failures.csv",)),
        Notebook("weights", "02_weights.ipynb", (), "weights.json", "reports/weights.ipynb", "Weighting evidence",
                 ("proposed_weights.yml",)),
        Notebook("backtest", "03_backtest.ipynb", ("weights",), "backtest.json", "reports/backtest.ipynb", "Back-test",
                 ("scores.parquet", "scorecard.json", "proposed_scorecard.yml", "scorecard_gainsight.csv", "scorecard_churnzero.csv")),
        Notebook("maintenance", "04_maintenance.ipynb", ("weights",), "maintenance.json", None, "Maintenance"),
    )
}
NAMES = tuple(NOTEBOOKS)
MAINTENANCE = NOTEBOOKS["maintenance"]
