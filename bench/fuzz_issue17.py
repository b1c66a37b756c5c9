"""Issue 17 fuzz count: mutated rule files, profiles, embedder artefacts and hostile output paths.

    PYTHONPATH=. python bench/fuzz_issue17.py [--n 2000] [--seed 0]

Every example runs in-process through the command's own entry point (or ``load_rules`` for rule
texts); an exception escaping it is a traceback, an example over 2 s is a hang. For output paths
also counted: an exit code other than 2, more than one line on stderr, or a file left behind in
the target folder. Prints one line per area: examples run, tracebacks (by exception type).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "rules").glob("*.yaml"))]
INSERTS = ["\x00", "\x01", "\x1b", "\x7f", "\ufffe", "9" * 5000, "0o17", "~", "!!int 0x", "1e400", "1e308", "-1e308",
           "[" * 60, "{" * 60, "[" * 3000, "{a: " * 3000, "- " * 40, ": ", "!foo ", "\t", "'", '"', "%",
           "{x: 1e308, y: 1e308}", "expected: {a: 1e308, b: 1e308}\n", "a" * 20000]


def quiet(fn, *args, **kw):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = fn(*args, **kw)
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def mutate_text(rng, text):
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(text))
        op = rng.choice(["insert", "insert", "truncate", "repeat", "nest"])
        if op == "insert":
            text = text[:i] + rng.choice(INSERTS) + text[i:]
        elif op == "truncate":
            text = text[:i]
        elif op == "repeat":
            lines = text.splitlines(True) or [""]
            j = min(i, len(lines) - 1)
            text = "".join(lines[:j] + [lines[j]] * rng.choice([3, 3000]) + lines[j:])
        else:
            depth = rng.choice([50, 500, 5000])
            text = text + "\nx: " + "[" * depth + "]" * depth + "\n"
    return text


def area_rules(rng, n):
    from validator.rules.loader import RuleFileError, load_rules

    found, slow = Counter(), 0
    shares = ["version: 1\nrules:\n  - {id: s, metric: js_divergence, column: c, max: 0.1, reference: {categories: {a: %s, b: %s}}}\n",
              "version: 1\nrules:\n  - {id: s, metric: js_divergence, column: c, max: 0.1, reference: {bins: {edges: [0, 1, 2], probabilities: [%s, %s]}}}\n"]
    for k in range(n):
        if k % 20 == 0:  # probabilities summing past float64
            text = rng.choice(shares) % (rng.choice(["1e308", "1.7e308", "0.5"]), rng.choice(["1e308", "1.7e308", "0.5"]))
        else:
            text = mutate_text(rng, rng.choice(RULE_TEXTS))
        t0 = time.perf_counter()
        try:
            load_rules(text=text, source="fuzz.yaml")
        except RuleFileError:
            pass
        except BaseException as exc:  # noqa: BLE001 - counting them is the point
            found[type(exc).__name__] += 1
        slow += time.perf_counter() - t0 > 2.0
    return n, found, slow


def mutate_profile(rng, prof):
    prof = json.loads(json.dumps(prof))
    junk = [None, 1, -1, 1e308, "x", [], {}, [1, "a"], {"a": "b"}, True, "nan", float("inf")]
    for _ in range(rng.randint(1, 3)):
        # pick a random container in the tree and delete / retype one of its entries
        node, path = prof, []
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = rng.choice(keys)
            child = node[key]
            if isinstance(child, (dict, list)) and child and rng.random() < 0.7:
                node = child
                continue
            if isinstance(node, dict) and rng.random() < 0.4:
                del node[key]
            else:
                node[key] = json.loads(json.dumps(rng.choice(junk)))  # a copy: junk itself never mutated
            break
    return prof


def area_profiles(rng, n, work):
    from validator.cli import run
    from validator.cli.profile import main_profile, main_suggest

    base = work / "base.yaml"
    code, err = quiet(main_profile, [str(ROOT / "examples" / "data" / "pretrain_good.csv"), "--output", str(base)])
    assert code == 0, err
    import yaml

    prof = yaml.safe_load(base.read_text())
    data = ROOT / "examples" / "data" / "pretrain_good.csv"
    found, slow = Counter(), 0
    for k in range(n):
        mutated = mutate_profile(rng, prof)
        p = work / "p.json"
        p.write_text(json.dumps(mutated))
        column = rng.choice(["language", "e0", "source"])
        rules = work / "r.yaml"
        rules.write_text(f"version: 1\nrules:\n  - {{id: k, metric: js_divergence, column: {column},"
                         f" reference: {{profile: p.json, column: {column}}}, max: 1}}\n")
        for fn, argv in ((main_suggest, [str(p), "--output", str(work / "s.yaml")]), (run, ["--rules", str(rules), str(data), "-q"])):
            t0 = time.perf_counter()
            try:
                quiet(fn, argv)
            except BaseException as exc:  # noqa: BLE001
                found[f"{fn.__name__}:{type(exc).__name__}"] += 1
            slow += time.perf_counter() - t0 > 2.0
    return 2 * n, found, slow


def area_npz(rng, n, work):
    from validator.cli.embed import main as embed_main

    good = (ROOT / "rules" / "hashing-embedder.npz").read_bytes()
    found = Counter()
    for k in range(n):
        raw = bytearray(good)
        op = k % 3
        if op == 0:  # flip bytes inside the compressed streams
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(64, len(raw) - 64)] ^= rng.randint(1, 255)
        elif op == 1:
            raw = raw[: rng.randrange(0, len(raw))]
        else:
            raw = bytearray(rng.randbytes(rng.randint(0, 4096)))
        p = work / "a.npz"
        p.write_bytes(bytes(raw))
        try:
            quiet(embed_main, ["info", str(p)])
        except BaseException as exc:  # noqa: BLE001
            found[type(exc).__name__] += 1
    return n, found, 0


def hostile_outputs(folder: Path, ext: str):
    """(label, path) of outputs that cannot be written."""
    (folder / f"dangling{ext}").symlink_to(folder / "nowhere" / f"x{ext}")  # its target's folder is missing
    (folder / f"loop{ext}").symlink_to(folder / f"loop{ext}")
    (folder / f"sub{ext}").mkdir()
    name_max = os.pathconf(folder, "PC_NAME_MAX")
    out = [("dev-full", "/dev/full"), ("dangling-no-folder", str(folder / f"dangling{ext}")), ("loop", str(folder / f"loop{ext}")),
           ("name-too-long", str(folder / ("n" * (name_max + 1) + ext))), ("empty", ""), ("directory", str(folder / f"sub{ext}")),
           ("missing-folder", str(folder / "nope" / f"out{ext}")), ("through-loop", str(folder / f"loop{ext}" / f"x{ext}"))]
    return out


def area_outputs(work):
    from validator.cli import run
    from validator.cli.embed import main as embed_main
    from validator.cli.profile import main_profile, main_suggest

    data = ROOT / "examples" / "data" / "pretrain_good.csv"
    prof = work / "prof.yaml"
    quiet(main_profile, [str(data), "--output", str(prof)])
    emb_ref = ROOT / "examples" / "data" / "embedder_reference.csv"
    clis = {
        "validate": lambda o: (run, ["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(data), "-q", "-f", "json", "--output", o]),
        "validate-profile": lambda o: (main_profile, [str(data), "--output", o]),
        "validate-suggest": lambda o: (main_suggest, [str(prof), "--output", o]),
        "validate-embed": lambda o: (embed_main, ["fit", str(emb_ref), "--column", "text", "--buckets", "1024", "--components", "2",
                                                  "--output", o]),
    }
    found, bad = Counter(), Counter()
    runs = 0
    for cli, make in clis.items():
        folder = Path(tempfile.mkdtemp(dir=work))
        for label, path in hostile_outputs(folder, ".npz" if cli == "validate-embed" else ".out"):
            before = sorted(os.listdir(folder))
            fn, argv = make(path)
            runs += 1
            try:
                code, err = quiet(fn, argv)
            except BaseException as exc:  # noqa: BLE001
                found[f"{cli}:{label}:{type(exc).__name__}"] += 1
                continue
            after = sorted(os.listdir(folder))
            if code not in (2,) or len(err.strip().splitlines()) != 1 or after != before:
                bad[f"{cli}:{label}: exit {code}, {len(err.strip().splitlines())} lines" + (f", left {set(after) - set(before)}" if after != before else "")] += 1
        shutil.rmtree(folder)
    return runs, found, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--areas", default="rules,profiles,npz,outputs")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sys.setrecursionlimit(1000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for area in args.areas.split(","):
            t0 = time.perf_counter()
            if area == "rules":
                runs, found, slow = area_rules(rng, args.n)
            elif area == "profiles":
                runs, found, slow = area_profiles(rng, max(args.n // 10, 1), work)
            elif area == "npz":
                runs, found, slow = area_npz(rng, max(args.n // 5, 1), work)
            else:
                runs, found, slow = area_outputs(work)
            extra = f", other faults {sum(slow.values())}: {dict(slow)}" if isinstance(slow, Counter) else f", over 2 s {slow}"
            print(f"{area}: {runs} examples, {sum(found.values())} tracebacks {dict(found)}{extra} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
