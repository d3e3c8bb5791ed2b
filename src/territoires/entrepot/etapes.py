"""The loading-step type every input package hands to the build, and the build's error.

A step (:class:`Etape`) creates some ``raw`` tables from one input; its fingerprint says
when it can be kept from the previous warehouse (:mod:`territoires.warehouse.reprise`).
The packages that own an input (``sources``, ``members``, ``indicators``) define their
steps; :mod:`territoires.warehouse.build` only runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


class BuildError(RuntimeError):
    """A build failed; the message names the file (source, SQL model) and the reason."""


@dataclass(frozen=True)
class Etape:
    """A loading step: the tables it creates, the fingerprint of its inputs (``None``:
    always run), what it shows in the progress output, and the loader. ``facultatives``:
    the step may create none of its tables (a source not fetched, that no model reads);
    it is then kept as it is while its inputs are unchanged."""

    libelle: str
    tables: tuple[str, ...]
    empreinte: str | None
    charger: Callable[["duckdb.DuckDBPyConnection"], None]
    facultatives: bool = False
