"""Table cells (randfield.dynamics.experiment): which data a cell sees, caching."""

import numpy as np

from randfield.dynamics.data import generate
from randfield.dynamics.experiment import cached_result, jobs_from_params, run_cell, train_cell

PARAMS = {
    "systems": ["spring"],
    "rows": ["node/rk2"],
    "seeds": 2,
    "train": {"steps": 3, "dtype": "float64"},
    "data": {"n_trajectories": 4, "n_points": 12},
    "n_initial": 3,
}


def test_published_cells_see_their_own_seeds_run_of_the_published_script():
    jobs = jobs_from_params({**PARAMS, "evaluation": {"spring": "published"}})
    assert [j.seed for j in jobs] == [0, 1] and all(j.evaluation == "published" for j in jobs)
    for job in jobs:
        _, _, test, _ = train_cell(job)
        expected = generate("spring", 4, seed=job.seed, n_points=12, sampler="published").split(0.5)[1]
        np.testing.assert_array_equal(test.states, expected.states)
    # the default protocol: one dataset (seed 0) for every seed
    for job in jobs_from_params(PARAMS):
        _, _, test, _ = train_cell(job)
        np.testing.assert_array_equal(test.states, generate("spring", 4, seed=0, n_points=12).split(0.5)[1].states)


def test_cells_are_cached_with_their_config(tmp_path):
    job = jobs_from_params({**PARAMS, "seeds": 1, "evaluation": {"spring": "published"}}, cache_dir=str(tmp_path))[0]
    assert cached_result(job) is None
    result = run_cell(job)
    assert (tmp_path / f"{job.key()}.json").exists() and cached_result(job) == result
    # another evaluation protocol names another cell
    other = jobs_from_params({**PARAMS, "seeds": 1}, cache_dir=str(tmp_path))[0]
    assert other.key() == job.key() and cached_result(other) is None
