"""« Ce qu'il faut retenir »: three to five plain-French sentences at the top of a page,
drawn from the marts by deterministic rules (no language model).

Every rule lives here and only here. A rule reads a few figures (:class:`Faits`, gathered
by :func:`faits` from the warehouse, or given by a test) and returns one :class:`Phrase`, or
``None`` when its figure is missing, not informed by the source, or rests on fewer than
:data:`BASE_MIN` communes. Each sentence states one figure with its base and a comparison,
and links to the chart or table of the page it comes from (an anchor).

Rules, in the order they are said (beyond :data:`MAX_PHRASES`, the last ones are dropped):

0. :func:`regle_sans_donnees`: the source has nothing for the territory (then nothing else);
1. :func:`regle_rang_score`: rank among peers (same level) on the presence score;
2. :func:`regle_rang_adoption`: rank on the share of member communes (a register loaded);
   without peers to rank among, :func:`regle_adoption` compares it with the parent level;
3. :func:`regle_ecart_parent`: the largest gap to the closest parent level;
4. :func:`regle_accompagner`: how many communes to support and the most common reason;
5. :func:`regle_service`: for an operator, the service whose adoption varies most
   across its départements;
6. :func:`regle_tranche`: the size band that lags most on the score;
7. :func:`regle_enfant`: the territory one level down that lags most on the score.

After :func:`regle_accompagner`, the alliance's domains (« chantiers », :mod:`.chantiers`):
:func:`regle_chantier_faible`, the domain indicator whose outcome is least favourable;
:func:`regle_chantier_observatoire`, the communes publishing open data by OpenDataFrance's
observatory: how many through their operator's platform, how many by data.gouv.fr;
:func:`regle_chantier_adhesion`, the largest gap between member and non-member communes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from territoires import formats, niveaux
from territoires.reports.pairs import quart, rang
from territoires.html import e, section

#: no sentence rests on fewer communes than this
BASE_MIN = 5
#: at most this many sentences
MAX_PHRASES = 5


@dataclass
class Phrase:
    """One finding: its text (plain), the anchor of its chart or table, the rule's name."""

    texte: str
    ancre: str
    regle: str


@dataclass
class Faits:
    """The figures the rules read; every field may be missing (then its rules say nothing).

    Rates are fractions (0.873), the score too (0.87 = 87 / 100); ``base`` counts communes.
    """

    niveau: str
    nom: str
    #: communes of the territory, and those with a directory entry (the base of every rate)
    communes: int | None = None
    fiches: int | None = None
    #: ``{indicateur: {"rang", "sur", "taux", "base"}}`` among territories of the same level
    rangs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the closest parent: ``{"nom": "la région Bretagne", "ancre": "comparaison"}``
    parent: dict[str, Any] | None = None
    #: per dashboard indicator (unit %): ``{"libelle", "taux", "numerateur", "base", "taux_parent"}``
    ecarts: list[dict[str, Any]] = field(default_factory=list)
    #: per size band: ``{"libelle": "moins de 500 hab.", "taux": score, "base": communes}``
    tranches: list[dict[str, Any]] = field(default_factory=list)
    score_ensemble: float | None = None
    #: ``{"n": communes to support, "base": communes with a directory entry, "motifs": {motif: n}}``
    accompagner: dict[str, Any] | None = None
    #: per service: ``{"libelle", "territoires": [{"nom", "taux", "base"}]}`` (an operator's départements)
    services: list[dict[str, Any]] = field(default_factory=list)
    #: share of member communes (a register loaded): ``{"taux", "numerateur", "base", "taux_parent"}``
    adoption: dict[str, Any] | None = None
    #: the territories one level down (regions of the alliance, départements of a region or
    #: an operator, EPCI of a département): ``{"niveau_pluriel", "liste": [{"nom", "taux", "base"}]}``
    enfants: dict[str, Any] | None = None
    #: where a page holds the figure of a rule elsewhere: ``{"rang": "operateurs"}`` (adoption pages)
    ancres: dict[str, str] = field(default_factory=dict)
    #: per indicator of the alliance's domains measured here: ``{"indicateur", "domaine", "ancre", "libelle",
    #: "polarite", "taux", "numerateur", "base"}`` and, where a register is loaded,
    #: ``"taux_adherentes", "base_adherentes", "taux_non_adherentes", "base_non_adherentes"``
    chantiers: list[dict[str, Any]] = field(default_factory=list)


