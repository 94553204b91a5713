"""The artifact store: where a study's checkpoints and artifacts live, written atomically and checksummed.

A store is a local directory or an fsspec URL (`s3://bucket/run`, `memory://x`, `file:///...`;
fsspec is imported only for a URL). Every object is addressed by a path relative to the store's
root; the storage (trial system attributes) records that path with its size and SHA-256, and
nothing that is not recorded there is ever loaded.

Local writes are atomic: the files go to a temporary name beside the target, each is fsynced,
then one `rename` makes the whole checkpoint appear, and the parent directory is fsynced. A
writer killed at any moment leaves either nothing under the final name or the complete files
(and only a recorded path is read). On an fsspec store, where a rename is often a copy, the files
are written under their final name and become visible when the record is written after the
upload; the checksum, verified on every load, catches anything else.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hyperdial._imports import optional_import
from hyperdial.exceptions import HyperdialError

_CHUNK = 1 << 20


class CorruptArtifact(HyperdialError, OSError):
    """A stored object is missing or its checksum differs from the record."""


def is_url(location: str) -> bool:
    return "://" in location


def safe_name(name: str) -> str:
    """A study name as one path component (no separators, never '.' or '..')."""
    quoted = quote(name, safe="-_.")
    return "%2E" + quoted[1:] if quoted.startswith(".") else quoted


def _digest(files: list[tuple[str, str]]) -> str:
    """The checksum of a set of files: SHA-256 over their sorted (relative path, SHA-256) pairs."""
    h = hashlib.sha256()
    for rel, sha in sorted(files):
        h.update(f"{rel}\0{sha}\n".encode())
    return h.hexdigest()


def _walk(src: Path) -> list[tuple[Path, str]]:
    """The files of `src` (a file, or a directory walked recursively) with their relative posix paths."""
    if src.is_file():
        return [(src, src.name)]
    out = []
    for path in sorted(src.rglob("*")):
        if path.is_file():
            out.append((path, path.relative_to(src).as_posix()))
    return out


def _copy_hashed(src: Path, dst: Path) -> tuple[int, str]:
    """Copy one file, fsync it, and return its size and SHA-256 (computed from what was written)."""
    h = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, h.hexdigest()


def _hash_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def hash_tree(root: Path) -> tuple[int, str]:
    """Total size and checksum of the files under `root`, as `put_tree` records them."""
    files, total = [], 0
    for path, rel in _walk(root):
        size, sha = _hash_file(path)
        files.append((rel, sha))
        total += size
    return total, _digest(files)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_temp_roots: list[str] = []


def temporary_root() -> str:
    """A fresh directory for an in-memory study's artifacts, removed when the process exits."""
    root = tempfile.mkdtemp(prefix="hyperdial-artifacts-")
    _temp_roots.append(root)
    return root


@atexit.register
def _remove_temporary_roots() -> None:
    for root in _temp_roots:
        shutil.rmtree(root, ignore_errors=True)


class Store:
    """A directory or fsspec URL holding objects addressed by relative paths."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._fs: Any = None
        self._root = location
        self._cache: Path | None = None
        if is_url(location):
            fsspec = optional_import("fsspec", extra="artifacts", purpose=f"the artifact store {location!r}")
            self._fs, self._root = fsspec.core.url_to_fs(location)
            self._root = self._root.rstrip("/")

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    @property
    def is_local(self) -> bool:
        return self._fs is None

    def _local(self, rel: str) -> Path:
        return Path(self._root) / rel

    def _remote(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    # -- writing ---------------------------------------------------------------
    def put_tree(self, src: Path, rel: str) -> tuple[int, str]:
        """Store a file or a directory's files under the directory `rel`; return (size, checksum).

        The objects appear all at once (local) or are complete before the caller records them.
        """
        if self.is_local:
            final = self._local(rel)
            tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
            files, total = [], 0
            try:
                tmp.mkdir(parents=True)
                for path, name in _walk(src):
                    size, sha = _copy_hashed(path, tmp / name)
                    files.append((name, sha))
                    total += size
                for sub in sorted({p.parent for p in tmp.rglob("*")}, key=lambda p: -len(p.parts)):
                    _fsync_dir(sub)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _fsync_dir(final.parent)
            return total, _digest(files)
        files, total = [], 0
        for path, name in _walk(src):
            size, sha = _hash_file(path)
            self._fs.makedirs(self._remote(f"{rel}/{name}").rsplit("/", 1)[0], exist_ok=True)
            self._fs.put_file(str(path), self._remote(f"{rel}/{name}"))
            files.append((name, sha))
            total += size
        return total, _digest(files)

    def put_file(self, src: Path, rel: str) -> tuple[int, str]:
        """Store one file at `rel` (replacing an older one atomically, locally); return (size, SHA-256)."""
        if self.is_local:
            final = self._local(rel)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
            try:
                size, sha = _copy_hashed(src, tmp)
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            _fsync_dir(final.parent)
            return size, sha
        size, sha = _hash_file(src)
        self._fs.makedirs(self._remote(rel).rsplit("/", 1)[0], exist_ok=True)
        self._fs.put_file(str(src), self._remote(rel))
        return size, sha

    # -- reading ---------------------------------------------------------------
    def _cache_dir(self) -> Path:
        if self._cache is None:
            self._cache = Path(temporary_root())
        return self._cache

    def get_tree(self, rel: str, checksum: str) -> Path:
        """The local directory holding the files stored under `rel`, verified against `checksum`."""
        if self.is_local:
            local = self._local(rel)
            if not local.is_dir():
                raise CorruptArtifact(f"checkpoint {rel!r} is missing from {self.location!r}")
        else:
            local = self._cache_dir() / rel
            if not (local.is_dir() and hash_tree(local)[1] == checksum):
                shutil.rmtree(local, ignore_errors=True)
                remote = self._remote(rel)
                if not self._fs.exists(remote):
                    raise CorruptArtifact(f"checkpoint {rel!r} is missing from {self.location!r}")
                for path in self._fs.find(remote):
                    name = path[len(remote.rstrip("/")) + 1:] if path.startswith(remote) else path.rsplit("/", 1)[-1]
                    (local / name).parent.mkdir(parents=True, exist_ok=True)
                    self._fs.get_file(path, str(local / name))
        if hash_tree(local)[1] != checksum:
            raise CorruptArtifact(f"checkpoint {rel!r} in {self.location!r} does not match its recorded checksum")
        return local

    def get_file(self, rel: str, sha256: str) -> Path:
        """A local path of the file stored at `rel`, verified against `sha256`."""
        if self.is_local:
            local = self._local(rel)
            if not local.is_file():
                raise CorruptArtifact(f"artifact {rel!r} is missing from {self.location!r}")
        else:
            local = self._cache_dir() / rel
            local.parent.mkdir(parents=True, exist_ok=True)
            if not self._fs.exists(self._remote(rel)):
                raise CorruptArtifact(f"artifact {rel!r} is missing from {self.location!r}")
            self._fs.get_file(self._remote(rel), str(local))
        if _hash_file(local)[1] != sha256:
            raise CorruptArtifact(f"artifact {rel!r} in {self.location!r} does not match its recorded checksum")
        return local

    # -- deleting --------------------------------------------------------------
    def delete(self, rel: str) -> None:
        """Remove a file or a directory (and what is under it); a missing one is not an error."""
        if self.is_local:
            path = self._local(rel)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        elif self._fs.exists(self._remote(rel)):
            self._fs.rm(self._remote(rel), recursive=True)
