"""``python -m validator.cli``: the ``validate`` command."""

from .validate import main

if __name__ == "__main__":  # pragma: no cover - guarded: pytest --doctest-modules imports this module
    main()
