"""Content of ``adoption_services.ipynb``: the adoption of the operators' services by their
members, for the alliance, an operator or any territory, section by section::

    a = adoption.perimetre(niveau, code, service, entrepot)  # checks the parameters
    adoption.entete(a)          # title, registers loaded (or the sentence saying none is)
    adoption.carte(a)           # member communes, and each service's adoption
    adoption.services(a)        # adoption of each service, among members and all communes
    adoption.tranches(a)        # by commune size band
    adoption.chronologie(a)     # member communes year by year, cumulated
    adoption.operateurs(a)      # the operators side by side
    adoption.types(a)           # members by entity type, against the eligible entities
    adoption.sources_et_millesimes(a)

Figures come from the member marts; where no register is loaded nothing is shown but
one plain sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from territoires import charts, couleurs, formats, geo, niveaux
from territoires.reports import adhesion, donnees, retenir, site, tableau_de_bord
from territoires.reports.donnees import ParametreInvalide, Territoire
from territoires.html import Bloc, e, num, section
from territoires.html import table as table_html
from territoires.reports.page import carte_chiffre, catalogue, display, nouvelle_page, sommaire, taux, tranches_taille, valeur


@dataclass
class Adoption:
    """The territory of an adoption page, its operators, their registers, the service asked."""

    t: Territoire
    service: str | None
    operateurs: list[tuple[str, str]]
    registres: dict[str, list[dict[str, Any]]]

    @property
    def con(self):
        return self.t.con

    @property
    def etats(self) -> dict[str, str]:
        """Per operator, what its register gives (:func:`territoires.reports.adhesion.etats`)."""
        return adhesion.etats(self.con, [c for c, _ in self.operateurs])

    @property
    def charge(self) -> bool:
        return adhesion.CHARGE in self.etats.values()

    @property
    def page(self) -> str:
        return site.chemin_page(self.t.niveau, self.t.code, "adoption")


def perimetre(niveau: Any = "alliance", code: Any = "alliance", service: Any = "", entrepot: str | None = "") -> Adoption:
    """Check the parameters; a French error lists the valid choices."""
    nouvelle_page()
    niveau = niveau.strip().lower() if isinstance(niveau, str) else niveau
    if niveau == "alliance":
        t = donnees.alliance(entrepot or None)
    else:
        t = donnees.territoire(niveau, code, entrepot or None, niveaux_admis=niveaux.TABLEAU)
    services = {s["service"]: s["libelle"] for s in adhesion.services(t.con)}
    service = (service or "").strip() if isinstance(service, str) else service
    if service and service not in services:
        raise ParametreInvalide(f"service « {service} » inconnu ; services possibles : "
                                + ", ".join(f"{k} ({v})" for k, v in services.items()))
    ops = adhesion.operateurs(t)
    return Adoption(t, service or None, ops, adhesion.registres(t.con, [c for c, _ in ops]))


def _lien_tableau(a: Adoption) -> str:
    return site.relatif(a.page, site.chemin_page(a.t.niveau, a.t.code))


def entete(a: Adoption) -> None:
    t = a.t
    noms = dict(a.operateurs)
    titre = f"{t.nom} — adoption des services des opérateurs"
    html = (
        f'<nav class="ariane" aria-label="Fil d\'Ariane"><ol><li><a href="{e(_racine(a))}index.html">Toutes les pages</a>'
        f'</li><li><a href="{e(_lien_tableau(a))}">{e(t.nom)}</a></li><li><span aria-current="page">Adoption des services'
        "</span></li></ol></nav>"
        + f"<h1>{e(t.nom)} : adoption des services</h1>"
        + f'<p class="sous-titre">{e(niveaux.libelle(t.niveau))} · {formats.entier(t.nb_communes)} communes · '
          f"opérateur{'s' if len(noms) > 1 else ''} : {e(', '.join(noms.values()) or 'aucun')}</p>"
    )
    phrases = adhesion.phrases_etats(a.operateurs, a.etats, a.registres)
    if not a.charge:
        html += "".join(f"<p>{e(p)}</p>" for p in phrases)
        html += ("<p class=\"note\">Pour charger un registre : <code>territoires adherents import FICHIER "
                 "--operateur CODE</code>, puis <code>territoires build</code> et <code>territoires report</code>.</p>")
        display(Bloc(html, meta={"page_titre": titre, "page_description": f"Adoption des services, {t.nom}."}))
        return
    if phrases:
        html += f'<p class="note">{e(" ".join(phrases))}</p>'

    html += retenir.section_html(retenir.phrases(retenir.faits_adoption(t)))
    html += sommaire([("carte", "Carte"), ("services", "Services"), ("tranches", "Par taille"),
                      ("chronologie", "Chronologie"), ("operateurs", "Opérateurs"), ("types", "Par type d'entité"),
                      ("sources", "Sources")])
    mine = taux(a.con, t.niveau, t.code)
    cat = {c["indicateur"]: c for c in catalogue(a.con)}
    cards = []
    part = mine.get("part_communes_adherentes")
    if part and part.get("denominateur"):
        cards.append(carte_chiffre(valeur(cat["part_communes_adherentes"], part), "Communes adhérentes",
                                   e(f"{formats.entier(part['numerateur'])} sur {formats.entier(part['denominateur'])} "
                                     f"communes ; {formats.pourcent(part.get('taux_pondere'))} des habitants")))
    spa = mine.get("services_par_adherente")
    if spa and spa.get("denominateur"):
        cards.append(carte_chiffre(formats.decimal(spa["taux"], 1), "Services par commune adhérente",
                                   e(f"sur {formats.entier(spa['denominateur'])} communes adhérentes")))
    n_membres = len(adhesion.membres(t))
    cards.append(carte_chiffre(formats.entier(n_membres), "Entités adhérentes",
                               e("communes, EPCI, syndicats, CCAS, établissements…")))
    html += f'<ul class="chiffres">{"".join(cards)}</ul>'
    html += f'<p class="note">{e(adhesion.source_registres({c: f for c, f in a.registres.items() if a.etats[c] == adhesion.CHARGE}, noms))}</p>'
    display(Bloc(html, meta={"page_titre": titre, "page_description": f"Adoption des services des opérateurs, {t.nom}."}))


def _racine(a: Adoption) -> str:
    return site.racine(a.page)


def carte(a: Adoption) -> None:
    """Member communes (a commune map for a département or an EPCI, the EPCI's rate above)."""
    if not a.charge:
        return
    con, t = a.con, a.t
    svcs = adhesion.services(con)
    if a.service:
        svcs = [s for s in svcs if s["service"] == a.service] + [s for s in svcs if s["service"] != a.service]
    if t.niveau in ("departement", "epci"):
        geoms = geo.communes(con, t.niveau, t.code)
        faits = {r[0]: r[1:] for r in con.execute(
            "select code, adherente, services from marts.adhesion_communes").fetchall()}
        noms = dict(con.execute("select code, nom from marts.territoires where niveau = 'commune'").fetchall())
        cats = [("Adhérente", couleurs.OUI), ("Non adhérente", couleurs.NON), (f"{couleurs.DONNEE_ABSENTE} (registre non chargé)", couleurs.INCONNU)]
        def cat(code: str) -> int:
            f = faits.get(code)
            return 2 if f is None else (0 if f[0] else 1)
        variantes = [charts.variante("Communes adhérentes", [cat(c) for c in geoms.ids], categories_=cats)]
        for s in svcs[:8]:
            cs = [("Utilise le service", couleurs.OUI), ("Adhérente, sans ce service", "#6b6b6b"),
                  ("Non adhérente", couleurs.NON), (f"{couleurs.DONNEE_ABSENTE} (registre non chargé)", couleurs.INCONNU)]
            def catsvc(code: str, s=s) -> int:
                f = faits.get(code)
                if f is None:
                    return 3
                if not f[0]:
                    return 2
                return 0 if s["service"] in (f[1] or []) else 1
            variantes.append(charts.variante(s["libelle"], [catsvc(c) for c in geoms.ids], categories_=cs))
        libelles = [noms.get(c, c) for c in geoms.ids]
        alt = f"Carte des communes {niveaux.devant_nom(t.niveau)}{t.nom} : adhérentes ou non, et usage de chaque service."
    else:
        codes = [c for (c,) in con.execute(
            f"select distinct code from marts.appartenances where niveau = 'epci' and code_commune in "
            f"{adhesion.COMMUNES_DU_TERRITOIRE}", [t.niveau, t.code]).fetchall()]
        geoms = geo.territoires(con, "epci", codes, precision=3)
        rates = {}
        for code, ind, tx in con.execute(
                "select code, indicateur, taux from marts.indicateurs where niveau = 'epci' and tranche_taille = 'ensemble' "
                "and (indicateur = 'part_communes_adherentes' or indicateur like 'adoption_%_communes')").fetchall():
            rates[(code, ind)] = tx
        noms = dict(con.execute("select code, nom from marts.territoires where niveau = 'epci'").fetchall())
        def var(libelle: str, ind: str) -> dict:
            vals = [rates.get((c, ind)) for c in geoms.ids]
            return charts.variante(libelle, vals, [f"{libelle} : {formats.pourcent(x)}" for x in vals],
                                   polarite="hausse_favorable", zmin=0, zmax=1)
        variantes = [var("Communes adhérentes", "part_communes_adherentes")]
        variantes += [var(s["libelle"], f"adoption_{s['service']}_communes") for s in svcs[:8]]
        libelles = [noms.get(c, c) for c in geoms.ids]
        alt = f"Carte des EPCI {niveaux.devant_nom(t.niveau)}{t.nom} : part des communes adhérentes, puis de celles qui utilisent chaque service."
    intro = ("Choisissez ce qui est affiché : l'adhésion, ou un service. Gris : le registre de l'opérateur n'est pas "
             "chargé (pas d'information, pas un refus).")
    display(Bloc(section("Carte", "", ident="carte", intro=intro)))
    display(charts.carte(geoms, libelles, variantes, titre=f"Adhésion, {t.nom}", alt=alt))


def services(a: Adoption) -> None:
    """Adoption of each service of the taxonomy, among member communes and all communes."""
    if not a.charge:
        return
    mine = taux(a.con, a.t.niveau, a.t.code)
    rows, lus = [], []
    for s in adhesion.services(a.con):
        p = mine.get(f"adoption_{s['service']}")
        q = mine.get(f"adoption_{s['service']}_communes")
        if not p or not p.get("denominateur"):
            continue
        rows.append([s["libelle"], s["famille"].replace("_", " "), num(formats.pourcent(p["taux"]), tri=p["taux"]),
                     num(formats.entier(p["numerateur"])), num(formats.pourcent(q["taux"]) if q else "–")])
        if p["numerateur"]:
            lus.append((p["taux"], s["libelle"], q["taux"] if q else None))
    rows.sort(key=lambda r: -(r[2].tri or 0))
    lus.sort(reverse=True)  # the chart: services used by at least one member, most used first
    cats, parmi, toutes = [x[1] for x in lus], [x[0] for x in lus], [x[2] for x in lus]
    aucun = len(rows) - len(lus)
    table = table_html(["Service", "Famille", "Parmi les adhérentes", "Communes", "Parmi toutes les communes"], rows,
                       legende=f"Adoption des services, {a.t.nom}", numeriques=[2, 3, 4])
    note = (f'<p class="note">{formats.entier(aucun)} service{"s" if aucun > 1 else ""} de la taxonomie '
            f"{'ne sont' if aucun > 1 else 'n’est'} utilisé{'s' if aucun > 1 else ''} par aucune commune adhérente "
            "d'après le registre (voir le tableau de données).</p>") if aucun else ""
    display(Bloc(section("Services utilisés", note, ident="services",
                         intro="Part des communes qui utilisent chaque service de la taxonomie commune aux "
                               "quatre opérateurs, parmi les adhérentes et parmi toutes les communes.")))
    alt = "Graphique en barres de l'adoption de chaque service : " + "; ".join(
        f"{c} : {formats.pourcent(x)}" for c, x in zip(cats, parmi)) + "."
    display(charts.barres(cats, [{"nom": "Parmi les adhérentes", "valeurs": parmi},
                                 {"nom": "Parmi toutes les communes", "valeurs": toutes}],
                          titre="Adoption de chaque service", alt=alt, donnees_html=table, decimales=0))


def tranches(a: Adoption) -> None:
    """Membership and services by commune size band."""
    if not a.charge:
        return

    rates = taux(a.con, a.t.niveau, a.t.code, tranches=True)
    bandes = [b for b in tranches_taille(a.con)
              if (rates.get((b["tranche_taille"], "part_communes_adherentes")) or {}).get("denominateur")]
    if not bandes:
        return
    cat = {c["indicateur"]: c for c in catalogue(a.con)}
    rows = []
    for b in bandes:
        r = rates[(b["tranche_taille"], "part_communes_adherentes")]
        rows.append([b["libelle"], num(formats.entier(r["denominateur"])), num(valeur(cat["part_communes_adherentes"], r)),
                     num(valeur(cat["score_presence_adherentes"], rates.get((b["tranche_taille"], "score_presence_adherentes")))),
                     num(valeur(cat["score_presence_non_adherentes"],
                                rates.get((b["tranche_taille"], "score_presence_non_adherentes"))))])
    table = table_html(["Taille de commune", "Communes", "Adhérentes", "Score des adhérentes", "Score des non-adhérentes"],
                       rows, legende=f"Adhésion par taille de commune, {a.t.nom}", numeriques=[1, 2, 3, 4])
    display(Bloc(section("Par taille de commune", "", ident="tranches",
                         intro="Les petites communes sont-elles adhérentes ? Leur présence numérique est-elle "
                               "meilleure que celle des non-adhérentes de même taille ?")))
    vals = [rates[(b["tranche_taille"], "part_communes_adherentes")]["taux"] for b in bandes]
    alt = "Part des communes adhérentes par taille : " + "; ".join(
        f"{b['libelle']} : {formats.pourcent(v)}" for b, v in zip(bandes, vals)) + "."
    display(charts.barres([b["libelle"] for b in bandes], [{"nom": "Communes adhérentes", "valeurs": vals}],
                          titre="Communes adhérentes selon la taille", alt=alt, donnees_html=table, decimales=0))


def chronologie(a: Adoption) -> None:
    """Member communes year by year (date of membership in the register), cumulated."""
    if not a.charge:
        return
    rows = a.con.execute("select annee, nouvelles, cumul, communes from marts.adoption_annuelle "
                         "where niveau = ? and code = ? order by annee nulls last", [a.t.niveau, a.t.code]).fetchall()
    datees = [r for r in rows if r[0] is not None]
    sans = sum(r[1] for r in rows if r[0] is None)
    if not datees:
        display(Bloc(section("Chronologie", "<p>Le registre ne donne pas de date d'adhésion.</p>", ident="chronologie")))
        return
    communes = datees[-1][3]
    table = table_html(["Année", "Nouvelles adhérentes", "Adhérentes (cumul)"],
                       [[str(an), num(formats.entier(n)), num(formats.entier(c))] for an, n, c, _ in datees],
                       legende=f"Communes adhérentes par année d'adhésion, {a.t.nom}", numeriques=[1, 2])
    note = (f'<p class="note">{formats.entier(sans)} commune{"s" if sans > 1 else ""} adhérente{"s" if sans > 1 else ""} '
            "sans date d'adhésion dans le registre.</p>") if sans else ""
    display(Bloc(section("Chronologie", note, ident="chronologie",
                         intro="Communes adhérentes cumulées, d'après la date d'adhésion du registre.")))
    alt = "Communes adhérentes cumulées par année : " + "; ".join(f"{an} : {c}" for an, _, c, _ in datees) + "."
    display(charts.barres([str(r[0]) for r in datees],
                          [{"nom": "Part des communes adhérentes (cumul)", "valeurs": [r[2] / communes for r in datees]}],
                          titre="Adhésion au fil des années", alt=alt, donnees_html=table, horizontal=False,
                          decimales=0))


def operateurs(a: Adoption) -> None:
    """The operators side by side: registers loaded, coverage, services per member, most used service."""
    con = a.con
    ops = con.execute("select code, nom from marts.territoires where niveau = 'operateur' order by nom").fetchall()
    regs = adhesion.registres(con, [c for c, _ in ops])
    etats = adhesion.etats(con, [c for c, _ in ops])
    cat = {c["indicateur"]: c for c in catalogue(con)}
    svc = {s["service"]: s["libelle"] for s in adhesion.services(con)}
    rows = []
    for code, nom in ops:
        if etats[code] == adhesion.ABSENT:
            rows.append([nom, "registre non chargé", "–", "–", "–"])
            continue
        if etats[code] == adhesion.SANS_RATTACHEMENT:
            date = max((f["importe_le"] for f in regs[code] if f["importe_le"]), default=None)
            rows.append([nom, f"importé le {adhesion.date_fr(date)} : aucune ligne rattachée à une commune du "
                              "territoire (voir territoires adherents validate)", "–", "–", "–"])
            continue
        mine = taux(con, "operateur", code)
        top = sorted(((r.get("taux") or 0, k[len("adoption_"):]) for k, r in mine.items()
                      if k.startswith("adoption_") and not k.endswith("_communes") and r.get("denominateur")),
                     reverse=True)[:1]
        date = max((f["importe_le"] for f in regs[code] if f["importe_le"]), default=None)
        rows.append([nom, f"importé le {adhesion.date_fr(date)}",
                     num(valeur(cat.get("part_communes_adherentes", {}), mine.get("part_communes_adherentes"))),
                     num(formats.decimal((mine.get("services_par_adherente") or {}).get("taux"), 1)),
                     f"{svc.get(top[0][1], top[0][1])} ({formats.pourcent(top[0][0])})" if top else "–"])
    table = table_html([niveaux.libelle("operateur"), "Registre", "Communes adhérentes", "Services par adhérente", "Service le plus utilisé"],
                       rows, legende="Les opérateurs côte à côte", numeriques=[2, 3])
    display(Bloc(section("Les opérateurs côte à côte", table, ident="operateurs",
                         intro="Un opérateur sans registre chargé, ou dont le registre ne rattache aucune ligne à "
                               "une commune de son territoire, n'a aucun chiffre : « registre non chargé » "
                               "ne veut pas dire qu'il n'a pas d'adhérents.")))


def types(a: Adoption) -> None:
    """Members by entity type, per operator of the page whose register is loaded, beside the
    eligible entities of its territory of action where the warehouse can count them
    (``marts.couverture_types``); « pas de dénombrement de référence » elsewhere, never 0 %."""
    if not a.charge:
        return
    codes = [c for c, _ in a.operateurs if a.etats.get(c) == adhesion.CHARGE]
    rows = a.con.execute(
        "select nom_operateur, type_libelle, adherents, couverts, eligibles, taux, base from marts.couverture_types "
        "where operateur in (select unnest(?::varchar[])) order by nom_operateur, eligibles is null, type",
        [codes]).fetchall()
    lignes = []
    for nom, libelle, adherents, couverts, eligibles, part, base in rows:
        couverture = (f"{formats.pourcent(part)} ({formats.entier(couverts)} sur {formats.entier(eligibles)})"
                      if eligibles else "pas de dénombrement de référence")
        lignes.append([nom, libelle, formats.entier(adherents), couverture, base or "–"])
    table = table_html([niveaux.libelle("operateur"), "Type d'entité", "Adhérents", "Couverture", "Entités comptées"], lignes,
                       legende="Adhérents par type d'entité", numeriques=[2])
    intro = ("Pour les communes, les EPCI, les départements et les régions, l'entrepôt sait combien il y en a "
             "dans le territoire d'action de l'opérateur : la couverture se lit directement. Pour les autres types "
             "(syndicats, CCAS, établissements…), aucune liste de référence n'est chargée : seul le nombre "
             "d'adhérents est donné.")
    if a.t.niveau not in ("alliance", "operateur"):
        intro += " Les chiffres portent sur tout le territoire d'action de chaque opérateur, pas seulement sur " \
                 f"{a.t.nom}."
    display(Bloc(section("Adhérents par type d'entité", table, ident="types", intro=e(intro))))


def sources_et_millesimes(a: Adoption) -> None:
    tableau_de_bord.sources_et_millesimes(a.t)


__all__ = ["perimetre", "entete", "carte", "services", "tranches", "chronologie", "operateurs", "types",
           "sources_et_millesimes"]
