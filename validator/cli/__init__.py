"""Every command's ``main()``: argument parsing, printing, exit codes (:class:`~validator.errors.ExitCode`).

- ``validate.py``: ``validate`` (``main``, and ``run`` which returns the code without exiting);
- ``profile.py``: ``validate-profile`` and ``validate-suggest`` (the library is :mod:`validator.profile`);
- ``embed.py``: ``validate-embed`` (the library is :mod:`validator.embed.hashing`);
- ``common.py``: what they share (the output-path check, ``--version``).

May import every other room of the package; nothing in the package imports ``validator.cli``.
``validator.cli:main`` and ``validator.cli.run`` stay the ``validate`` command (entry points
installed before the move, ``python -m validator.cli``).
"""

from .validate import main, run

__all__ = ["main", "run"]
