"""Page data by level: what the pages of a level read (rates overall and by size band,
the wide table of sub-territories, names and pages below, peers for ranks, the communes of
the map, the CSV and the list to support) comes from one set-based query over the whole
level, kept for the process; each page takes its slice.

A batch kernel renders hundreds of pages (:mod:`.travailleur`): it asks the warehouse once
per level instead of once per page and territory (a département page read 25 territories'
rates, one query each; 112 queries a page before, 16 now). A notebook run alone (papermill, JupyterLab) computes
its level's rates on demand: the same rows, by the same SQL without the territory filter
(:func:`territoires.indicators.api.requete_indicateurs`), so the same page
(tests/test_niveau.py compares every territory's slice with its own query); its communes,
the largest of these tables, it reads alone (:func:`communes`: one territory's rows of
:func:`~territoires.indicators.api.par_territoire`, not its whole level's).

The data belong to the warehouse connection they were read from: the cached connection
(:func:`territoires.entrepot.connexion.connect`) is another object once the file changes,
and then everything here is read again.

A run of more pages than workers (``territoires report``) computes each level once for all
its kernels, not once per kernel: :func:`preparer` writes every level's frames
(:data:`GENRES`) to disk (:mod:`.niveau_disque`, keyed by the warehouse build's
fingerprint) from a thread of the runner while the workers start and render, and a kernel
reads its level's file instead of asking the warehouse; with no such file it computes as
above. The map's communes of every territory of a level (:func:`geometrie_communes`) and
their faint neighbours (:func:`contexte`: one spatial join per level, so kernels no longer
load the spatial extension for them) come the same way. On the four-region site this
takes about 7 s of queries off each kernel (communes 0.4–0.8 s a level, EPCI rates by
size band and wide table 0.8 s each) and two map queries off each page.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from territoires import geo, niveaux
from territoires.indicators import api
from territoires.reports import niveau_disque

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


def _trame_wkb(rows: list[tuple[str, str, bytes]]):
    """A frame of ``(territoire, code, WKB)`` rows, as the run writes polygons."""
    import polars as pl

    return pl.DataFrame(rows, schema={"territoire": pl.String, "code": pl.String, "wkb": pl.Binary}, orient="row")


def _geometries(con, niveau: str):
    """The map's communes of every territory of ``niveau`` (:func:`geometrie_communes`)."""
    return _trame_wkb(geo.communes_par_territoire(con, niveau))


def _contextes(con, niveau: str):
    """The faint neighbours of every territory's map (:func:`contexte`), each in its map's frame."""
    p = niveaux.precision(niveau)
    par_code: dict[str, list] = {}
    for territoire, code, wkb in geo.communes_par_territoire(con, niveau):
        par_code.setdefault(territoire, []).append((code, wkb))
    vues = {c: vue(geo.from_wkb_rows(rows, p)) for c, rows in par_code.items()}
    return _trame_wkb(geo.contexte_par_territoire(con, niveau, {c: v for c, v in vues.items() if v is not None}))


#: the levels whose maps draw their neighbours faintly (:func:`contexte`)
AVEC_CONTEXTE = ("epci", "departement")


def vue(geoms) -> tuple[float, float, float, float] | None:
    """The frame of a map of these communes (:func:`territoires.geo.cadre`), ``None`` when empty."""
    return geo.cadre(geoms.bbox) if geoms.bbox else None


#: what pages read of their communes (:func:`communes`): the map's facts
#: (:data:`.page.COLONNES_PRESENCE`) and the CSV of every commune (:func:`.accompagner.csv_toutes`),
#: 18 of marts.presence_numerique's 51 columns: the others (lists, the town halls' opening
#: hours and addresses) made most of the time a region page spent reading its communes
COLONNES_COMMUNES = ("code", "nom", "dans_perimetre", "code_epci", "code_departement", "population", "fiche_mairie",
                     "score_presence", "site_declare", "https", "site_domaine_maitrise", "extension_souveraine",
                     "email_non_generique", "email_webmail_grand_public", "email_meme_domaine", "horaires_publies",
                     "mairie_site", "mairie_email")


#: what pages read of their communes to support (:func:`.page.a_accompagner`): not the
#: lists of missing criteria nor the classes (0.02 s of a region page's reading)
COLONNES_COMMUNES_A_ACCOMPAGNER = ("code", "nom", "code_epci", "nom_epci", "code_departement", "population",
                                   "score_presence", "motifs", "mairie_site", "mairie_email", "mairie_telephone")


