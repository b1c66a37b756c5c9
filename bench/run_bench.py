"""Benchmark: the whole ``validate`` process against a process that only reads the CSV.

Alternates, in one run, ``--rounds`` rounds of

  (a) baseline: ``python -c "import pandas; pandas.read_csv(path, keep_default_na=False, na_values=[''])"``
      (the reader options of ``validator.summaries.io.read_table``), and
  (b) ``validate --rules bench/bench_rules.yaml path`` (the console script, imports included),

each in its own child process, after one discarded warm-up pair (page cache, .pyc files).
Wall time is measured around the child (spawn to reap); peak RSS is the child's own
``ru_maxrss`` from ``os.wait4`` (not the RUSAGE_CHILDREN aggregate, whose max is over all
children ever reaped). Reports medians and the ratios validate / baseline, then times the
distance rule's kernel, ``distance_statistic(X, "mean")``, in-process on the seeded 5,000- and
20,000-row samples of e0..e7, and compares it with the read. When validate misses a target
(wall <= 1.2x, peak RSS <= 2x) -- or with ``--profile`` -- it profiles one validate run
(``-X importtime`` and cProfile of ``validator.cli.run``) and reports where the time goes.

Results go to stdout and to ``bench/RESULTS.md``.

Usage::

    python bench/run_bench.py                 # builds bench/out/manifest.csv first if missing
    python bench/run_bench.py --rounds 7 --profile
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = HERE / "out" / "manifest.csv"
DEFAULT_RULES = HERE / "bench_rules.yaml"
RESULTS = HERE / "RESULTS.md"
WALL_TARGET = 1.2  # issue 6 (it was 1.5 in the first issue)
RSS_TARGET = 2.0
FEATURES = [f"e{j}" for j in range(8)]

BASELINE_CODE = """\
import time
t0 = time.perf_counter()
import pandas
t1 = time.perf_counter()
{read}
t2 = time.perf_counter()
print("BENCH", t1 - t0, t2 - t1)
"""


def baseline_read(data: Path) -> str:
    """The bare read the baseline child times: pandas.read_csv (as the readers call it) for a
    CSV, pandas.read_parquet for a Parquet file."""
    if data.suffix in (".parquet", ".pq"):
        return f"pandas.read_parquet({str(data)!r})"
    return f"pandas.read_csv({str(data)!r}, keep_default_na=False, na_values=[\"\"])"


# -- children -----------------------------------------------------------------------------------


def run_child(cmd: list[str], cwd: Path = ROOT) -> dict:
    """Run one child; its wall time, its own peak RSS (os.wait4), exit code and stdout.

    Caveat (measured here): on Linux a child's ``ru_maxrss`` starts from the launching
    process's RSS high-water mark (it survives fork/vfork + exec), so a parent that once held
    500 MB makes every child report >= 500 MB. This process therefore never imports pandas or
    numpy and runs every measurement that needs them in a child of its own.
    """
    # Bytecode caching on, as on a user's machine: with PYTHONDONTWRITEBYTECODE=1 (set on these
    # machines) the warm-up could not write .pyc files and every validate child compiled the
    # project's ~40 modules again (~0.1 s; site-packages got theirs at install time).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen.wait
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "rss_mb": ru.ru_maxrss / 1024.0,  # Linux: KiB
            "cpu": ru.ru_utime + ru.ru_stime,
            "rc": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def baseline_cmd(data: Path) -> list[str]:
    return [sys.executable, "-c", BASELINE_CODE.format(read=baseline_read(data))]


def validate_cmd(data: Path, rules: Path) -> list[str]:
    script = Path(sys.executable).with_name("validate")
    if not script.exists():
        raise SystemExit(f"console script not found next to {sys.executable}: run with the project's venv python")
    return [str(script), "--rules", str(rules), str(data)]


def _check(kind: str, r: dict) -> None:
    # exit 1 is a failed rule, with its report; a traceback (also exit 1) is a broken run
    ok = r["rc"] == 0 if kind == "baseline" else r["rc"] in (0, 1) and r["stdout"].strip() and "Traceback" not in r["stderr"]
    if not ok:
        raise SystemExit(f"{kind} child failed (exit {r['rc']}):\n{r['stderr'][-3000:]}")


# -- machine -------------------------------------------------------------------------------------


def machine_info() -> dict:
    # Versions from package metadata: the parent process must not import pandas/numpy (see run_child).
    from importlib.metadata import PackageNotFoundError, version

    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for mod in ("pandas", "numpy", "pyarrow", "pandera", "scipy", "pydantic"):
        try:
            info[mod] = version(mod)
        except PackageNotFoundError:  # pragma: no cover
            info[mod] = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["mem_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except Exception:  # pragma: no cover
        pass
    return info


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "validator"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return f"{head or '?'}" + (" with uncommitted changes in validator/ (numbers are for that working tree)" if dirty else "")
    except OSError:  # pragma: no cover
        return "?"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


# -- distance kernel -----------------------------------------------------------------------------


DISTANCE_CODE = """\
import json, statistics, sys, time
sys.path.insert(0, {root!r})
import pandas as pd
from validator.metrics.distance import distance_statistic
from validator.summaries.frame import FrameSummaries
features = {features!r}
df = pd.read_csv({data!r}, usecols=features, keep_default_na=False, na_values=[""])
summ = FrameSummaries(df, name="bench")
out = []
for k in {sizes!r}:
    X = summ.row_sample(features, k, {seed!r}).X
    assert X.shape == (k, len(features)), X.shape
    distance_statistic(X[:500], "mean")  # warm-up (BLAS, code paths)
    reps = 5 if k <= 5000 else 3
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        value = distance_statistic(X, "mean")
        times.append(time.perf_counter() - t0)
    out.append({{"rows": k, "shape": list(X.shape), "median_s": statistics.median(times), "min_s": min(times),
                 "value": value, "reps": reps}})
