"""The rule file, from YAML text to a typed :class:`~validator.rules.ruleset.RuleSet`.

- ``model.py``: the typed rule-file model (pydantic), the single source of truth for rule semantics;
- ``yaml_source.py``: the strict YAML reader that keeps every value's line and column;
- ``loader.py``: ``load_rules`` and the translation of pydantic's errors into positioned problems;
- ``ruleset.py``: ``RuleSet``, what a rule file says about the data (columns read, columns read as
  text, a rule's reference) and ``to_pandera`` through the registered schema compiler;
- ``schema.py``: the JSON Schema of the rule file (``python -m validator.rules.schema``).

May import: :mod:`validator.errors` and third-party pydantic / PyYAML. Never summaries, metrics,
checks, engine, report or cli (they all import the rules).
"""
