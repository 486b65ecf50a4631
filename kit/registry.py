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


# every file a run writes, named once; the analyses, the runner and publishing take the names from here
AUDIT_JSON, AUDIT_FAILURES = "audit.json", "audit_failures.csv"
WEIGHTS_JSON, PROPOSED_WEIGHTS = "weights.json", "proposed_weights.yml"
BACKTEST_JSON, SCORES = "backtest.json", "scores.parquet"
SCORECARD_JSON, PROPOSED_SCORECARD = "scorecard.json", "proposed_scorecard.yml"
GAINSIGHT_CSV, CHURNZERO_CSV = "scorecard_gainsight.csv", "scorecard_churnzero.csv"
MAINTENANCE_JSON = "maintenance.json"
ACCOUNTS_PARQUET, ACCOUNTS_CSV, PORTFOLIO_JSON = "accounts.parquet", "accounts.csv", "portfolio.json"  # the score at work
MANIFEST = "manifest.json"  # the run's record in each period folder (kit.run.manifest)
HISTORY = "history.parquet"  # the client's maintenance history, reports/<client>/ (kit.io.history)
PERSONAL = "personal_values.json"  # the names and e-mails the site replaces, in each period folder (kit.io.personal)

NOTEBOOKS: dict[str, Notebook] = {
    n.name: n
    for n in (
        Notebook("audit", "01_audit.ipynb", (), AUDIT_JSON, "reports/audit.ipynb", "Data audit", (AUDIT_FAILURES,)),
        Notebook("weights", "02_weights.ipynb", (), WEIGHTS_JSON, "reports/weights.ipynb", "Churn correlation and weights",
                 (PROPOSED_WEIGHTS,)),
        Notebook("backtest", "03_backtest.ipynb", ("weights",), BACKTEST_JSON, "reports/backtest.ipynb", "Back-test",
                 (SCORES, SCORECARD_JSON, PROPOSED_SCORECARD, GAINSIGHT_CSV, CHURNZERO_CSV)),
        Notebook("maintenance", "04_maintenance.ipynb", ("weights",), MAINTENANCE_JSON, None, "Maintenance",
                 (ACCOUNTS_PARQUET, ACCOUNTS_CSV, PORTFOLIO_JSON)),
    )
}
NAMES = tuple(NOTEBOOKS)
AUDIT, WEIGHTS, BACKTEST, MAINTENANCE = (NOTEBOOKS[n] for n in NAMES)
