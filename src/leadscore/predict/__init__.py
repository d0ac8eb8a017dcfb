"""Predictive scoring: models learned from history (trees, learned points) and their honest
evaluation. Light to import: the learning libraries load when a model is trained or scored."""

from __future__ import annotations

#: Below this many conversions a model would learn noise: training refuses.
MIN_CONVERSIONS = 50
#: A learned point model keeps at most this many rules, so a person can read it.
MAX_RULES = 25
