"""The one error type of the sources package (kept apart so every module can import it)."""

from __future__ import annotations


class SourceError(RuntimeError):
    """A source is missing, corrupted or unknown. The message names the file and the reason.

    ``raison``: for a download that failed, the reason alone in a few French words
    (« nom d'hôte introuvable : pas de réseau ? », « HTTP 503 Service Unavailable »),
    recorded in the refresh state and shown on the pages; ``None`` otherwise."""

    def __init__(self, message: str, raison: str | None = None) -> None:
        super().__init__(message)
        self.raison = raison
