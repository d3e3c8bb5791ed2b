"""Dashboards: papermill batch runner, nbconvert template, site index, manifest.

- ``notebooks/reports/tableau_de_bord.ipynb`` (one territory) and ``alliance.ipynb``:
  one typed, commented ``parameters`` cell, then one call per section into
  :mod:`.tableau` / :mod:`.alliance` (data from ``territoires.indicators.api``, maps from
  :mod:`territoires.geo`, figures from :mod:`territoires.charts`).
- :mod:`.runner`: ``territoires report --scope …`` — papermill in parallel, one kernel
  kept alive per worker, manifest, skip of up-to-date pages.
- :mod:`.export`: our nbconvert template (``templates/territoires``), assets written
  once per site (``assets/``), ``--single-file`` inlining.
- :mod:`.index`: ``reports/index.html`` with a search box. :mod:`.site`: the layout.
"""
