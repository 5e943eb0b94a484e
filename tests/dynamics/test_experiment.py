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


def test_published_slope_rows_are_labelled_and_keep_the_published_reference():
    from randfield.dynamics.experiment import PUBLISHED, summarise

    jobs = jobs_from_params({**PARAMS, "rows": ["dgnet/dg"], "model": {"slope": "published"}})
    fake = {"derivative": 0.04, "iterations_per_second": 1.0, "final_loss": 0.5}
    results = [
        {
            **fake,
            "predict": {
                m: {"energy": 1e-3, "state": 0.1, "mass": None, "energy_error_curve": [0, 1]} for m in j.predict
            },
        }
        for j in jobs
    ]
    rows = summarise(jobs, results)
    assert {r["model"] for r in rows} == {"dgnet (published slope)"}
    dg = next(r for r in rows if r["predict"] == "dg")
    assert dg["published"] == PUBLISHED[("spring", "dgnet", "dg", "dg")] and dg["seeds"] == 2


def test_pendulum_cells_also_score_the_published_scripts_energy_from_their_saved_weights(tmp_path):
    """The pendulum's "script's metric" is (q^2 + p^2) of the rollouts, recomputed here from the
    cell's saved weights by an independent rollout; the true-H score is unchanged beside it."""
    import torch

    from randfield.dynamics.data import get_system
    from randfield.dynamics.experiment import cell_evaluation, summarise, table_markdown
    from randfield.dynamics.training import load_model

    params = {**PARAMS, "systems": ["pendulum"], "seeds": 1, "evaluation": {"pendulum": "published"}}
    job = jobs_from_params(params, cache_dir=str(tmp_path))[0]
    result = run_cell(job)
    model, meta = load_model(tmp_path / f"{job.key()}.model.pt")
    assert meta["system"] == "pendulum" and meta["cell"]["cell"]["seed"] == job.seed
    system = get_system("pendulum")
    t, u0, reference = cell_evaluation(job, system)
    with torch.no_grad():
        pred = model.rollout(torch.as_tensor(u0), t, "rk2").transpose(0, 1).numpy()
    energy = lambda u: u[..., 0] ** 2 + u[..., 1] ** 2  # noqa: E731 -- DGNet's pendulum energy
    hamiltonian = lambda u: 3 * (1 - np.cos(u[..., 0])) + u[..., 1] ** 2  # noqa: E731
    scored = result["predict"]["rk2"]
    np.testing.assert_allclose(scored["energy_published_metric"], np.mean((energy(pred) - energy(reference)) ** 2))
    np.testing.assert_allclose(scored["energy"], np.mean((hamiltonian(pred) - hamiltonian(reference)) ** 2))
    assert scored["energy_published_metric"] != scored["energy"]
    # the spring's H is the scripts' energy already: no second score
    assert "energy_published_metric" not in run_cell(jobs_from_params({**PARAMS, "seeds": 1})[0])["predict"]["rk2"]
    assert get_system("spring").published_energy_label is None
    row = summarise([job], [result])[0]
    assert row["energy_published_metric"][0] == scored["energy_published_metric"]
    assert "script's metric" in table_markdown([row])


def test_randfield_evaluate_rescores_a_cached_cell_with_the_cells_own_data_and_rollouts(tmp_path, capsys):
    import json

    from randfield.cli import main

    params = {**PARAMS, "systems": ["pendulum"], "seeds": 1, "evaluation": {"pendulum": "published"}}
    job = jobs_from_params(params, cache_dir=str(tmp_path))[0]
    result = run_cell(job)
    assert main(["evaluate", str(tmp_path / f"{job.key()}.model.pt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["derivative_mse"] == result["derivative"] and list(out["rollouts"]) == list(job.predict)
    for method, scored in out["rollouts"].items():
        assert scored["energy_mse"] == result["predict"][method]["energy"]
        assert scored["energy_mse_published_metric"] == result["predict"][method]["energy_published_metric"]


def test_table_configs_are_validated_with_named_problems():
    import pytest

    for bad, message in [
        ({k: v for k, v in PARAMS.items() if k != "seeds"}, r"missing \['seeds'\]"),
        ({**PARAMS, "seeds": 0}, "seeds must be an integer >= 1, got 0"),
        ({**PARAMS, "rows": ["node/rk9"]}, r"unknown rows \['node/rk9'\]; known: node/rk2"),
        ({**PARAMS, "systems": ["sprung"]}, "sprung"),
        ({**PARAMS, "systems": []}, "systems must be a non-empty list"),
    ]:
        with pytest.raises(ValueError, match=message):
            jobs_from_params(bad)


def test_a_corrupt_cell_cache_is_recomputed_and_force_recomputes(tmp_path, capsys):
    job = jobs_from_params({**PARAMS, "seeds": 1}, cache_dir=str(tmp_path))[0]
    result = run_cell(job)
    cache = tmp_path / f"{job.key()}.json"
    cache.write_text('{"result": ')  # truncated
    assert cached_result(job) is None and "is unreadable" in capsys.readouterr().err
    again = run_cell(job)  # rebuilt: the same numbers (only the timings differ)
    assert again["derivative"] == result["derivative"] and cached_result(job) == again
    assert again["predict"]["rk2"]["energy"] == result["predict"]["rk2"]["energy"]
    forced = jobs_from_params({**PARAMS, "seeds": 1, "force": True}, cache_dir=str(tmp_path))[0]
    assert forced.key() == job.key() and cached_result(forced) is None
