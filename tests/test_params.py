"""Parameters validation: each rejection names the key and the fix; defaults fill the rest."""

from __future__ import annotations

import copy

import pytest
import yaml

from kit import params
from kit.errors import ParametersError

MINIMAL = {"client": "acme", "name": "Acme", "sources": {"accounts": {"path": "accounts.csv"}}}


def check(raw: dict, *expected: str) -> str:
    with pytest.raises(ParametersError) as e:
        params.from_dict(raw, where="parameters/acme.yml")
    text = str(e.value)
    assert text.startswith("parameters/acme.yml"), text
    for part in expected:
        assert part in text, f"{part!r} not in:\n{text}"
    assert "fix:" in text, text
    return text


def with_(path: str, value) -> dict:
    raw = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return raw


def test_minimal_file_gets_documented_defaults():
    p = params.from_dict(MINIMAL)
    assert p.lead_time_days == 90
    assert (p.score.bands.red, p.score.bands.green) == (60, 75)
    assert sum(c.weight for c in p.score.components.values()) == pytest.approx(1)
    assert p.maintenance.churned_healthy_share.red == 0.20
    assert p.maintenance.cta_completion.red == 0.60
    assert p.maintenance.csm_active_share.red == 0.70
    assert p.weighting.bootstrap == 500 and p.weighting.min_segment_churn_events == 30
    assert p.audit.freshness_hours == {"crm": 24, "analytics": 48, "platform": 24}


def test_demo_parameters_are_valid(demo_params):
    assert demo_params.client == "demo"
    assert demo_params.usage_features == ["api_calls", "reports_exported"]


@pytest.mark.parametrize("key", ["client", "name", "sources"])
def test_missing_required_key(key):
    raw = {k: v for k, v in MINIMAL.items() if k != key}
    check(raw, f"required key '{key}' is missing")


def test_unknown_key_top_level_and_nested():
    check(with_("colour", "red"), "unknown key 'colour'")
    check(with_("score.bandz", {"red": 50}), "unknown key 'score.bandz'")
    check(with_("sources.accounts.colums", {"A": "account_id"}), "sources.accounts.colums")


def test_wrong_type():
    check(with_("lead_time_days", "ninety"), "lead_time_days", "ninety")
    check(with_("weighting.bootstrap", [1, 2]), "weighting.bootstrap")


def test_weights_must_sum_to_one():
    comps = {
        "usage": {"weight": 0.5, "signals": ["active_users_per_seat"]},
        "support": {"weight": 0.4, "signals": ["tickets_90d"]},
    }
    check(with_("score.components", comps), "sum to 0.900", "usage: 0.5")


def test_bands_out_of_order():
    check(with_("score.bands", {"red": 80, "green": 70}), "red (80.0) must be below green (70.0)")


def test_segment_cards_are_validated_like_the_score():
    """score.segments: each segment's card has its own components (weights adding up to 1) and bands; the message
    names the segment's key."""
    card = {"components": {"usage": {"weight": 1.0, "signals": ["active_users_per_seat"]}}, "bands": {"red": 30, "green": 60}}
    p = params.from_dict(with_("score.segments", {"SMB": card}))
    assert p.score.segments["SMB"].bands.red == 30 and p.score.segments["SMB"].components["usage"].weight == 1.0
    bad = {"components": {"usage": {"weight": 0.6, "signals": ["active_users_per_seat"]}}}
    check(with_("score.segments", {"SMB": bad}), "score.segments.SMB", "sum to 0.600")
    check(with_("score.segments", {"SMB": {"bands": {"red": 30, "green": 60}}}), "score.segments.SMB.components")


def test_green_may_be_given_up_but_not_beyond():
    """green 101: no score is green (a card whose scores single out no healthy group); above that is a typing error."""
    assert params.from_dict(with_("score.bands", {"red": 40, "green": 101})).score.bands.green == 101
    check(with_("score.bands", {"red": 40, "green": 120}), "score.bands.green")


def test_maintenance_thresholds_out_of_order():
    # higher is worse: amber must warn before red
    check(with_("maintenance.churned_healthy_share", {"amber": 0.3, "red": 0.2}), "churned_healthy_share", "amber")
    # lower is worse: amber above red
    check(with_("maintenance.cta_completion", {"amber": 0.5, "red": 0.6}), "cta_completion", "must not be below red")


