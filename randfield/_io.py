"""Files: results written atomically (temp file + rename, the user's umask kept) with the config and
version that made them; files read back as data only, never as code (docs/security.md).

Every file randfield reads may come from someone else, so nothing here unpickles arbitrary objects:
torch files are loaded with `weights_only=True` (tensors, numbers, strings and containers of them)
and numpy files with `allow_pickle=False`. A file of the wrong kind, truncated, empty or garbage is
one `FileFormatError` (a ValueError) that names the file and what was expected.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np


class FileFormatError(ValueError):
    """A file that is missing, unreadable or not what the caller expected (names the file)."""


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder and a rename: readers never see a
    half-written file and an interrupted write leaves the old one. The file gets the mode an ordinary
    `open(path, "w")` would give it (0o666 less the umask; an existing file keeps its mode), not
    mkstemp's 0o600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_path(path: str | Path | None, name: str) -> None:
    """Refuse an output path that cannot be written, before any work starts (ValueError naming `name`)."""
    if path is None:
        return
    if str(path) == "":
        raise ValueError(f"{name}: the output path is empty")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is a directory, expected a file path")
    parent = path.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise ValueError(f"{name}: {str(ancestor)!r} is a file, so {str(path)!r} cannot be created")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise ValueError(f"{name}: {str(ancestor)!r} is not writable")
            break


def _check_input_file(path: Path, what: str) -> None:
    if not path.exists():
        raise FileFormatError(f"{what} {str(path)!r} does not exist")
    if path.is_dir():
        raise FileFormatError(f"{what} {str(path)!r} is a directory, expected a file")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{what} {str(path)!r} is empty")


def read_torch(path: str | Path, what: str, keys: Iterable[str], *, device: str = "cpu") -> dict:
    """A dict that randfield wrote with `torch.save`, loaded as data only (`weights_only=True`).

    Args:
        what: what the file should be ("training checkpoint", "model file", ...), for messages.
        keys: entries the dict must have; a file without them is another kind of file.
    """
    path = Path(path)
    _check_input_file(path, what)
    import torch

    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        if found is None:  # not a pickle of anything: random bytes, another format
            raise FileFormatError(
                f"{what} {str(path)!r} is not a readable torch file (corrupt or of another kind)"
            ) from None
        raise FileFormatError(
            f"{what} {str(path)!r} refused: it names the Python object {found.group(1)}, not tensors and plain "
            "data, and loading it could run code"
        ) from None
    except Exception as err:  # truncated zip, garbage bytes, unknown storage...: not a torch file
        raise FileFormatError(
            f"{what} {str(path)!r} is not a readable torch file (truncated or of another kind): {type(err).__name__}"
        ) from None
    missing = [k for k in keys if not (isinstance(state, dict) and k in state)]
    if missing:
        found = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
        raise FileFormatError(f"{str(path)!r} is not a randfield {what}: missing {missing} (found {found})")
    return state


def load_weights(module, state_dict: dict, path: str | Path, what: str) -> None:
    """`module.load_state_dict(state_dict)` with one-line errors: keys or shapes that do not fit
    (another model, another width) and NaN/inf weights name the file and the first mismatch."""
    import torch

    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise FileFormatError(f"{what} {str(path)!r}: its weights are not a dict of tensors")
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise FileFormatError(
            f"{what} {str(path)!r} does not fit this model: missing weights {missing[:3]}, unexpected {unexpected[:3]}"
        )
    for key, value in state_dict.items():
        if value.shape != expected[key].shape:
            raise FileFormatError(
                f"{what} {str(path)!r} does not fit this model: {key!r} has shape {tuple(value.shape)}, "
                f"expected {tuple(expected[key].shape)} (a model of another size?)"
            )
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise FileFormatError(f"{what} {str(path)!r}: weights {key!r} contain NaN or inf")
    module.load_state_dict(state_dict)


def _numpy_load(path: Path, what: str, kind: str, read=None):
    """read() (default: np.load without pickles); numpy's failures as one FileFormatError naming the file."""
    try:
        return read() if read is not None else np.load(path, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise FileFormatError(f"{what} {str(path)!r} refused: it holds Python objects (pickled)") from None
        raise FileFormatError(f"{what} {str(path)!r} is not {kind}: {err}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise FileFormatError(f"{what} {str(path)!r} is not {kind} ({type(err).__name__})") from None


def read_npy(path: str | Path, what: str) -> np.ndarray:
    """A finite float64 array from a .npy file, without unpickling (`allow_pickle=False`)."""
    path = Path(path)
    _check_input_file(path, what)
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic[:4] == b"PK\x03\x04":
        raise FileFormatError(f"{what} {str(path)!r} is a zip archive (.npz or torch file), expected one .npy array")
    if magic != b"\x93NUMPY":
        raise FileFormatError(f"{what} {str(path)!r} is not a .npy file (no NumPy header)")
    arr = _numpy_load(path, what, "a .npy array")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise FileFormatError(f"{what} {str(path)!r} holds {arr.dtype} values, expected real numbers")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise FileFormatError(f"{what} {str(path)!r} contains NaN or inf")
    return arr


def read_npz(path: str | Path, what: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """The named arrays of an .npz archive, without unpickling; every key must be present."""
    path = Path(path)
    _check_input_file(path, what)
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise FileFormatError(f"{what} {str(path)!r} is not an .npz archive (no zip header)")
    archive = _numpy_load(path, what, "an .npz archive")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise FileFormatError(f"{what} {str(path)!r} is a single array, expected an .npz archive")
    with archive:
        missing = [k for k in keys if k not in archive.files]
        if missing:
            raise FileFormatError(f"{str(path)!r} is not a randfield {what}: missing {missing}")
        return _numpy_load(path, what, "an intact .npz archive", lambda: {k: archive[k] for k in keys})


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n").encode())


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"cannot serialise {type(x).__name__}")


def source_digest() -> str:
    """SHA-256 of the package's Python sources: cached results go stale when the code changes."""
    import hashlib

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def provenance(config: dict) -> dict:
    """What made a result: the config, the randfield version and a digest of its source code."""
    from . import __version__

    return {"randfield_version": __version__, "source_digest": source_digest(), "config": config}
