"""Track smoothing (solve.smooth): closed-form cases and a cross-check of the GP against scikit-learn."""
import numpy as np
import pandas as pd
import pytest

from lgmot.data.schema import TRACK_COLUMNS
from lgmot.solve import smooth_tracks
from lgmot.solve.smooth import gp_smooth


def line_track(frames, tid=1, noise=0.0, seed=0):
    """A box moving at constant velocity with constant size (+ Gaussian noise on every coordinate)."""
    f = np.asarray(frames, np.float64)
    rng = np.random.default_rng(seed)
    cx, cy = 200.0 + 3.0 * f, 120.0 - 0.5 * f
    w, h = np.full_like(f, 40.0), np.full_like(f, 100.0)
    v = np.column_stack([cx, cy, w, h])
    v_noisy = v + noise * rng.standard_normal(v.shape)
    df = pd.DataFrame({"frame": f.astype(int), "id": tid, "x": v_noisy[:, 0] - v_noisy[:, 2] / 2,
                       "y": v_noisy[:, 1] - v_noisy[:, 3] / 2, "w": v_noisy[:, 2], "h": v_noisy[:, 3],
                       "score": 0.9})
    return df[TRACK_COLUMNS], v


def centres(df):
    return np.column_stack([df.x + df.w / 2, df.y + df.h / 2, df.w, df.h])


@pytest.mark.parametrize("method", ["gp", "savgol"])
def test_clean_constant_velocity_track_is_unchanged(method):
    df, _ = line_track(range(1, 61))
    out = smooth_tracks(df, method, scale=8, noise=0.5)
    np.testing.assert_allclose(out[["x", "y", "w", "h"]].to_numpy(), df[["x", "y", "w", "h"]].to_numpy(), atol=1e-8)
    assert out.frame.tolist() == df.frame.tolist() and (out.score == 0.9).all()


@pytest.mark.parametrize("method", ["gp", "savgol"])
def test_noisy_line_comes_back_closer_to_the_line(method):
    df, truth = line_track(range(1, 101), noise=3.0, seed=1)
    out = smooth_tracks(df, method, scale=8, noise=1.0)
    err_in = np.sqrt(np.mean((centres(df) - truth) ** 2))
    err_out = np.sqrt(np.mean((centres(out) - truth) ** 2))
    assert err_out < 0.6 * err_in


def test_tracks_are_smoothed_separately_and_gaps_allowed():
    a, _ = line_track([1, 2, 3, 7, 8, 9, 10, 15], tid=1, noise=2.0, seed=2)
    b, _ = line_track(range(1, 30), tid=2, noise=2.0, seed=3)
    both = smooth_tracks(pd.concat([a, b]), "gp", scale=5, noise=1.0)
    one = smooth_tracks(a, "gp", scale=5, noise=1.0)
    np.testing.assert_allclose(both[both.id == 1][["x", "y", "w", "h"]].to_numpy(),
                               one[["x", "y", "w", "h"]].to_numpy())
    assert len(both) == len(a) + len(b)
    assert smooth_tracks(a, "none").equals(a.sort_values(["frame", "id"]).reset_index(drop=True))
    with pytest.raises(ValueError):
        smooth_tracks(a, "kalman")


@pytest.mark.parametrize("frames", ["gaps", "contiguous"])
def test_gp_matches_scikit_learn(frames):
    """Frames with gaps take the Cholesky solve, contiguous frames the Toeplitz (Levinson) one."""
    sk = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    rng = np.random.default_rng(4)
    if frames == "gaps":
        t = np.sort(rng.choice(np.arange(1, 80), 40, replace=False)).astype(np.float64)
    else:
        t = np.arange(17, 57, dtype=np.float64)
    v = np.column_stack([np.sin(t / 7.0) * 20 + 0.3 * t, np.cos(t / 5.0) * 10]) + rng.standard_normal((40, 2))
    ours = gp_smooth(t, v, scale=6.0, noise=0.7)
    # the same model: linear mean by least squares, then a zero-mean GP on the residuals
    basis = np.column_stack([np.ones_like(t), t - t.mean()])
    line = basis @ np.linalg.lstsq(basis, v, rcond=None)[0]
    gpr = sk.GaussianProcessRegressor(kernels.RBF(6.0, "fixed"), alpha=0.7, optimizer=None)
    ref = line + gpr.fit(t[:, None], v - line).predict(t[:, None])
    np.testing.assert_allclose(ours, ref, atol=1e-8)


def test_gp_blocks_agree_with_the_full_solve(monkeypatch):
    from lgmot.solve import smooth

    t = np.arange(1, 301, dtype=np.float64)
    v = np.column_stack([np.sin(t / 11.0) * 30, 0.2 * t]) + np.random.default_rng(5).standard_normal((300, 2))
    full = gp_smooth(t, v, scale=5.0, noise=1.0)
    monkeypatch.setattr(smooth, "GP_BLOCK", 160)  # 300 boxes in overlapping blocks of 160
    blocks = gp_smooth(t, v, scale=5.0, noise=1.0)
    np.testing.assert_allclose(blocks, full, atol=0.05)  # noise sd is 1


