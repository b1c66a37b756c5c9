"""Reference data: reference files, the data files as committed at a git revision, profiles
and frozen embedders, each read once per run and summarised like the data.

The checks never read a file themselves: they ask a :class:`ReferenceStore`. Imports: the
readers (summaries.io), summaries.frame, rules, embed, profile files; nothing above.
"""

from __future__ import annotations

import glob as globbing
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from ..embed.cache import EmbeddingCache
from ..embed.hashing import EmbedderError, HashingEmbedder
from ..embed.models import ExtraMissing, load_pretrained
from ..errors import ReferenceMissing
from ..rules.model import EmbedSpec, NumericReferenceRule, Reference, ReferenceRule
from ..rules.ruleset import RuleSet
from .frame import FrameSummaries, MeasurementError
from .io import SUPPORTED, DataReadError, extension, read_table
from .profile_file import load_profile

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"  # first line of every git LFS pointer file


def _git_show(path: Path, rev: str) -> bytes | None:
    """The content of ``path`` at ``rev``, or None when the revision does not have the file.

    Read through git's own filters (``git cat-file --filters``), so a file tracked with git LFS
    is its real content, as a checkout would write it, not the pointer text."""
    path = Path(path).resolve()
    try:
        proc = subprocess.run(["git", "cat-file", "--filters", f"{rev}:./{path.name}"], cwd=path.parent, capture_output=True)
    except FileNotFoundError:
        raise MeasurementError("a git reference needs git, which is not installed") from None
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == 0 and not proc.stdout.startswith(LFS_POINTER):
        return proc.stdout
    if proc.returncode == 0 or "git-lfs" in err or "smudge" in err:
        raise MeasurementError(_lfs_missing(path.name, rev))
    if "does not exist in" in err or "exists on disk, but not in" in err:
        return None
    first = err.splitlines()[0] if err else f"exit code {proc.returncode}"
    raise MeasurementError(f"git show {rev}:{path.name} (in {path.parent}) failed: {first}")


def _lfs_missing(name: str, rev: str) -> str:
    """One line saying why a git LFS file's content at ``rev`` cannot be read, and what to run."""
    if shutil.which("git-lfs") is None:
        return (f"{name} at {rev} is a git LFS pointer and git-lfs is not installed: install git-lfs "
                "(Debian package git-lfs), then run `git lfs install` and `git lfs pull`")
    return (f"{name} at {rev} is a git LFS pointer whose content is not in this clone: run `git lfs install` "
            f"(git's LFS filters) and `git lfs fetch origin {rev}`")


def _git_ls(folder: Path, rev: str) -> list[str] | None:
    """Names of the files directly in ``folder`` at ``rev``; None when the revision lacks the folder."""
    folder = Path(folder).resolve()
    try:
        proc = subprocess.run(["git", "ls-tree", "-z", "--name-only", rev, "--", "./"], cwd=folder, capture_output=True)
    except FileNotFoundError:
        raise MeasurementError("a git reference needs git, which is not installed") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise MeasurementError(f"git ls-tree {rev} (in {folder}) failed: {err.splitlines()[0] if err else proc.returncode}")
    # -z: NUL-separated, unquoted names (without it git quotes non-ASCII, quotes, tabs, newlines)
    names = [os.fsdecode(n) for n in proc.stdout.split(b"\0") if n]
    return names or None


def effective_reference(rule, ref: Reference, refs: "ReferenceStore") -> Reference:
    """A git reference reads the rule's own column unless it names another; a profile reference
    becomes the counts or histogram it holds."""
    if ref.kind == "profile":
        resolved = refs.profile_reference(ref)
        if resolved.kind == "bins" and getattr(rule, "bins", None) is not None:
            raise MeasurementError(f"the profile's edges for {ref.column!r} are frozen: remove the rule's 'bins'")
        return resolved
    if ref.kind == "git" and ref.column is None:
        return ref.model_copy(update={"column": rule.column})
    return ref


def describe_reference(rule) -> str:
    """How a result names its reference: the name under 'references', or what an inline one reads."""
    if isinstance(rule.reference, str):
        return rule.reference
    ref = rule.reference
    if ref.kind == "git":
        return f"git {ref.git}" + (f" (column {ref.column})" if ref.column else "")
    if ref.kind in ("file", "profile"):
        return f"{ref.kind} {getattr(ref, ref.kind)} (column {ref.column})"
    return f"inline {ref.kind}"


