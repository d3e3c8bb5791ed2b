"""Dashboards: papermill batch runner, nbconvert template, site index, manifest.

- ``notebooks/reports/tableau_de_bord.ipynb`` (one territory) and ``alliance.ipynb``:
  one typed, commented ``parameters`` cell, then one call per section into
  :mod:`.tableau_de_bord` / :mod:`.alliance`; what pages share (per-page cache, figures,
  HTML pieces) is in :mod:`.page`, the map classes in :mod:`.categories`, the list of
  communes to act on in :mod:`.accompagner` (data from ``territoires.indicators.api``,
  maps from :mod:`territoires.geo`, figures from :mod:`territoires.charts`).
- :mod:`.retenir`: « Ce qu'il faut retenir », deterministic rules, one function each;
  :mod:`.pairs`: rank, quarter and territories of similar population;
  :mod:`.adhesion` and :mod:`.adoption`: member sections and ``adoption_services.ipynb``;
  :mod:`.communes`: the compact commune index behind the site search and commune cards;
  :mod:`.fiches`: the printable fiche of every commune (``reports/commune/<code>.html``),
  made without notebooks in one pass (a few set-based queries, one Jinja render each);
  :mod:`.chantiers`: the alliance's domains (cybersecurity, open data, responsible
  purchasing, declared in ``catalogue.toml`` ``[domaines]``), a section each on every
  dashboard and « Les chantiers de l'alliance » on the alliance page; :mod:`.chantiers_adherents`
  the members that are not communes in each section and on the alliance page, operator by
  operator, :mod:`.chantiers_mesures` how both are judged.
- :mod:`.runner`: ``territoires report --scope …`` — scheduling; :mod:`.travailleur`:
  a worker process; :mod:`.noyau`: one kernel kept alive per worker and the papermill
  engine on it; :mod:`.manifeste`: manifest and up-to-date fingerprints.
- :mod:`.publication`: our nbconvert template (``templates/territoires``), assets written
  once per site (``assets/``), ``--single-file`` inlining.
- :mod:`.index`: ``reports/index.html`` with a search box (same frame as the pages,
  ``cadre.html.j2``). :mod:`.site`: the layout.

Page markup, decided (issue « Dashboards an élu acts on », item 12): the frame of every
page and the index are Jinja templates (``templates/territoires``, escaping automatic);
a section stays a Python function returning ``html.section(titre, contenu, ident=…)``
whose tables come from ``html.table`` (every cell escaped unless marked ``brut``) and
figures from :mod:`territoires.charts`. A section is mostly data turned into a table, a
figure and two sentences, and the data decides its shape (a line per criterion, nothing
when the figure is missing), which is plain Python; adding one is a function and one
line in the notebook. The free text of a section goes through :func:`.html.e`. Partials
would pay once a section carries markup of its own beyond these helpers.
"""