def _par_territoire(con, niveau: str, a_accompagner: bool = False, code: str | None = None):
    """The communes pages read (:func:`communes`), of every territory of ``niveau`` or of ``code``'s."""
    return api.par_territoire(niveau, con, a_accompagner=a_accompagner, code=code,
                              colonnes=COLONNES_COMMUNES_A_ACCOMPAGNER if a_accompagner else COLONNES_COMMUNES)


#: what a level's pages read, computed over the whole level: ``{genre: calcul(con, niveau)}``
#: (what :func:`preparer` writes to disk, each a frame)
GENRES: dict[str, Callable[[Any, str], Any]] = {
    "taux": lambda con, n: api.indicateurs(n, con=con, tranches=False),
    "taux_tranches": lambda con, n: api.indicateurs(n, con=con, tranches=True),
    "large": lambda con, n: api.indicateurs(n, con=con, forme="large"),
    "communes": lambda con, n: _par_territoire(con, n),
    "accompagner": lambda con, n: _par_territoire(con, n, a_accompagner=True),
    "geometrie": _geometries,
    "contexte": _contextes,
}
#: the kinds a kernel keeps for one level only (a batch renders its pages level by level)
PAR_NIVEAU = ("communes", "accompagner", "geometrie", "contexte")


def _dossier(con):
    """The run cache of this connection's warehouse build (:mod:`.niveau_disque`), or ``None``."""
    def trouver():
        try:
            chemin = con.execute("pragma database_list").fetchone()[2]
            empreinte = con.execute("select fingerprint from meta.build").fetchone()[0]
        except Exception:  # noqa: BLE001 - an in-memory or unbuilt warehouse: nothing on disk
            return None
        if not (chemin and empreinte and niveau_disque.racine(chemin).is_dir()):
            return None  # no run writes: the code's fingerprint is not even computed
        return niveau_disque.dossier(chemin, empreinte)

    return partage(con, ("dossier",), trouver)


def niveau_entier(con, genre: str, niveau: str):
    """``GENRES[genre]`` of ``niveau``: the run's file when there is one, else computed here."""
    df = niveau_disque.lire(_dossier(con), genre, niveau)
    return GENRES[genre](con, niveau) if df is None else df


def _garder_un_niveau(niveau: str) -> None:
    """Drop the per-level kinds (:data:`PAR_NIVEAU`) of levels other than ``niveau``."""
    for cle in [c for c in _ENTREPOT["donnees"] if len(c) > 1 and c[0] in PAR_NIVEAU and c[1] != niveau]:
        del _ENTREPOT["donnees"][cle]


def _longue(con, niveau: str, tranches: bool):
    """The long indicator table of every territory of ``niveau`` (read it, never change it),
    read once: the rates of each territory (:func:`taux`) and, without the size bands, the
    wide table (:func:`large`) are both cut from it."""
    genre = "taux_tranches" if tranches else "taux"
    return partage(con, ("longue", genre, niveau), lambda: niveau_entier(con, genre, niveau))


def _par_code(con, niveau: str, tranches: bool) -> dict[str, Any]:
    """The long indicator table of every territory of ``niveau``, one frame per code."""
    longue = _longue(con, niveau, tranches)
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
    def lire():
        df = niveau_disque.lire(_dossier(con), "large", niveau)
        if df is None:  # as api.indicateurs(forme="large") makes it, from the long table read already
            df = api.elargir(_longue(con, niveau, False), [c["indicateur"] for c in catalogue(con)])
        return {r["code"]: r for r in df.to_dicts()}

    return partage(con, ("large", niveau), lire)


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


def _communes_par_code(con, niveau: str, a_accompagner: bool) -> dict[str | None, Any]:
    """``{territoire: frame}`` from the run's file of the level (under ``None``, the frame
    of a territory without any), or ``{}`` when the run wrote none: :func:`communes` then
    fills it with each territory asked for, by its own query."""
    df = niveau_disque.lire(_dossier(con), "accompagner" if a_accompagner else "communes", niveau)
    if df is None:
        return {}
    out: dict[str | None, Any] = {cle[0]: part.drop("territoire")
                                  for cle, part in df.partition_by("territoire", as_dict=True, maintain_order=True).items()}
    out[None] = df.head(0).drop("territoire")  # a territory with none: the same columns, no row
    return out


