"""Customer-health consulting kit.

Layers, each importing only from the layers below it (tests/test_layers.py checks every import, at
module level or inside a function, and that there is no import circle):

    entry points   kit.notebook (what a notebook calls first), kit.cli (`python -m kit`), kit.demo
    5  kit.run       the batch runner: warm kernels, manifests, HTML export, Dask
    4  kit.publish   what the client reads beyond the notebooks: methodology, the Quarto site
    3  kit.analyses  the statistics of the four notebooks and their reports (*_report.py)
    2  kit.io        files in and out: reading exports, the run's data cache, locks, the history
    1  shared leaves, imported by every layer (and by each other, without a circle):
         kit.errors     messages with a reason code        kit.periods    the monthly periods
         kit.contract   the canonical tables               kit.catalog    the candidate signals
         kit.checks     the maintenance checks             kit.registry   the four notebooks and their files
         kit.uris       database URIs and credentials      kit.params     the parameters file
         kit.present    how numbers, labels and tables look, kit.charts how charts look
         kit.artefacts  strict JSON files                  kit.status     the band rule and the status words

Each concept has one home: a signal is defined in kit.catalog, a maintenance check in kit.checks,
a notebook and the files it writes in kit.registry, a statistic in kit.analyses.stats, the band rule and the
status words in kit.status, a number's format in kit.present, the reports folder in kit (REPORTS); the layers
above read them.

The package is imported by every notebook, so this module stays light: heavy libraries
(altair, statsmodels, pandas) are imported inside the functions that need them.
"""

from pathlib import Path

__version__ = "0.1.0"

REPO = Path(__file__).resolve().parent.parent  # the checkout: notebooks/, parameters/, reports/, _site/
REPORTS = REPO / "reports"  # where runs write: reports/<client>/<period>/ (the default of every --out)
SITE = REPO / "_site"  # where publish writes: _site/<client>/ (the default of every --site)
