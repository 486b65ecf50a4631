"""Customer-health consulting kit.

The package is imported by every notebook, so this module stays light: heavy libraries
(altair, statsmodels, pandas) are imported inside the functions that need them.
"""

__version__ = "0.1.0"

NOTEBOOKS = ("audit", "weights", "backtest", "maintenance")