def test_sweep_and_window_out_of_order():
    check(with_("backtest.sweep", {"start": 80, "stop": 40}), "start (80.0) must be below stop (40.0)")
    check(with_("backtest.window_end_days", 400), "window_end_days must be below window_start_days")


@pytest.mark.parametrize("slug", ["../etc", "acme/corp", "Acme", "acme corp", "", "a" * 80, ".hidden"])
def test_unsafe_client_slug(slug):
    check(with_("client", slug), "client", "not a safe folder name")


def test_unknown_table_and_missing_accounts():
    check(with_("sources.crm_accounts", {"path": "x.csv"}), "unknown table(s) ['crm_accounts']", "accounts, contacts")
    check({**MINIMAL, "sources": {"tickets": {"path": "t.csv", "columns": {"id": "ticket_id"}}}}, "required table(s) ['accounts']")


def test_mapping_onto_unknown_canonical_column():
    check(with_("sources.accounts.columns", {"Acct": "acount_id"}), "['acount_id'] are not columns of accounts", "valid: account_id")


def test_two_columns_onto_one_canonical():
    check(with_("sources.accounts.columns", {"A": "account_id", "B": "account_id"}), "several client columns map onto ['account_id']")


def test_value_mapping_must_target_canonical_labels():
    raw = with_("sources.renewals", {"path": "r.csv", "values": {"outcome": {"Closed Lost": "lost"}}})
    check(raw, "['lost'] are not labels of outcome", "renewed, churned, expanded, contracted")
    raw = with_("sources.renewals", {"path": "r.csv", "values": {"account_id": {"a": "b"}}})
    check(raw, "not a categorical column of renewals")


def test_source_needs_exactly_one_location():
    check(with_("sources.accounts", {"columns": {}}), "has no `path`")
    check(with_("sources.accounts", {"path": "a.csv", "uri": "postgresql://x", "query": "select 1"}), "has both")
    check(with_("sources.accounts", {"uri": "postgresql://x"}), "needs both `uri` and `query`")
    check(with_("sources.accounts", {"path": "a.csv", "sheet": "S"}), "`sheet` is only for Excel")


def test_unknown_signal_in_component():
    comps = {"usage": {"weight": 1.0, "signals": ["logins_per_moon"]}}
    check(with_("score.components", comps), "unknown signal(s) ['logins_per_moon']")


def test_usage_features_become_signals():
    raw = with_("sources.usage", {"path": "u.csv", "columns": {"acct": "account_id", "day": "date", "exports": "exports"}})
    raw["score"] = {"components": {"usage": {"weight": 1.0, "signals": ["feature_exports"]}}}
    p = params.from_dict(raw)
    assert p.usage_features == ["exports"]


def test_file_errors(tmp_path):
    with pytest.raises(ParametersError, match="file not found"):
        params.load(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("client: acme\n  name: [unclosed\n")
    with pytest.raises(ParametersError, match="not valid YAML at line"):
        params.load(bad)
    lst = tmp_path / "list.yml"
    lst.write_text("- a\n- b\n")
    with pytest.raises(ParametersError, match="must be a mapping"):
        params.load(lst)


def test_every_problem_reported_at_once():
    raw = copy.deepcopy(MINIMAL)
    raw["client"] = "../x"
    raw["lead_time_days"] = "soon"
    raw["extra"] = 1
    text = check(raw, "client", "lead_time_days", "unknown key 'extra'")
    assert "3 invalid setting(s)" in text


def test_relative_paths_resolve_against_the_file(tmp_path):
    f = tmp_path / "clients" / "acme.yml"
    f.parent.mkdir()
    f.write_text(yaml.safe_dump(MINIMAL))
    p = params.load(f)
    assert p.resolve("accounts.csv") == (tmp_path / "clients" / "accounts.csv").resolve()


def test_database_password_must_come_from_the_environment():
    check(with_("sources.usage", {"uri": "postgresql://bob:s3cret@db.example:5432/app", "query": "select 1"}),
          "sources.usage", "contains a password", "${CLIENT_DB_PASSWORD}")
    p = params.from_dict(with_("sources.usage", {"uri": "postgresql://bob:${DB_PW}@db.example:5432/app", "query": "select 1"}))
    assert "bob:***@db.example" in str(p.public_dict())
