"""Digital-footprint indicators: per-commune facts, catalogue, aggregation at every level.

The facts and indicators are SQL models of the warehouse (``marts.presence_numerique``,
``marts.indicateurs_catalogue``, ``marts.indicateurs``, ``marts.tranches_taille``) built
from the town halls' directory entries and the classification lists of this folder
(``sites.csv``, ``messageries.csv``, ``extensions.csv``, ``catalogue.toml``). Notebooks read
them as polars DataFrames::

    from territoires import indicators
    indicators.indicateurs("region")                  # long format, one row per region × indicator
    indicators.indicateurs("epci", region="53", forme="large")
    indicators.communes_a_accompagner("epci", "242900314")

Nothing runs at import; polars is imported on first call.
"""

from __future__ import annotations

from territoires.indicators import api
from territoires.indicators.export import exporter

__all__ = [
    "catalogue", "communes_a_accompagner", "domaines_inconnus", "exporter", "indicateurs",
    "presence", "sources", "tranches_taille",
]


def __getattr__(name: str):
    if name == "exporter":
        return exporter
    if name in __all__:
        return getattr(api, name)
    raise AttributeError(f"module 'territoires.indicators' has no attribute {name!r}")
