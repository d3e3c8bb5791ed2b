"""Dashboards: papermill batch runner, nbconvert template, site index, manifest.

- ``notebooks/reports/tableau_de_bord.ipynb`` (one territory) and ``alliance.ipynb``:
  one typed, commented ``parameters`` cell, then one call per section into
  :mod:`.tableau_de_bord` / :mod:`.alliance`; what pages share (per-page cache, figures,
  HTML pieces) is in :mod:`.page`, the map classes in :mod:`.categories`, the list of
  communes to act on in :mod:`.accompagner` (data from ``territoires.indicators.api``,
  maps from :mod:`territoires.geo`, figures from :mod:`territoires.charts`).
- :mod:`.runner`: ``territoires report --scope …`` — scheduling; :mod:`.travailleur`:
  a worker process; :mod:`.noyau`: one kernel kept alive per worker and the papermill
  engine on it; :mod:`.manifeste`: manifest and up-to-date fingerprints.
- :mod:`.publication`: our nbconvert template (``templates/territoires``), assets written
  once per site (``assets/``), ``--single-file`` inlining.
- :mod:`.index`: ``reports/index.html`` with a search box (same frame as the pages,
  ``cadre.html.j2``). :mod:`.site`: the layout.
"""
