"""Digital-footprint indicators as polars DataFrames, for notebooks and dashboards.

Every function takes an optional DuckDB connection ``con``; without one it opens the
warehouse read-only (:func:`territoires.entrepot.connexion.connect`) and closes it afterwards.

- :func:`catalogue`  one row per indicator: label, definition, unit, polarity, sources,
  vintage (millésime), formula, order.
- :func:`indicateurs` the indicators of every territory of a level, **long** format by
  default (one row per territory × indicator [× size band]), with the catalogue's label,
  unit, sources and vintage on every row; ``forme="large"`` gives one row per territory
  and, per indicator ``X``, the columns ``X`` (taux), ``X_numerateur``,
  ``X_denominateur`` and ``X_pondere`` (population-weighted rate).
- :func:`presence` the per-commune facts (raw directory values beside derived ones).
- :func:`communes_a_accompagner` the communes of a territory without a website or using a
  consumer webmail, for field teams.
- :func:`sources` the sources cited by the catalogue (producer, licence, URL, vintage, sha256).

Rates are in [0, 1]; for ``score_presence`` the rate is the mean score / 100.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from territoires import niveaux
from territoires.config import settings
from territoires.entrepot.litteraux import en_polars

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

FORMES = ("longue", "large")


@contextmanager
def connexion_empruntee(con) -> Iterator["duckdb.DuckDBPyConnection"]:
    if con is not None:
        yield con
        return
    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb

    own = connect(settings().warehouse)  # the analysts' entry point: the home is resolved here
    try:
        yield own
    finally:
        own.close()


def verifier_territoire(con, niveau: str, code: str | None = None, region: str | None = None) -> None:
    """Raise ValueError (French message) for an unknown level, territory or region."""
    if niveau not in niveaux.NOMS:
        raise ValueError(f"niveau « {niveau} » inconnu ; choix : {', '.join(niveaux.NOMS)}")
    if code is not None:
        found = con.execute(
            "select count(*) from marts.territoires where niveau = ? and code = ?", [niveau, code]
        ).fetchone()[0]
        if not found:
            raise ValueError(f"territoire inconnu : niveau {niveau}, code « {code} » (absent de l'entrepôt)")
    if region is not None:
        known = [r for (r,) in con.execute(
            "select code from marts.territoires where niveau = 'region' order by code").fetchall()]
        if region not in known:
            raise ValueError(f"région « {region} » absente de l'entrepôt ; régions présentes : {', '.join(known)}")


def requete_indicateurs(
    niveau: str,
    code: str | None = None,
    region: str | None = None,
    *,
    tranches: bool = False,
    indicateurs: list[str] | None = None,
) -> tuple[str, list]:
    """SQL and parameters of the long indicator table (shared by the API, CLI and exports)."""
    where = ["i.niveau = ?"]
    params: list = [niveau]
    if code is not None:
        where.append("i.code = ?")
        params.append(code)
    if region is not None:
        where.append("list_contains(t.regions, ?)")
        params.append(region)
    if not tranches:
        where.append("i.tranche_taille = 'ensemble'")
    if indicateurs:
        where.append("list_contains(?::varchar[], i.indicateur)")
        params.append(list(indicateurs))
    sql = f"""
        select i.niveau, i.code, t.nom, i.tranche_taille,
               coalesce(tt.libelle, 'toutes les communes') as tranche_libelle,
               i.indicateur, c.libelle, i.numerateur, i.denominateur, i.taux, i.taux_pondere,
               i.population, c.unite, c.polarite, c.sources, c.millesime
        from marts.indicateurs i
        join marts.territoires t on t.niveau = i.niveau and t.code = i.code
        join marts.indicateurs_catalogue c using (indicateur)
        left join marts.tranches_taille tt on tt.tranche_taille = i.tranche_taille
        where {' and '.join(where)}
        order by i.code, coalesce(tt.ordre, 0), c.ordre
    """
    return sql, params


def catalogue(con=None) -> "pl.DataFrame":
    """The indicator catalogue (``marts.indicateurs_catalogue``), in catalogue order."""
    with connexion_empruntee(con) as c:
        return en_polars(c, "from marts.indicateurs_catalogue order by ordre")


def tranches_taille(con=None) -> "pl.DataFrame":
    """The commune size bands (``marts.tranches_taille``)."""
    with connexion_empruntee(con) as c:
        return en_polars(c, "from marts.tranches_taille order by ordre")


def indicateurs(
    niveau: str = "region",
    code: str | None = None,
    region: str | None = None,
    con=None,
    *,
    tranches: bool = False,
    forme: str = "longue",
    indicateurs: list[str] | None = None,
) -> "pl.DataFrame":
    """Indicators of the territories of ``niveau`` (commune, epci, departement, region,
    operateur, alliance), optionally one territory (``code``) or those of one ``region``.

    ``tranches=True`` adds one row (or, wide, one row per territory) per commune size band
    besides ``tranche_taille = 'ensemble'``. ``forme="longue"`` (default): columns niveau,
    code, nom, tranche_taille, tranche_libelle, indicateur, libelle, numerateur,
    denominateur, taux, taux_pondere, population, unite, polarite, sources, millesime.
    ``forme="large"``: niveau, code, nom, tranche_taille, then per indicator ``X``:
    ``X``, ``X_numerateur``, ``X_denominateur``, ``X_pondere``.
    """

    if forme not in FORMES:
        raise ValueError(f"forme « {forme} » inconnue ; choix : {', '.join(FORMES)}")
    with connexion_empruntee(con) as c:
        verifier_territoire(c, niveau, code, region)
        sql, params = requete_indicateurs(niveau, code, region, tranches=tranches, indicateurs=indicateurs)
        longue = en_polars(c, sql, params)
        if forme == "longue":
            return longue
        ordre = [r[0] for r in c.execute(
            "select indicateur from marts.indicateurs_catalogue order by ordre").fetchall()]
    return elargir(longue, [i for i in ordre if indicateurs is None or i in indicateurs])


def elargir(longue: "pl.DataFrame", ordre: list[str]) -> "pl.DataFrame":
    """Long indicator table → one row per territory (× band), four columns per indicator."""
    import polars as pl

    keys = ["niveau", "code", "nom", "tranche_taille"]
    base = longue.select(keys).unique(maintain_order=True)
    parts = []
    for ind in ordre:
        sub = longue.filter(pl.col("indicateur") == ind).select(
            *keys,
            pl.col("taux").alias(ind),
            pl.col("numerateur").alias(f"{ind}_numerateur"),
            pl.col("denominateur").alias(f"{ind}_denominateur"),
            pl.col("taux_pondere").alias(f"{ind}_pondere"),
        )
        if sub.height:
            parts.append(sub)
    out = base
    for sub in parts:
        out = out.join(sub, on=keys, how="left")
    return out


def presence(
    region: str | None = None,
    con=None,
    *,
    niveau: str | None = None,
    code: str | None = None,
) -> "pl.DataFrame":
    """Per-commune facts (``marts.presence_numerique``) of the communes of the scope,
    optionally of one ``region``, or of one territory (``niveau`` + ``code``: an EPCI
    gives all its member communes, out-of-scope ones included)."""
    with connexion_empruntee(con) as c:
        if niveau is not None or code is not None:
            if niveau is None or code is None:
                raise ValueError("niveau et code vont ensemble")
        verifier_territoire(c, niveau or "commune", code, region)
        where, params = _filtre_communes(niveau, code, region)
        return en_polars(c, f"select p.* from marts.presence_numerique p where {where} order by p.code", params)


def _filtre_communes(niveau: str | None, code: str | None, region: str | None) -> tuple[str, list]:
    where, params = [], []
    if niveau is not None and niveau != "commune":
        where.append(
            "p.code in (select code_commune from marts.appartenances where niveau = ? and code = ?"
            " and (niveau = 'epci' or dans_perimetre))"
        )
        params += [niveau, code]
    else:
        where.append("p.dans_perimetre")
        if niveau == "commune":
            where.append("p.code = ?")
            params.append(code)
    if region is not None:
        where.append("p.code_region = ?")
        params.append(region)
    return " and ".join(where), params


def communes_a_accompagner(niveau: str, code: str, con=None) -> "pl.DataFrame":
    """Communes of a territory without a declared website or whose e-mail is at a consumer
    webmail (communes without a directory entry are listed too, to be checked), with their
    contact details, what is missing for the score, by ascending score then population."""
    with connexion_empruntee(con) as c:
        verifier_territoire(c, niveau, code)
        where, params = _filtre_communes(niveau, code, None)
        return en_polars(
            c,
            f"select {COLONNES_ACCOMPAGNER} from marts.presence_numerique p {JOINTURE_ACCOMPAGNER}"
            f" where {where} and {A_ACCOMPAGNER} order by {ORDRE_ACCOMPAGNER}",
            params,
        )


#: what :func:`communes_a_accompagner` gives of each commune: ``{column: SQL}`` over ``p``
#: (marts.presence_numerique) and ``e`` (its EPCI in marts.territoires)
ACCOMPAGNER = {
    "code": "p.code", "nom": "p.nom", "code_epci": "p.code_epci", "nom_epci": "e.nom",
    "code_departement": "p.code_departement", "population": "p.population", "tranche_taille": "p.tranche_taille",
    "score_presence": "p.score_presence",
    "motifs": """list_filter([
        case when not p.fiche_mairie then 'pas de fiche mairie dans les données' end,
        case when p.fiche_mairie and not p.site_declare then 'pas de site internet déclaré' end,
        case when p.email_webmail_grand_public
             then 'messagerie grand public (' || coalesce(p.fournisseur_email, p.email_domaine) || ')' end
    ], x -> x is not null)""",
    "mairie_site": "p.mairie_site", "mairie_email": "p.mairie_email", "mairie_telephone": "p.mairie_telephone",
    "classe_hebergement": "p.classe_hebergement", "classe_email": "p.classe_email",
    "criteres_manquants": "p.criteres_manquants",
}


def _choix(colonnes, sql: dict[str, str] | None = None) -> str:
    """The select list of ``colonnes``: each ``p.<name>``, or its expression in ``sql``."""
    return ", ".join(f"{(sql or {}).get(c, f'p.{c}')} as {c}" for c in colonnes)


COLONNES_ACCOMPAGNER = _choix(ACCOMPAGNER, ACCOMPAGNER)
JOINTURE_ACCOMPAGNER = "left join marts.territoires e on e.niveau = 'epci' and e.code = p.code_epci"
A_ACCOMPAGNER = "(not p.fiche_mairie or not p.site_declare or p.email_webmail_grand_public)"
ORDRE_ACCOMPAGNER = "p.score_presence nulls first, p.population desc nulls last, p.code"


def par_territoire(niveau: str, con, *, a_accompagner: bool = False, code: str | None = None,
                   colonnes: tuple[str, ...] | None = None) -> "pl.DataFrame":
    """For every territory of ``niveau`` at once (a column ``territoire``, its code), or
    for the one of ``code``: the rows :func:`presence` (or, ``a_accompagner``,
    :func:`communes_a_accompagner`) gives for each, in the same order; what report pages
    slice one territory from. ``colonnes``: only these of their columns (lists and long
    texts cost most of the reading: :func:`presence` has 51)."""
    verifier_territoire(con, niveau)
    membres = ("with m as (select distinct code as territoire, code_commune from marts.appartenances"
               f" where niveau = ?{'' if code is None else ' and code = ?'} and (niveau = 'epci' or dans_perimetre))")
    if a_accompagner:
        choix = _choix(colonnes, ACCOMPAGNER) if colonnes else COLONNES_ACCOMPAGNER
        sql = (f"{membres} select m.territoire, {choix} from marts.presence_numerique p"
               f" join m on m.code_commune = p.code {JOINTURE_ACCOMPAGNER} where {A_ACCOMPAGNER}"
               f" order by m.territoire, {ORDRE_ACCOMPAGNER}")
    else:
        choix = _choix(colonnes) if colonnes else "p.*"
        sql = (f"{membres} select m.territoire, {choix} from marts.presence_numerique p"
               " join m on m.code_commune = p.code order by m.territoire, p.code")
    return en_polars(con, sql, [niveau] if code is None else [niveau, code])


def sources(con=None) -> "pl.DataFrame":
    """The sources cited by the catalogue (``marts.sources``), with producer, licence, URL,
    vintage, sha256 and row count."""
    with connexion_empruntee(con) as c:
        return en_polars(
            c, "select * from marts.sources where id in "
            "(select distinct unnest(sources) from marts.indicateurs_catalogue) order by id")


def domaines_inconnus(con=None, limite: int = 20) -> "pl.DataFrame":
    """Site and e-mail domains that no classification list knows, the most frequent first
    (``usage`` = site or email; ``communes`` = how many communes use it)."""
    with connexion_empruntee(con) as c:
        return en_polars(c, REQUETE_INCONNUS, [limite, limite])


REQUETE_INCONNUS = """
    with sites as (
        select 'site' as usage, site_domaine as domaine, count(*) as communes,
               list_sort(list_distinct(list(site_hote)))[1:3] as exemples
        from marts.presence_numerique
        where classe_hebergement = 'domaine_propre' and not site_classe_par_liste
        group by site_domaine order by communes desc, domaine limit ?
    ),
    emails as (
        select 'email' as usage, email_domaine as domaine, count(*) as communes,
               list_sort(list_distinct(list(email_hote)))[1:3] as exemples
        from marts.presence_numerique
        where classe_email = 'domaine_propre' and not email_classe_par_liste
        group by email_domaine order by communes desc, domaine limit ?
    )
    select * from sites union all select * from emails
    order by usage desc, communes desc, domaine
"""