# ── words ───────────────────────────────────────────────────────────────────

def _score(x: float) -> str:
    return f"{formats.decimal(x * 100, 0)}\u202f/\u202f100"


def _communes(n: int) -> str:
    return f"{formats.entier(n)} commune{'s' if n > 1 else ''}"


def _points(x: float) -> str:
    p = abs(x) * 100
    return f"{formats.decimal(p, 1)} point{'s' if p >= 2 else ''}"


def _ce(f: Faits, majuscule: bool = False) -> str:
    s = niveaux.get(f.niveau).ce  # « ce département » (niveaux.toml)
    return s[:1].upper() + s[1:] if majuscule else s


def _classement(r: dict[str, Any]) -> bool:
    return bool(r) and r.get("taux") is not None and (r.get("base") or 0) >= BASE_MIN and (r.get("sur") or 0) >= 3


# ── rules ───────────────────────────────────────────────────────────────────

def regle_sans_donnees(f: Faits) -> Phrase | None:
    if f.fiches is None or f.fiches > 0 or not f.communes:
        return None
    return Phrase(
        f"L'Annuaire de l'administration, source de ces indicateurs, ne contient aucune fiche mairie pour "
        f"{'les ' + _communes(f.communes) if f.communes > 1 else 'la commune'} de {_ce(f)} : "
        "aucun indicateur de présence numérique ne peut être calculé ici.",
        "accompagner", "sans_donnees")


def _classe(f: Faits, r: dict[str, Any]) -> str:
    """« ce département se classe 3e sur les 26 départements de l'alliance »."""
    return f"{_ce(f)} se classe {rang(r['rang'])} sur les {formats.entier(r['sur'])} {niveaux.pairs(f.niveau)}"


def _rang_de(f: Faits, indicateur: str) -> dict[str, Any] | None:
    r = f.rangs.get(indicateur)
    return r if f.niveau in niveaux.RANG and _classement(r) else None


def regle_rang_score(f: Faits) -> Phrase | None:
    r = _rang_de(f, "score_presence")
    if r is None:
        return None
    return Phrase(
        f"Avec un score de présence numérique de {_score(r['taux'])} (moyenne de {_communes(r['base'])}), "
        f"{_classe(f, r)}, dans le {quart(r['rang'], r['sur'])}.",
        "rang", "rang_score")


def regle_rang_adoption(f: Faits) -> Phrase | None:
    r = _rang_de(f, "part_communes_adherentes")
    if r is None:
        return None
    adherentes = r.get("numerateur") or round(r["taux"] * r["base"])
    return Phrase(
        f"{formats.pourcent(r['taux'])} des communes adhèrent à leur opérateur ({formats.entier(adherentes)} sur "
        f"{formats.entier(r['base'])}) : {_classe(f, r)} dont le registre est chargé.",
        "rang", "rang_adoption")


def regle_adoption(f: Faits) -> Phrase | None:
    a = f.adoption
    if _rang_de(f, "part_communes_adherentes") is not None or not a or a.get("taux") is None \
            or (a.get("base") or 0) < BASE_MIN:
        return None
    comparaison = (f", contre {formats.pourcent(a['taux_parent'])} pour {f.parent['nom']}"
                   if f.parent and a.get("taux_parent") is not None else "")
    return Phrase(
        f"{formats.pourcent(a['taux'])} des communes adhèrent à leur opérateur ({formats.entier(a['numerateur'])} sur "
        f"{formats.entier(a['base'])}){comparaison}.",
        "adhesion", "adoption")


