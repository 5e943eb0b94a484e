import json
import shutil
from pathlib import Path

from randfield.figures import load_configs, regenerate

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_every_config_names_a_known_kind():
    assert len(load_configs(EXPERIMENTS)) >= 4


def test_regenerate_one_figure_then_cache(tmp_path):
    shutil.copy(EXPERIMENTS / "correlation_maps_tanh.toml", tmp_path / "cm.toml")
    out = tmp_path / "figs"
    assert regenerate(tmp_path, out, quick=True) == [("cm", "made")]
    assert (out / "cm.png").exists() and (out / "cm.pdf").exists()
    import matplotlib.image

    pixels = matplotlib.image.imread(out / "cm.png")
    assert pixels.shape[0] > 200 and pixels[..., :3].std() > 0.05  # not a blank image
    meta = json.loads((out / "cm.json").read_text())
    assert meta["config"]["kind"] == "correlation_maps" and "randfield_version" in meta
    # Poole's sigma_w = 4.0 network: c* = 0.0297 (anchors §2.1)
    assert abs(meta["data"]["16,0.09"]["c_star"] - 0.0297) < 5e-5
    assert regenerate(tmp_path, out, quick=True) == [("cm", "cached")]


def test_merge_tables_replaces_rows_in_place_and_writes_table_and_figure(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("merge_tables", EXPERIMENTS / "dynamics" / "merge_tables.py")
    merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(merge)

    def row(system, model, energy):
        return {
            "system": system, "model": model, "train": "rk2", "predict": "rk2", "seeds": 1,
            "derivative": [1.0, 0.0], "energy": [energy, 0.0], "published": [1.0, 1.0],
            "state": [0.0, 0.0], "ratio": [1.0, energy], "iterations_per_second": 1.0,
            "energy_error_curve": [0.0, energy, 2 * energy],
        }  # fmt: skip

    old = [row("spring", "node", 1.0), row("two_body", "node", 2.0), row("two_body", "hnn", 3.0)]
    new = [row("two_body", "node", 20.0), row("two_body", "srnn", 40.0)]
    merged = merge.merge_rows([old, new])
    assert [(r["system"], r["model"], r["energy"][0]) for r in merged] == [
        ("spring", "node", 1.0), ("two_body", "node", 20.0), ("two_body", "hnn", 3.0), ("two_body", "srnn", 40.0),
    ]  # fmt: skip
    # rows added later go to their place in the published table's order, variants after the standard rows
    variant = {**row("spring", "dgnet (published slope)", 5.0), "train": "dg"}
    node_dp = {**row("two_body", "node", 30.0), "train": "dopri5", "predict": "dopri5"}
    merged = merge.merge_rows([old, [variant, node_dp, {**row("spring", "dgnet", 6.0), "train": "dg"}]])
    assert [(r["system"], r["model"], r["train"]) for r in merged] == [
        ("spring", "node", "rk2"), ("spring", "dgnet", "dg"), ("spring", "dgnet (published slope)", "dg"),
        ("two_body", "node", "rk2"), ("two_body", "node", "dopri5"), ("two_body", "hnn", "rk2"),
    ]  # fmt: skip
    for i, rows in enumerate([old, new]):
        (tmp_path / f"t{i}.json").write_text(json.dumps({"config": {"config": "c", "systems": ["x"]}, "rows": rows}))
    merge.main([str(tmp_path / "t0.json"), str(tmp_path / "t1.json"), "--out", str(tmp_path / "m")])
    assert len(json.loads((tmp_path / "m.json").read_text())["rows"]) == 4
    assert (tmp_path / "m.md").read_text().count("| two_body |") == 3
    assert (tmp_path / "m.png").stat().st_size > 0 and (tmp_path / "m.pdf").exists()


def test_energy_tail_summary_against_hand_computed_statistics():
    import importlib.util

    import numpy as np
    import pytest

    spec = importlib.util.spec_from_file_location("energy_tail", EXPERIMENTS / "dynamics" / "energy_tail.py")
    tail = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tail)

    per_ic = np.arange(1.0, 31.0)  # two sets of 15: means 8 and 23
    s = tail.summary(per_ic)
    assert s["population"] == 15.5 and s["median"] == 15.5 and s["max"] == 30.0
    assert s["worst_1pct_share"] == pytest.approx(30 / 465, rel=1e-15)  # 1% of 30 rounds up to one IC
    np.testing.assert_allclose(s["set_quantiles"], [8 + 0.1 * 15, 15.5, 8 + 0.9 * 15], rtol=1e-15)
    with pytest.raises(ValueError, match="--n must be >= 15"):
        tail.main(["--n", "14"])