def communes(con, niveau: str, code: str, a_accompagner: bool = False):
    """``api.presence(niveau=…, code=…)`` (its :data:`COLONNES_COMMUNES`), or
    ``api.communes_a_accompagner`` (its :data:`COLONNES_COMMUNES_A_ACCOMPAGNER`), of one
    territory (a frame: read it, never change it): its slice of the run's file of its level
    when there is one, else its own query (:func:`territoires.indicators.api.par_territoire`
    with its code: a notebook alone or a run of a page or two reads its communes, not its
    whole level's). Only one level's communes are kept: a batch renders its pages level by
    level (:mod:`.runner`), and all France's communes at each level would weigh on every kernel."""
    partage(con, ("communes",), dict)  # the connection's data, then another level's communes dropped
    _garder_un_niveau(niveau)
    part = partage(con, ("communes", niveau, a_accompagner), lambda: _communes_par_code(con, niveau, a_accompagner))
    if code in part:
        return part[code]
    if code not in {c for c, _, _ in territoires(con, niveau)}:
        api.verifier_territoire(con, niveau, code)  # a French error
    if None in part:
        return part[None]  # a territory of the level without any
    part[code] = _par_territoire(con, niveau, a_accompagner, code).drop("territoire")
    return part[code]


def _wkb_du_run(con, genre: str, niveau: str) -> dict[str, list] | None:
    """``{territoire: [(code, WKB)]}`` of the run's file of ``genre`` (``None``: no file),
    read once per level."""
    def par_code():
        df = niveau_disque.lire(_dossier(con), genre, niveau)
        if df is None:
            return None
        return {cle[0]: list(zip(part["code"].to_list(), part["wkb"].to_list()))
                for cle, part in df.partition_by("territoire", as_dict=True, maintain_order=True).items()}

    partage(con, (genre,), dict)
    _garder_un_niveau(niveau)
    return partage(con, (genre, niveau), par_code)


def geometrie_communes(con, niveau: str, code: str) -> "geo.Geometries":
    """The map's communes of one territory (:func:`territoires.geo.communes`): its slice of
    the run's file of its level when there is one, else its own query (a notebook alone)."""
    part = _wkb_du_run(con, "geometrie", niveau)
    if part is None:
        return geo.communes(con, niveau, code)
    return geo.from_wkb_rows(sorted(part.get(code, [])), niveaux.precision(niveau))


def contexte(con, niveau: str, code: str, geoms: "geo.Geometries") -> "geo.Geometries":
    """The communes around the map of ``geoms`` (:func:`territoires.geo.contexte` in the
    map's frame, :func:`vue`): the run's file of its level when there is one."""
    part = _wkb_du_run(con, "contexte", niveau)
    if part is None:
        return geo.contexte(con, niveau, code, vue=vue(geoms))
    return geo.from_wkb_rows(part.get(code, []), niveaux.precision(niveau))


def genres_du_run(niveaux_pages: list[str]) -> list[tuple[str, str]]:
    """``[(genre, niveau)]`` that pages of ``niveaux_pages`` (in the order their pages
    come) read, in that order: every kind of a dashboard level, the wide table of the level
    below (the map's table), the rates of the levels a page is compared with; the alliance
    page's rates and its EPCI maps' table."""
    voulus: list[tuple[str, str]] = []
    for n in niveaux_pages:
        if n == "alliance":
            voulus += [(g, m) for m in ("alliance", "region") for g in ("taux", "taux_tranches")] + [("large", "epci")]
            continue
        sous = niveaux.get(n).sous_niveau
        voulus += [(g, n) for g in GENRES if g != "contexte" or n in AVEC_CONTEXTE]
        voulus += [("large", sous)] if sous in niveaux.TABLEAU else []
        voulus += [(g, m) for m in (*niveaux.TABLEAU, "alliance") if niveaux.get(m).ordre > niveaux.get(n).ordre
                   for g in ("taux", "taux_tranches")]
    return list(dict.fromkeys(voulus))


def preparer(con, d, voulus: list[tuple[str, str]], arret=None) -> None:
    """Write each ``(genre, niveau)`` of ``voulus`` to the run cache ``d`` (opened by
    :func:`.niveau_disque.ouvrir`), in order, then tell the kernels it is done; stops early
    when ``arret`` (an event) is set. Kernels compute what is missing themselves."""
    try:
        for genre, n in voulus:
            if arret is not None and arret.is_set():
                return
            try:
                df = GENRES[genre](con, n)
            except Exception:  # noqa: BLE001 - e.g. a level this warehouse lacks: the page says why itself
                continue
            niveau_disque.ecrire(d, genre, n, df)
    finally:
        niveau_disque.fermer(d)
