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