def reference_name(ref: Reference) -> str:
    return ref.file if ref.kind == "file" else f"git {ref.git}"


class ReferenceStore:
    """Reference data (files, and the data files' versions at git revisions), each read once per
    run and summarised like the data.

    Parameters
    ----------
    ruleset : RuleSet
    data_paths : list of Path, optional
        The data files being validated (sorted shards); needed by ``git`` references.
    """

    def __init__(self, ruleset: RuleSet, data_paths: list[Path] | None = None, data_args: list | None = None,
                 cache: bool = False, cache_dir: str | Path | None = None):
        self.ruleset = ruleset
        # the persistent embedding cache (validator.embed.cache): off unless asked for, opened on
        # first use (a run without embedding rules never touches it)
        self.cache = cache
        self.cache_dir = cache_dir
        self._embedding_cache: list = []
        self.data_paths = data_paths
        self.data_args = data_args  # the DATA arguments as given: a directory means its files at the revision
        self._frames: dict[Path, FrameSummaries] = {}
        self._revisions: dict[str, FrameSummaries | Exception] = {}
        self._profiles: dict[Path, dict] = {}
        self._embedders: dict[tuple, object] = {}

    def embedder(self, spec: EmbedSpec):
        """The frozen embedder a rule names, loaded once per run.

        Raises
        ------
        DataReadError
            A hashing artefact that is missing, corrupt or of another format version (exit 3).
        MeasurementError
            A pretrained model whose optional extra is not installed (the message is the
            ``pip install`` hint).
        """
        key = (spec.embedder, spec.artefact)
        if key not in self._embedders:
            if spec.embedder == "hashing":
                try:
                    self._embedders[key] = HashingEmbedder.load(self.ruleset.resolve(spec.artefact))
                except EmbedderError as exc:
                    raise DataReadError(exc.path, exc.message, kind="embedder") from None
            else:
                try:
                    self._embedders[key] = load_pretrained(spec.embedder)
                except ExtraMissing as exc:
                    raise MeasurementError(str(exc)) from None
        return self._embedders[key]

    def embedding_cache(self) -> EmbeddingCache | None:
        """The run's persistent embedding cache, opened once; None when off or unusable (then
        with one warning, and the run embeds without it)."""
        if not self.cache:
            return None
        if not self._embedding_cache:
            self._embedding_cache.append(EmbeddingCache.open(self.cache_dir))
        return self._embedding_cache[0]

    def close(self) -> None:
        """Close the embedding cache, if one was opened."""
        for c in self._embedding_cache:
            if c is not None:
                c.close()
        self._embedding_cache.clear()

    def preload(self) -> None:
        """Read every reference file, profile and embedder artefact now, so an unreadable one
        stops the run (exit 3)."""
        for path in self.files():
            self.summaries(str(path))
        for rule in self.ruleset.rules:
            embed = getattr(rule, "embed", None)
            if embed is not None and embed.embedder == "hashing":
                self.embedder(embed)
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)):
                ref = self.ruleset.reference_for(rule)
                if ref.kind == "profile":
                    try:
                        self.profile_reference(ref)
                    except MeasurementError:
                        pass  # a column the profile lacks is the rule's own error, reported with it

    def profile_reference(self, ref: Reference) -> Reference:
        """A ``profile`` reference as the counts (or histogram) reference it stands for."""
        path = self.ruleset.resolve(ref.profile)
        if path not in self._profiles:
            try:
                self._profiles[path] = load_profile(path)
            except OSError as exc:
                raise DataReadError(path, f"cannot be read: {exc.strerror or exc}", kind="reference") from None
            except ValueError as exc:
                raise DataReadError(path, str(exc), kind="reference") from None
        columns = self._profiles[path]["columns"]
        if ref.column not in columns:
            skipped = (self._profiles[path].get("skipped") or {}).get(ref.column)
            why = f": it was not profiled ({skipped})" if skipped else f" (profiled: {', '.join(columns)})"
            raise MeasurementError(f"column {ref.column!r} is not in the profile {ref.profile}{why}")
        col = columns[ref.column]
        if col["kind"] == "numeric":
            return Reference(bins={"edges": col["edges"], "counts": [float(c) for c in col["counts"]]})
        return Reference(counts={k: float(v) for k, v in col["counts"].items()}, other=col.get("other"))

    def for_reference(self, ref: Reference) -> FrameSummaries:
        """Summaries of a ``file`` or ``git`` reference."""
        if ref.kind == "file":
            return self.summaries(ref.file)
        return self.at_revision(ref.git, ref.on_missing or "skip")

    def at_revision(self, rev: str, on_missing: str) -> FrameSummaries:
        """The data files as committed at ``rev`` (``git show``; no checkout is touched).

        Raises
        ------
        ReferenceMissing
            A data file is not in ``rev`` (e.g. its first commit) and ``on_missing`` is skip.
        MeasurementError
            The same with ``on_missing: fail``; no data files (a DataFrame); git errors.
        """
        key = f"{rev}\0{on_missing}"
        if key not in self._revisions:
            try:
                self._revisions[key] = self._read_revision(rev, on_missing)
            except (ReferenceMissing, MeasurementError) as exc:
                self._revisions[key] = exc
        found = self._revisions[key]
        if isinstance(found, Exception):
            raise found
        return found

    def _paths_at(self, rev: str) -> list[Path]:
        """The dataset's files at ``rev``: a directory argument lists its data files as committed
        there (a shard deleted since still counts; one added since does not); a file argument is
        itself; a glob, the files it matches now."""
        if not self.data_args:
            return list(self.data_paths)
        out: list[Path] = []
        for arg in self.data_args:
            p = Path(arg)
            if p.is_dir():
                listed = _git_ls(p, rev)
                if listed is None:  # the directory is not in the revision: its files count as missing
                    out.extend(q for q in self.data_paths if q.resolve().parent == p.resolve())
                else:
                    out.extend(p / name for name in listed if extension(Path(name)) in SUPPORTED)
            elif globbing.has_magic(str(arg)) and not p.exists():
                out.extend(Path(m) for m in globbing.glob(str(arg), recursive=True))
            else:
                out.append(p)
        unique = {q.resolve(): q for q in out}
        return sorted(unique.values(), key=str)

    def _read_revision(self, rev: str, on_missing: str) -> FrameSummaries:
        if not self.data_paths:
            raise MeasurementError(
                "a git reference compares data files with their committed version: validate files, not a DataFrame"
            )
        frames, missing = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i, path in enumerate(self._paths_at(rev)):
                content = _git_show(path, rev)
                if content is None:
                    missing.append(str(path))
                    continue
                copy = Path(tmp) / f"{i}_{path.name}"  # same suffixes: read as the same format
                copy.write_bytes(content)
                try:
                    frames.append(read_table(copy, self.ruleset.text_columns()))
                except DataReadError as exc:
                    raise MeasurementError(f"{path} at {rev} cannot be read: {exc.message}") from None
        if missing:
            shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
            message = f"{len(missing)} data file(s) not in git revision {rev} (e.g. a first commit): {shown}"
            if on_missing == "skip":
                raise ReferenceMissing(message + "; skipped (on_missing: skip)")
            raise MeasurementError(message + " (on_missing: fail)")
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return FrameSummaries(frame, name=f"git {rev}")

    def files(self) -> list[Path]:
        """Every reference file the rule set names (resolved), for reading up front."""
        out = []
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)):
                ref = self.ruleset.reference_for(rule)
                if ref.file is not None:
                    out.append(self.ruleset.resolve(ref.file))
        return out

    def _text_columns(self, path: Path) -> set[str]:
        """Reference columns compared by category: kept as written, like the data's."""
        out = set()
        for rule in self.ruleset.rules:
            if isinstance(rule, (ReferenceRule, NumericReferenceRule)) and (rule.text_length is not None or getattr(rule, "bins", 0) is None):
                ref = self.ruleset.reference_for(rule)
                if ref.file is not None and self.ruleset.resolve(ref.file) == path:
                    out.add(ref.column)
        return out

    def summaries(self, path: str) -> FrameSummaries:
        """The summaries of a reference file (raises DataReadError when unreadable)."""
        p = self.ruleset.resolve(path)
        if p not in self._frames:
            try:
                frame = read_table(p, self._text_columns(p))
            except DataReadError as exc:
                exc.kind = "reference"
                raise
            self._frames[p] = FrameSummaries(frame, name=f"reference file {path}")
        return self._frames[p]

