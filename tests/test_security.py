"""Files are data, never code: every loader refuses pickled objects (docs/security.md), and files of
the wrong kind, truncated, empty, garbage or with NaN contents are one clear error naming the file."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from randfield._io import FileFormatError, atomic_write_bytes, read_npy, read_torch
from randfield.cli import main
from randfield.dynamics import data, fit, get_model
from randfield.dynamics.training import load_model, save_model
from randfield.montecarlo import SimulationConfig, SimulationResult, simulate


class Exploit:
    """Unpickling this object opens (creates) `marker`: the stand-in for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "pwned"


def _evil_torch(path, marker, keys):
    torch.save({k: Exploit(marker) for k in keys}, path)
    return path


def _evil_npy(path, marker):
    np.save(path, np.array([Exploit(marker)], dtype=object), allow_pickle=True)
    return path


def test_the_exploit_is_real(tmp_path, marker):
    # the test below could not fail if the crafted file did nothing: an unsafe load does run it
    path = _evil_torch(tmp_path / "x.pt", marker, ["spec"])
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    np.load(_evil_npy(tmp_path / "x.npy", marker), allow_pickle=True)
    assert marker.exists()


SIM = SimulationConfig("tanh", 1.5, 0.05, width=16, depth=4, n_networks=2)


def _spring():
    return data.generate("spring", 2, n_points=5)


LOADERS = {
    "training checkpoint": lambda p: fit(
        get_model("hnn", 2, hidden=8), _spring(), steps=2, checkpoint=p, progress=False
    ),
    "model file": lambda p: load_model(p),
    "simulation checkpoint": lambda p: simulate(SIM, checkpoint=p, device="cpu"),
    "simulation result": lambda p: SimulationResult.load(p),
    "--inputs": lambda p: read_npy(p, "--inputs"),
}
TORCH_KEYS = {
    "training checkpoint": ["config", "model", "optimiser", "generator", "losses", "step"],
    "model file": ["spec", "state_dict", "metadata"],
    "simulation checkpoint": ["config", "h", "v", "a", "layer", "rng", "q", "c", "chi1", "length2", "curvature"],
}


