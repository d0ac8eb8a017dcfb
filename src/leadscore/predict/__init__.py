"""Predictive scoring: models learned from history (trees, learned points) and their honest
evaluation. Light to import: the learning libraries load when a model is trained or scored."""

from __future__ import annotations

import os

# LightGBM's OpenMP threads spin while they wait for work. Two processes training at once on
# a machine with as many cores as threads (the service's scoring process beside a request, or
# two test workers) then take turns at spinning: training the same model took 9 times as long
# here (tests/predict/test_trees.py under two workers: 139 s, 15 s with passive waiting).
# Read when the OpenMP runtime loads, so it is set before LightGBM is first imported; a value
# the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Below this many conversions a model would learn noise: training refuses.
MIN_CONVERSIONS = 50
#: A learned point model keeps at most this many rules, so a person can read it.
MAX_RULES = 25
