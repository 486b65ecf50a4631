"""Customer-health consulting kit.

Grouped by concern: `kit.io` reads a client's exports, `kit.analyses` holds the statistics of the
four notebooks, `kit.run` runs them per client (locally or on a Dask cluster), `kit.publish` makes
what the client reads. `params`, `periods`, `errors`, `notebook` and `cli` sit at the top: every
group uses them.

The package is imported by every notebook, so this module stays light: heavy libraries
(altair, statsmodels, pandas) are imported inside the functions that need them.
"""

from pathlib import Path

__version__ = "0.1.0"

REPO = Path(__file__).resolve().parent.parent  # the checkout: notebooks/, parameters/, reports/, _site/
