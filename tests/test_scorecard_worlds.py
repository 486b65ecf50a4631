"""The proposed scorecard on three planted worlds (tests/support/planted_worlds.py), out of time: the brief a card a client
signs must meet (tests/support/brief.py), a card per segment adopted where the segments churn for different reasons and only
there, the exports scored segment by segment by a second scorer (tests/support/platform_scorer.py), and nothing dated after
the cut reaching the cards or the decisions."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kit.analyses import backtest, scorecard, health_score, signals, weights
from tests.support import planted_worlds, platform_scorer
from tests.support.brief import check_brief

from .conftest import DEMO_END, DEMO_PERIOD

WORLDS = ("dominant", "segments_differ", "segments_alike")


def _run(params_file: Path, run_dir: Path, *, with_weights: bool = True):
    """The churn correlation and back-test notebooks' work, in this process: (backtest.json, scorecard.json, context)."""
    import kit.notebook as nb

    ctx = nb.setup(str(params_file), DEMO_PERIOD, str(run_dir))
    if with_weights:
        weights.run_for(ctx)
    res = backtest.run_for(ctx)
    return res.doc, scorecard.read(run_dir), ctx


_RUNS: dict[str, tuple] = {}  # each world built and run once per session


def _world(name: str, tmp_path_factory) -> tuple:
    """(parameters file, backtest.json, scorecard.json, context) of a planted world."""
    if name not in _RUNS:
        root = tmp_path_factory.mktemp(name)
        params_file = planted_worlds.build(root, name, DEMO_END)
        _RUNS[name] = (params_file, *_run(params_file, root / "run"))
    return _RUNS[name]


