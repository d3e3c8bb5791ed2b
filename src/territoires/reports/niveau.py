"""Page data by level: what the pages of a level read (rates overall and by size band,
the wide table of sub-territories, names and pages below, peers for ranks, the communes of
the map, the CSV and the list to support) comes from one set-based query over the whole
level, kept for the process; each page takes its slice.

A batch kernel renders hundreds of pages (:mod:`.travailleur`): it asks the warehouse once
per level instead of once per page and territory (a département page read 25 territories'
rates, one query each; 112 queries a page before, 16 now). With ``--jobs 2`` each of the
two kernels reads each level once. A notebook run alone (papermill, JupyterLab) computes
its level on demand: the same rows, by the same SQL without the territory filter
(:func:`territoires.indicators.api.requete_indicateurs`, :func:`~territoires.indicators.api.par_territoire`),
so the same page (tests/test_niveau.py compares every territory's slice with its own query).

The data belong to the warehouse connection they were read from: the cached connection
(:func:`territoires.entrepot.connexion.connect`) is another object once the file changes,
and then everything here is read again.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from territoires.indicators import api

#: the connection the data below were read from, and the data: ``{key: value}``
_ENTREPOT: dict[str, Any] = {"con": None, "donnees": {}}


def partage(con, cle: tuple, calcul: Callable[[], Any]) -> Any:
    """``calcul()`` once per warehouse connection (and so per warehouse file), shared by
    every caller: for what is never changed (frames, tuples)."""
    if _ENTREPOT["con"] is not con:
        _ENTREPOT["con"], _ENTREPOT["donnees"] = con, {}
    donnees = _ENTREPOT["donnees"]
    if cle not in donnees:
        donnees[cle] = calcul()
    return donnees[cle]


def une_fois(con, cle: tuple, calcul: Callable[[], Any]) -> Any:
    """:func:`partage`, a copy of it for every caller, who may change what it gets."""
    return copy.deepcopy(partage(con, cle, calcul))


def _par_code(con, niveau: str, tranches: bool) -> dict[str, Any]:
    """The long indicator table of every territory of ``niveau``, one frame per code."""
    longue = api.indicateurs(niveau, con=con, tranches=tranches)
    return {cle[0]: df for cle, df in longue.partition_by("code", as_dict=True, maintain_order=True).items()}


def taux(con, niveau: str, code: str, tranches: bool = False) -> list[dict[str, Any]]:
    """The rows of ``api.indicateurs(niveau, code, tranches=…)`` for one territory, from
    its level's table; an unknown territory is refused as the API refuses it."""
    tranche = partage(con, ("taux", niveau, tranches), lambda: _par_code(con, niveau, tranches)).get(code)
    if tranche is None:
        api.verifier_territoire(con, niveau, code)  # a French error if unknown; else it has no rows
        return []
    return tranche.to_dicts()


def large(con, niveau: str) -> dict[str, dict[str, Any]]:
    """``{code: row}`` of ``api.indicateurs(niveau, forme="large")``: one row per territory
    (shared by the pages: read it, never change it)."""
    return partage(con, ("large", niveau),
                   lambda: {r["code"]: r for r in api.indicateurs(niveau, con=con, forme="large").to_dicts()})


def catalogue(con) -> list[dict[str, Any]]:
    """The indicator catalogue, in catalogue order (``api.catalogue``; shared: copy before changing)."""
    return partage(con, ("catalogue",), lambda: api.catalogue(con).to_dicts())


def tranches_taille(con) -> list[dict[str, Any]]:
    """The commune size bands, in order (``api.tranches_taille``; shared: copy before changing)."""
    return partage(con, ("tranches_taille",), lambda: api.tranches_taille(con).to_dicts())


def territoires(con, niveau: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``[(code, nom, départements)]`` of every territory of ``niveau``, by name (then code)."""
    return partage(con, ("territoires", niveau), lambda: [(c, n, tuple(d or ())) for c, n, d in con.execute(
        "select code, nom, departements from marts.territoires where niveau = ? order by nom, code", [niveau]).fetchall()])


def _communes_par_code(con, niveau: str, a_accompagner: bool) -> dict[str, Any]:
    df = api.par_territoire(niveau, con, a_accompagner=a_accompagner)
    return {cle[0]: part.drop("territoire")
            for cle, part in df.partition_by("territoire", as_dict=True, maintain_order=True).items()}


def communes(con, niveau: str, code: str, a_accompagner: bool = False):
    """``api.presence(niveau=…, code=…)`` (or ``api.communes_a_accompagner``) of one
    territory, from its level's table (a frame: read it, never change it). Only one level's
    communes are kept: a batch renders its pages level by level (:mod:`.runner`), and all
    France's communes at each level would weigh on every kernel."""
    partage(con, ("communes",), dict)  # the connection's data, then another level's communes dropped
    for cle in [c for c in _ENTREPOT["donnees"] if c[0] == "communes" and len(c) > 1 and c[1] != niveau]:
        del _ENTREPOT["donnees"][cle]
    part = partage(con, ("communes", niveau, a_accompagner), lambda: _communes_par_code(con, niveau, a_accompagner))
    if code in part:
        return part[code]
    api.verifier_territoire(con, niveau, code)  # a French error if unknown; else it has none
    seul = api.communes_a_accompagner if a_accompagner else (lambda n, c, con: api.presence(niveau=n, code=c, con=con))
    return seul(niveau, code, con=con)  # the empty frame, with its columns
