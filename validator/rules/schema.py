"""The JSON Schema of rule files, generated from the pydantic model (never written by hand).

``python -m validator.rules.schema`` rewrites ``schemas/rules.schema.json``; a test fails when
the committed copy differs from what the model generates. Editors (e.g. VS Code's YAML
extension) validate rule files against it with ``# yaml-language-server: $schema=...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .model import RuleFile

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "rules.schema.json"


def rule_file_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a version-1 rule file."""
    schema = RuleFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://pretrain-validator.invalid/schemas/rules.schema.json"
    return schema


def render() -> str:
    """The schema as the text committed in ``schemas/rules.schema.json``."""
    return json.dumps(rule_file_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:

    parser = argparse.ArgumentParser(prog="python -m validator.rules.schema", description="Write the rule-file JSON Schema.")
    parser.add_argument("output", nargs="?", default=str(SCHEMA_PATH), help=f"where to write it (default {SCHEMA_PATH})")
    target = Path(parser.parse_args(argv).output)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