print("DISTANCE " + json.dumps(out))
"""


def distance_cost(data: Path, sizes=(5000, 20000), seed: int = 0) -> list[dict]:
    """Time distance_statistic(X, 'mean') on the rule's own seeded samples (in one child process)."""
    code = DISTANCE_CODE.format(root=str(ROOT), features=FEATURES, data=str(data), sizes=tuple(sizes), seed=seed)
    r = run_child([sys.executable, "-c", code])
    m = re.search(r"DISTANCE (.*)", r["stdout"])
    if r["rc"] != 0 or not m:
        raise SystemExit(f"distance timing failed (exit {r['rc']}):\n{r['stderr'][-3000:]}")
    return json.loads(m.group(1))


# -- profile -------------------------------------------------------------------------------------

PROFILE_CODE = """\
import cProfile, pstats, resource, sys, time, json
t0 = time.perf_counter()
pr = cProfile.Profile()
pr.enable()
from validator import cli
t1 = time.perf_counter()
rc = cli.run({argv!r})
pr.disable()
t2 = time.perf_counter()
pr.dump_stats({stats!r})
sys.stderr.write("PROFILE " + json.dumps({{"import_s": t1 - t0, "run_s": t2 - t1, "rc": rc,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}) + "\\n")
"""

PHASES_CODE = """\
import resource, sys, time, json, warnings
sys.path.insert(0, {root!r})
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def cur():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
out = []
def mark(name, t):
    out.append((name, time.perf_counter() - t, rss(), cur()))
    return time.perf_counter()
t = time.perf_counter()
import pandas
t = mark("import pandas", t)
import validator.cli, validator.engine, validator.checks
t = mark("import validator (cli, engine, checks)", t)
from validator.rules.loader import load_rules
rs = load_rules({rules!r})
t = mark("load_rules", t)
if rs.columns:  # validate imports pandera only for declared columns
    import pandera.pandas
    t = mark("import pandera.pandas (done lazily by validate, for the declared columns)", t)
import inspect
from validator.summaries.io import read_dataset
{baseline}
t = mark("(for comparison) the baseline's read, discarded", t)
kw = {{}}
import validator.engine as _engine
if hasattr(rs, "text_columns") and "text_columns" in inspect.signature(read_dataset).parameters:
    kw["text_columns"] = sorted(rs.text_columns())  # a RuleSet method since the rooms of issue 12
elif hasattr(_engine, "text_columns") and "text_columns" in inspect.signature(read_dataset).parameters:
    kw["text_columns"] = sorted(_engine.text_columns(rs))
if "columns" in inspect.signature(read_dataset).parameters and hasattr(rs, "data_columns"):
    kw["columns"] = rs.data_columns()  # only the columns the rules name are converted
df = read_dataset([{data!r}], **kw)
t = mark("read_dataset as validate calls it" + (" (dtype=str for " + ", ".join(kw["text_columns"]) + ")" if kw.get("text_columns") else "")
         + (" (columns " + ", ".join(sorted(kw["columns"])) + ")" if kw.get("columns") else ""), t)
from validator.pandera_schema import Evaluation, to_pandera
try:
    from validator.summaries.references import ReferenceStore  # (issue 12's rooms)
except ImportError:
    from validator.checks import ReferenceStore
from validator.checks import evaluate
from validator.summaries.frame import FrameSummaries
summ = FrameSummaries(df)
refs = ReferenceStore(rs)
for rule in rs.rules:
    evaluate(rule, rs, summ, refs)
    t = mark("rule " + rule.id + " (" + rule.metric + ")", t)
state = Evaluation(rs, refs)
state.summaries = summ  # summaries already computed: what is left is pandera plus the metric arithmetic
schema = to_pandera(rs, state=state) if rs.columns else None  # (validate runs no schema without declared columns)
if schema is not None:
    t = mark("to_pandera (build the schema)", t)
for label in ("1st", "2nd") if schema is not None else ():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schema.validate(df, lazy=True, inplace=True)
        except Exception:
            pass
    t = mark("schema.validate, " + label + " call (summaries cached)", t)
del df, summ, state
from validator.engine import validate as _validate
_validate({data!r}, rs)
t = mark("validator.validate(path, rules) as the CLI calls it (its own read, plan and rules; warm)", t)
print("PHASES " + json.dumps(out))
"""


