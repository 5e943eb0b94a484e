import numpy as np
import pytest

import randfield as rf
from randfield import expectations as ex


@pytest.mark.parametrize("name", ["tanh", "erf", "relu", "gelu", "elu"])
def test_phase_diagram_agrees_with_pointwise_exact_solutions(name):
    sw = np.array([0.8, 1.6, 2.2, 3.5])
    sb = np.array([0.0, 0.05, 0.6])
    pd = rf.phase_diagram(name, sw, sb)
    assert pd.q_star.shape == (4, 3) and pd.phase.shape == (4, 3)
    for i, w in enumerate(sw):
        for j, b in enumerate(sb):
            try:
                q = float(rf.length_fixed_point(name, w, b))
            except rf.NoFixedPointError:
                assert pd.phase[i, j] == 2 and np.isinf(pd.q_star[i, j])
                continue
            assert pd.q_star[i, j] == pytest.approx(q, rel=1e-12, abs=1e-300)
            chi = float(rf.chi1(name, w, b, q=q)) if q > 0 else w * float(ex.derivative_second_moment(name, 0.0))
            assert pd.chi1[i, j] == pytest.approx(chi, rel=1e-12)
            assert pd.phase[i, j] == (1 if chi > 1 else 0)
            # pointwise c* uses the exact nested 2-D rule throughout: an independent method from Mehler's series
            assert pd.c_star[i, j] == pytest.approx(float(rf.correlation_fixed_point(name, w, b)), abs=1e-9)
    assert np.all(pd.c_star_error_bound <= 1e-10)


def test_phase_diagram_near_the_critical_line_uses_a_certified_path():
    sb = 0.5
    crit = float(rf.critical_sigma_w2("tanh", sb))
    sw = crit * (1 + np.array([1e-4, 1e-3, 1e-2]))
    pd = rf.phase_diagram("tanh", sw, [sb])
    exact = rf.correlation_fixed_point("tanh", sw, sb)
    np.testing.assert_allclose(pd.c_star[:, 0], exact, atol=1e-9)
    assert np.all(pd.chi1 > 1) and np.all(np.diff(pd.xi_c[:, 0]) < 0)  # xi_c diverges towards the line


def test_phase_labels_and_depth_scales():
    pd = rf.phase_diagram("relu", [1.0, 2.5], [0.0, 0.1])
    assert rf.PHASES[pd.phase[0, 0]] == "ordered" and rf.PHASES[pd.phase[1, 1]] == "unbounded"
    assert pd.xi_c[0, 0] == pytest.approx(-1 / np.log(0.5))


def test_phase_diagram_rejects_bad_grids():
    with pytest.raises(ValueError, match="sigma_w2_grid must be >= 0"):
        rf.phase_diagram("tanh", [-1.0, 1.0], [0.1])
    with pytest.raises(ValueError, match="non-empty"):
        rf.phase_diagram("tanh", [], [0.1])


@pytest.mark.parametrize("name", ["tanh", "elu", "sigmoid"])
def test_large_grid_path_matches_exact_pointwise_solutions(name, rng):
    # > 256 points: q* comes from the table predictor + exact Newton polish
    sw = np.linspace(0.6, 4.0, 23) if name != "sigmoid" else np.linspace(8.0, 40.0, 23)
    sb = np.linspace(0.0, 1.0, 17)
    pd = rf.phase_diagram(name, sw, sb)
    for i, j in zip(rng.integers(0, 23, 12), rng.integers(0, 17, 12)):
        try:
            q = float(rf.length_fixed_point(name, sw[i], sb[j]))
        except rf.NoFixedPointError:
            assert pd.phase[i, j] == 2
            continue
        assert pd.q_star[i, j] == pytest.approx(q, rel=1e-12, abs=1e-300)
        if q > 0:
            assert pd.chi1[i, j] == pytest.approx(float(rf.chi1(name, sw[i], sb[j], q=q)), rel=1e-12)
            assert pd.xi_q[i, j] == pytest.approx(float(rf.depth_scales(name, sw[i], sb[j]).xi_q), rel=1e-10)
        assert pd.c_star[i, j] == pytest.approx(float(rf.correlation_fixed_point(name, sw[i], sb[j])), abs=1e-9)
