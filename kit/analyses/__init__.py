"""The analyses behind the four notebooks: audit, signals and weighting, scores, scorecard, back-test, maintenance."""