def regle_ecart_parent(f: Faits) -> Phrase | None:
    if not f.parent:
        return None
    ok = [x for x in f.ecarts if x.get("taux") is not None and x.get("taux_parent") is not None
          and (x.get("base") or 0) >= BASE_MIN]
    if not ok:
        return None
    x = max(ok, key=lambda x: (abs(x["taux"] - x["taux_parent"]), x["libelle"]))
    d = x["taux"] - x["taux_parent"]
    if round(abs(d) * 1000) == 0:
        return None
    sens = "de plus" if d > 0 else "de moins"
    return Phrase(
        f"Plus grand écart comparé à {f.parent['nom']} : {x['libelle'][:1].lower() + x['libelle'][1:]}, "
        f"{formats.pourcent(x['taux'])} ({formats.entier(x['numerateur'])} sur {_communes(x['base'])}) "
        f"contre {formats.pourcent(x['taux_parent'])}, soit {_points(d)} {sens}.",
        f.parent.get("ancre", "comparaison"), "ecart_parent")


def regle_tranche(f: Faits) -> Phrase | None:
    ok = [b for b in f.tranches if b.get("taux") is not None and (b.get("base") or 0) >= BASE_MIN]
    if len(ok) < 2 or f.score_ensemble is None:
        return None
    b = min(ok, key=lambda b: b["taux"])
    if b["taux"] >= f.score_ensemble:
        return None
    return Phrase(
        f"Les communes de {b['libelle'].removeprefix('de ')} ont le score le plus bas : {_score(b['taux'])} "
        f"(moyenne de {_communes(b['base'])}), contre {_score(f.score_ensemble)} pour l'ensemble du territoire.",
        "tranches", "tranche")


