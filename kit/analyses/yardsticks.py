"""What transparency costs: fitted models and single signals next to the scorecard, on the same renewals.

None of these is a candidate (nobody types a fitted model into a CS platform); they are yardsticks
for the scorecard, all fitted on the renewals before the cut and judged after it:

* **logistic**: a logistic regression on the search's candidate signals (missing values replaced by
  the median of the fit renewals, standardised on them; statsmodels);
* **gradient boosting**: scikit-learn's `HistGradientBoostingClassifier` on the same candidate
  signals (missing values handled by the trees themselves), a black box with interactions and
  non-linear effects: fixed modest settings (`GBM`: trees of depth 3, at least 80 renewals per
  leaf), the number of trees found by early stopping on a random fifth of the fit renewals;
* **single signals**: each candidate alone as a risk score (oriented by its healthy direction), over
  the renewals with a value; the best single signal is the one with the highest AUC before the cut
  among those with a value for at least 1 - `weighting.max_missing_share` of the fit renewals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from kit.analyses import stats
from kit import catalog

# modest fixed settings; the number of trees stops early on a random fifth of the fit renewals (never the later ones)
GBM = {"max_iter": 300, "learning_rate": 0.03, "max_depth": 3, "min_samples_leaf": 80, "l2_regularization": 1.0,
       "early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 30, "random_state": 0}


def _churned(f: pl.DataFrame) -> np.ndarray:
    return f["churned"].cast(pl.Float64).to_numpy()


def logistic(fit: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """AUC before the cut (in sample) and after it (out of time) of a logistic regression on the signals."""
    if not names:
        return {"signals": [], "auc_in_sample": None, "auc_out_of_time": None, "note": "no candidate signal"}
    med = {s: float(fit[s].median()) if fit[s].null_count() < fit.height else 0.0 for s in names}

    def design(f: pl.DataFrame) -> np.ndarray:
        return np.column_stack([f[s].cast(pl.Float64).fill_null(med[s]).fill_nan(med[s]).to_numpy() for s in names])

    Xf = design(fit)
    mu, sd = Xf.mean(0), Xf.std(0, ddof=1)
    sd[~(sd > 0)] = 1.0
    yf = _churned(fit)
    model = stats.logistic(yf, (Xf - mu) / sd, names)
    yt = _churned(test)
    return {
        "signals": names, "method": model.method,
        "auc_in_sample": stats.auc_or_none((Xf - mu) / sd @ model.coef, yf >= stats.EVENT_CUT),
        "auc_out_of_time": stats.auc_or_none((design(test) - mu) / sd @ model.coef, yt >= stats.EVENT_CUT) if test.height else None,
    }


def gradient_boosting(fit: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """AUC before and after the cut of a gradient-boosted tree model on the signals (fixed, modest settings:
    `GBM`; no tuning on the later renewals)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    yf = _churned(fit) >= stats.EVENT_CUT
    if not names or yf.all() or not yf.any():
        return {"signals": names, "auc_in_sample": None, "auc_out_of_time": None, "note": "no candidate signal or one class only"}

    def design(f: pl.DataFrame) -> np.ndarray:
        return np.column_stack([f[s].cast(pl.Float64).to_numpy() for s in names])

    model = HistGradientBoostingClassifier(**GBM).fit(design(fit), yf)
    out = {"signals": names, "method": "scikit-learn HistGradientBoostingClassifier", "settings": GBM,
           "auc_in_sample": stats.auc_or_none(model.predict_proba(design(fit))[:, 1], yf)}
    out["auc_out_of_time"] = (stats.auc_or_none(model.predict_proba(design(test))[:, 1], _churned(test) >= stats.EVENT_CUT)
                              if test.height else None)
    return out


def single_signals(fit: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """Each signal alone as a risk score: AUC before and after the cut, over the renewals with a value."""
    rows = []
    for s in names:
        d = catalog.direction_of(s)
        row = {"signal": s, "component": catalog.component_of(s)}
        for key, f in (("in_sample", fit), ("out_of_time", test)):
            x = f[s].cast(pl.Float64).to_numpy()
            row[f"auc_{key}"] = stats.auc_or_none(-d * x, _churned(f) >= stats.EVENT_CUT) if f.height else None
            row[f"with_value_{key}"] = float((~np.isnan(x)).mean()) if f.height else None
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["auc_in_sample"] or 0))


def all_of(fit: pl.DataFrame, test: pl.DataFrame, names: list[str], min_coverage: float) -> dict[str, Any]:
    """Every yardstick on the search's candidates (`names`), for backtest.json's `reference`."""
    singles = single_signals(fit, test, names)
    usable = [r for r in singles if (r["with_value_in_sample"] or 0) >= min_coverage and r["auc_in_sample"] is not None]
    return {
        "logistic": logistic(fit, test, names),
        "gradient_boosting": gradient_boosting(fit, test, names),
        "best_single_signal": max(usable, key=lambda r: r["auc_in_sample"]) if usable else None,
        "single_signals": singles,
        "note": ("logistic: a logistic regression on the search's candidate signals (median-imputed, standardised); "
                 "gradient boosting: gradient-boosted trees on the same signals; best single signal: the highest AUC before "
                 f"the cut among candidates with a value for at least {min_coverage:.0%} of renewals; all fitted before the "
                 "cut and judged after it"),
    }
