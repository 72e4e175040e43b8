"""Content-keyed ``.npz`` files: the disk cache of parsed road graphs and travel-time matrices."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np


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
    """Write arrays to ``path`` (an ``.npz``), renaming into place only once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".partial.npz")
    np.savez(temporary, **arrays)
    # A crash mid-write must never leave a truncated file under the real name.
    temporary.replace(path)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` into memory."""
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}