def regle_accompagner(f: Faits) -> Phrase | None:
    a = f.accompagner
    if not a or (a.get("base") or 0) < BASE_MIN or not a.get("n"):
        return None
    motifs = sorted((a.get("motifs") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    motif = f" ; motif le plus fréquent : {motifs[0][0]} ({_communes(motifs[0][1])})" if motifs else ""
    n = a["n"]
    return Phrase(
        f"{_communes(n)} sur {formats.entier(a['base'])} "
        f"{'sont' if n > 1 else 'est'} à accompagner ({formats.pourcent(n / a['base'])}){motif}.",
        "accompagner", "accompagner")


#: a gap between members and non-members is said from this many points (rounded) up
ECART_ADHESION_MIN = 0.05


def _minuscule(libelle: str) -> str:
    return libelle[:1].lower() + libelle[1:]


def regle_chantier_faible(f: Faits) -> Phrase | None:
    """The domain indicator whose outcome is least favourable (a « baisse favorable »
    indicator counts its complement), on at least :data:`BASE_MIN` communes."""
    ok = [x for x in f.chantiers if x.get("taux") is not None and (x.get("base") or 0) >= BASE_MIN]
    if not ok:
        return None

    def favorable(x: dict[str, Any]) -> float:
        return 1 - x["taux"] if x.get("polarite") == "baisse_favorable" else x["taux"]
    x = min(ok, key=lambda x: (favorable(x), x["libelle"]))
    if favorable(x) >= 0.5:
        return None
    return Phrase(
        f"{x['domaine']}, point le plus faible : {_minuscule(x['libelle'])}, {formats.pourcent(x['taux'])} "
        f"({formats.entier(x['numerateur'])} sur {_communes(x['base'])} mesurées).",
        x["ancre"], "chantier_faible")


#: the open-data indicators :func:`regle_chantier_observatoire` reads (catalogue.toml)
OBSERVATOIRE, PLATEFORME_OPERATEUR, DATAGOUV = ("part_donnees_ouvertes_observatoire",
                                                "part_plateforme_opendata_operateur", "part_donnees_ouvertes")


def regle_chantier_observatoire(f: Faits) -> Phrase | None:
    """Of the communes the observatory finds publishing (at least :data:`BASE_MIN`), how many
    through their operator's platform, how many data.gouv.fr finds under their own SIRET, each
    only on the same base of communes; else nothing (the share is :func:`regle_chantier_faible`'s)."""
    par = {x.get("indicateur"): x for x in f.chantiers}
    obs = par.get(OBSERVATOIRE)
    if not obs or (obs.get("base") or 0) < BASE_MIN or (obs.get("numerateur") or 0) < BASE_MIN:
        return None
    (n, base), ptf, dg = (obs["numerateur"], obs["base"]), par.get(PLATEFORME_OPERATEUR), par.get(DATAGOUV)
    dont = (f", dont {formats.entier(ptf['numerateur'])} par la plateforme de leur opérateur "
            f"({formats.pourcent(ptf['numerateur'] / n)})") if ptf and ptf.get("base") == base else ""
    ailleurs = (f" ; data.gouv.fr en compte {formats.entier(dg['numerateur'])} publiant sous leur propre SIRET"
                if dg and dg.get("base") == base else "")
    if not dont and not ailleurs:
        return None
    return Phrase(
        f"{obs['domaine']}, d'après l'Observatoire open data des territoires : {formats.entier(n)} des "
        f"{_communes(base)} mesurées publient des données ouvertes{dont}{ailleurs}.",
        obs["ancre"], "chantier_observatoire")


def regle_chantier_adhesion(f: Faits) -> Phrase | None:
    """The largest gap between member and non-member communes on a domain indicator
    (at least :data:`ECART_ADHESION_MIN`, each side on :data:`BASE_MIN` communes or more)."""
    ok = [x for x in f.chantiers if x.get("taux_adherentes") is not None and x.get("taux_non_adherentes") is not None
          and (x.get("base_adherentes") or 0) >= BASE_MIN and (x.get("base_non_adherentes") or 0) >= BASE_MIN]
    if not ok:
        return None
    x = max(ok, key=lambda x: (abs(x["taux_adherentes"] - x["taux_non_adherentes"]), x["libelle"]))
    d = x["taux_adherentes"] - x["taux_non_adherentes"]
    if round(abs(d), 3) < ECART_ADHESION_MIN:
        return None
    return Phrase(
        f"{x['domaine']}, plus grand écart entre adhérentes et non adhérentes : {_minuscule(x['libelle'])}, "
        f"{formats.pourcent(x['taux_adherentes'])} des communes adhérentes mesurées ({formats.entier(x['base_adherentes'])}) "
        f"contre {formats.pourcent(x['taux_non_adherentes'])} des non adhérentes ({formats.entier(x['base_non_adherentes'])}), "
        f"soit {_points(d)} {'de plus' if d > 0 else 'de moins'}.",
        x["ancre"], "chantier_adhesion")


def regle_service(f: Faits) -> Phrase | None:
    if f.niveau != "operateur":
        return None
    best = None
    for s in f.services:
        ok = [x for x in s.get("territoires", []) if x.get("taux") is not None and (x.get("base") or 0) >= BASE_MIN]
        if len(ok) < 2:
            continue
        lo = min(ok, key=lambda x: (x["taux"], x["nom"]))
        hi = max(ok, key=lambda x: (x["taux"], x["nom"]))
        ecart = hi["taux"] - lo["taux"]
        if ecart > 0 and (best is None or (ecart, s["libelle"]) > (best[0], best[1]["libelle"])):
            best = (ecart, s, lo, hi)
    if best is None:
        return None
    _, s, lo, hi = best
    return Phrase(
        f"Le service « {s['libelle']} » est le plus inégalement adopté : de {formats.pourcent(lo['taux'])} des "
        f"communes adhérentes ({lo['nom']}, {_communes(lo['base'])}) à {formats.pourcent(hi['taux'])} "
        f"({hi['nom']}, {_communes(hi['base'])}).",
        "adhesion", "service")


def regle_enfant(f: Faits) -> Phrase | None:
    if not f.enfants or f.score_ensemble is None:
        return None
    ok = [x for x in f.enfants.get("liste", []) if x.get("taux") is not None and (x.get("base") or 0) >= BASE_MIN]
    if len(ok) < 2:
        return None
    x = min(ok, key=lambda x: (x["taux"], x["nom"]))
    if round(x["taux"] * 100) >= round(f.score_ensemble * 100):
        return None
    return Phrase(
        f"Parmi les {formats.entier(len(ok))} {f.enfants['niveau_pluriel']}, {x['nom']} a le score le plus bas : "
        f"{_score(x['taux'])} (moyenne de {_communes(x['base'])}), contre {_score(f.score_ensemble)} pour "
        f"{_ce(f)}.",
        "territoires", "enfant")


REGLES = (regle_rang_score, regle_rang_adoption, regle_adoption, regle_ecart_parent, regle_accompagner,
          regle_chantier_faible, regle_chantier_observatoire, regle_chantier_adhesion, regle_service, regle_tranche, regle_enfant)


def phrases(f: Faits) -> list[Phrase]:
    """The findings, in rule order, at most :data:`MAX_PHRASES`; a territory the source
    says nothing about gets that one sentence only."""
    vide = regle_sans_donnees(f)
    if vide is not None:
        return [vide]
    out = [p for p in (r(f) for r in REGLES) if p is not None]
    for p in out:
        p.ancre = f.ancres.get(p.ancre, p.ancre)
    return out[:MAX_PHRASES]


# ── from the warehouse ──────────────────────────────────────────────────────

#: what a sentence's link says, by anchor
LIENS = {"territoires": "voir les territoires", "rang": "voir le rang", "operateurs": "voir les opérateurs", "services": "voir les services",
         "chiffres-cles": "voir les chiffres clés", "comparaison": "voir la comparaison", "tranches": "voir par taille de commune",
         "accompagner": "voir la liste", "adhesion": "voir l'adhésion"}


def designation(niveau: str, nom: str) -> str:
    """How a sentence names a parent: « l'alliance », « Bretagne (région) »."""
    if niveau == "alliance":  # no name of its own
        return niveaux.get(niveau).ce
    return f"{nom} ({niveaux.libelle(niveau).lower()})" if niveaux.get(niveau).nom_precise else nom


def _motif(m: str) -> str:
    """« messagerie grand public (wanadoo.fr) » → « messagerie grand public »."""
    return m.split(" (")[0]


def faits_adoption(t) -> Faits:
    """The figures of an adoption page (alliance, operator): rank on adoption among the
    operators, the service that varies most; their chart and table are named there."""
    f = faits(t)
    return Faits(niveau=t.niveau, nom=t.nom, communes=f.communes, adoption=f.adoption, parent=f.parent,
                 rangs={k: v for k, v in f.rangs.items() if k == "part_communes_adherentes"},
                 services=f.services, ancres={"rang": "operateurs", "adhesion": "services"})


def faits(t, ancre_ecart: str = "comparaison") -> Faits:
    """The figures of the rules for a dashboard territory (cached reads of :mod:`.page`)."""
    from territoires.reports import donnees, pairs  # paresseux : charge duckdb
    from territoires.reports.page import (a_accompagner, catalogue, comparables, renseigne, taux,  # paresseux : charge duckdb
                                          tranches_taille)

    con = t.con
    cat = {c["indicateur"]: c for c in catalogue(con)}
    mine = taux(con, t.niveau, t.code)
    fiches = (mine.get("part_site") or {}).get("denominateur")
    f = Faits(niveau=t.niveau, nom=t.nom, communes=t.nb_communes, fiches=None if fiches is None else int(fiches))
    rangs = {k: dict(v) for k, v in pairs.classement(  # copies: the page's cache keeps the originals
        con, t.niveau, t.code, [cat[i] for i in ("score_presence", "part_communes_adherentes") if i in cat]).items()}
    if "score_presence" in rangs:
        rangs["score_presence"]["base"] //= 100  # 100 points per commune with a directory entry
    f.rangs = rangs
    refs = comparables(t)
    if len(refs) > 1:
        n, c, nom = refs[1]
        f.parent = {"nom": designation(n, nom), "ancre": ancre_ecart}
        theirs = taux(con, n, c)
        a = mine.get("part_communes_adherentes") or {}
        if a.get("denominateur"):
            pa = theirs.get("part_communes_adherentes") or {}
            # a parent whose registers cover the same communes (one operator's register
            # loaded) gives the same figure: no comparison then
            f.adoption = {"taux": a.get("taux"), "numerateur": a.get("numerateur"), "base": a["denominateur"],
                          "taux_parent": pa.get("taux") if pa.get("denominateur") != a["denominateur"] else None}
        for ind in cat.values():
            if not ind.get("tableau") or ind["unite"] != "%" or not renseigne(ind):
                continue
            r, p = mine.get(ind["indicateur"]) or {}, theirs.get(ind["indicateur"]) or {}
            f.ecarts.append({"libelle": ind["libelle"], "taux": r.get("taux"), "numerateur": r.get("numerateur"),
                             "base": r.get("denominateur"), "taux_parent": p.get("taux")})
    par_tranche = taux(con, t.niveau, t.code, tranches=True)
    for b in tranches_taille(con):
        r = par_tranche.get((b["tranche_taille"], "score_presence")) or {}
        if r.get("denominateur"):
            f.tranches.append({"libelle": b["libelle"], "taux": r.get("taux"), "base": int(r["denominateur"]) // 100})
    f.score_ensemble = (mine.get("score_presence") or {}).get("taux")
    sous = niveaux.get(t.niveau).sous_niveau
    groupes = dict(donnees.enfants(t)) if sous else {}
    if sous and groupes.get(sous):
        liste = []
        for code, nom in groupes[sous]:
            r = taux(con, sous, code).get("score_presence") or {}
            liste.append({"nom": nom, "taux": r.get("taux"), "base": (r.get("denominateur") or 0) // 100})
        f.enfants = {"niveau_pluriel": niveaux.pluriel(sous), "liste": liste}
    acc = [r for r in a_accompagner(t) if r["fiche"]]
    motifs: dict[str, int] = {}
    for r in acc:
        for m in r["motifs"]:
            motifs[_motif(m)] = motifs.get(_motif(m), 0) + 1
    f.accompagner = {"n": len(acc), "base": f.fiches or 0, "motifs": motifs}
    from territoires.reports import chantiers  # paresseux : charge duckdb

    f.chantiers = chantiers.faits(t)
    if t.niveau == "operateur":
        deps = donnees.noms(con, "departement", t.departements)
        for ind in cat.values():
            i = ind["indicateur"]
            if not i.startswith("adoption_") or i.endswith("_communes"):
                continue
            terr = []
            for code, nom in deps:
                r = taux(con, "departement", code).get(i) or {}
                terr.append({"nom": nom, "taux": r.get("taux"), "base": r.get("denominateur")})
            f.services.append({"libelle": ind["libelle_court"], "territoires": terr})
    return f


def section_html(liste: list[Phrase]) -> str:
    """The block « Ce qu'il faut retenir » (empty when there is nothing to say)."""
    if not liste:
        return ""
    lis = "".join(f'<li>{e(p.texte)} <a href="#{e(p.ancre)}">{e(LIENS.get(p.ancre, "voir la section"))}</a></li>'
                  for p in liste)
    return section("Ce qu'il faut retenir", f'<ul class="retenir">{lis}</ul>', ident="retenir")
