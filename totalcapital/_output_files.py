"""Writing outputs without losing a file: manifests, locks, staging, and inputs kept apart.

- A result folder holds ``manifest.json``: every file the run wrote, with its SHA-256 and the
  run's id. A later run replaces only those files. Any other file is left where it is, and a
  written file the user has changed since is kept under a new name
  (``ledger.edited-20260401-101500.csv``), never overwritten.
- A non-empty folder without a manifest was not written by totalcapital: runs refuse it.
- Runs writing one output take a lock (``.<name>.lock`` beside the folder), so the tables,
  workbook and map on disk always come from the same run.
- Files are first written to a staging folder beside the result (``.<name>.tc-staging-*``,
  holding a marker file) and moved in once complete; a staging folder left by a killed run is
  removed by the next run, and nothing without the marker ever is.
- Maps replace only maps that totalcapital wrote (marked by a comment at the end of the page).
- An output may never be one of the run's inputs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ._cache import file_sha256 as sha256
from ._errors import OutputError

log = logging.getLogger(__name__)

__all__ = [
    "MANIFEST_FILE",
    "check_map_target",
    "aside_name",
    "check_result_folder",
    "install_result_folder",
    "new_run_id",
    "output_lock",
    "read_manifest",
    "refuse_outputs_over_inputs",
    "write_map_file",
]

MANIFEST_FILE = "manifest.json"
_WRITTEN_BY = "totalcapital"
_STAGING_MARKER = ".totalcapital-staging"
_STAGING_INFIX = ".tc-staging-"
_PARTIAL_INFIX = ".tc-partial-"
# A staging folder lives for seconds; one this old belongs to a run that was killed.
_STALE_SECONDS = 3600.0
_MAP_MARKER = "<!-- totalcapital map"
# Maps written before the marker existed carry this title.
_LEGACY_MAP_TITLE = "<title>totalcapital — "
# A file name a manifest may list: plain names inside the folder, nothing hidden.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,200}$")
_MANIFEST_BYTES_MAX = 1_000_000


def new_run_id() -> str:
    """A run's id: when it started and a random part, e.g. ``20260401T101500-3f9a1c``."""
    return f"{datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


# --------------------------------------------------------------------------- locks

_held = threading.local()