IMPORTS_CODE = """\
import validator.cli, validator.engine
from validator.rules.loader import load_rules
if load_rules({rules!r}).columns:
    import pandera.pandas
"""

SHUTDOWN_VALIDATE = """\
import sys, time, io, contextlib
from validator.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run({argv!r})
sys.stderr.write("END %r\\n" % time.time())
"""

SHUTDOWN_BASELINE = """\
import sys, time, pandas
{baseline}
sys.stderr.write("END %r\\n" % time.time())
"""

LEAK_CODE = """\
import gc, json, pandas as pd
from validator import load_rules, validate
rules = load_rules({rules!r})
base = (pd.read_parquet({data!r}).head(200_000) if {data!r}.endswith((".parquet", ".pq")) else
        pd.read_csv({data!r}, nrows=200_000, keep_default_na=False, na_values=[""]))
alive = []
for i in range(3):
    df = base.copy(deep=True)
    validate(df, rules)
    del df
    gc.collect()
    alive.append(sum(isinstance(o, pd.DataFrame) for o in gc.get_objects()) - 1)  # minus `base`
try:
    import pandera.accessors._schema_registry as reg
    entries = len(reg._reg)
except Exception:
    entries = None
print("LEAK " + json.dumps({{"alive": alive, "registry": entries}}))
"""