@pytest.mark.parametrize("what", list(LOADERS))
def test_every_loader_refuses_a_pickle_that_runs_code(what, tmp_path, marker):
    if what in TORCH_KEYS:
        path = _evil_torch(tmp_path / "evil.pt", marker, TORCH_KEYS[what])
    elif what == "simulation result":
        path = tmp_path / "evil.npz"
        evil = np.array([Exploit(marker)], dtype=object)
        np.savez(path, **{k: evil for k in ("q", "c", "chi1", "length2", "curvature", "meta")})
    else:
        path = _evil_npy(tmp_path / "evil.npy", marker)
    with pytest.raises(FileFormatError, match="refused") as info:
        LOADERS[what](path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "{pt}"],
        ["train", "--system", "spring", "--model", "hnn", "--hidden", "8", "--steps", "2", "--checkpoint", "{pt}"],
        ["simulate", "--sigma-w2", "1", "--width", "8", "--depth", "3", "--checkpoint", "{pt}", "--out", "{dir}/o.npz"],
        ["compare", "{npz}"],
        ["kernel", "--inputs", "{npy}", "--sigma-w2", "2"],
    ],
)
def test_every_cli_loader_refuses_a_pickle_with_one_line(argv, tmp_path, marker, capsys):
    files = {
        "pt": _evil_torch(tmp_path / "evil.pt", marker, sorted({k for keys in TORCH_KEYS.values() for k in keys})),
        "npy": _evil_npy(tmp_path / "evil.npy", marker),
        "npz": tmp_path / "evil.npz",
        "dir": tmp_path,
    }
    evil = np.array([Exploit(marker)], dtype=object)
    np.savez(files["npz"], **{k: evil for k in ("q", "c", "chi1", "length2", "curvature", "meta")})
    assert main([a.format(**files) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not marker.exists()


def _saved_model(tmp_path, **options):
    model = get_model("hnn", 2, hidden=8, **options)
    path = tmp_path / "model.pt"
    save_model(path, model, system="spring")
    return model, path


def test_wrong_files_are_one_clear_error(tmp_path):
    model, good = _saved_model(tmp_path)
    sim_ckpt = tmp_path / "sim.pt"
    simulate(SIM, checkpoint=sim_ckpt, checkpoint_every=1, device="cpu")
    result = tmp_path / "run.npz"
    simulate(SIM, device="cpu").save(result)
    empty, garbage, truncated = tmp_path / "empty.pt", tmp_path / "garbage.pt", tmp_path / "truncated.pt"
    empty.write_bytes(b"")
    garbage.write_bytes(os.urandom(512))
    truncated.write_bytes(good.read_bytes()[:200])
    cases = [
        (lambda: load_model(tmp_path / "missing.pt"), "does not exist"),
        (lambda: load_model(tmp_path), "is a directory"),
        (lambda: load_model(empty), "is empty"),
        (lambda: load_model(garbage), "not a readable torch file"),
        (lambda: load_model(truncated), "not a readable torch file"),
        (lambda: load_model(sim_ckpt), "is not a randfield model file: missing"),  # a file of another kind
        (lambda: SimulationResult.load(good), "is not a randfield simulation result: missing"),  # torch zip
        (lambda: read_torch(result, "training checkpoint", ["config"]), "not a readable torch file"),
    ]
    for call, message in cases:
        with pytest.raises(FileFormatError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_weights_of_another_size_or_nan_are_refused(tmp_path):
    _, path = _saved_model(tmp_path)
    state = torch.load(path, weights_only=True)
    state["spec"]["hidden"] = 16  # the spec now asks for another width than the weights have
    torch.save(state, path)
    with pytest.raises(FileFormatError, match="has shape .* expected .*another size"):
        load_model(path)
    _, path = _saved_model(tmp_path)
    state = torch.load(path, weights_only=True)
    key = next(iter(state["state_dict"]))
    state["state_dict"][key][0] = float("nan")
    torch.save(state, path)
    with pytest.raises(FileFormatError, match="NaN"):
        load_model(path)


def test_simulation_results_with_wrong_shapes_or_nan_are_refused(tmp_path):
    path = tmp_path / "run.npz"
    simulate(SIM, device="cpu").save(path)
    with np.load(path) as f:
        arrays = dict(f)
    bad_shape = dict(arrays, q=arrays["q"][:, :2])
    np.savez(tmp_path / "shape.npz", **bad_shape)
    with pytest.raises(FileFormatError, match="q has shape"):
        SimulationResult.load(tmp_path / "shape.npz")
    nan = dict(arrays, c=np.full_like(arrays["c"], np.nan))
    np.savez(tmp_path / "nan.npz", **nan)
    with pytest.raises(FileFormatError, match="c contains NaN"):
        SimulationResult.load(tmp_path / "nan.npz")


def test_npy_inputs_of_the_wrong_kind_are_refused(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.ones((2, 3)))
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    np.save(tmp_path / "n.npy", np.array([[1.0, np.nan]]))
    (tmp_path / "t.npy").write_text("1 2 3")
    cases = [
        ("a.npz", "is a zip archive"),
        ("s.npy", "expected real numbers"),
        ("n.npy", "NaN"),
        ("t.npy", "not a .npy"),
    ]
    for name, message in cases:
        with pytest.raises(FileFormatError, match=message):
            read_npy(tmp_path / name, "--inputs")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_keep_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "f.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == mode
    os.chmod(tmp_path / "f.json", 0o640)  # an existing file keeps the mode its owner gave it
    atomic_write_bytes(tmp_path / "f.json", b"[]")
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o640


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    atomic_write_bytes(target, b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_sigint_exits_130_keeps_the_checkpoint_and_resumes(tmp_path):
    ckpt, out, whole = tmp_path / "sim.pt", tmp_path / "run.npz", tmp_path / "whole.npz"
    argv = [sys.executable, "-m", "randfield.cli", "simulate", "--sigma-w2", "1.76095", "--sigma-b2", "0.05"]
    argv += ["--width", "256", "--depth", "600", "--samples", "4", "--dtype", "float64", "--json", "--device", "cpu"]
    proc = subprocess.Popen([*argv, "--checkpoint", str(ckpt), "--out", str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert ckpt.exists(), "no checkpoint was written"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and err.count("\n") <= 3
    layer = read_torch(ckpt, "simulation checkpoint", ["layer"])["layer"]
    assert 0 < layer < 599 and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # nothing half-written
    # the same command resumes from the checkpoint and gives the uninterrupted run's numbers
    subprocess.run([*argv, "--checkpoint", str(ckpt), "--out", str(out)], check=True, capture_output=True)
    subprocess.run([*argv, "--out", str(whole)], check=True, capture_output=True)
    resumed, uninterrupted = SimulationResult.load(out), SimulationResult.load(whole)
    for key in ("q", "c", "chi1", "length2", "curvature"):
        np.testing.assert_array_equal(getattr(resumed, key), getattr(uninterrupted, key))
