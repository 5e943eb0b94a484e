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


def test_cache_key_is_the_figures_own_code_and_config(tmp_path, monkeypatch):
    import randfield.figures as figures
    from randfield.figures import registry

    shutil.copy(EXPERIMENTS / "correlation_maps_tanh.toml", tmp_path / "cm.toml")
    out = tmp_path / "figs"
    assert regenerate(tmp_path, out, quick=True, progress=False) == [("cm", "made")]
    index = (out / "README.md").read_text()
    assert "`cm`" in index and "randfield figures --only cm --quick" in index
    # another figure's code changing (here: every other kind's digest) leaves this one cached
    real = registry.kind_digest
    monkeypatch.setattr(figures, "kind_digest", lambda k: real(k) if k == "correlation_maps" else "changed")
    assert regenerate(tmp_path, out, quick=True, progress=False) == [("cm", "cached")]
    # its own code changing rebuilds it
    monkeypatch.setattr(figures, "kind_digest", lambda k: "changed")
    assert regenerate(tmp_path, out, quick=True, progress=False) == [("cm", "made")]
    # a corrupted cache file is named and rebuilt
    (out / "cm.json").write_text("{not json")
    assert regenerate(tmp_path, out, quick=True, progress=False) == [("cm", "made (cache cm.json unreadable, rebuilt)")]
    assert json.loads((out / "cm.json").read_text())["figure_digest"] == "changed"


def test_bad_configs_are_named(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="does not exist"):
        load_configs(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no"):
        load_configs(tmp_path)
    (tmp_path / "bad.toml").write_text("kind = [unclosed")
    with pytest.raises(ValueError, match="bad.toml: malformed TOML"):
        load_configs(tmp_path)
    (tmp_path / "bad.toml").write_text('kind = "correlation_maps"\nparams = 3\n')
    with pytest.raises(ValueError, match=r"bad.toml: \[params\] must be a table"):
        load_configs(tmp_path)
    (tmp_path / "bad.toml").write_text('kind = "nope"\n')
    with pytest.raises(ValueError, match="bad.toml: kind must be one of"):
        load_configs(tmp_path)
