"""Fuzzed det, gt, results, seqinfo, seqmap, language.json and config files: only InputError escapes."""
from __future__ import annotations

from fuzzing import KINDS, fuzz


def test_fuzzed_inputs_raise_only_input_error(tmp_path):
    rep = fuzz(tmp_path, per_kind=400, seed=19, time_budget_s=45)
    assert all(rep.tried[k] >= 50 for k in KINDS), rep.tried  # the budget still covers every kind
    assert all(rep.clean_errors[k] > 0 for k in KINDS)  # the mutations do reach the checks
    assert rep.failures == [], "\n".join(f"{k}: {m} {d[:200]!r}" for k, m, d in rep.failures[:10])
