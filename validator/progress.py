"""Progress bars on stderr for slow steps (tqdm): shown only on a terminal, only after a step has
run for 2 seconds, never with ``--quiet`` (:func:`set_quiet`)."""

from __future__ import annotations

import sys

from tqdm import tqdm

_QUIET = False
DELAY_SECONDS = 2.0


def set_quiet(quiet: bool) -> None:
    """Silence every progress bar of this process (the CLI's ``--quiet``)."""
    global _QUIET
    _QUIET = bool(quiet)


class Progress:
    """A ``progress(done, total)`` callable that drives a lazily created tqdm bar.

    Use as a context manager so that the bar is closed (and its line cleared) afterwards.
    """

    def __init__(self, description: str, unit: str = "texts"):
        self.description = description
        self.unit = unit
        self._bar = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if _QUIET:
            return
        if self._bar is None:
            # disable=None: off when stderr is not a terminal; delay: silent for quick steps
            self._bar = tqdm(
                total=total, desc=self.description, unit=self.unit, file=sys.stderr, delay=DELAY_SECONDS,
                disable=None, leave=False, dynamic_ncols=True,
            )
        self._bar.update(done - self._done)
        self._done = done

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
