import json

import pytest

from randfield.cli import main


def test_maps_prints_the_table_and_fixed_points(capsys):
    assert main(["maps", "--activation", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--depth", "5"]) == 0
    out = capsys.readouterr().out
    assert "q_star: 0.41803720" in out and "phase: ordered" in out and out.count("\n") > 8


def test_maps_json(capsys):
    assert (
        main(["maps", "--activation", "relu", "--sigma-w2", "2.5", "--sigma-b2", "0.1", "--depth", "3", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["phase"] == "unbounded" and len(data["layers"]["q"]) == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["maps", "--activation", "tanhx", "--sigma-w2", "1"], "unknown activation 'tanhx'"),
        (["maps", "--sigma-w2", "-1"], "sigma_w2 must be >= 0"),
        (["maps", "--sigma-w2", "1", "--depth", "0"], "argument --depth: must be an integer in [1, 10000], got 0"),
        (["critical", "--activation", "softplus", "--sigma-b2", "0.1"], "no critical sigma_w2"),
        (["train", "--model", "hamiltonian"], "unknown model 'hamiltonian'"),
        (
            ["train", "--system", "spring", "--steps", "0"],
            "argument --steps/--epochs: must be an integer in [1, 100000000]",
        ),
        (["train", "--model", "srnn", "--train-integrator", "rk2"], "srnn trains with one of leapfrog"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_argument_errors_exit_2(capsys):
    assert main(["maps", "--sigma-w2", "abc"]) == 2
    assert "argument --sigma-w2: expected a number, got 'abc'" in capsys.readouterr().err


def test_phase_diagram_writes_figure_and_data(tmp_path, capsys):
    out = tmp_path / "pd.png"
    argv = [
        "phase-diagram",
        "--activation",
        "erf",
        "--sigma-w2",
        "0.5:3:12",
        "--sigma-b2",
        "0:0.3:10",
        "--out",
        str(out),
        "--json",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["grid"] == [12, 10] and sum(data["phase_counts"].values()) == 120
    assert out.exists() and out.with_suffix(".pdf").exists()
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["randfield_version"] and meta["config"]["activation"] == "erf"


def test_critical_json(capsys):
    assert main(["critical", "--activation", "relu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["critical_sigma_w2"] == 2.0


def test_kernel_command_matches_the_library(tmp_path, capsys, rng):
    import numpy as np

    import randfield as rf

    x = rng.normal(size=(4, 3))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "k.npy"
    argv = ["kernel", "--activation", "relu", "--depth", "3", "--sigma-w2", "2", "--inputs", str(tmp_path / "x.npy")]
    assert main(argv + ["--ntk", "--out", str(out)]) == 0
    np.testing.assert_allclose(np.load(out), rf.ntk(x, None, "relu", 3, 2.0, 0.0))
    arch = 'serial(Dense(2, 0), Elementwise("relu"), Dense(2, 0))'
    assert main(["kernel", "--inputs", str(tmp_path / "x.npy"), "--arch", arch, "--json"]) == 0
    data = json.loads(capsys.readouterr().out.splitlines()[-1])
    np.testing.assert_allclose(data["values"], rf.nngp(x, None, "relu", 1, 2.0, 0.0))
    assert main(["kernel", "--inputs", str(tmp_path / "missing.npy"), "--sigma-w2", "1"]) == 2


def test_init_command_and_help_lists_every_subcommand(capsys):
    assert main(["init", "--activation", "tanh", "--depth", "200", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert abs(data["recommendation"]["sigma_w2"] - 1.7609546396) < 1e-8
    assert {a["criterion"] for a in data["alternatives"]} == {"edge_of_chaos", "depth_scale", "dynamical_isometry"}
    assert data["recommendation"]["xi_c"] is None  # inf is not JSON: null
    assert main(["init", "--activation", "relu", "--depth", "50", "--criterion", "dynamical_isometry"]) == 2
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = ("maps", "phase-diagram", "critical", "kernel", "simulate", "compare", "geometry", "init", "figures")
    for cmd in commands + ("spectrum", "sweep", "train", "evaluate"):
        assert cmd in out


def test_sweep_command(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    argv = ["sweep", "--sigma-w2", "1:3:3", "--sigma-b2", "0.05", "--width", "64", "--depth", "4", "--samples", "3"]
    assert main(argv + ["--workers", "1", "--json", "--out", str(out)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["sigma_w2"] for r in rows] == [1.0, 2.0, 3.0]
    assert json.loads(out.read_text())["rows"] == rows
    assert main(argv + ["--workers", "0"]) == 2


def test_train_then_evaluate(tmp_path, capsys):
    model = tmp_path / "m.pt"
    argv = ["train", "--system", "spring", "--model", "dgnet", "--steps", "5", "--hidden", "8"]
    argv += ["--trajectories", "4", "--initial", "2", "--predict", "rk2", "dg", "--out", str(model), "--json"]
    assert main(argv) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["train_integrator"] == "dg" and set(trained["rollouts"]) == {"rk2", "dg"}
    assert main(["evaluate", str(model), "--method", "dg", "--initial", "2", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    # the saved model reproduces the trained one's numbers
    assert evaluated["derivative_mse"] == pytest.approx(trained["derivative_mse"], rel=1e-12)
    assert evaluated["rollouts"]["dg"]["energy_mse"] == pytest.approx(trained["rollouts"]["dg"]["energy_mse"], rel=1e-9)
    assert main(["evaluate", str(tmp_path / "missing.pt")]) == 2


def test_spectrum_command_theory_and_simulation(capsys):
    # A linear network with orthogonal weights is sigma_w^L times an orthogonal matrix: one atom at sigma_w^(2L).
    assert (
        main(
            [
                "spectrum",
                "--activation",
                "linear",
                "--sigma-w2",
                "0.5",
                "--depth",
                "3",
                "--weights",
                "orthogonal",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["point_masses"] == [[pytest.approx(0.125, rel=1e-14), 1.0]] and data["variance"] == 0.0
    argv = ["spectrum", "--sigma-w2", "1.0492", "--sigma-b2", "1e-4", "--depth", "8", "--weights", "orthogonal"]
    assert main([*argv, "--simulate", "--width", "200", "--samples", "4", "--device", "cpu", "--json"]) == 0
    sim = json.loads(capsys.readouterr().out)["simulation"]
    assert sim["ks_distance"] < sim["ks_critical_iid_1e-3"]
    assert main(argv) == 0 and "upper edge" in capsys.readouterr().out


def test_domino_command_prints_theory_and_simulation(capsys):
    argv = [
        "domino",
        "--sigma-w2",
        "1.5",
        "--sigma-b2",
        "0.05",
        "--depth",
        "3",
        "--width",
        "128",
        "--simulate",
        "--json",
    ]
    assert main(argv + ["--samples", "64"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["log_mean"]) == 3 and len(data["sim_log_mean"]) == 3
    assert data["log_mean"][-1] < data["log_product_chi1"][-1] < 0  # the finite-width mean lies below


def test_gradients_command_gives_the_depth_scale_and_simulation(capsys):
    argv = ["gradients", "--sigma-w2", "1.0", "--sigma-b2", "0.05", "--depth", "4", "--simulate", "--width", "64"]
    assert main(argv + ["--samples", "8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gradient_depth_scale"] == pytest.approx(3.62697561805297, rel=1e-9) and data["delta"][-1] == 1.0
    assert len(data["sim_weight_gradient"]) == 4


def test_dropout_command_gives_a_finite_depth_scale(capsys):
    assert main(["dropout", "--sigma-w2", "1.76", "--sigma-b2", "0.05", "--keep", "0.9", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert 0 < data["c_star"] < 1 and data["trainable_depth"] == pytest.approx(6 * data["xi_c"])


def test_finite_width_command(capsys):
    argv = ["finite-width", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--depth", "3", "--json"]
    assert main(argv + ["--simulate", "--widths", "16", "--samples", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_var"][0] == pytest.approx(2 * 1.55**2) and len(data["sim_n_var_16"]) == 3