def _lock_file(handle: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        while True:
            try:
                msvcrt.locking(handle, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after ten seconds; keep waiting
                continue
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("Waiting for another totalcapital run to finish writing the same output")
        fcntl.flock(handle, fcntl.LOCK_EX)


@contextmanager
def output_lock(target: str | Path) -> Iterator[None]:
    """Hold the lock of an output (a result folder or a file) while writing it.

    The lock file ``.<name>.lock`` sits beside ``target`` and stays there (removing a lock
    file while another run waits on it would let two runs in). Re-entrant in one thread.
    """
    target = Path(target)
    lock_path = (target.parent / f".{target.name}.lock").absolute()
    held: set[Path] = getattr(_held, "paths", set())
    _held.paths = held
    if lock_path in held:
        yield
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Never through a link: a planted link could otherwise create or open a file elsewhere.
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        _lock_file(handle)  # released when the handle closes, also if the process dies
        held.add(lock_path)
        try:
            yield
        finally:
            held.discard(lock_path)
    finally:
        os.close(handle)


# --------------------------------------------------------------------------- inputs vs outputs


def _same_place(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.absolute().resolve() == b.absolute().resolve()


def refuse_outputs_over_inputs(outputs: Iterable[Path], inputs: Mapping[str, Path]) -> None:
    """Raise :class:`OutputError` when an output path is (or links to) one of the inputs."""
    for output in outputs:
        for role, source in inputs.items():
            if source is not None and _same_place(Path(output), Path(source)):
                raise OutputError(
                    f"{output}: expected an output path, found one of the run's inputs "
                    f"({role}: {source}); writing there would destroy it, so choose another"
                )


# --------------------------------------------------------------------------- manifests


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when the folder holds no manifest written by us.

    Entries that are not plain file names in the folder (a forged ``../x`` or ``/etc/x``)
    are dropped with a warning: a manifest can never point outside its folder.
    """
    path = folder / MANIFEST_FILE
    try:
        if not path.is_file() or path.stat().st_size > _MANIFEST_BYTES_MAX:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != _WRITTEN_BY:
        return None
    files: dict[str, list[str]] = {}
    for key in ("files", "pending"):
        entries = data.get(key) or {}
        if not isinstance(entries, dict):
            continue
        for name, digest in entries.items():
            if not (isinstance(name, str) and _PLAIN_NAME.match(name)) or name == MANIFEST_FILE:
                log.warning(
                    "%s: ignored the manifest entry %r (not a file of this folder)", path, name
                )
                continue
            if isinstance(digest, str):
                files.setdefault(name, []).append(digest)
    return {
        "run_id": str(data.get("run_id", "")),
        "complete": data.get("complete") is True,
        "files": files,
    }


def _write_manifest(folder: Path, run_id: str, files: dict, pending: dict, complete: bool) -> None:
    manifest = {
        "written_by": _WRITTEN_BY,
        "about": "The files this run wrote; the next run replaces these and no others.",
        "run_id": run_id,
        "complete": complete,
        "files": files,
        "pending": pending,
    }
    handle, staging = tempfile.mkstemp(prefix=f".{MANIFEST_FILE}.", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2)
        stream.write("\n")
    os.chmod(staging, 0o666 & ~_umask())
    os.replace(staging, folder / MANIFEST_FILE)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_result_folder(folder: Path) -> None:
    """Refuse a result folder a run may not write: a file, or a folder of someone else's."""
    if folder.is_symlink() and not folder.exists():
        raise OutputError(f"{folder}: expected a result folder, found a broken link")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: expected a result folder, found a file; not replacing it")
    for parent in folder.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent}: expected a folder for results, found a file")
    if not folder.is_dir():
        return
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise OutputError(
            f"{folder}: expected a result folder, found one that cannot be read ({exc.strerror})"
        ) from None
    if not empty and read_manifest(folder) is None:
        raise OutputError(
            f"{folder}: expected an earlier result folder (with a {MANIFEST_FILE}) or none, "
            "found a folder of other files; not replacing it (choose another --output-dir; a "
            "result folder written before manifests existed has none: move it away)"
        )


def aside_name(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.edited-{stamp}{path.suffix}")
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}.edited-{stamp}-{number}{path.suffix}")
        number += 1
    return candidate


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # unknown: rely on age alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def clean_stale_staging(parent: Path) -> None:
    """Remove staging folders and partial maps that killed runs left in ``parent``.

    Only entries named like ours are considered; a folder also needs our marker file, whose
    process is gone (same machine) or which is over an hour old.
    """
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    now = time.time()
    host = socket.gethostname()
    for entry in entries:
        name = entry.name
        try:
            info = entry.lstat()
        except OSError:
            continue
        if name.startswith(".") and _PARTIAL_INFIX in name and stat.S_ISREG(info.st_mode):
            if now - info.st_mtime > _STALE_SECONDS:
                entry.unlink(missing_ok=True)
                log.info("Removed %s, left by an interrupted run", entry)
            continue
        if not (name.startswith(".") and _STAGING_INFIX in name and stat.S_ISDIR(info.st_mode)):
            continue
        try:
            marker = json.loads((entry / _STAGING_MARKER).read_text(encoding="utf-8"))
            pid, created = int(marker["pid"]), float(marker["created"])
            same_host = marker.get("host") == host
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours: never touched
        if (same_host and not _pid_alive(pid)) or now - created > _STALE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)
            log.info("Removed %s, left by an interrupted run", entry)


def _staging_folder(folder: Path) -> Path:
    # Beside the folder's real place (it may be a link), so files move in without copying.
    place = folder.resolve().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}{_STAGING_INFIX}", dir=place))
    marker = {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}
    (staging / _STAGING_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return staging


def install_result_folder(folder: Path, fill: Callable[[Path], None], run_id: str) -> Path:
    """Write a result folder: ``fill(staging)`` writes the files, which then replace the old.

    Raises
    ------
    OutputError
        When the folder is not ours (see :func:`check_result_folder`) or a file we would
        write is held by a folder or other non-file of the user's.
    """
    folder = Path(folder)
    check_result_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(folder.resolve().parent)
    staging = _staging_folder(folder)
    try:
        fill(staging)
        (staging / _STAGING_MARKER).unlink()
        new = {p.name: sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        with output_lock(folder):
            check_result_folder(folder)
            folder.mkdir(exist_ok=True)
            old = (read_manifest(folder) or {"files": {}})["files"]
            for name in new:
                existing = folder / name
                if (existing.exists() or existing.is_symlink()) and (
                    name not in old or existing.is_symlink() or not existing.is_file()
                ):
                    raise OutputError(
                        f"{existing}: expected a file written by an earlier run, found a file, "
                        "folder or link of yours; not replacing it (move it, then run again)"
                    )
            # An interrupted write leaves this manifest behind, so the next run knows both
            # the old and the new files as its own.
            present = {name: digests[0] for name, digests in old.items()}
            _write_manifest(folder, run_id, present, new, complete=False)
            for name, digests in old.items():
                path = folder / name
                if not path.is_file() or path.is_symlink():
                    continue
                if sha256(path) not in digests + [new.get(name)]:
                    aside = aside_name(path)
                    os.replace(path, aside)
                    log.warning("%s was changed since it was written; kept it as %s", path, aside)
                elif name not in new:
                    path.unlink()
            for name in new:
                os.replace(staging / name, folder / name)
            _write_manifest(folder, run_id, new, {}, complete=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# --------------------------------------------------------------------------- maps


def _is_our_map(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
            stream.seek(max(0, path.stat().st_size - 1024))
            tail = stream.read()
    except OSError:
        return False
    return _MAP_MARKER.encode() in tail or _LEGACY_MAP_TITLE.encode() in head


def check_map_target(path: Path) -> None:
    """Refuse a map path that is a folder, or a file that is not a map totalcapital wrote."""
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent}: expected a folder for maps, found a file")
    if path.is_dir():
        raise OutputError(f"{path}: expected a map file (.html), found a folder")
    if path.exists() and not _is_our_map(path):
        raise OutputError(
            f"{path}: expected a map written by totalcapital or no file, found another file; "
            "not replacing it (choose another path or move it)"
        )


def write_map_file(path: Path, render: Callable[[Path], None], run_id: str | None = None) -> Path:
    """Write a map beside its place and swap it in (whole or not at all), under its lock."""
    path = Path(path)
    check_map_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(path.parent)
    handle, staging_name = tempfile.mkstemp(
        prefix=f".{path.stem}{_PARTIAL_INFIX}", suffix=".html", dir=path.parent
    )
    os.close(handle)
    staging = Path(staging_name)
    try:
        render(staging)
        with staging.open("a", encoding="utf-8") as stream:
            stream.write(f"\n{_MAP_MARKER}{f'; run {run_id}' if run_id else ''} -->\n")
        os.chmod(staging, 0o666 & ~_umask())  # mkstemp makes the file private
        with output_lock(path):
            check_map_target(path)
            os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path
