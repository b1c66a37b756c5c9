"""Strict YAML reading for rule files, with the position of every value.

This module owns the step from YAML text to plain Python data. PyYAML's ``safe_load`` follows
YAML 1.1, which turns the Norwegian language code ``no`` (and ``on``, ``off``, ``yes``) into a
boolean and silently keeps the last of two duplicate keys (handed cases H16 and H17). Here the
text is only *composed* by PyYAML (which gives nodes with line and column marks) and the nodes
are turned into Python values by our own rules:

* mapping keys are always the string exactly as written (``no``, ``01`` and ``1e-3`` stay
  strings as keys);
* plain scalar values follow the YAML 1.2 core schema: ``true``/``false`` are the only
  booleans, ``null``/``~``/empty is None, ``1e-3`` and ``.inf`` are floats, ``0x1F`` is an int;
* quoted scalars are always strings;
* duplicate keys, anchors/aliases and explicit tags other than the core ones are refused.

Every value's position is kept in :class:`Positions` keyed by its path in the document, so that
later validation errors (pydantic's ``loc``) point to ``file:line:column``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import YamlSourceError

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}

MAX_INT_DIGITS = 300  # past float64's range (1.8e308): no count, bound or seed needs more
#: deepest nesting of lists and mappings composed (a rule file needs about 6: rules, a rule, its
#: reference, bins, edges); checked as PyYAML composes, so a deep file stops at this depth
MAX_DEPTH = 50

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_BOOL_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a YAML file."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document stands.

    ``values[path]`` is the mark of the value at ``path`` (a tuple of keys and list indices);
    ``keys[path]`` the mark of the key that introduces it.
    """

    values: dict[tuple, Mark] = field(default_factory=dict)
    keys: dict[tuple, Mark] = field(default_factory=dict)

    def nearest(self, path: tuple) -> Mark | None:
        """The mark of ``path`` or of its closest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return None
            path = path[:-1]


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _StrictComposer(yaml.SafeLoader):
    """PyYAML's loader with aliases and anchors refused at compose time."""

    _depth = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self._depth >= MAX_DEPTH:
            event = self.peek_event()
            raise YamlSourceError(f"nested too deeply to be a rule file (more than {MAX_DEPTH} levels of lists and mappings)",
                                  Mark(event.start_mark.line + 1, event.start_mark.column + 1))
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlSourceError(
                f"aliases (*{event.anchor}) are not allowed in a rule file; write the value out",
                Mark(event.start_mark.line + 1, event.start_mark.column + 1),
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlSourceError(
                f"anchors (&{anchor}) are not allowed in a rule file; write the value out",
                Mark(event.start_mark.line + 1, event.start_mark.column + 1),
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# No implicit resolvers: every plain scalar composes with the default str tag and we resolve it
# ourselves, so an explicit tag is recognisable as one.
_StrictComposer.yaml_implicit_resolvers = {}


def _scalar(node: ScalarNode) -> Any:
    text = node.value
    if node.tag not in _CORE_TAGS:
        raise YamlSourceError(f"tag {node.tag!r} is not allowed in a rule file", _mark(node))
    if node.style in ("'", '"', "|", ">"):
        return text
    explicit = node.tag if node.tag != "tag:yaml.org,2002:str" else None
    if explicit is None or explicit == "tag:yaml.org,2002:null":
        if _NULL.match(text):
            return None
    if explicit in (None, "tag:yaml.org,2002:bool"):
        if _BOOL_TRUE.match(text):
            return True
        if _BOOL_FALSE.match(text):
            return False
    if explicit in (None, "tag:yaml.org,2002:int"):
        if _INT10.match(text):
            if len(text.lstrip("+-")) > MAX_INT_DIGITS:
                raise YamlSourceError(f"an integer of {len(text.lstrip('+-'))} digits is too large for a rule file "
                                      f"(at most {MAX_INT_DIGITS})", _mark(node))
            return int(text)
        if _INT8.match(text):
            return int(text[2:], 8)
        if _INT16.match(text):
            return int(text[2:], 16)
    if explicit in (None, "tag:yaml.org,2002:float"):
        if _FLOAT.match(text):
            return float(text)
        if _INF.match(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.match(text):
            return math.nan
    if explicit not in (None,):
        raise YamlSourceError(f"{text!r} is not a valid {explicit.rsplit(':', 1)[-1]}", _mark(node))
    return text


def _build(node: Node, path: tuple, positions: Positions) -> Any:
    positions.values[path] = _mark(node)
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if node.tag not in _CORE_TAGS:
        raise YamlSourceError(f"tag {node.tag!r} is not allowed in a rule file", _mark(node))
    if isinstance(node, SequenceNode):
        return [_build(child, path + (i,), positions) for i, child in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    first_seen: dict[str, Mark] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise YamlSourceError("mapping keys must be plain text, not lists or mappings", _mark(key_node))
        if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<" and key_node.style is None:
            raise YamlSourceError("merge keys (<<) are not allowed in a rule file", _mark(key_node))
        key = key_node.value  # exactly as written: 'no' stays 'no' (case H16)
        if key in first_seen:
            raise YamlSourceError(
                f"duplicate key {key!r}: first at line {first_seen[key].line}, "
                f"again at line {_mark(key_node).line}",
                _mark(key_node),
            )
        first_seen[key] = _mark(key_node)
        positions.keys[path + (key,)] = _mark(key_node)
        out[key] = _build(value_node, path + (key,), positions)
    return out


def parse_yaml(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document strictly, returning the data and the positions of its values.

    Parameters
    ----------
    text : str
        The YAML text of one document.

    Returns
    -------
    data : Any
        Plain Python data (dict, list, str, int, float, bool, None).
    positions : Positions
        The 1-based line and column of every value and key, by path.

    Raises
    ------
    YamlSourceError
        For malformed YAML, duplicate keys, aliases, anchors, merge keys or non-core tags,
        with the position of the fault.
    """
    positions = Positions()
    try:
        loader = _StrictComposer(text)  # PyYAML checks the whole text is printable here
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Mark(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)  # PyYAML gives the code point
        raise YamlSourceError(f"not valid YAML: the non-printable character U+{code:04X} is not allowed in YAML text",
                              where) from None
    try:
        node = loader.get_single_node()
    except YamlSourceError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise YamlSourceError(f"not valid YAML: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlSourceError("nested too deeply to be a rule file") from None
    finally:
        loader.dispose()
    if node is None:
        return None, positions
    try:
        return _build(node, (), positions), positions
    except RecursionError:
        raise YamlSourceError("nested too deeply to be a rule file", _mark(node)) from None
