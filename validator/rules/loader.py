"""Loading a rule file: YAML text -> typed :class:`~validator.rules.ruleset.RuleSet`, or errors that say where.

Every problem is reported as ``file:line:column: rule 'id': what was expected, what was found``
(with a "did you mean" for misspelt keys and metrics); all problems of a file are collected
before raising :class:`RuleFileError` (exit code 2 on the command line).
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from ..errors import RuleFileError, YamlSourceError
from .model import RULE_TYPES, NumericReferenceRule, ReferenceRule, RuleFile
from .ruleset import RuleSet
from .yaml_source import Mark, Positions, parse_yaml

#: the largest rule file read: PyYAML's pure-Python composer (needed for the positions and the
#: strict checks) reads about 50-100 KiB a second, so this keeps any rule file under ~2 s; the
#: largest example is 4 KiB, and categories by the thousand belong in a reference file or profile
MAX_RULE_FILE_BYTES = 64 * 1024


def _too_large(size: int) -> Problem:
    return Problem(f"is {size:,} bytes; a rule file is at most {MAX_RULE_FILE_BYTES // 1024} KiB"
                   " (put large references in a reference file or a profile)")


@dataclass(frozen=True)
class Problem:
    """One fault in a rule file."""

    message: str
    mark: Mark | None = None
    rule_id: str | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.mark}" if self.mark else source
        rule = f"rule '{self.rule_id}': " if self.rule_id else ""
        return f"{where}: {rule}{self.message}"


def load_rules(path: str | Path | dict | None = None, *, text: str | None = None, source: str | None = None) -> RuleSet:
    """Load and validate a rule file.

    Parameters
    ----------
    path : str, Path or dict
        A rule file path, or the rule file's content as a dict (positions then unknown).
    text : str, optional
        YAML text instead of a path.
    source : str, optional
        Name used in error messages for ``text`` or dict input.

    Returns
    -------
    RuleSet

    Raises
    ------
    RuleFileError
        Invalid YAML or rule file; every problem with file, line, column and rule id.
    FileNotFoundError / OSError
        The rule file cannot be read (the CLI reports it with exit code 2).
    """
    positions = Positions()
    if text is not None:
        source = source or "<text>"
        base_dir = Path.cwd()
        if len(text) > MAX_RULE_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_RULE_FILE_BYTES:
            raise RuleFileError(source, [_too_large(len(text.encode("utf-8", "surrogatepass")))])
        data = _parse(text, source, positions)
    elif isinstance(path, dict):
        source = source or "<dict>"
        base_dir = Path.cwd()
        data = path
    elif isinstance(path, (str, Path)) and str(path):
        p = Path(path)
        source = source or str(path)
        base_dir = p.resolve().parent
        try:
            with open(p, "rb") as fh:  # no more than the limit is read (a huge file or a device)
                raw = fh.read(MAX_RULE_FILE_BYTES + 1)
        except IsADirectoryError:
            raise RuleFileError(source, [Problem("is a directory, not a rule file")]) from None
        if len(raw) > MAX_RULE_FILE_BYTES:
            size = p.stat().st_size if p.is_file() else len(raw)
            raise RuleFileError(source, [_too_large(max(size, len(raw)))])
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RuleFileError(source, [Problem(f"is not UTF-8 text (byte {exc.start})")]) from None
        data = _parse(content, source, positions)
    else:
        raise TypeError(
            "The 'path' parameter of load_rules must be a non-empty path or a dict (or pass text=...). "
            f"Got {path!r} instead."
        )

    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        raise RuleFileError(source, [Problem(f"expected a mapping with 'version' and 'rules', found {found}", Mark(1, 1))])
    try:
        model = RuleFile.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = _drop_union_noise(exc.errors())
        raise RuleFileError(source, [_problem(err, data, positions) for err in errors]) from None
    problems = _cross_checks(model, positions)
    if problems:
        raise RuleFileError(source, problems)
    return RuleSet(model=model, source=source, base_dir=base_dir)


def _parse(text: str, source: str, positions: Positions) -> Any:
    try:
        data, pos = parse_yaml(text)
    except YamlSourceError as exc:
        raise RuleFileError(source, [Problem(exc.message, exc.mark)]) from None
    positions.values.update(pos.values)
    positions.keys.update(pos.keys)
    return data


def _cross_checks(model: RuleFile, positions: Positions) -> list[Problem]:
    """Checks across keys that pydantic cannot see with positions: unique ids, reference names."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, rule in enumerate(model.rules):
        if rule.id in seen:
            first = positions.nearest(("rules", seen[rule.id], "id"))
            where = f" (first at line {first.line})" if first else ""
            problems.append(Problem(f"duplicate rule id{where}", positions.nearest(("rules", i, "id")), rule.id))
        seen.setdefault(rule.id, i)
        if not isinstance(rule, (ReferenceRule, NumericReferenceRule)):
            continue
        ref_path = ("rules", i, "reference")
        if isinstance(rule.reference, str):
            if rule.reference not in model.references:
                known = list(model.references)
                hint = _did_you_mean(rule.reference, known)
                problems.append(
                    Problem(
                        f"reference {rule.reference!r} is not defined under 'references'"
                        + (f" (defined: {', '.join(known)})" if known else " (none are defined)")
                        + hint,
                        positions.nearest(ref_path),
                        rule.id,
                    )
                )
                continue
            ref = model.references[rule.reference]
        else:
            ref = rule.reference
        if isinstance(rule, NumericReferenceRule):
            if ref.kind not in ("file", "git"):
                problems.append(
                    Problem(
                        f"{rule.metric} compares raw values: its reference needs 'file' and 'column' (or 'git'), not '{ref.kind}'",
                        positions.nearest(ref_path),
                        rule.id,
                    )
                )
            continue
        if rule.smoothing and rule.smoothing.laplace is not None:
            probs = ref.kind == "categories" or (ref.kind == "bins" and ref.bins.probabilities is not None)
            if probs:
                problems.append(
                    Problem(
                        "laplace smoothing adds pseudo-counts, but this reference is given as probabilities; "
                        "use smoothing: {epsilon: e} (mixes in the uniform distribution), or give the reference as counts",
                        positions.nearest(("rules", i, "smoothing", "laplace")),
                        rule.id,
                    )
                )
        if ref.kind == "bins" and rule.bins is not None:
            problems.append(
                Problem(
                    "the reference is a histogram with its own frozen edges; remove the rule's 'bins'",
                    positions.nearest(("rules", i, "bins")),
                    rule.id,
                )
            )
        if ref.kind in ("categories", "counts") and rule.bins is not None:
            problems.append(
                Problem(
                    "'bins' applies to a numeric reference ('bins' histogram or 'file'); this reference is categorical",
                    positions.nearest(("rules", i, "bins")),
                    rule.id,
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Turning pydantic errors into positioned, readable problems.


def _drop_union_noise(errors: list[dict]) -> list[dict]:
    """Drop the 'expected text' error of ``reference: str | Reference`` when a mapping was given.

    pydantic reports a failed union once per branch; for a mapping the user clearly meant the
    inline-reference branch, whose own errors are the useful ones.
    """
    out = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "string_type" and loc and loc[-1] == "str" and isinstance(err.get("input"), dict):
            if any(tuple(o["loc"])[: len(loc) - 1] == loc[:-1] and o is not err for o in errors):
                continue
        out.append(err)
    return out


def _problem(err: dict, data: Any, positions: Positions) -> Problem:
    loc = tuple(err["loc"])
    data_path, model_path = _split_loc(loc, data, err["type"])
    rule_id = None
    if len(data_path) >= 2 and data_path[0] == "rules" and isinstance(data_path[1], int):
        rule = data["rules"][data_path[1]]
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            rule_id = rule["id"]
    etype = err["type"]
    where = _describe(data_path)
    found = err.get("input")
    if etype == "extra_forbidden":
        key = data_path[-1]
        allowed = _allowed_keys(model_path[:-1])
        msg = f"unknown key {key!r}" + (f" in {_describe(data_path[:-1])}" if len(data_path) > 1 else "")
        msg += _did_you_mean(str(key), allowed)
        if allowed:
            msg += f" (allowed: {', '.join(sorted(allowed))})"
        mark = positions.keys.get(data_path) or positions.nearest(data_path)
        return Problem(msg, mark, rule_id)
    if etype == "missing":
        return Problem(f"missing required key {data_path[-1]!r}", positions.nearest(data_path[:-1]), rule_id)
    if etype == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        msg = f"unknown metric {_clip(str(tag))!r}; expected one of {', '.join(RULE_TYPES)}" + _did_you_mean(str(tag), list(RULE_TYPES))
        return Problem(msg, positions.nearest(data_path + ("metric",)), rule_id)
    if etype == "union_tag_not_found":
        return Problem(f"missing required key 'metric' (one of {', '.join(RULE_TYPES)})", positions.nearest(data_path), rule_id)
    if etype == "string_pattern_mismatch" and data_path[-1:] == ("id",):
        return Problem(
            f"{where}: expected an id without leading or trailing spaces, found {_show(found)}",
            positions.nearest(data_path),
            rule_id,
        )
    if etype == "literal_error":
        expected = err["ctx"]["expected"]
        msg = f"{where}: expected {expected}, found {_show(found)}"
        if isinstance(found, str) and found not in expected:
            options = [o.strip("'") for o in expected.replace(" or ", ", ").split(", ")]
            msg += _did_you_mean(found, options)
        return Problem(msg, positions.nearest(data_path), rule_id)
    if etype in ("value_error", "assertion_error"):
        text = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        whole_rule = len(data_path) == 2 and data_path[0] == "rules"  # the rule id already says where
        return Problem(f"{where}: {text}" if data_path and not whole_rule else text, positions.nearest(data_path), rule_id)
    expected = _EXPECTED.get(etype)
    if expected:
        return Problem(f"{where}: expected {expected}, found {_show(found)}", positions.nearest(data_path), rule_id)
    msg = err["msg"]
    return Problem(f"{where}: {msg[:1].lower() + msg[1:]}, found {_show(found)}", positions.nearest(data_path), rule_id)


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "string_too_short": "non-empty text",
    "too_short": "a longer list",
}


_CLIP = 80


def _clip(text: str) -> str:
    """``text`` cut to 80 characters (a message stays one readable line)."""
    return text if len(text) <= _CLIP else text[: _CLIP - 3] + "..."


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"text {_clip(value)!r}" + (f" ({len(value):,} characters)" if len(value) > _CLIP else "")
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


def _describe(path: tuple) -> str:
    if not path:
        return "the file"
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "'" + "".join(parts) + "'"


def _split_loc(loc: tuple, data: Any, etype: str = "") -> tuple[tuple, tuple]:
    """Separate pydantic's loc into the path in the data and the path through the model.

    pydantic inserts union tags (e.g. ``'entropy'``) and type names into ``loc`` that are not
    keys of the document; they are kept only for the model path.
    """
    data_path: list = []
    model_path: list = []
    node = data
    for part in loc:
        model_path.append(part)
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            data_path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            data_path.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in RULE_TYPES and node.get("metric") == part:
            continue  # the union tag pydantic inserts
        elif etype in ("missing", "extra_forbidden") and isinstance(node, dict) and len(model_path) == len(loc):
            data_path.append(part)  # a missing or unknown key: not in the data, but it is the subject
        # anything else (a union branch such as 'str' or 'function-after[...]') is pydantic's
    return tuple(data_path), tuple(model_path)


def _allowed_keys(model_path: tuple) -> list[str]:
    """The keys allowed at a model path (for "did you mean"), walking the annotations."""
    tp: Any = RuleFile
    for part in model_path:
        tp = _step(tp, part)
        if tp is None:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if len(models) == 1 and all(not isinstance(a, type) or a in (str,) or a is models[0] for a in args):
                tp = models[0]
                continue
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _step(tp: Any, part: Any) -> Any:
    if isinstance(part, str) and part.startswith("function-"):
        # a validated model's branch: 'function-after[_check(), Reference]'
        name = part.rstrip("]").rsplit(", ", 1)[-1]
        for arg in typing.get_args(_unwrap_annotated(tp)):
            if isinstance(arg, type) and arg.__name__ == name:
                return arg
        return tp
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (list, dict):
        return typing.get_args(tp)[-1]
    if isinstance(part, str) and part in RULE_TYPES and origin is typing.Union:
        return RULE_TYPES[part]  # the tag of the rule union
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part)
        return field.annotation if field else None
    return None


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, [o for o in options if o != word], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