@pytest.fixture(scope="module", params=WORLDS)
def world(request, tmp_path_factory):
    return request.param, *_world(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def differ(tmp_path_factory):
    return _world("segments_differ", tmp_path_factory)


def test_each_world_meets_the_brief(world):
    name, _, doc, card, _ = world
    check_brief(doc, card)
    ranges = [len(m["cuts"]) + 1 for m in card["measures"]]
    assert len(card["measures"]) > 1 and max(ranges) > 5, ranges  # several measures, some finer than five ranges


def test_a_card_per_segment_where_the_segments_churn_for_different_reasons_and_only_there(world):
    """Trident: each segment churns on a driver of its own, so each gets a card of its own, adopted on the evidence
    before the cut, and each beats the overall card on its segment after the cut by 0.02 or more. Harbor (the same
    drivers everywhere) and Summit adopt none."""
    name, params_file, doc, card, _ = world
    decisions = {d["segment"]: d for d in doc["segment_cards"]}
    adopted = sorted(s for s, d in decisions.items() if d["adopted"])
    truth = json.loads((params_file.parent / "exports" / "truth.json").read_text())
    assert set(decisions) == set(truth["segments"])
    if name == "segments_differ":
        assert adopted == sorted(truth["segments"]) == sorted(card["segments"])
        for d in decisions.values():
            assert d["gain"] >= card["resolver"]["margin"] and d["gain"] >= scorecard.SEGMENT_Z * d["se"], d
            assert d["difference_out_of_time"] >= 0.02, d
            assert d["auc_own_out_of_time"] == pytest.approx(d["auc_overall_out_of_time"] + d["difference_out_of_time"])
    else:
        assert adopted == [] and card["segments"] == {}, decisions
        assert all(d.get("gain", -1) < scorecard.SEGMENT_Z * d.get("se", 0) or d.get("gain", -1) < card["resolver"]["margin"]
                   for d in decisions.values())


def test_segment_cards_are_fitted_on_their_own_drivers(differ):
    """Each adopted card's measures come from its segment's planted driver: support in Enterprise, billing in
    Mid-Market, usage in SMB."""
    _, _, card, _ = differ
    components = {seg: {m["component"] for m in c["measures"]} for seg, c in card["segments"].items()}
    assert "support" in components["Enterprise"] and "billing" in components["Mid-Market"] and "usage" in components["SMB"]
    for seg, c in card["segments"].items():
        assert sum(m["weight"] for m in c["measures"]) == pytest.approx(1.0)
        assert c["bands"]["red"] < c["bands"]["green"]


def test_the_exports_score_every_account_by_its_segment_card(differ):
    """A second scorer reads the Gainsight and ChurnZero tables (one scorecard per adopted segment with the resolver's
    criterion, and the default card for the others; each card's weights add up to 100) and gives, account by account,
    the scores the back-test judged (scores.parquet, the scorecard read back from disk)."""
    _, doc, card, ctx = differ
    gs = platform_scorer.read(ctx.run_dir / "scorecard_gainsight.csv")
    cz = platform_scorer.read(ctx.run_dir / "scorecard_churnzero.csv")
    assert {r["applies_to"] for r in gs} == {f"segment = {s}" for s in card["segments"]} | {scorecard.applies_to("default", card)}
    for who in {r["scorecard"] for r in gs}:
        rows = [r for r in gs if r["scorecard"] == who]
        assert sum(int(r["weight_percent"]) for r in {r["measure"]: r for r in rows}.values()) == 100
        assert sum(max(float(r["points"]) for r in cz if r["churnscore"] == who and r["factor"] == f)
                   for f in {r["factor"] for r in cz if r["churnscore"] == who}) == pytest.approx(100)
    scores = pl.read_parquet(ctx.run_dir / "scores.parquet").filter(pl.col("config") == "scorecard", pl.col("score").is_not_null())
    sample = pl.concat([scores.filter(pl.col("segment") == s).sample(120, seed=2) for s in ("Enterprise", "Mid-Market", "SMB")])
    assert (sample["card"] == sample["segment"]).all()  # every segment has its own card here
    sig = signals.build(ctx.data, sample.select("account_id", pl.col("date").alias("as_of")), platform_scorer.measures(gs))
    for row, got in zip(sig.iter_rows(named=True), sample["score"].to_list()):
        assert got == pytest.approx(platform_scorer.gainsight_score(gs, row, row["segment"]))
        assert got == pytest.approx(platform_scorer.churnzero_score(cz, row, row["segment"]))


def test_the_parameters_block_scores_like_the_document(differ):
    """proposed_scorecard.yml pasted over `score:` (segment cards under `score.segments`) scores every account as the
    document does."""
    import yaml

    from kit import params

    params_file, _, card, ctx = differ
    raw = yaml.safe_load(params_file.read_text())
    raw["score"] = yaml.safe_load((ctx.run_dir / "proposed_scorecard.yml").read_text())["score"]
    adopted = params.from_dict(raw)
    assert set(adopted.score.segments) == set(card["segments"])
    points = pl.read_parquet(ctx.run_dir / "scores.parquet").filter(pl.col("config") == "scorecard").sample(600, seed=4)
    sig = signals.build(ctx.data, points.select("account_id", pl.col("date").alias("as_of")), platform_scorer.measures(
        platform_scorer.read(ctx.run_dir / "scorecard_gainsight.csv")))
    got = health_score.resolved(sig, adopted.score)["score"].to_numpy()
    assert got == pytest.approx(scorecard.resolved_points(card, sig), nan_ok=True)
    assert got == pytest.approx(points["score"].to_numpy(), nan_ok=True)


def test_nothing_after_the_cut_reaches_the_cards_or_the_decisions(differ, tmp_path):
    """Every renewal dated on or after the cut rewritten (churned and renewed swapped) and usage after the cut gone:
    the cards and every segment's decision are the same, while the figures after the cut move."""
    params_file, doc, card, _ = differ
    cut = date.fromisoformat(card["cut"])
    folder = tmp_path / "world"
    shutil.copytree(params_file.parent, folder, ignore=shutil.ignore_patterns("run"))
    exports = folder / "exports"
    ren = pl.read_csv(exports / planted_worlds.FILES["renewals"], try_parse_dates=True)
    swap = {"Closed Lost": "Closed Won", "Closed Won": "Closed Lost", "Closed Won - Upsell": "Closed Lost"}
    ren.with_columns(pl.when(pl.col("Close Date") >= cut).then(pl.col("Stage").replace(swap)).otherwise(pl.col("Stage")).alias("Stage")
                     ).write_csv(exports / planted_worlds.FILES["renewals"])
    usage = pl.read_parquet(exports / planted_worlds.FILES["usage"])
    usage.filter(pl.col("day") < cut).write_parquet(exports / planted_worlds.FILES["usage"])
    after, rewritten, _ = _run(folder / params_file.name, tmp_path / "run")
    for key in ("cut", "fitted_on", "measures", "components", "bands", "excluded", "notes", "segments", "resolver", "band_fit"):
        assert rewritten[key] == card[key], key
    assert after["segment_cards"] != doc["segment_cards"]  # the figures after the cut did change
    assert after["configs"]["scorecard"]["auc_out_of_time"] != doc["configs"]["scorecard"]["auc_out_of_time"]


def test_the_card_of_one_measure_is_said_to_be_one_measure_everywhere(differ):
    """A card reduced to one measure is described as that measure, never as a weighted average of several."""
    from kit.analyses import backtest_report
    from kit.publish import methodology

    params_file, doc, card, ctx = differ
    one = {**card, "measures": card["measures"][:1], "segments": {}, "resolver": {}}
    one["measures"][0] = {**one["measures"][0], "weight": 1.0}
    one["components"] = scorecard.component_weights(one["measures"])
    words = scorecard.describe_all(one)
    assert words.startswith("The score is one measure") and "not a weighted average" in words
    page = methodology.page(ctx.params, card=one, card_period=DEMO_PERIOD)
    assert "one measure" in page and "weighted sum of the scores of" not in page
    texts = " ".join(backtest_report.scorecard_texts(one))
    assert "one measure" in texts and "Component weights" not in texts
    several = scorecard.describe_all(card)
    assert f"weighted sum of the scores of {len(card['measures'])} measures" in several and "Enterprise" in several
    assert np.isfinite(doc["configs"]["scorecard"]["auc_out_of_time"])


def test_every_cards_table_is_in_the_methodology_the_design_document_is_built_from(differ):
    """The design document's scorecard section is the methodology's (kit.publish.documents assembles it from
    methodology.sections): every card is there under its resolver's criterion, with every range of every measure."""
    from kit.publish import methodology

    params_file, doc, card, ctx = differ
    section = methodology.sections(ctx.params, card=card, card_period=DEMO_PERIOD)["scorecard"]
    for seg, c in scorecard.cards(card).items():
        words = scorecard.applies_to(seg, card)
        assert f"### {words[:1].upper() + words[1:]}" in section
        for row in scorecard.tier_rows(c, people=True):
            assert row["range"].replace(">", "&gt;").replace("<", "&lt;") in section or row["range"] in section, (seg, row)
        assert scorecard.bands_text(c["bands"]) in section