def test_old_checkpoints_track_with_the_recipe_postprocessing(tmp_path):
    """A model file without ``tracker.smooth`` in its config (the shipped one) gets the CPU recipe's
    post-processing; a newer file keeps its own."""
    from dataclasses import replace

    from lgmot.config import Config, ModelConfig
    from lgmot.model import HierarchicalMPN, read_metadata, save_model
    from lgmot.track.run import DEFAULT_MODEL, _with_recipe_postprocessing
    from lgmot.train.recipes import CPU_POSTPROCESSING

    def tracking_config(path):
        info = read_metadata(path)
        return _with_recipe_postprocessing(Config.from_dict(info["config"], path), info).tracker

    if DEFAULT_MODEL.exists():
        tc = tracking_config(DEFAULT_MODEL)
        assert {k: getattr(tc, k) for k in CPU_POSTPROCESSING} == CPU_POSTPROCESSING
    c = Config(model=ModelConfig(node_in_dim=8, num_steps=2, num_class_steps=1))
    c = replace(c, tracker=replace(c.tracker, smooth="none"))
    save_model(tmp_path / "m.safetensors", HierarchicalMPN(c.model), c)
    assert tracking_config(tmp_path / "m.safetensors").smooth == "none"


def _noisy_tracks(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(3):
        f = np.arange(5 * i + 1, 5 * i + 81 + 20 * i)
        f = f[rng.random(len(f)) > 0.15]  # gaps
        for fr in f:
            rows.append(dict(frame=fr, id=i, x=10 + 2 * fr + rng.normal(0, 2), y=5 + 0.5 * fr + rng.normal(0, 2),
                             w=20 + rng.normal(), h=40 + rng.normal(), score=0.9))
    return pd.DataFrame(rows)


def test_fixed_lag_smoother_with_the_whole_track_in_view_is_smooth_tracks():
    from lgmot.solve.smooth import fixed_lag_smooth

    t = _noisy_tracks()
    for method in ("gp", "savgol"):
        want = smooth_tracks(t, method, 10.0, 0.1)
        got = fixed_lag_smooth(t, 500, method, 10.0, 0.1, history=500)
        pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-9)


def test_fixed_lag_smoother_is_causal_and_exact_on_constant_velocity():
    from lgmot.solve.smooth import fixed_lag_smooth

    t = _noisy_tracks(1)
    lag = 7
    base = fixed_lag_smooth(t, lag, "gp", 10.0, 0.1)
    cut = 60
    changed = t.copy()
    changed.loc[changed.frame > cut + lag, "x"] += 50.0  # what arrives after frame cut + lag
    moved = fixed_lag_smooth(changed, lag, "gp", 10.0, 0.1)
    early = base.frame <= cut
    pd.testing.assert_frame_equal(moved[early], base[early])
    assert not np.allclose(moved.x[~early], base.x[~early])
    # a straight line at constant size is left where it is (the GP's linear mean fits it exactly)
    f = np.arange(1, 60)
    line = pd.DataFrame(dict(frame=f, id=0, x=3.0 * f, y=100 - f, w=30.0, h=60.0, score=1.0))
    out = fixed_lag_smooth(line, 5, "gp", 10.0, 0.1)
    np.testing.assert_allclose(out[["x", "y", "w", "h"]].to_numpy(), line[["x", "y", "w", "h"]].to_numpy(), atol=1e-6)


@pytest.mark.parametrize("frames", ["gaps", "contiguous"])
def test_gp_matches_the_dense_posterior_mean(frames):
    """The posterior mean written out densely, K (K + noise I)^-1 r over the least-squares line's
    residuals r, against both solves (Cholesky on frames with gaps, Levinson on contiguous ones)."""
    rng = np.random.default_rng(9)
    t = (np.sort(rng.choice(np.arange(0, 400), 150, replace=False)) if frames == "gaps"
         else np.arange(3, 153)).astype(np.float64)
    v = np.column_stack([0.4 * t + 5 * np.sin(t / 9), 30 + 0.1 * t, np.full_like(t, 40), 90 - 0.05 * t])
    v += rng.standard_normal(v.shape)
    basis = np.column_stack([np.ones_like(t), t - t.mean()])
    line = basis @ np.linalg.lstsq(basis, v, rcond=None)[0]
    k = np.exp(-0.5 * ((t[:, None] - t[None, :]) / 10.0) ** 2)
    dense = line + k @ np.linalg.solve(k + 0.1 * np.eye(len(t)), v - line)
    np.testing.assert_allclose(gp_smooth(t, v, scale=10.0, noise=0.1), dense, rtol=0, atol=1e-8)
