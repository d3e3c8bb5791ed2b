"""Progress on stderr, the one mechanism of every command (build steps, report pages).

- ``quiet`` (``--quiet``, or ``CI=true``): nothing but errors.
- stderr a terminal: a counter updated in place (``\\r``), as a person watching expects.
- stderr not a terminal (cron, CI, Airflow logs): a few plain lines (every tenth of the
  way and the last), never hundreds of carriage-return updates.

Errors (:meth:`Progress.erreur`) are never silenced.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


class Progress:
    def __init__(self, quiet: bool = False, total: int | None = None, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self._palier = 0  # last tenth reported (plain lines)
        self._en_place = False  # a counter line is open on the terminal

    @property
    def terminal(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def _ecrire(self, text: str) -> None:
        if self._en_place:
            self.stream.write("\n")
            self._en_place = False
        print(text, file=self.stream, flush=True)

    def say(self, message: str) -> None:
        if not self.quiet:
            self._ecrire(message)

    def erreur(self, message: str) -> None:
        """A message printed even when quiet."""
        self._ecrire(message)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Time a step; report it when it took a second or more."""
        start = time.perf_counter()
        yield
        self.fait(label, time.perf_counter() - start)

    def fait(self, label: str, elapsed: float) -> None:
        """Count a step done that took ``elapsed`` seconds (timed elsewhere: on another
        thread, :mod:`territoires.warehouse.parallele`); report it when a second or more."""
        self.done += 1
        if elapsed >= 1.0:
            prefix = f"[{self.done}/{self.total}] " if self.total else ""
            self.say(f"  {prefix}{label} … {elapsed:.1f} s")

    def avance(self, label: str, n: int = 1) -> None:
        """Count ``n`` more items of ``total`` done."""
        self.done += n
        if self.quiet or not self.total:
            return
        elapsed = time.perf_counter() - self.t0
        text = f"{label} : {self.done}/{self.total} ({elapsed:.0f} s)"
        if self.terminal:
            self.stream.write("\r" + text)
            self.stream.flush()
            self._en_place = True
            return
        palier = self.done * 10 // self.total
        if palier > self._palier or self.done == self.total:
            self._palier = palier
            self._ecrire(text)

    def fin(self) -> None:
        """Close an in-place counter line."""
        if self._en_place:
            self.stream.write("\n")
            self.stream.flush()
            self._en_place = False


class BarreOctets:
    """A download's progress in bytes, with the interface pooch expects of a progress bar
    (``total``, ``update``, ``reset``, ``close``), drawn by :class:`Progress`: so downloads
    use the same mechanism as every other long step."""

    def __init__(self, libelle: str, stream: TextIO | None = None) -> None:
        self.libelle = libelle
        self.total: int | None = None
        self.n = 0
        self._p = Progress(stream=stream)

    def reset(self) -> None:
        self.n = 0
        self._p = Progress(stream=self._p.stream, total=self.total)

    def update(self, n: int) -> None:
        self.n += n
        self._p.total = self.total
        mo = self.n / 1e6
        suite = f" / {self.total / 1e6:.1f} Mo" if self.total else " Mo"
        if self._p.terminal:
            self._p.stream.write(f"\r{self.libelle} : {mo:.1f}{suite}")
            self._p.stream.flush()
            self._p._en_place = True

    def close(self) -> None:
        self._p.fin()
