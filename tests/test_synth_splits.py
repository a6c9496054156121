"""The synthetic splits never share a sequence: training, validation and test sets are disjoint."""
import pytest

from lgmot.train.recipes import (MOT15_SYNTH_EXTRA, SYNTH_TEST_IN, SYNTH_TEST_SHIFT, SYNTH_TRAIN, SYNTH_VAL,
                                 synth_train)


def _names(split):
    return {f"{preset}-{seed}" for preset, seed, _ in split}


def test_splits_are_disjoint():
    # synth_train(50): every training sequence a larger split could add stays clear of the others
    splits = [SYNTH_TRAIN, SYNTH_VAL, SYNTH_TEST_IN, SYNTH_TEST_SHIFT, MOT15_SYNTH_EXTRA,
              synth_train(50)[len(SYNTH_TRAIN):]]
    names = [_names(s) for s in splits]
    assert sum(len(n) for n in names) == len(set().union(*names))


def test_synth_train_counts_and_bounds():
    assert synth_train(4) == tuple(("source", s, 400) for s in (100, 101, 102, 103))
    assert SYNTH_TRAIN == synth_train(8)
    assert len(SYNTH_TEST_IN) == 6 and len(SYNTH_TEST_SHIFT) == 21
    for bad in (0, 51):
        with pytest.raises(ValueError):
            synth_train(bad)
