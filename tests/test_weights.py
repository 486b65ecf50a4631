"""Churn correlation and weights: statistics against independent computations, planted truths on the demo, clear messages."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats

from kit import demo, params
from kit import catalog
from kit.analyses import stats as kstats, weights, weights_report
from kit.params import Weighting

from .conftest import DEMO_PERIOD, REPO, write_params


# ---------------------------------------------------------------------------- statistics


def test_univariate_auc_is_read_in_the_healthy_direction():
    rng = np.random.default_rng(2)
    y = rng.random(400) < 0.3
    x = rng.integers(0, 6, 400).astype(float) + y  # many ties
    u = stats.mannwhitneyu(x[y], x[~y]).statistic
    # a healthy-when-higher signal is read as risk = -x
    out = weights.univariate(x, y.astype(float), +1)
    assert out["auc"] == pytest.approx(1 - u / (y.sum() * (~y).sum()), abs=1e-4)


def test_odds_ratio_hand_computed_two_by_two():
    # x = 1 for 100 renewals (30 churned), x = 0 for 300 (30 churned)
    x = np.r_[np.ones(100), np.zeros(300)]
    y = np.r_[np.ones(30), np.zeros(70), np.ones(30), np.zeros(270)]
    a, b, c, d = 30, 70, 30, 270  # churned/renewed with x = 1, churned/renewed with x = 0
    log_or = math.log((a * d) / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    sd = float(np.std(x, ddof=1))  # odds ratio per standard deviation of x
    out = weights.univariate(x, y, -1)
    assert out["odds_ratio"] == pytest.approx(math.exp(log_or * sd), abs=1e-4)
    lo, hi = out["odds_ratio_ci"]
    assert lo == pytest.approx(math.exp((log_or - kstats.Z95 * se) * sd), abs=1e-4)
    assert hi == pytest.approx(math.exp((log_or + kstats.Z95 * se) * sd), abs=1e-4)
    p = 2 * (1 - stats.norm.cdf(abs(log_or) / se))
    assert out["p_value"] == pytest.approx(p, abs=1e-4)
    # point-biserial of a binary x is the phi coefficient of the 2x2 table
    phi = (a * d - b * c) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    assert out["point_biserial"] == pytest.approx(phi, abs=1e-4)


def test_component_weights_rule():
    coef = {"u1": -0.6, "u2": -0.2, "s1": 0.4, "wrong": 0.3, "t": -0.9}
    comps = {"u1": "usage", "u2": "usage", "s1": "support", "wrong": "usage", "t": "account"}
    dirs = {"u1": 1, "u2": 1, "s1": -1, "wrong": 1, "t": 1}
    w = weights.component_weights(coef, comps, dirs)
    assert w == pytest.approx({"usage": 0.8 / 1.2, "support": 0.4 / 1.2})  # wrong sign and account group add nothing
    assert weights.rounded({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}) == {"a": 0.334, "b": 0.333, "c": 0.333}


def test_correlated_groups():
    c = np.array([[1, 0.9, 0.1, 0], [0.9, 1, 0.2, 0], [0.1, 0.2, 1, -0.7], [0, 0, -0.7, 1]])
    assert weights.correlated_groups(c, list("abcd"), 0.6) == [["a", "b"], ["c", "d"]]


def test_deciles_keep_ties_together():
    f = pl.DataFrame({"s": [0.0] * 50 + list(range(1, 51)), "churned": [1.0] * 50 + [0.0] * 50})
    d = weights.deciles(f, "s")
    assert d["n"].sum() == 100
    assert d.filter(pl.col("low") == 0)["n"].to_list() == [50]  # every zero in one group
    assert d.filter(pl.col("low") == 0)["churn_rate"].item() == 1.0


# ---------------------------------------------------------------------------- clear messages


def _frame(n=600, events=60, seed=3, **extra):
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    y[rng.choice(n, events, replace=False)] = 1
    cols = {
        "account_id": [f"a{i % 300}" for i in range(n)],
        "segment": ["SMB"] * n,
        "churned": y,
        "tickets_90d": rng.poisson(2 + 2 * y).astype(float),
        "latest_nps": np.clip(8 - 2 * y + rng.normal(0, 2, n), 0, 10),
    }
    cols.update(extra)
    return pl.DataFrame(cols)


def _current():
    return {"usage": 0.35, "support": 0.2, "billing": 0.15, "sentiment": 0.2, "relationship": 0.1}


def test_too_few_churn_events_is_a_message():
    f = _frame(events=8)
    r = weights.analyse_frame(f, ["tickets_90d", "latest_nps"], Weighting(bootstrap=0), _current())
    assert r.status == "insufficient_data"
    assert "at least 20" in r.messages[0] and "8 churned" in r.messages[0]
    assert not r.retained
    assert {c: v["weight"] for c, v in r.proposed.items()} == _current()
    doc = r.to_json()  # consumers see no proposal, and why
    assert doc["proposed_weights"] == {} and "at least 20" in doc["reason"]


def test_no_candidate_signal_is_a_result_not_a_crash():
    """A small client whose search keeps no signal: the evidence says so, with no deciles (it used to raise
    ColumnNotFoundError looking for a placeholder column)."""
    r = weights.analyse_frame(_frame(events=8), [], Weighting(bootstrap=0), _current())
    assert r.deciles.height == 0 and not r.retained and not r.signals
    assert {c: v["weight"] for c, v in r.proposed.items()} == _current()


def test_constant_signal_is_excluded_with_reason():
    f = _frame(contacts=np.full(600, 3.0))
    r = weights.analyse_frame(f, ["tickets_90d", "latest_nps", "contacts"], Weighting(bootstrap=0), _current())
    s = r.signal("contacts")
    assert not s.retained and s.reason.startswith("constant")
    assert any("contacts is constant" in m for m in r.messages)
    assert r.signal("tickets_90d").retained and r.signal("latest_nps").retained


def test_non_converging_model_falls_back_and_says_so():
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.3).astype(float)
    X = np.c_[y * 5 - 2.5 + rng.normal(0, 0.01, 300), rng.normal(size=300)]  # first column separates perfectly
    fit = kstats.logistic(y, X, ["sep", "noise"])
    assert fit.method.startswith("ridge") and not fit.converged
    assert "Fell back" in fit.note and np.all(np.isfinite(fit.coef))
    # inside the analysis: a separating signal gets a message, not a traceback
    f = _frame(champion_present=None)
    f = f.with_columns((1 - pl.col("churned")).alias("champion_present"))
    r = weights.analyse_frame(f, ["tickets_90d", "champion_present"], Weighting(bootstrap=0), _current())
    s = r.signal("champion_present")
    assert not s.retained and "did not converge" in s.reason
    assert any("champion_present" in m and "converge" in m for m in r.messages)


def test_segments_without_enough_events_use_overall_weights():
    f = _frame(n=900, events=90).with_columns(
        pl.when(pl.int_range(pl.len()) < 800).then(pl.lit("SMB")).otherwise(pl.lit("Enterprise")).alias("segment")
    )
    r = weights.analyse_frame(f, ["tickets_90d", "latest_nps"], Weighting(bootstrap=0, min_segment_churn_events=30), _current())
    assert r.segments == {}
    assert "at least 30 churn events" in r.segment_note and "Enterprise has" in r.segment_note


# ---------------------------------------------------------------------------- the demo client


@pytest.fixture(scope="module")
def demo_result(demo_data, demo_params):
    p = demo_params.model_copy(deep=True)
    p.weighting.bootstrap = 40
    return weights.analyse(demo_data, p)


def test_demo_planted_drivers_retained_and_noise_excluded(demo_result):
    """The candidates come from the signal search now: every retained signal belongs to a planted driver's
    component, a planted-noise measure carries at most a sliver of the weight (the search corrects for the many
    signals it tries, but a weak artefact can pass), and the strongest planted driver (usage) weighs most."""
    r = demo_result
    assert r.status == "ok" and r.events >= 20 and r.search is not None
    noise = ("feature_api_calls", "feature_reports_exported", "contact_activity", "contacts", "champion_present")
    kept = [s for s in r.signals if s.retained]
    assert kept and all(s.component in demo.TRUE_DRIVERS for s in kept), [(s.name, s.component) for s in kept]
    noisy = [s for s in r.signals if catalog.parse(s.name) and catalog.parse(s.name).measure in noise]
    assert len(noisy) <= 1 and all(s.contribution < 0.1 for s in noisy), [(s.name, s.contribution) for s in noisy]
    assert sum(s.contribution for s in kept if s.component == "usage" and s not in noisy) > 0.3
    assert {s.component for s in kept} >= {"usage", "support"}
    assert max(r.proposed, key=lambda c: r.proposed[c]["weight"]) == "usage"
    assert r.proposed["relationship"]["weight"] == 0


def test_demo_weights_sum_to_one_with_intervals(demo_result):
    w = demo_result.proposed
    assert sum(v["weight"] for v in w.values()) == pytest.approx(1.0)
    for c in ("usage", "support"):
        assert w[c]["ci_low"] <= w[c]["weight"] <= w[c]["ci_high"]
    assert demo_result.segments  # every demo segment has 30+ churn events
    for ws in demo_result.segments.values():
        assert sum(v["weight"] for v in ws.values()) == pytest.approx(1.0)
    table = weights_report.segment_table(demo_result)  # the notebook's per-segment view: component x segment
    assert table.columns == ["component", *demo_result.segments]
    for seg, ws in demo_result.segments.items():
        got = dict(zip(table["component"], table[seg]))
        assert got == {c: round(v["weight"], 3) for c, v in ws.items()}


def test_demo_univariate_figures_match_scipy(demo_result, demo_data, demo_params):
    from kit.analyses import signals

    name = next(s.name for s in demo_result.signals if s.component == "support")
    pts = signals.renewal_points(demo_data, demo_params.lead_time_days)
    b = signals.build(demo_data, pts.select("account_id", "as_of"), [name])
    x, y = b[name].to_numpy(), pts["churned"].to_numpy()
    has = ~np.isnan(x)  # univariate figures are over the renewals with a value (early ones precede the ticket export)
    assert 0 < (~has).sum() < len(x) / 2
    x, y = x[has], y[has]
    s = demo_result.signal(name)
    assert s.point_biserial == pytest.approx(stats.pointbiserialr(y.astype(bool), x)[0], abs=1e-4)
    u = stats.mannwhitneyu(x[y == 1], x[y == 0]).statistic
    auc = u / ((y == 1).sum() * (y == 0).sum())
    assert s.auc == pytest.approx(auc if s.direction < 0 else 1 - auc, abs=1e-4)


def test_fragment_validates_merged_into_demo_parameters(demo_result, demo_params):
    frag = yaml.safe_load(weights.yaml_fragment(demo_result, demo_params))
    comps = frag["score"]["components"]
    assert sum(c["weight"] for c in comps.values()) == pytest.approx(1.0, abs=1e-9)
    raw = yaml.safe_load((REPO / "parameters" / "demo.yml").read_text())
    replaced = json.loads(json.dumps(raw))
    replaced["score"]["components"] = comps
    params.from_dict(replaced)
    merged = json.loads(json.dumps(raw))  # a deep merge keeps nothing stale either: every component is listed
    for k, v in comps.items():
        merged["score"]["components"].setdefault(k, {}).update(v)
    assert set(merged["score"]["components"]) == set(comps)
    params.from_dict(merged)
    assert set(comps["usage"]["signals"]) == {s.name for s in demo_result.signals if s.retained and s.component == "usage"}


# ---------------------------------------------------------------------------- the notebook, end to end


@pytest.fixture(scope="module")
def weights_run(demo_dir, tmp_path_factory):
    from kit.run import batch

    folder = tmp_path_factory.mktemp("weights-params")
    pf = write_params(folder, demo_dir, extra="\nweighting: {bootstrap: 30}\n")
    out = tmp_path_factory.mktemp("weights-reports")
    result = batch.run_client(pf, DEMO_PERIOD, out=out, only=["weights"])
    assert result.status == "ok", result.failure
    return out / "demo" / DEMO_PERIOD


def test_notebook_writes_the_contract(weights_run):
    w = json.loads((weights_run / "weights.json").read_text())
    keys = {"name", "component", "n", "missing_share", "point_biserial", "odds_ratio", "odds_ratio_ci", "p_value", "auc", "retained", "reason"}
    assert w["signals"] and all(keys <= set(s) for s in w["signals"])
    pw = w["proposed_weights"]
    assert sum(v["weight"] for v in pw.values()) == pytest.approx(1.0)
    assert all({"weight", "ci_low", "ci_high"} <= set(v) for v in pw.values())
    frag = yaml.safe_load((weights_run / "proposed_weights.yml").read_text())
    assert set(frag["score"]["components"]) >= {"usage", "support"}
    assert w["search"]["tried"] > 150 and {s["name"] for s in w["signals"]} == set(w["search"]["chosen"])  # the search's candidates
    html = (weights_run / "02_weights.html").read_text()
    assert html.count("data:image/svg+xml") >= 4 and "Traceback" not in html  # the four charts, inline


def test_without_renewals_the_run_says_not_available(demo_dir, tmp_path):
    from kit import notebook

    text = (REPO / "parameters" / "demo.yml").read_text().replace("../data/demo/", f"{demo_dir}/")
    start = text.index("  renewals:")
    end = text.index("  usage:")
    pf = tmp_path / "demo.yml"
    pf.write_text(text[:start] + text[end:])
    ctx = notebook.setup(str(pf), DEMO_PERIOD, str(tmp_path / "run"))
    result = weights.run_for(ctx)
    assert result.status == "not_available"
    w = json.loads((tmp_path / "run" / "weights.json").read_text())
    assert w["status"] == "not_available" and "renewals" in w["reason"]
    assert w["proposed_weights"] == {} and w["current_weights"]["usage"] == 0.30
    frag = yaml.safe_load((tmp_path / "run" / "proposed_weights.yml").read_text())
    assert frag["score"]["components"]["usage"]["weight"] == 0.30  # the fragment keeps the current weights
