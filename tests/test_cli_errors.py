"""Every bad input to every command: exit status 2, at most three lines on stderr naming the problem,
no traceback, and nothing done first (no training, no progress bar, no file written). A new
subcommand joins with one row per class of bad input."""

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from randfield.cli import main

SIM = ["simulate", "--sigma-w2", "1", "--width", "8", "--depth", "3"]
TRAIN = ["train", "--system", "spring", "--model", "hnn", "--hidden", "8", "--steps", "2"]

CASES = [
    # output paths: parent is a file, the path is a folder, empty, unwritable -- before any work
    (TRAIN + ["--out", "{file}/m.pt"], "argument --out: '{file}' is a file"),
    (TRAIN + ["--out", "{dir}"], "argument --out: '{dir}' is a directory"),
    (TRAIN + ["--out", ""], "argument --out: the output path is empty"),
    (TRAIN + ["--checkpoint", "{dir}"], "argument --checkpoint: '{dir}' is a directory"),
    (SIM + ["--out", "{file}/o.npz"], "argument --out: '{file}' is a file"),
    (["phase-diagram", "--sigma-w2", "1:2:3", "--out", "{file}/pd.png"], "argument --out: '{file}' is a file"),
    (["kernel", "--inputs", "{npy}", "--sigma-w2", "2", "--out", "{dir}"], "argument --out: '{dir}' is a directory"),
    (["sweep", "--sigma-w2", "1:2:2", "--out", "{file}/s.json"], "argument --out: '{file}' is a file"),
    (["figures", "--out", "{file}", "--only", "x"], "is a file, expected a folder"),
    # corrupt or wrong files (the security tests cover pickles)
    (["evaluate", "{empty}"], "is empty"),
    (["evaluate", "{garbage}"], "is not a readable torch file"),
    (["evaluate", "{dir}"], "is a directory"),
    (["evaluate", "{sim_result}"], "is not a readable torch file"),  # an .npz: a zip, but not torch's
    (["evaluate", "{sim_ckpt}"], "is not a randfield model file: missing"),  # a torch file of another kind
    (TRAIN + ["--checkpoint", "{garbage}"], "is not a readable torch file"),
    (SIM + ["--checkpoint", "{garbage}", "--out", "{dir}/o.npz"], "is not a readable torch file"),
    (["compare", "{garbage}"], "is not an .npz archive"),
    (["compare", "{model}"], "is not a randfield simulation result: missing"),
    (["kernel", "--inputs", "{garbage}", "--sigma-w2", "2"], "is not a .npy file"),
    (["kernel", "--inputs", "{nan_npy}", "--sigma-w2", "2"], "contains NaN or inf"),
    (["kernel", "--inputs", "{npy}", "--inputs2", "{npy3}", "--sigma-w2", "2"], "--inputs2 has dimension d = 3"),
    (["kernel", "--inputs", "{vec_npy}", "--sigma-w2", "2"], "expected a non-empty array of shape (n, d)"),
    # sizes: zero, negative, absurd -- refused before allocating or looping, the limit named
    (TRAIN + ["--hidden", "0"], "argument --hidden: must be an integer in [1, 65536], got 0"),
    (TRAIN + ["--initial", "0"], "argument --initial: must be an integer in [1, 100000], got 0"),
    (TRAIN + ["--trajectories", "-3"], "argument --trajectories: must be an integer in [1, 100000], got -3"),
    (SIM + ["--width", "10000000", "--out", "{dir}/o.npz"], "argument --width: must be an integer in [1, 65536]"),
    (SIM[:-2] + ["--depth", "0", "--out", "{dir}/o.npz"], "argument --depth: must be an integer in [1, 10000]"),
    (
        [
            "simulate",
            "--sigma-w2",
            "1",
            "--width",
            "65536",
            "--weights",
            "orthogonal",
            "--samples",
            "64",
            "--out",
            "{dir}/o.npz",
        ],
        "needs about",
    ),
    (["maps", "--sigma-w2", "1", "--depth", "10000000"], "argument --depth: must be an integer in [1, 10000]"),
    (["phase-diagram", "--sigma-w2", "1:2:0"], "N must be an integer in [1, 100000], got 0"),
    (["phase-diagram", "--sigma-w2", "1:2:5000", "--sigma-b2", "0:1:5000"], "the grid has 25000000 points"),
    (["spectrum", "--sigma-w2", "1", "--depth", "100000000"], "argument --depth: must be an integer in [1, 10000]"),
    (["finite-width", "--sigma-w2", "1.5", "--simulate", "--widths", "0"], "argument --widths: must be an integer in"),
    (["dropout", "--sigma-w2", "1.76", "--keep", "1.5"], "rho (the keep probability) must lie in (0, 1], got 1.5"),
    (["dropout", "--sigma-w2", "1.76", "--keep", "nan"], "argument --keep: must be finite"),
    (["gradients", "--sigma-w2", "1", "--depth", "0"], "argument --depth: must be an integer in [1, 10000], got 0"),
    (["gradients", "--sigma-w2", "0"], "sigma_w2 must be > 0"),
    (["domino", "--sigma-w2", "1", "--width", "0"], "argument --width: must be an integer in [1, 65536], got 0"),
    (["latent-ode", "--obs", "101"], "n_obs must be <= n_times = 100"),
    (["latent-ode", "--obs", "0"], "argument --obs: must be an integer in [1, 100000], got 0"),
    (["latent-ode", "--model", "lstm"], "argument --model: invalid choice: 'lstm'"),
    (["flow", "--data", "swissroll"], "argument --data: invalid choice: 'swissroll'"),
    (["flow", "--width", "0"], "argument --width: must be an integer in [1, 4096], got 0"),
    (["flow", "--model", "planar", "--layers", "0", "--match", "u1"], "argument --layers: must be an integer in"),
    (["flow", "--model", "planar"], "--model planar has no density to evaluate on data"),
    (["flow", "--match", "u9"], "argument --match: invalid choice: 'u9'"),
    (["classify", "--arch", "bogus"], "argument --arch: invalid choice: 'bogus'"),
    (["classify", "--arch", "mlp", "--epochs", "0"], "argument --epochs: must be an integer in [1, 10000], got 0"),
    (["classify", "--arch", "odenet", "--rtol", "0"], "argument --rtol: must be > 0"),
    (["classify", "--arch", "odenet", "--atol", "nan"], "argument --atol: must be finite"),
    (["classify", "--arch", "mlp", "--data", "{dir}/nope.npz"], "does not exist"),
    (["classify", "--arch", "mlp", "--data", "{empty}"], "is empty"),
    (["fisher", "--sigma-w2", "1", "--width", "0"], "argument --width: must be an integer in [1, 65536], got 0"),
    (["fisher", "--sigma-w2", "1", "--train-inputs", "0"], "argument --train-inputs: must be an integer in [1, 4096]"),
    (["fisher", "--sigma-w2", "1", "--outputs", "0"], "argument --outputs: must be an integer in [1, 4096], got 0"),
    (["fisher", "--sigma-w2", "1", "--depth", "0"], "argument --depth: must be an integer in [1, 10000], got 0"),
    (["fisher", "--sigma-w2", "1", "--descent", "-1"], "argument --descent: must be > 0"),
    (["fisher", "--sigma-w2", "0"], "sigma_w2 must be > 0"),
    (["ntk-fluctuations", "--sigma-w2", "1", "--activation", "tanh"], "activation: the NTK fluctuation theory needs"),
    (["ntk-fluctuations", "--sigma-w2", "2", "--sigma-b2", "0.1"], "sigma_b2: the NTK fluctuation theory holds"),
    (["ntk-fluctuations", "--sigma-w2", "2", "--widths", "0"], "argument --widths: must be an integer in"),
    (
        ["domino", "--sigma-w2", "1", "--simulate", "--samples", "1"],
        "argument --samples: must be an integer in [2, 100000]",
    ),
    # options checked up front, not by torch or after training
    (TRAIN + ["--predict", "bogus"], "unknown integrator 'bogus'"),
    (TRAIN + ["--predict", "leapfrog"], "--predict leapfrog: hnn cannot be rolled out with it"),
    (["train", "--system", "kdv", "--model", "srnn"], "srnn models canonical (q, p) ODE states"),
    (TRAIN + ["--device", "tpu7"], "argument --device: unknown device 'tpu7'"),
    (TRAIN + ["--weight-decay", "nan"], "argument --weight-decay: must be finite"),
    (TRAIN + ["--lr", "inf"], "argument --lr: must be finite"),
    (TRAIN + ["--lr", "0"], "argument --lr: must be > 0"),
    (SIM + ["--branch-scale", "nan", "--out", "{dir}/o.npz"], "argument --branch-scale: must be finite"),
    (["maps", "--sigma-w2", "nan"], "argument --sigma-w2: must be finite"),
    (["sweep", "--sigma-w2", "1:2:2", "--workers", "0"], "argument --workers: must be an integer in [1, 1024]"),
    (
        ["sweep", "--sigma-w2", "1:2:2", "--width", "8", "--depth", "2", "--scheduler", "tcp://127.0.0.1:9"],
        "cannot be reached within 5 s",
    ),
    # configs
    (["figures", "--configs", "{dir}/missing"], "does not exist"),
    (["figures", "--configs", "{bad_toml_dir}"], "bad.toml: malformed TOML"),
    (["figures", "--configs", "{experiments}", "--only", "nope"], "unknown figure(s) ['nope']"),
]
if not torch.cuda.is_available():
    CASES.append((TRAIN + ["--device", "cuda"], "argument --device: cuda is not available"))


