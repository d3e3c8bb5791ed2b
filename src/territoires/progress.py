"""Minimal progress display on stderr: a line per step that takes over a second.

Silent when ``quiet`` (``--quiet``, or ``CI=true``). Errors are never silenced.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator


class Progress:
    def __init__(self, quiet: bool = False, total: int | None = None) -> None:
        self.quiet = quiet
        self.total = total
        self.done = 0
        self.t0 = time.perf_counter()

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Time a step; report it when it took a second or more (or always at the end)."""
        start = time.perf_counter()
        self.done += 1
        yield
        elapsed = time.perf_counter() - start
        if elapsed >= 1.0:
            prefix = f"[{self.done}/{self.total}] " if self.total else ""
            self.say(f"  {prefix}{label} … {elapsed:.1f} s")

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0
