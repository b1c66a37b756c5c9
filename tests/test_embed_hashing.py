"""The hashing embedder (issue 5): the artefact, `validate-embed`, and `embed:` in rules.

Independent references: scikit-learn's TfidfTransformer (idf) and the e0..e7 columns that the
example build wrote through the same artefact; error cases are real broken files.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.cli import run as validate_cli
from validator.cli import embed as embed_cli
from validator.embed.hashing import FORMAT_VERSION, EmbedderError, HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
ARTEFACT = ROOT / "rules" / "hashing-embedder.npz"
DATA = ROOT / "examples" / "data"
E_COLS = [f"e{i}" for i in range(8)]


@pytest.fixture(scope="module")
def embedder():
    return HashingEmbedder.load(ARTEFACT)


@pytest.mark.parametrize("dataset", ["pretrain_good.csv", "pretrain_near_duplicates.csv"])
def test_example_embeddings_reproduce_from_the_committed_artefact(embedder, dataset):
    df = pd.read_csv(DATA / dataset, keep_default_na=False, na_values=[""]).head(300)
    vectors = embedder.transform(df["text"].tolist())
    np.testing.assert_allclose(vectors, df[E_COLS].to_numpy(), atol=6e-7)  # the CSV keeps 6 decimals
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-12)


def test_fit_matches_scikit_learn_idf_and_is_deterministic():
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    texts = pd.read_csv(DATA / "embedder_reference.csv", keep_default_na=False)["text"].tolist()[:600]
    a = HashingEmbedder.fit(texts, n_features=2**12, n_components=4, seed=5)
    b = HashingEmbedder.fit(texts, n_features=2**12, n_components=4, seed=5)
    assert a.sha256 == b.sha256 and np.array_equal(a.components, b.components)
    tf = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**12, alternate_sign=False, norm=None).transform(texts)
    ref = TfidfTransformer(smooth_idf=True).fit(tf)
    np.testing.assert_allclose(a.idf, ref.idf_, rtol=1e-6)
    # components are orthonormal rows (right singular vectors)
    np.testing.assert_allclose(a.components @ a.components.T, np.eye(4), atol=1e-5)


def test_validate_embed_fit_reproduces_the_committed_artefact(tmp_path, capsys):
    out = tmp_path / "e.npz"
    code = embed_cli.main([
        "fit", str(DATA / "embedder_reference.csv"), "--column", "text", "--seed", "20240601", "--output", str(out)
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "fitted on 3,782 texts: 8 dimensions, 65536 buckets" in printed
    fitted, committed = HashingEmbedder.load(out), HashingEmbedder.load(ARTEFACT)
    np.testing.assert_allclose(fitted.idf, committed.idf, rtol=1e-6)
    np.testing.assert_allclose(fitted.components, committed.components, atol=1e-5)
    if np.array_equal(fitted.components, committed.components):  # bit-identical on this machine's BLAS
        assert fitted.sha256 == committed.sha256  # provenance in the config is not hashed
    assert out.stat().st_size < 10 * 2**20
    # fitted once: a second fit onto the same file is refused without --force
    assert embed_cli.main(["fit", str(DATA / "embedder_reference.csv"), "--column", "text", "--output", str(out)]) == 2
    assert "give --force" in capsys.readouterr().err
    assert embed_cli.main(["info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sha256"] == fitted.sha256 and info["dimension"] == 8


def test_fit_refuses_bad_inputs_with_exit_codes(tmp_path, capsys):
    ref = tmp_path / "ref.csv"
    pd.DataFrame({"text": ["one text", "two texts", "three"]}).to_csv(ref, index=False)
    assert embed_cli.main(["fit", str(ref), "--column", "body", "--output", str(tmp_path / "a.npz")]) == 2
    assert "column 'body' not found" in capsys.readouterr().err
    assert embed_cli.main(["fit", str(ref), "--column", "text", "--output", str(tmp_path / "a.npz")]) == 2
    assert "needs more than 8 reference texts; got 3" in capsys.readouterr().err
    assert embed_cli.main(["fit", str(ref), "--column", "text", "--components", "64", "--buckets", str(2**18), "--output", str(tmp_path / "a.npz")]) == 2
    assert "must stay under 10 MiB" in capsys.readouterr().err
    assert embed_cli.main(["fit", str(ref), "--column", "text", "--output", str(ref), "--force"]) == 2
    assert "an artefact is a .npz file" in capsys.readouterr().err  # never onto a data file
    assert embed_cli.main(["fit", str(ref), "--column", "text", "--seed", "-1", "--output", str(tmp_path / "a.npz")]) == 2
    assert "--seed must be between 0 and 2**32 - 1" in capsys.readouterr().err
    same = tmp_path / "same.csv"
    pd.DataFrame({"text": ["one and the same text"] * 20}).to_csv(same, index=False)
    assert embed_cli.main(["fit", str(same), "--column", "text", "--output", str(tmp_path / "a.npz")]) == 2
    assert "too alike" in capsys.readouterr().err
    big = tmp_path / "big.csv"
    pd.read_csv(DATA / "embedder_reference.csv").head(50).to_csv(big, index=False)
    assert embed_cli.main(["fit", str(big), "--column", "text", "--output", "/proc/no/such.npz"]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert embed_cli.main(["fit", str(tmp_path / "missing.csv"), "--column", "text", "--output", str(tmp_path / "a.npz")]) == 3
    assert not (tmp_path / "a.npz").exists()


def _broken_artefacts(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = ARTEFACT.read_bytes()
    emb = HashingEmbedder.load(ARTEFACT)
    out = {}
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good[: len(good) // 2])
    out["truncated"] = (truncated, "not a readable .npz (zip) archive")
    text = tmp_path / "text.npz"
    text.write_text("not a zip file")
    out["text"] = (text, "not a readable .npz (zip) archive")
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    out["directory"] = (folder, "is a directory")
    huge = tmp_path / "huge.npz"
    HashingEmbedder.from_arrays(np.ones(2**20, np.float32), np.ones((2, 2**20), np.float32),
                                {**emb.config, "n_features": 2**20, "n_components": 2}).save(huge)
    out["limits"] = (huge, "expected a power of two from 1024 to 262144")
    flat = tmp_path / "flat.npz"
    HashingEmbedder.from_arrays(emb.idf, np.zeros_like(emb.components), emb.config).save(flat)
    out["zeros"] = (flat, "a component is all zeros")
    emb = HashingEmbedder.load(ARTEFACT)
    other = tmp_path / "v99.npz"
    HashingEmbedder.from_arrays(emb.idf, emb.components, {**emb.config, "format_version": 99}).save(other)
    out["version"] = (other, f"artefact format version 99, this version of the tool reads version {FORMAT_VERSION}")
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, weights=np.zeros(3))
    out["arrays"] = (wrong, "expected arrays idf, components, config")
    shapes = tmp_path / "shapes.npz"
    with zipfile.ZipFile(ARTEFACT) as z, zipfile.ZipFile(shapes, "w") as w:
        for name in z.namelist():
            data = z.read(name)
            if name == "idf.npy":
                buf = __import__("io").BytesIO()
                np.save(buf, np.zeros(10, dtype=np.float32))
                data = buf.getvalue()
            w.writestr(name, data)
    out["shapes"] = (shapes, "corrupt artefact: expected idf float32 (65536,)")
    out["missing"] = (tmp_path / "nowhere.npz", "embedder artefact not found")
    # issue 17: a bad zlib stream inside an intact zip (zlib.error was a traceback): the first deflate
    # block of idf.npy made block type 3, which RFC 1951 section 3.2.3 reserves (an error)
    raw = bytearray(good)
    with zipfile.ZipFile(ARTEFACT) as z:
        info = z.getinfo("idf.npy")
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len  # the local file header is 30 bytes (APPNOTE 4.3.7)
    raw[start : start + 4] = b"\xff\xff\xff\xff"
    zlib_bad = tmp_path / "zlib.npz"
    zlib_bad.write_bytes(bytes(raw))
    out["zlib"] = (zlib_bad, "corrupt or not an embedder artefact (zlib.error: Error -3 while decompressing data: invalid block type)")
    # a member whose data is cut short inside an intact central directory
    cut = tmp_path / "cut.npz"
    with zipfile.ZipFile(ARTEFACT) as z, zipfile.ZipFile(cut, "w") as w:
        for member in z.namelist():
            w.writestr(member, z.read(member)[:100] if member == "components.npy" else z.read(member))
    out["cut member"] = (cut, "corrupt or not an embedder artefact")
    # a declared uncompressed size far past the 10 MiB limit (a decompression bomb is not read)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as w:
        w.writestr("idf.npy", bytes(25 * 2**20))
    out["bomb"] = (bomb, "its arrays take 25 MiB uncompressed, an artefact at most 10 MiB")
    return out


def test_broken_artefacts_are_one_line_errors(tmp_path):
    for name, (path, message) in _broken_artefacts(tmp_path).items():
        with pytest.raises(EmbedderError) as info:
            HashingEmbedder.load(path)
        assert str(info.value).startswith(str(path)) and message in str(info.value), name


def test_validate_with_a_broken_artefact_exits_3_without_traceback(tmp_path):
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a b c", "d e f"]}).to_csv(data, index=False)
    for name, (path, message) in _broken_artefacts(tmp_path).items():
        rules = tmp_path / f"{name}.yaml"
        rules.write_text(
            "version: 1\nrules:\n  - {id: s, metric: distance_spread, embed: {column: text, artefact: %s}, min: 0.1}\n" % path.name
        )
        code = validate_cli(["--rules", str(rules), str(data)])
        assert code == 3, name


def test_validate_embed_info_on_a_corrupt_artefact_is_exit_3_in_one_line_naming_it(tmp_path, capsys):
    for name, (path, message) in _broken_artefacts(tmp_path).items():
        assert embed_cli.main(["info", str(path)]) == 3, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"validate-embed: cannot read embedder file {path}: ") and message in err, name


def test_validate_cli_names_the_artefact(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a b c", "d e f"]}).to_csv(data, index=False)
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: s, metric: distance_spread, embed: {column: text, artefact: gone.npz}, min: 0.1}\n")
    assert validate_cli(["--rules", str(rules), str(data)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read embedder file" in err and "gone.npz: embedder artefact not found" in err
    assert "Traceback" not in err


def test_rule_model_requires_exactly_one_feature_source():
    from validator.rules.loader import RuleFileError

    base = {"id": "s", "metric": "distance_spread", "min": 0.1}
    with pytest.raises(RuleFileError, match="exactly one of 'columns'"):
        load_rules({"version": 1, "rules": [base]})
    with pytest.raises(RuleFileError, match="exactly one of 'columns'"):
        load_rules({"version": 1, "rules": [{**base, "columns": ["a"], "embed": {"column": "t", "artefact": "x.npz"}}]})
    with pytest.raises(RuleFileError, match="needs 'artefact'"):
        load_rules({"version": 1, "rules": [{**base, "embed": {"column": "t"}}]})
    with pytest.raises(RuleFileError, match="'artefact' only applies to embedder 'hashing'"):
        load_rules({"version": 1, "rules": [{**base, "embed": {"column": "t", "embedder": "e5", "artefact": "x.npz"}}]})


# -- embed: in rules ------------------------------------------------------------------------------


def _rules(tmp_path, rows=5000, extra=""):
    text = (
        "version: 1\nrules:\n"
        f"  - {{id: mean, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.7, sample: {{rows: {rows}}}}}\n"
        f"  - {{id: dup, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, statistic: duplicate_fraction, epsilon: 0.05, max: 0.1, sample: {{rows: {rows}}}}}\n"
        f"  - {{id: vendi, metric: vendi_score, embed: {{column: text, artefact: {ARTEFACT}}}, min: 1, sample: {{rows: {rows}}}}}\n"
        f"  - {{id: cols, metric: distance_spread, columns: [{', '.join(E_COLS)}], statistic: duplicate_fraction, epsilon: 0.05, max: 0.1, sample: {{rows: {rows}}}}}\n"
        + extra
    )
    return load_rules(text=text)


def test_embed_rules_equal_the_precomputed_columns_and_embed_once(tmp_path):
    ruleset = _rules(tmp_path, rows=400)
    from validator.checks import evaluate
    from validator.summaries.references import ReferenceStore
    from validator.summaries.frame import FrameSummaries

    df = pd.read_csv(DATA / "pretrain_near_duplicates.csv", keep_default_na=False, na_values=[""])
    frame = FrameSummaries(df)
    refs = ReferenceStore(ruleset)
    results = {r.id: evaluate(r, ruleset, frame, refs) for r in ruleset.rules}
    assert results["dup"].observed == pytest.approx(results["cols"].observed, abs=1e-12)
    # every rule sampled the same 400 of 600 rows: embedded once, shared by the three rules
    assert frame.computed["embedded_texts"] == 400
    assert results["dup"].details["sampling"] == "sampled" and results["dup"].details["sample_size"] == 400
    emb = results["mean"].details["embedder"]
    assert emb["sha256"] == HashingEmbedder.load(ARTEFACT).sha256 and emb["dimension"] == 8
    assert results["mean"].details["embedding_dimension"] == 8
    # the duplicate clusters: the near-duplicate set pairs each real row with its edited copy
    dup = results["dup"].details["duplicates"]
    # reference: components of all pairs within epsilon (scipy cKDTree.query_pairs) among the
    # sampled rows, from the precomputed columns
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    from validator.summaries.sample import hash_indices

    rows = np.sort(np.argsort(hash_indices(0, np.arange(len(df))))[:400])
    pairs = np.array(sorted(cKDTree(df[E_COLS].to_numpy()[rows]).query_pairs(0.05)))
    _, labels = connected_components(coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(400, 400)))
    sizes = np.bincount(labels)
    assert dup["clusters"] == int(np.count_nonzero(sizes > 1))
    assert dup["rows_in_clusters"] == round(results["dup"].observed * 400)
    assert all(len(c) >= 2 for c in dup["examples"])
    first = dup["examples"][0]
    ids = df["doc_id"].iloc[[r - 1 for r in first]].str.replace("~neardup", "", regex=False)
    assert ids.nunique() == 1  # a cluster's rows are one original and its copy


def test_embed_counts_null_empty_and_non_text_rows(tmp_path):
    ruleset = _rules(tmp_path)
    df = pd.DataFrame({
        "text": pd.Series(["the cat sat on the mat", None, "", "   ", 12, "a completely different sentence", "the cat sat on a mat"], dtype=object),
        **{c: np.zeros(7) + i for i, c in enumerate(E_COLS)},
    })
    by = {r.rule_id: r for r in validate(df, ruleset).results}
    r = by["mean"]
    assert r.outcome in ("passed", "failed") and r.n == 3
    assert r.details["excluded_rows"] == {"null": 1, "empty": 2, "not_text": 1}
    assert r.details["dropped_rows"] == 4 and "no text" in r.details["dropped_reason"]


def test_texts_embedding_to_zero_are_left_out_and_counted():
    # emoji and symbols share no n-gram with the artefact's reference sample: a zero vector,
    # which would make them exact duplicates of each other under the euclidean distance
    emb = HashingEmbedder.load(ARTEFACT)
    texts = ["\U0001F603", "\U0001F60A", "a full sentence here", "another sentence of text", "a third one"]
    zero = ~np.any(emb.transform(texts) != 0, axis=1)
    assert zero.tolist() == [True, True, False, False, False]
    ruleset = load_rules(text=(
        "version: 1\nrules:\n"
        f"  - {{id: d, metric: distance_spread, embed: {{column: text, artefact: {ARTEFACT}}}, statistic: duplicate_fraction, max: 0.1}}\n"
        f"  - {{id: c, metric: distance_spread, distance: cosine, embed: {{column: text, artefact: {ARTEFACT}}}, min: 0.01}}\n"
    ))
    by = {r.rule_id: r for r in validate(pd.DataFrame({"text": texts}), ruleset).results}
    for r in by.values():
        assert r.outcome == "passed" and r.n == 3, r.reason
        assert r.details["excluded_rows"] == {"zero_embedding": 2}
    assert by["d"].observed == 0.0


def test_output_never_overwrites_the_artefact(tmp_path, capsys):
    import shutil

    art = tmp_path / "emb.npz"
    shutil.copy(ARTEFACT, art)
    before = art.read_bytes()
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a b c", "d e f"]}).to_csv(data, index=False)
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: s, metric: distance_spread, embed: {column: text, artefact: emb.npz}, min: 0.1}\n")
    assert validate_cli(["--rules", str(rules), str(data), "--format", "json", "--output", str(art)]) == 2
    assert "input files" in capsys.readouterr().err and art.read_bytes() == before


def test_missing_extra_is_an_error_result_with_the_install_hint(monkeypatch):
    from validator.embed import models

    # as on a machine without the extras: their packages cannot be imported, nothing is loaded
    monkeypatch.setattr(models, "_LOADED", {})
    for spec in models._SPECS.values():
        for module in (spec.module, *spec.requires):
            monkeypatch.setitem(sys.modules, module, None)
    for name in ("minilm", "e5"):
        ruleset = load_rules({"version": 1, "rules": [
            {"id": "s", "metric": "distance_spread", "embed": {"column": "text", "embedder": name}, "min": 0.1}]})
        r = validate(pd.DataFrame({"text": ["a b", "c d"]}), ruleset).results[0]
        assert r.outcome == "error"
        assert f"pip install 'pretrain-validator[{name}]'" in r.reason and "\n" not in r.reason
