"""The ground floor of the data flow: what every layer above uses to talk to DuckDB.

- :mod:`.connexion`: open the warehouse (:func:`~.connexion.connect`), the spatial extension;
- :mod:`.litteraux`: SQL literals, small inserts and CSV buffers without bound parameters;
- :mod:`.etapes`: the loading-step type (:class:`~.etapes.Etape`) and :class:`~.etapes.BuildError`.

Nothing here imports a module of ``territoires`` above it (checked by a test): the
sources, members and indicators packages build their loading steps on it, and the
warehouse package only orchestrates them.
"""
