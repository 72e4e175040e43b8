"""Content-keyed ``.npz`` files: the disk cache of parsed road graphs and travel-time matrices."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content (so a renamed or touched file still hits the cache)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_key(*parts: Any) -> str:
    """A short hex key of arrays (by dtype and bytes) and JSON-able values."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(str(part.dtype).encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to ``path`` (an ``.npz``), renaming into place only once complete.

    A cache that cannot be written (a full disk, a read-only folder) only costs time later,
    so it is logged, never raised.
    """
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own, so two runs caching the same key never write one file together.
        handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
        os.close(handle)
        temporary = Path(name)
        np.savez(temporary, **arrays)
        # A crash mid-write must never leave a truncated file under the real name.
        temporary.replace(path)
    except OSError as exc:
        logger.warning("Could not write the cache file %s: %s", path, exc.strerror or exc)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


class CacheDamaged(Exception):
    """A cache file cannot be used (truncated, overwritten, or from another program)."""


def load_arrays(path: Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` into memory.

    Raises
    ------
    CacheDamaged
        When the file cannot be read as arrays or lacks one of ``required``; callers then
        compute afresh and overwrite it.
    """
    try:
        # Opened here so that the file is closed even when numpy cannot read it.
        with Path(path).open("rb") as stream, np.load(stream, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except Exception as exc:  # zip, npy-format and I/O errors all mean "not usable"
        raise CacheDamaged(f"{path}: {exc}") from None
    missing = [name for name in required if name not in arrays]
    if missing:
        raise CacheDamaged(f"{path}: no {', '.join(missing)}")
    return arrays
