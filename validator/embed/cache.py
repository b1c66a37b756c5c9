"""A persistent embedding cache: each text is embedded once per embedder, not once per run.

Entries are keyed by (the embedder's content hash, the SHA-256 of the text's UTF-8 bytes) and
hold the vector exactly as the embedder returned it (dtype, shape and bytes), so a value read
from the cache is bit for bit the value that was computed. The embedder's content hash covers
what changes its vectors: the hashing artefact's SHA-256 (its arrays and configuration), or for
``minilm`` / ``e5`` the bytes of every file of the package that ships the model plus the
embedder's configuration and the versions of the libraries that run it
(:func:`embedder_key`); the cache format and the package version are part of every key.

Storage is one SQLite table (the standard library's ``sqlite3``) in
``$XDG_CACHE_HOME/pretrain-validator/embeddings.sqlite`` (``~/.cache/...`` when the variable
is unset), in WAL mode so that concurrent runs share it safely: SQLite's locking serialises
writers, a reader sees whole entries only, and an entry is inserted once (a second writer of
the same key keeps the first value). Each entry stores a SHA-256 of its vector bytes; a corrupt
or truncated entry is dropped and recomputed, with one warning per run. The entries' total size
(vector bytes plus key and per-entry overhead, :data:`ENTRY_OVERHEAD`) is kept under a limit
(:data:`DEFAULT_MAX_BYTES`, 2 GB) by evicting the least recently used entries (a look-up that
hits refreshes an entry).

A cache that cannot be opened or written (a read-only folder, a full disk, a file that is not
a database) gives one warning and the run goes on without it: the cache never stops a run and
never changes a value.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .._version import __version__

#: Entries' total size above which least-recently-used entries are evicted (2 GB).
DEFAULT_MAX_BYTES = 2 * 1000**3
#: Bytes counted per entry beyond its vector (key, digest, row and index overhead, approximately).
ENTRY_OVERHEAD = 128
#: Bumped when the stored layout or the key derivation changes: old entries are then never read.
FORMAT = 1
FILE_NAME = "embeddings.sqlite"
_CHUNK = 500  # keys per SELECT (below SQLite's variable limit)

# distribution name -> SHA-256 of its files, computed once per process
_PACKAGE_HASHES: dict[str, str] = {}


class EmbeddingCacheWarning(UserWarning):
    """The embedding cache could not be used, or an entry was corrupt (recomputed)."""


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/pretrain-validator``, or ``~/.cache/pretrain-validator``."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "pretrain-validator"


def package_hash(distribution: str) -> str:
    """SHA-256 over the relative paths and bytes of every installed file of ``distribution``
    (its code, model weights and configuration; byte-compiled files and the install record
    are left out), cached for the process. Empty when it is not installed."""
    if distribution in _PACKAGE_HASHES:
        return _PACKAGE_HASHES[distribution]
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""
    h = hashlib.sha256()
    for f in sorted(dist.files or [], key=str):
        name = str(f)
        if name.endswith(".pyc") or "__pycache__" in name or name.endswith((".dist-info/RECORD", ".dist-info/INSTALLER")):
            continue
        path = Path(dist.locate_file(f))
        if not path.is_file():
            continue
        h.update(name.encode("utf-8", "surrogatepass") + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    _PACKAGE_HASHES[distribution] = h.hexdigest()
    return _PACKAGE_HASHES[distribution]


def embedder_key(embedder) -> str:
    """The content hash an embedder's cache entries are keyed by.

    A hashing embedder: its artefact's SHA-256 (arrays and configuration). A pretrained one
    (``content_hash()``): its model package's files, configuration and runtime versions. Any
    other object without one of these has no key (None: it is not cached).
    """
    if getattr(embedder, "sha256", ""):
        return f"v{FORMAT}:{__version__}:hashing:{embedder.sha256}"
    content = getattr(embedder, "content_hash", None)
    if callable(content):
        return f"v{FORMAT}:{__version__}:{embedder.name}:{content()}"
    return None


def text_key(embedder_hash: str, text: str) -> bytes:
    """The 32-byte key of one text's entry under an embedder's hash."""
    h = hashlib.sha256(embedder_hash.encode("ascii") + b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


class EmbeddingCache:
    """The on-disk embedding cache in one folder; obtain one with :meth:`open`.

    Parameters
    ----------
    directory : path
    max_bytes : int
        Entries' total size kept under this (least recently used evicted first).
    """

    def __init__(self, directory, max_bytes: int = DEFAULT_MAX_BYTES):
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0:
            raise ValueError(f"max_bytes must be an int >= 0, got {max_bytes!r}")
        self.directory = Path(directory)
        self.max_bytes = int(max_bytes)
        self.path = self.directory / FILE_NAME
        self.hits = 0
        self.misses = 0
        self.corrupt = 0
        self.disabled = False
        self._warned_corrupt = False
        self._clock = 0
        self._lock = threading.Lock()  # one connection, used by one thread at a time
        self.directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, dtype TEXT NOT NULL, dim INTEGER NOT NULL,"
                " value BLOB NOT NULL, digest BLOB NOT NULL, size INTEGER NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS entries_used ON entries(used)")
            # the entries' total size, kept by triggers in the writing transaction itself (so
            # eviction never scans the table, and concurrent writers keep it exact)
            self._db.execute("CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL)")
            if self._db.execute("SELECT bytes FROM total WHERE id = 0").fetchone() is None:
                self._db.execute("INSERT OR IGNORE INTO total SELECT 0, COALESCE(SUM(size), 0) FROM entries")
            self._db.execute("CREATE TRIGGER IF NOT EXISTS entries_in AFTER INSERT ON entries"
                             " BEGIN UPDATE total SET bytes = bytes + NEW.size WHERE id = 0; END")
            self._db.execute("CREATE TRIGGER IF NOT EXISTS entries_out AFTER DELETE ON entries"
                             " BEGIN UPDATE total SET bytes = bytes - OLD.size WHERE id = 0; END")
            self._db.execute("BEGIN IMMEDIATE")  # proves the folder and file are writable
            self._db.execute("COMMIT")
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, directory=None, max_bytes: int = DEFAULT_MAX_BYTES) -> "EmbeddingCache | None":
        """The cache in ``directory`` (default :func:`default_dir`), or None with one
        :class:`EmbeddingCacheWarning` when it cannot be created, opened or written."""
        directory = default_dir() if directory is None else Path(directory)
        try:
            return cls(directory, max_bytes)
        except (OSError, sqlite3.Error) as exc:
            warnings.warn(f"embedding cache disabled, embedding without it: cannot use {directory}: {exc}",
                          EmbeddingCacheWarning, stacklevel=2)
            return None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _now(self) -> int:
        """A last-use stamp: wall-clock nanoseconds, strictly increasing within this object."""
        self._clock = max(time.time_ns(), self._clock + 1)
        return self._clock

    def _fail(self, exc: BaseException) -> None:
        self.disabled = True
        warnings.warn(f"embedding cache disabled for the rest of the run ({self.path}): {exc}", EmbeddingCacheWarning, stacklevel=3)

    def get_many(self, embedder_hash: str, texts: list[str]) -> dict[int, np.ndarray]:
        """Cached vectors of ``texts`` under ``embedder_hash``: {index in texts: vector}.

        A corrupt or truncated entry is deleted (and so recomputed by the caller), with one
        warning per cache object; a hit refreshes the entry's last use."""
        if self.disabled or not texts:
            return {}
        with self._lock:
            return self._get_many(embedder_hash, texts)

    def _get_many(self, embedder_hash: str, texts: list[str]) -> dict[int, np.ndarray]:
        keys = [text_key(embedder_hash, t) for t in texts]
        where: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            where.setdefault(k, []).append(i)
        found: dict[int, np.ndarray] = {}
        bad: list[bytes] = []
        unique = list(where)
        try:
            for s in range(0, len(unique), _CHUNK):
                chunk = unique[s : s + _CHUNK]
                rows = self._db.execute(
                    f"SELECT key, dtype, dim, value, digest FROM entries WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                for key, dtype, dim, value, digest in rows:
                    v = _decode(dtype, dim, value, digest)
                    if v is None:
                        bad.append(key)
                        continue
                    for i in where[key]:
                        found[i] = v
            now = self._now()
            hit = [k for k in unique if found.get(where[k][0]) is not None]
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE entries SET used = ? WHERE key = ?", [(now, k) for k in hit])
            self._db.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in bad])
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._fail(exc)
            return {}
        if bad:
            self.corrupt += len(bad)
            if not self._warned_corrupt:
                self._warned_corrupt = True
                warnings.warn(f"embedding cache {self.path}: {len(bad)} corrupt or truncated entr{'y' if len(bad) == 1 else 'ies'}"
                              " dropped and recomputed", EmbeddingCacheWarning, stacklevel=2)
        self.hits += len(found)
        self.misses += len(texts) - len(found)
        return found

    def put_many(self, embedder_hash: str, texts: list[str], vectors) -> None:
        """Store ``vectors[i]`` (one row per text) for ``texts[i]``; then evict least recently
        used entries past ``max_bytes``. An entry already present is kept as it is."""
        if self.disabled or not len(texts):
            return
        with self._lock:
            self._put_many(embedder_hash, texts, vectors)

    def _put_many(self, embedder_hash: str, texts: list[str], vectors) -> None:
        now = self._now()
        rows = []
        for t, v in zip(texts, vectors):
            v = np.ascontiguousarray(v)
            value = v.tobytes()
            rows.append((text_key(embedder_hash, t), v.dtype.str, int(v.size), value, hashlib.sha256(value).digest(),
                         len(value) + ENTRY_OVERHEAD, now))
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._evict()
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._fail(exc)

    def _evict(self) -> None:
        total = self._db.execute("SELECT bytes FROM total WHERE id = 0").fetchone()[0]
        if total <= self.max_bytes:
            return
        excess = total - self.max_bytes
        freed = 0
        victims = []
        for key, size in self._db.execute("SELECT key, size FROM entries ORDER BY used, key"):
            victims.append((key,))
            freed += size
            if freed >= excess:
                break
        self._db.executemany("DELETE FROM entries WHERE key = ?", victims)

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def entries(self) -> int:
        """Entries stored now."""
        return self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def size(self) -> int:
        """Entries' total counted size in bytes."""
        return self._db.execute("SELECT bytes FROM total WHERE id = 0").fetchone()[0]


def _decode(dtype: str, dim: int, value: bytes, digest: bytes) -> np.ndarray | None:
    """The stored vector, or None when the entry is corrupt (wrong length, bad digest, bad dtype)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        return None
    if not isinstance(value, bytes) or len(value) != dt.itemsize * dim or hashlib.sha256(value).digest() != digest:
        return None
    return np.frombuffer(value, dtype=dt).copy()