def _shutdown_time(cmd: list[str], reps: int = 3) -> float:
    """Median seconds from the child's last statement to the parent reaping it (interpreter shutdown)."""
    out = []
    for _ in range(reps):
        r = run_child(cmd)
        end = time.time()
        m = re.search(r"END (\S+)", r["stderr"])
        if m:
            out.append(end - float(m.group(1)))
    return statistics.median(out) if out else float("nan")


def _parse_importtime(stderr: str) -> list[tuple[str, float, float, int]]:
    """(module, self s, cumulative s, nesting) rows of ``python -X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)) / 1e6, int(m.group(2)) / 1e6, len(m.group(3))))
    return rows


def _short(fn: str) -> str:
    fn = fn.replace(str(ROOT) + "/", "")
    return re.sub(r".*site-packages/", "", fn)


# (file substring, function name) -> label, for the cProfile summary table
PROFILE_ROWS = [
    ("validator/engine.py", "validate", "validator.engine.validate (everything after argument parsing)"),
    ("pandas/io/parsers/readers.py", "read_csv", "pandas read_csv"),
    ("pandera/api/pandas/container.py", "validate", "pandera DataFrameSchema.validate (incl. the rule checks)"),
    ("pandera/backends/pandas/container.py", "run_checks", "  pandera run_checks (= the 6 rule measurements)"),
    ("pandera/api/pandas/container.py", "register_default_backends", "  pandera register_default_backends (lazy imports)"),
    ("validator/plan.py", "prefetch", "validator.plan.prefetch (the declared summaries, two threads)"),
    ("validator/checks/core.py", "evaluate", "validator.checks.evaluate (6 rules)"),
    ("validator/checks/counts.py", "measure", "  counts.measure (3 entropy rules)"),
    ("validator/checks/divergence.py", "measure", "  divergence.measure (2 KL rules)"),
    ("validator/checks/features.py", "measure_distance", "  features.measure_distance (1 rule)"),
    ("validator/summaries/frame.py", "value_counts", "    FrameSummaries.value_counts"),
    ("validator/summaries/frame.py", "numeric_values", "    FrameSummaries.numeric_values"),
    ("validator/summaries/frame.py", "value_range", "    FrameSummaries.value_range"),
    ("validator/summaries/frame.py", "histogram", "    FrameSummaries.histogram"),
    ("validator/summaries/frame.py", "row_sample", "    FrameSummaries.row_sample"),
    ("validator/summaries/sample.py", "hash_indices", "      sample.hash_indices (2M keys)"),
    ("validator/metrics/distance.py", "distance_statistic", "    distance_statistic (5,000 x 8)"),
    ("validator/rules/loader.py", "load_rules", "validator.rules.loader.load_rules"),
    ("validator/pandera_schema.py", "to_pandera", "validator.pandera_schema.to_pandera"),
    ("validator/report/text.py", "render_text", "validator.report.text.render_text"),
]


def profile_validate(data: Path, rules: Path, lines: list[str]) -> None:
    import pstats

    py = sys.executable
    argv = ["--rules", str(rules), str(data)]

    # 1. import time of the validate process vs `import pandas` (each run twice, the 2nd kept: warm caches).
    for _ in range(2):
        imp_v = run_child([py, "-X", "importtime", "-c", IMPORTS_CODE.format(rules=str(rules))])
        imp_p = run_child([py, "-X", "importtime", "-c", "import pandas"])
    rows_v, rows_p = _parse_importtime(imp_v["stderr"]), _parse_importtime(imp_p["stderr"])
    pandas_mods = {n for n, *_ in rows_p}
    total_p = sum(c for n, s, c, ind in rows_p if ind == 1)
    total_v = sum(c for n, s, c, ind in rows_v if ind == 1)
    by_pkg: dict[str, float] = {}
    for n, s, c, ind in rows_v:
        if n not in pandas_mods:
            top = n.split(".")[0]
            by_pkg[top] = by_pkg.get(top, 0.0) + s
    lines += ["", "### Imports (`python -X importtime`, second of two runs)", ""]
    lines.append(f"- `import pandas` alone: {total_p:.3f} s")
    lines.append(
        f"- `import validator.cli, validator.engine` (and `pandera.pandas` when the rules declare `columns:`; what a "
        f"validate run imports): {total_v:.3f} s, "
        f"i.e. **{total_v - total_p:+.3f} s** over the baseline's imports"
    )
    lines += ["", "Self time of the modules that `import pandas` does not load, by top-level package:", ""]
    lines += ["| package | self s |", "| --- | ---: |"]
    for n, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"| `{n}` | {v:.3f} |")
    lines += ["", "Heaviest imports not loaded by `import pandas` (cumulative s, with the module that first imports them):", ""]
    lines += ["| module | cumulative s | imported by |", "| --- | ---: | --- |"]
    # importtime prints a module after its children: the parent is the next row with smaller nesting.
    parents = {}
    for i, (n, s, c, ind) in enumerate(rows_v):
        for m2, s2, c2, ind2 in rows_v[i + 1 :]:
            if ind2 < ind:
                parents[n] = m2
                break
    shown = 0
    for n, s, c, ind in sorted(rows_v, key=lambda r: -r[2]):
        if n in pandas_mods or c < 0.03 or n in ("validator", "validator.cli", "pandera.pandas"):
            continue
        lines.append(f"| `{n}` | {c:.3f} | `{parents.get(n, '(top level)')}` |")
        shown += 1
        if shown >= 14:
            break

    # 2. phases, in a child, each timed on its own.
    ph = run_child([py, "-c", PHASES_CODE.format(root=str(ROOT), rules=str(rules), data=str(data), baseline=baseline_read(data))])
    m = re.search(r"PHASES (.*)", ph["stdout"])
    if m:
        lines += ["", "### Phases of a validate run (one child; each phase timed alone, in this order)", ""]
        lines += ["| phase | s | peak RSS after, MB | current RSS after, MB |", "| --- | ---: | ---: | ---: |"]
        for name, sec, peak, current in json.loads(m.group(1)):
            lines.append(f"| {name} | {sec:.3f} | {peak:.0f} | {current:.0f} |")
        lines.append("")
        lines.append(
            "Rules share summaries: a rule's time includes the summaries it computes first (e.g. `quality-entropy` "
            "pays for `numeric_values`/`value_range` of quality, `language-representativeness` reuses the "
            "language value counts). The two `schema.validate` calls re-run the metric arithmetic on cached "
            "summaries (the 5,000-row distance statistic is not cached, ~0.05 s); the first call also pays "
            "pandera's lazy backend registration."
        )
    else:
        lines += ["", f"(phase run failed: {ph['stderr'][-500:]})"]

    # 3. interpreter shutdown, and DataFrames kept alive by validate().
    sd_v = _shutdown_time([py, "-c", SHUTDOWN_VALIDATE.format(argv=argv)])
    sd_b = _shutdown_time([py, "-c", SHUTDOWN_BASELINE.format(baseline=baseline_read(data))])
    lines += [
        "",
        "### Interpreter shutdown (median of 3: last statement -> child reaped)",
        "",
        f"- after `cli.run(...)` returned: {sd_v:.3f} s; after the baseline's read: {sd_b:.3f} s "
        f"(**+{sd_v - sd_b:.3f} s** for validate: module teardown and GC over the many objects pydantic/pandera/scipy "
        "create, and freeing the DataFrame; the console script skips this with os._exit after flushing).",
    ]
    lk = run_child([py, "-c", LEAK_CODE.format(rules=str(rules), data=str(data))])
    m = re.search(r"LEAK (.*)", lk["stdout"])
    if m:
        leak = json.loads(m.group(1))
        lines += [
            "",
            "### DataFrames kept alive after `validator.validate(df, rules)` returns (Python API)",
            "",
            f"Three calls on fresh copies of a 200,000-row frame, each followed by `del df; gc.collect()`: frames still "
            f"alive after each call: {leak['alive']}; entries in pandera's schema registry: {leak['registry']}.",
        ]
        if leak["alive"] and leak["alive"][-1] > 0:
            lines.append(
                "Every validated frame leaks: `schema.validate(df, inplace=True)` registers the schema in "
                "`pandera.accessors._schema_registry._reg` (a module-global dict keyed by `id(df)`, cleaned by a "
                "weakref callback on the frame); the schema's checks are closures over `pandera_schema.Evaluation`, whose "
                "`summaries.df` is the frame itself, so the weakref never fires. In the CLI this only delays freeing "
                "to shutdown; in a long-running process (a loop over datasets) memory grows by one frame per call."
            )
    else:
        lines += ["", f"(leak check failed: {lk['stderr'].strip()[-300:]})"]

    # 4. cProfile of validator.cli.run (imports included).
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "validate.prof")
        pr = run_child([py, "-c", PROFILE_CODE.format(argv=argv, stats=stats_path)])
        m = re.search(r"PROFILE (.*)", pr["stderr"])
        info = json.loads(m.group(1)) if m else {}
        st = pstats.Stats(stats_path)
        lines += ["", "### cProfile of `validator.cli.run` (cProfile adds overhead to Python-heavy code)", ""]
        if info:
            lines.append(
                f"`import validator.cli` {info['import_s']:.3f} s (profiled), `cli.run` {info['run_s']:.3f} s, "
                f"exit {info['rc']}, peak RSS {info['maxrss_mb']:.0f} MB."
            )
        lines += ["", "| function | cumulative s | calls |", "| --- | ---: | ---: |"]
        for sub, name, label in PROFILE_ROWS:
            hits = [(v[3], v[1]) for (fn, _l, fname), v in st.stats.items() if fname == name and sub in fn]
            if hits:
                ct = sum(h[0] for h in hits)
                nc = sum(h[1] for h in hits)
                lines.append(f"| {label} | {ct:.3f} | {nc} |")
        lines += ["", "Top 15 by own time (tottime; `acquire` is the main thread waiting for read_csv's worker threads):", ""]
        lines += ["| function | tottime s | cumtime s | calls |", "| --- | ---: | ---: | ---: |"]
        items = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:15]
        for (fn, line, name), (cc, nc, tt, ct, callers) in items:
            lines.append(f"| `{name}` {_short(fn)}:{line} | {tt:.3f} | {ct:.3f} | {nc} |")


def fmt_row(name: str, vals: list[float], unit: str) -> str:
    return f"| {name} | {statistics.median(vals):.3f} {unit} | {min(vals):.3f} | {max(vals):.3f} | {', '.join(f'{v:.2f}' for v in vals)} |"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="validate vs read_csv-only benchmark")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--rules", type=Path, default=DEFAULT_RULES)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--profile", action="store_true", help="profile validate even when it meets the targets")
    ap.add_argument("--no-profile", action="store_true", help="never profile, even when a target is missed")
    ap.add_argument("--no-distance", action="store_true", help="skip the in-process distance kernel timing")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    t_start = time.perf_counter()

    if not args.data.exists():
        # in a child: this process must stay small (see run_child)
        print(f"{args.data} missing: building it (python bench/make_manifest.py)", flush=True)
        subprocess.run([sys.executable, str(HERE / "make_manifest.py"), "--out", str(args.data)], check=True)

    info = machine_info()
    size_mb = args.data.stat().st_size / 1e6
    load_before = loadavg()
    print(f"data {args.data} ({size_mb:.1f} MB), rules {args.rules}, {args.rounds} rounds; load average {load_before}", flush=True)

    bcmd, vcmd = baseline_cmd(args.data), validate_cmd(args.data, args.rules)
    # warm-up pair (discarded): page cache, bytecode caches
    for kind, cmd in (("baseline", bcmd), ("validate", vcmd)):
        r = run_child(cmd)
        _check(kind, r)
        print(f"  warm-up {kind}: {r['wall']:.2f} s, {r['rss_mb']:.0f} MB", flush=True)
    validate_stdout = r["stdout"]
    floor = run_child([sys.executable, "-c", "pass"])
    print(f"  floor (python -c pass): {floor['wall']:.3f} s, {floor['rss_mb']:.0f} MB", flush=True)

    runs = {"baseline": [], "validate": []}
    for i in range(args.rounds):
        for kind, cmd in (("baseline", bcmd), ("validate", vcmd)):
            r = run_child(cmd)
            _check(kind, r)
            runs[kind].append(r)
            print(f"  round {i + 1} {kind:8s}: wall {r['wall']:.3f} s, peak RSS {r['rss_mb']:.0f} MB, cpu {r['cpu']:.2f} s, exit {r['rc']}", flush=True)
    load_after = loadavg()

    med = {k: {m: statistics.median(x[m] for x in v) for m in ("wall", "rss_mb", "cpu")} for k, v in runs.items()}
    wall_ratio = med["validate"]["wall"] / med["baseline"]["wall"]
    rss_ratio = med["validate"]["rss_mb"] / med["baseline"]["rss_mb"]
    # baseline child's own split: import pandas vs read_csv
    splits = [tuple(float(x) for x in re.search(r"BENCH (\S+) (\S+)", r["stdout"]).groups()) for r in runs["baseline"]]
    imp_s = statistics.median(s[0] for s in splits)
    read_s = statistics.median(s[1] for s in splits)
    wall_ok, rss_ok = wall_ratio <= WALL_TARGET, rss_ratio <= RSS_TARGET

    lines = [
        "# Benchmark results: `validate` vs a read-only process",
        "",
        "Generated by `python bench/run_bench.py` (see bench/README.md); numbers are from one run.",
        "",
        "## Machine",
        "",
        f"- date: {info['date']}",
        f"- nproc: {info['nproc']}; CPU: {info.get('cpu', '?')}; memory: {info.get('mem_gb', '?')} GiB",
        f"- Python {info['python']}; pandas {info['pandas']}; numpy {info['numpy']}; pyarrow {info['pyarrow']}; "
        f"pandera {info['pandera']}; scipy {info['scipy']}; pydantic {info['pydantic']}",
        f"- {info['platform']}",
        f"- code: commit {git_state()}",
        f"- load average before / after the timed rounds: {load_before} / {load_after} (a shared machine: other jobs add noise)",
        "",
        "## Data and rules",
        "",
        f"- `{args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data}`: {size_mb:.1f} MB "
        "(doc_id, language, source, token_count, quality, e0..e7; `bench/make_manifest.py`, seeded)",
        f"- `{args.rules.relative_to(ROOT) if args.rules.is_relative_to(ROOT) else args.rules}`: 3 entropy, 2 KL "
        "(inline categories with `other:`, inline histogram), 1 distance_spread (mean, 5,000-row sample)",
        "",
        "## Whole process: baseline vs validate",
        "",
        f"{args.rounds} alternating rounds after one discarded warm-up pair; each child in its own process; "
        "wall = spawn to reap; peak RSS = the child's own `ru_maxrss` (`os.wait4`).",
        "",
        f"- baseline: `python -c \"import pandas; {baseline_read(args.data).replace(str(args.data), 'path')}\"`",
        f"- validate: `validate --rules {args.rules.name} {args.data.name}`",
        "",
        "| child | median | min | max | all rounds |",
        "| --- | ---: | ---: | ---: | --- |",
        fmt_row("baseline wall", [r["wall"] for r in runs["baseline"]], "s"),
        fmt_row("validate wall", [r["wall"] for r in runs["validate"]], "s"),
        fmt_row("baseline peak RSS (MB)", [r["rss_mb"] for r in runs["baseline"]], "MB"),
        fmt_row("validate peak RSS (MB)", [r["rss_mb"] for r in runs["validate"]], "MB"),
        fmt_row("baseline CPU (user+sys)", [r["cpu"] for r in runs["baseline"]], "s"),
        fmt_row("validate CPU (user+sys)", [r["cpu"] for r in runs["validate"]], "s"),
        "",
        f"Baseline split (median, measured inside the child): `import pandas` {imp_s:.3f} s, the read {read_s:.3f} s. "
        f"An empty `python -c pass` child: {floor['wall']:.3f} s, {floor['rss_mb']:.0f} MB (the RSS floor; the "
        "launcher stays small, since a child's `ru_maxrss` starts at its launcher's high-water mark).",
        "",
        "| ratio validate / baseline (medians) | value | target | |",
        "| --- | ---: | ---: | --- |",
        f"| wall time | **{wall_ratio:.2f}x** | <= {WALL_TARGET}x | {'met' if wall_ok else 'MISSED'} |",
        f"| peak RSS | **{rss_ratio:.2f}x** | <= {RSS_TARGET}x | {'met' if rss_ok else 'MISSED'} |",
        f"| CPU time (user+sys; less sensitive to a busy machine) | {med['validate']['cpu'] / med['baseline']['cpu']:.2f}x | - | |",
        f"| wall time, fastest round of each (min / min) | {min(r['wall'] for r in runs['validate']) / min(r['wall'] for r in runs['baseline']):.2f}x | - | |",
        "",
        f"Overhead over the read-only process: {med['validate']['wall'] - med['baseline']['wall']:.3f} s (median walls).",
    ]

    if not args.no_distance:
        print("timing distance_statistic(X, 'mean') in-process ...", flush=True)
        dist = distance_cost(args.data)
        lines += [
            "",
            "## Distance rule's own cost (in-process)",
            "",
            "`validator.metrics.distance.distance_statistic(X, 'mean')` on the rule's own seeded sample of e0..e7 "
            "(`FrameSummaries.row_sample`, seed 0), median of the repetitions, compared with the baseline's "
            f"in-child `read_csv` time ({read_s:.3f} s) and whole baseline process ({med['baseline']['wall']:.3f} s).",
            "",
            "| sample | median s | min s | reps | x read_csv | x baseline process | mean distance |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for d in dist:
            lines.append(
                f"| {d['shape'][0]:,} x {d['shape'][1]} | {d['median_s']:.3f} | {d['min_s']:.3f} | {d['reps']} | "
                f"{d['median_s'] / read_s:.2f}x | {d['median_s'] / med['baseline']['wall']:.2f}x | {d['value']:.6f} |"
            )
        if len(dist) == 2:
            lines.append("")
            lines.append(
                f"20,000 / 5,000 rows: {dist[1]['median_s'] / dist[0]['median_s']:.1f}x the time (16x the pairs). "
                "A 20,000-row sample in the rule file would add about "
                f"{dist[1]['median_s'] - dist[0]['median_s']:.2f} s to validate, i.e. about "
                f"+{(dist[1]['median_s'] - dist[0]['median_s']) / med['baseline']['wall']:.2f}x on the wall ratio."
            )

    lines += ["", "## validate's report (warm-up run)", "", "```", validate_stdout.rstrip(), "```"]

    missed = not (wall_ok and rss_ok)
    if (args.profile or missed) and not args.no_profile:
        print("profiling validate ...", flush=True)
        lines += ["", "## Profile of validate", ""]
        lines.append("Run because " + ("validate missed a target." if missed else "--profile was given."))
        profile_validate(args.data, args.rules, lines)

    lines += ["", f"Benchmark runtime: {time.perf_counter() - t_start:.0f} s.", ""]
    text = "\n".join(lines)
    args.results.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"(written to {args.results})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