@pytest.fixture
def files(tmp_path):
    from randfield.dynamics import get_model
    from randfield.dynamics.training import save_model
    from randfield.montecarlo import SimulationConfig, simulate

    f = {"dir": tmp_path / "work", "file": tmp_path / "afile"}
    f["dir"].mkdir()
    f["file"].write_text("x")
    f["empty"] = tmp_path / "empty.pt"
    f["empty"].write_bytes(b"")
    f["garbage"] = tmp_path / "garbage.bin"
    f["garbage"].write_bytes(np.random.default_rng(0).bytes(300))
    f["npy"], f["npy3"], f["nan_npy"], f["vec_npy"] = (tmp_path / n for n in ("x.npy", "x3.npy", "nan.npy", "v.npy"))
    np.save(f["npy"], np.ones((4, 2)))
    np.save(f["npy3"], np.ones((4, 3)))
    np.save(f["nan_npy"], np.full((4, 2), np.nan))
    np.save(f["vec_npy"], np.ones(4))
    f["sim_result"] = tmp_path / "run.npz"
    simulate(SimulationConfig("tanh", 1.0, 0.0, width=8, depth=2, n_networks=2), device="cpu").save(f["sim_result"])
    f["sim_ckpt"] = tmp_path / "sim.pt"
    simulate(SimulationConfig("tanh", 1.0, 0.0, width=8, depth=2, n_networks=2), checkpoint=f["sim_ckpt"], device="cpu")
    f["experiments"] = Path(__file__).resolve().parents[1] / "experiments"
    f["model"] = tmp_path / "model.pt"
    save_model(f["model"], get_model("hnn", 2, hidden=4), system="spring")
    f["bad_toml_dir"] = tmp_path / "configs"
    f["bad_toml_dir"].mkdir()
    (f["bad_toml_dir"] / "bad.toml").write_text("kind = [")
    return {k: str(v) for k, v in f.items()}


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_is_a_short_clear_error(argv, message, files, capsys):
    before = set(os.listdir(files["dir"]))
    tic = time.perf_counter()
    assert main([a.format(**files) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message.format(**files) in err, err
    assert "Traceback" not in err and 1 <= err.count("\n") <= 3, err  # no progress bar printed before it
    assert time.perf_counter() - tic < 15  # refused up front (the scheduler waits 5 s)
    assert set(os.listdir(files["dir"])) == before  # nothing written
