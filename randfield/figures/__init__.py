"""Regenerate figures/ from the TOML configs in experiments/.

Each config names a figure `kind` (a function registered with `@figure_kind` in one family module:
mean_field, simulation, geometry, kernels, fisher, continuous, flows, latent, dynamics) and its `params`; an
optional `[quick]` table overrides params for the CPU-sized run. Every figure is written as PNG + PDF
with a JSON sidecar holding the config, the randfield version, the digest of the figure function's own source and the
numbers plotted. A figure whose sidecar matches its config and its function's digest is not
recomputed (`--force` recomputes). `figures/README.md` is rewritten as an index of the figures.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from .._io import atomic_write_bytes, atomic_write_json, provenance
from . import continuous, dynamics, fisher, flows, geometry, kernels, latent, mean_field, simulation  # noqa: F401  (register the figure kinds)
from .dynamics import dynamics_table_figure
from .registry import FIGURE_KINDS, figure_kind, kind_digest

__all__ = ["FIGURE_KINDS", "dynamics_table_figure", "figure_kind", "load_configs", "regenerate"]


def load_configs(directory: str | Path) -> dict[str, dict]:
    """{stem: config} of every *.toml in `directory`; a missing folder, malformed TOML, an unknown
    kind or a params/quick entry that is not a table is a ValueError naming the file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"configs folder {str(directory)!r} does not exist (or is not a folder)")
    configs = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with open(path, "rb") as fh:
                cfg = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: malformed TOML ({err})") from None
        if cfg.get("kind") not in FIGURE_KINDS:
            raise ValueError(f"{path}: kind must be one of {sorted(FIGURE_KINDS)}, got {cfg.get('kind')!r}")
        for table in ("params", "quick"):
            if not isinstance(cfg.get(table, {}), dict):
                raise ValueError(f"{path}: [{table}] must be a table of parameters")
        configs[path.stem] = cfg
    if not configs:
        raise ValueError(f"configs folder {str(directory)!r} holds no *.toml figure configs")
    return configs


def _cache_key(cfg: dict, params: dict) -> dict:
    return {"kind": cfg["kind"], "params": params, "figure_digest": kind_digest(cfg["kind"])}


def _cached(sidecar: Path, png: Path, key: dict) -> str | None:
    """'cached' if the sidecar holds this key, None if the figure must be made, or a note that the
    sidecar was unreadable (it is then rebuilt)."""
    if not (sidecar.exists() and png.exists()):
        return None
    try:
        old = json.loads(sidecar.read_text())
        config = old["config"]
        found = {"kind": config["kind"], "params": config["params"], "figure_digest": old.get("figure_digest")}
    except (OSError, ValueError, KeyError, TypeError):
        return f"cache {sidecar.name} unreadable, rebuilt"
    return "cached" if found == json.loads(json.dumps(key)) else None


def regenerate(
    configs_dir: str | Path = "experiments",
    out_dir: str | Path = "figures",
    *,
    only: list[str] | None = None,
    quick: bool = False,
    force: bool = False,
    progress: bool = True,
) -> list[tuple[str, str]]:
    """Regenerate figures; returns (name, status) pairs, status 'made' or 'cached'.

    Progress: one line per figure on stderr as it starts and ends, with its time, and the total."""
    import sys

    from ..plotting import save_figure

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {str(out_dir)!r} is a file, expected a folder for the figures")
    configs = load_configs(configs_dir)
    if only:
        unknown = sorted(set(only) - set(configs))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; known figures: {', '.join(configs)}")
        configs = {k: v for k, v in configs.items() if k in only}

    def say(text):
        if progress:
            print(text, file=sys.stderr, flush=True)

    report, start = [], time.perf_counter()
    for k, (name, cfg) in enumerate(configs.items(), start=1):
        params = {**cfg.get("params", {}), **(cfg.get("quick", {}) if quick else {})}
        key = _cache_key(cfg, params)
        sidecar = out_dir / f"{name}.json"
        status = None if force else _cached(sidecar, out_dir / f"{name}.png", key)
        if status == "cached":
            say(f"[{k}/{len(configs)}] {name}: cached")
            report.append((name, "cached"))
            continue
        say(f"[{k}/{len(configs)}] {name}: making ({cfg['kind']})" + (f"; {status}" if status else ""))
        tic = time.perf_counter()
        # force reaches the figure too: tables rebuild their own per-cell caches and checkpoints
        fig, data = FIGURE_KINDS[cfg["kind"]]({**params, "force": True} if force else params)
        save_figure(fig, out_dir / name)
        if "markdown" in data:  # tables go next to their figure
            atomic_write_bytes(out_dir / f"{name}.md", data["markdown"].encode())
        meta = {**provenance({"kind": cfg["kind"], "params": params}), "figure_digest": key["figure_digest"]}
        atomic_write_json(sidecar, {**meta, "data": data})
        seconds = time.perf_counter() - tic
        say(f"[{k}/{len(configs)}] {name}: made in {seconds:.1f} s")
        report.append((name, "made" + (f" ({status})" if status else "")))
    say(f"figures: {len(report)} in {time.perf_counter() - start:.1f} s")
    write_index(load_configs(configs_dir), out_dir, quick=quick)
    return report


def write_index(configs: dict[str, dict], out_dir: Path, *, quick: bool) -> None:
    """figures/README.md: every figure with its title line and the command that makes it."""
    rows = []
    for name, cfg in configs.items():
        doc = " ".join((FIGURE_KINDS[cfg["kind"]].__doc__ or "").split())
        doc = re.split(r"(?<! al)\.\s", doc)[0].rstrip(".")  # its first sentence ("et al." is not an end)
        doc = doc.replace("|", "\\|")  # a Markdown table cell
        made = (out_dir / f"{name}.png").exists()
        rows.append(
            f"| `{name}` | {cfg.get('title', doc) or cfg['kind']} | `randfield figures --only {name}"
            f"{' --quick' if quick else ''}` | {'yes' if made else 'not yet made'} |"
        )
    text = "\n".join(
        [
            "# Figures",
            "",
            "Generated by `randfield figures` (this index too): each `NAME.png`/`.pdf` comes from",
            "`experiments/NAME.toml`; `NAME.json` holds its config, the randfield version, the digest of the",
            "figure function's source and the numbers plotted. What each figure shows and how well theory and",
            "simulation agree: [docs/results.md](../docs/results.md).",
            "",
            "| figure | what it is | command | here |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    atomic_write_bytes(out_dir / "README.md", text.encode())
