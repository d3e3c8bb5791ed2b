"""The one error type of the sources package (kept apart so every module can import it)."""

from __future__ import annotations


class SourceError(RuntimeError):
    """A source is missing, corrupted or unknown. The message names the file and the reason."""
