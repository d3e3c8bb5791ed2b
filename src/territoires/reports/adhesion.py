"""Section « Adhésion aux services » of every dashboard, and the figures the adoption
pages share: which operators' registers are loaded, member communes and non-members,
adoption of each service of the taxonomy, members' and non-members' presence score.

Where no register of the territory's operator is loaded, or one is loaded but attached no
line to a commune of its territory, the section says so in one plain sentence and shows
no figure (never 0 %, never « 0 sur N » beside an imported register): :func:`etats`
decides, every section reads it. Figures come from the marts built from
the registers (``marts.registres``, ``marts.adherents``, ``marts.adhesion_communes``,
``marts.indicateurs``); nothing is computed here but presentation.
"""

from __future__ import annotations

from typing import Any

from territoires import formats, niveaux, tableurs
from territoires.reports import niveau as page_niveau
from territoires.reports.donnees import Territoire
from territoires.html import Bloc, defilante, e, num, section
from territoires.html import table as table_html
from territoires.reports.page import carte_chiffre, catalogue, display, memo, taux, tranches_taille, valeur
from territoires.reports.publication import csv_data_uri

#: the communes of a territory, as marts.indicateurs counts them (an EPCI over all its member
#: communes, any other territory over the communes of the built perimeter); two parameters:
#: niveau, code
COMMUNES_DU_TERRITOIRE = ("(select code_commune from marts.appartenances where niveau = ? and code = ? "
                          "and (niveau = 'epci' or dans_perimetre))")

#: above this many member entities, the page counts them by type (the CSV lists them all)
MAX_MEMBRES = 300


# ── data ────────────────────────────────────────────────────────────────────

def operateurs(t: Territoire) -> list[tuple[str, str]]:
    """The operators a page is about: ``[(code, nom)]`` (all of the alliance's on its page)."""
    tous = [(c, n) for c, n, _ in page_niveau.territoires(t.con, "operateur")]  # by name, read once per level
    if t.niveau == "alliance":
        return tous
    code = t.code if t.niveau == "operateur" else t.code_operateur
    return [(c, n) for c, n in tous if c == code] if code else []


def registres(con, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per operator code, its loaded register files (empty list: none loaded): the files
    imported for it, and those whose rows went to it (a Suite territoriale export)."""
    tous = page_niveau.une_fois(con, ("registres",), lambda: _registres(con))  # every operator's, once
    return {c: tous.get(c, []) for c in codes}


def _registres(con) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    rows = con.execute(
        "with a as (select distinct operateur, fichier from marts.adherents), "
        "par_operateur as (select operateur, fichier from marts.registres union select * from a "
        "where fichier in (select fichier from marts.registres)) "
        "select p.operateur, r.fichier, r.sha256, r.importe_le, r.lues, r.acceptees, r.rejetees, r.erreur_fichier "
        "from par_operateur p join marts.registres r using (fichier) order by 1, 2").fetchall()
    for op, fichier, sha, importe, lues, acc, rej, err in rows:
        out.setdefault(op, []).append({"fichier": fichier, "sha256": sha, "importe_le": importe, "lues": lues,
                                       "acceptees": acc, "rejetees": rej, "erreur": err})
    return out


#: what a page may say of an operator's register (:func:`etats`)
CHARGE, SANS_RATTACHEMENT, ABSENT = "charge", "sans_rattachement", "absent"


def etats(con, codes: list[str]) -> dict[str, str]:
    """THE decision every membership section reads, per operator code: ``charge`` (its
    register gives figures: ``intermediate.adhesion_communes.registre_charge``, at least one
    accepted member attached to a commune of its territory), ``sans_rattachement`` (a register
    is loaded but matched nothing there: the page says so, never « 0 sur N ») or ``absent``."""
    def compute():
        avec = page_niveau.partage(con, ("avec_registre",), lambda: frozenset(
            c for (c,) in con.execute("select distinct code_operateur from marts.adhesion_communes").fetchall()))
        regs = registres(con, codes)
        return {c: CHARGE if c in avec else (SANS_RATTACHEMENT if regs.get(c) else ABSENT) for c in codes}
    return memo(("etats_registres", id(con), tuple(codes)), compute)


def membres(t: Territoire) -> list[dict[str, Any]]:
    """Member entities of the territory's operator(s) located in the territory (every
    entity on an operator's or the alliance's page, unattached ones included there)."""
    con = t.con
    ops = [c for c, _ in operateurs(t)]

    def compute():
        if t.niveau in ("operateur", "alliance"):
            where, params = "m.operateur in (select unnest(?::varchar[]))", [ops]
        else:
            # located in the territory: its commune is, or (an EPCI) one of its communes is
            where = (f"m.operateur in (select unnest(?::varchar[])) and (m.code_commune in {COMMUNES_DU_TERRITOIRE} "
                     "or (m.niveau_territoire = 'epci' and m.code_territoire in (select e.code from "
                     f"marts.appartenances e where e.niveau = 'epci' and e.code_commune in {COMMUNES_DU_TERRITOIRE})))")
            params = [ops, t.niveau, t.code, t.niveau, t.code]
        rows = con.execute(
            f"select m.operateur, m.nom_operateur, m.identifiant, m.nom, m.type_libelle, m.nom_commune, m.code_commune, "
            f"m.date_adhesion, m.nb_services, m.services, m.statut_rattachement, m.siret, m.siren "
            f"from marts.adherents m where {where} order by m.nom", params).fetchall()
        cols = ("operateur", "nom_operateur", "identifiant", "nom", "type", "commune", "code_commune", "date_adhesion",
                "nb_services", "services", "rattachement", "siret", "siren")
        return [dict(zip(cols, r)) for r in rows]
    return memo(("membres", id(con), t.niveau, t.code), compute)


def non_adherentes(t: Territoire) -> list[dict[str, Any]]:
    """Communes of the territory whose operator's register is loaded and that are not members."""
    con = t.con

    def compute():
        rows = con.execute(
            "select a.code, a.nom, a.population, p.score_presence, p.mairie_email "
            "from marts.adhesion_communes a join marts.presence_numerique p using (code) "
            f"where not a.adherente and a.code in {COMMUNES_DU_TERRITOIRE} "
            "order by a.population desc nulls last, a.nom", [t.niveau, t.code]).fetchall()
        return [dict(zip(("code", "nom", "population", "score", "email"), r)) for r in rows]
    if t.niveau == "commune":
        return []
    return memo(("non_adherentes", id(con), t.niveau, t.code), compute)


def services(con) -> list[dict[str, Any]]:
    return page_niveau.une_fois(con, ("services",), lambda: [
        dict(zip(("service", "libelle", "famille"), r))
        for r in con.execute("select service, libelle, famille from marts.services order by famille, service").fetchall()])


def date_fr(d) -> str:
    return d.strftime("%d/%m/%Y") if hasattr(d, "strftime") else "inconnue"


def phrase_sans_registre(noms: list[str]) -> str:
    """The one plain sentence of a page whose operator has no register loaded."""
    qui = " ni pour ".join(noms) if noms else "l'opérateur de ce territoire"
    return (f"Aucun registre d'adhérents n'est chargé pour {qui} : cette page ne montre donc aucun chiffre "
            "d'adhésion aux services (ni zéro, ni estimation).")


def phrase_sans_rattachement(nom: str, fichiers: list[dict[str, Any]]) -> str:
    """The one plain sentence of a page whose operator's register is loaded but attached no
    line to a commune of its territory: no « 0 sur N » beside an imported register."""
    dates = sorted({date_fr(f["importe_le"]) for f in fichiers if f.get("importe_le")})
    quand = f"importé le {' et le '.join(dates)}" if dates else "importé"
    noms = ", ".join(f["fichier"].split("/")[-1] for f in fichiers)
    return (f"Registre des adhérents {quand} pour {nom} ({noms}) : aucune ligne rattachée à une commune du "
            "territoire — voir territoires adherents validate. Cette page ne montre donc aucun chiffre d'adhésion "
            "(ni zéro, ni estimation).")


def phrases_etats(ops: list[tuple[str, str]], etats_: dict[str, str], regs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The sentences for the operators of a page whose register gives no figure."""
    absents = [nom for c, nom in ops if etats_.get(c) == ABSENT]
    out = [phrase_sans_registre(absents)] if absents else []
    out += [phrase_sans_rattachement(nom, regs.get(c) or []) for c, nom in ops if etats_.get(c) == SANS_RATTACHEMENT]
    return out


def source_registres(regs: dict[str, list[dict[str, Any]]], noms: dict[str, str]) -> str:
    """A dated source line: which register, imported when."""
    parts = []
    for op, fichiers in regs.items():
        for f in fichiers:
            parts.append(f"{noms.get(op, op)} : {f['fichier'].split('/')[-1]}, importé le {date_fr(f['importe_le'])}")
    return "Source : registre des adhérents de l'opérateur (" + " ; ".join(parts) + ")." if parts else ""


# ── the section of a dashboard ─────────────────────────────────────────────

def section_adhesion(t: Territoire, lien_adoption: str | None = None) -> None:
    """« Adhésion aux services de l'opérateur »: who is a member, which services they use,
    who is left behind; or one sentence when no register is loaded."""
    ops = operateurs(t)
    noms = dict(ops)
    regs = registres(t.con, [c for c, _ in ops])
    etats_ = etats(t.con, [c for c, _ in ops])
    charges = [c for c, s in etats_.items() if s == CHARGE]
    titre = "Adhésion aux services de l'opérateur" if t.niveau != "alliance" else "Adhésion aux services des opérateurs"
    phrases = phrases_etats(ops, etats_, regs)
    if not charges:
        display(Bloc(section(titre, "".join(f"<p>{e(p)}</p>" for p in phrases or [phrase_sans_registre([])]),
                             ident="adhesion")))
        return
    body = ""
    if phrases:
        body += f'<p class="note">{e(" ".join(phrases))} Les chiffres ci-dessous portent sur les ' \
                f"territoires de {e(', '.join(noms[c] for c in charges))}.</p>"
    body += _chiffres(t) + _table_services(t) + _cote_a_cote(t) + _comparaison_score(t)
    body += f'<p class="note">{e(source_registres({c: regs[c] for c in charges}, noms))}</p>'
    if lien_adoption:
        body += f'<p><a href="{e(lien_adoption)}">Page détaillée de l\'adoption des services</a></p>'
    display(Bloc(section(titre, body, ident="adhesion",
                         intro="D'après le registre des adhérents de l'opérateur : les communes adhérentes, les "
                               "services qu'elles utilisent et les communes qui ne sont pas adhérentes.")))
    display(Bloc(section("Adhérents et non-adhérents", _membres_html(t) + _non_adherentes_html(t),
                         ident="adherents", niveau=3)))


def _chiffres(t: Territoire) -> str:
    mine = taux(t.con, t.niveau, t.code)
    cat = {c["indicateur"]: c for c in catalogue(t.con)}
    cards = []
    part = mine.get("part_communes_adherentes")
    if part and part.get("denominateur"):
        cards.append(carte_chiffre(
            valeur(cat["part_communes_adherentes"], part), "Communes adhérentes",
            e(f"{formats.entier(part['numerateur'])} sur {formats.entier(part['denominateur'])} communes ; "
              f"{formats.pourcent(part.get('taux_pondere'))} des habitants")))
        non = part["denominateur"] - part["numerateur"]
        cards.append(carte_chiffre(formats.entier(non), "Communes non adhérentes",
                                   e("la liste est plus bas, avec un fichier CSV"), defavorable=True))
    spa = mine.get("services_par_adherente")
    if spa and spa.get("denominateur"):
        cards.append(carte_chiffre(formats.decimal(spa["taux"], 1), "Services par commune adhérente",
                                   e(f"moyenne sur {formats.entier(spa['denominateur'])} communes adhérentes")))
    epci = mine.get("part_communes_epci_adherent")
    if epci and epci.get("denominateur"):
        cards.append(carte_chiffre(valeur(cat["part_communes_epci_adherent"], epci), "Communes dont l'EPCI est adhérent",
                                   e(f"{formats.entier(epci['numerateur'])} sur {formats.entier(epci['denominateur'])}")))
    if not cards:
        return ""
    return f'<ul class="chiffres">{"".join(cards)}</ul>'


def _table_services(t: Territoire) -> str:
    mine = taux(t.con, t.niveau, t.code)
    rows = []
    for s in services(t.con):
        parmi = mine.get(f"adoption_{s['service']}")
        toutes = mine.get(f"adoption_{s['service']}_communes")
        if not parmi or not parmi.get("denominateur"):
            continue
        rows.append([s["libelle"],
                     num(f"{formats.pourcent(parmi['taux'])} ({formats.entier(parmi['numerateur'])})",
                         tri=parmi["taux"]),
                     num(formats.pourcent(toutes["taux"]) if toutes else "–")])
    if not rows:
        return ""
    rows.sort(key=lambda r: -(r[1].tri or 0))
    return table_html(["Service", "Parmi les communes adhérentes", "Parmi toutes les communes"], rows,
                      legende=f"Services utilisés, {t.nom}", numeriques=[1, 2])


def _valeur_critere(critere: str) -> str:
    """SQL of a presence criterion's per-commune value (as marts/indicateurs_presence.sql counts it)."""
    if critere == "commune":
        return "1"
    if critere == "score_presence":
        return "coalesce(p.score_presence, 0)"
    if critere == "score_maximum":
        return "case when p.fiche_mairie then 100 else 0 end"
    if not critere.isidentifier():
        raise ValueError(f"critère « {critere} » invalide")
    return f'coalesce(p."{critere}", false)::integer'


def _cote_a_cote(t: Territoire) -> str:
    """Every dashboard indicator among member and non-member communes, side by side."""
    cat = [c for c in catalogue(t.con) if c.get("tableau")]
    if not cat:
        return ""
    cols = []
    for k, c in enumerate(cat):
        n, d = _valeur_critere(c["numerateur"]), _valeur_critere(c["denominateur"])
        cols.append(f"sum(case when {d} > 0 then {n} else 0 end) as n{k}, sum({d}) as d{k}")
    rows = t.con.execute(
        f"select a.adherente, count(*), {', '.join(cols)} from marts.adhesion_communes a "
        f"join marts.presence_numerique p using (code) where a.code in {COMMUNES_DU_TERRITOIRE} "
        "group by a.adherente", [t.niveau, t.code]).fetchall()
    par = {r[0]: r for r in rows}
    if not par:
        return ""
    lignes = []
    for k, c in enumerate(cat):
        cells = []
        for adherente in (True, False):
            r = par.get(adherente)
            num_, den_ = (r[2 + 2 * k], r[3 + 2 * k]) if r else (0, 0)
            cells.append(num(valeur(c, {"taux": num_ / den_ if den_ else None})))
        lignes.append([c["libelle"], *cells])
    n_a, n_n = (par.get(True) or (0, 0))[1], (par.get(False) or (0, 0))[1]
    return ("<h3>Adhérentes et non adhérentes, indicateur par indicateur</h3>"
            + table_html(["Indicateur", f"Adhérentes ({formats.entier(n_a)})", f"Non adhérentes ({formats.entier(n_n)})"],
                         lignes, legende=f"Présence numérique des communes adhérentes et non adhérentes, {t.nom}",
                         numeriques=[1, 2]))


def _comparaison_score(t: Territoire) -> str:
    """Members' and non-members' presence score, overall and by size band."""
    rates = taux(t.con, t.niveau, t.code, tranches=True)
    cat = {c["indicateur"]: c for c in catalogue(t.con)}
    if "score_presence_adherentes" not in cat:
        return ""
    bandes = [("ensemble", "Toutes tailles")] + [(b["tranche_taille"], b["libelle"])
                                                 for b in tranches_taille(t.con)]
    rows = []
    for code, libelle in bandes:
        a = rates.get((code, "score_presence_adherentes"))
        n = rates.get((code, "score_presence_non_adherentes"))
        if not a and not n:
            continue
        rows.append([libelle, num(valeur(cat["score_presence_adherentes"], a)),
                     num(valeur(cat["score_presence_non_adherentes"], n))])
    if len(rows) <= 1 and not rows:
        return ""
    return ("<h3>Présence numérique des adhérentes et des non-adhérentes</h3>"
            + table_html(["Taille de commune", "Adhérentes", "Non adhérentes"], rows,
                         legende=f"Score de présence numérique moyen (sur 100), {t.nom}", numeriques=[1, 2]))


def _csv(entetes: list[str], lignes: list[list[Any]]) -> str:
    return tableurs.csv_texte(entetes, lignes)


def _membres_html(t: Territoire) -> str:
    rows = membres(t)
    noms_services = {s["service"]: s["libelle"] for s in services(t.con)}
    if not rows:
        return "<p>Aucune entité adhérente dans ce territoire d'après le registre.</p>"
    csv = _csv(["operateur", "identifiant", "nom", "type", "commune", "code_commune", "date_adhesion", "services"],
               [[r["nom_operateur"] or r["operateur"], r["identifiant"], r["nom"], r["type"], r["commune"] or "",
                 r["code_commune"] or "", date_fr(r["date_adhesion"]) if r["date_adhesion"] else "",
                 " | ".join(noms_services.get(s, s) for s in r["services"] or [])] for r in rows])
    slug = f"{t.niveau}-{t.code}"
    lien = (f'<a class="telecharger" href="{csv_data_uri(csv)}" download="adherents-{e(slug)}.csv">'
            f"Télécharger la liste des adhérents (CSV, {formats.entier(len(rows))} entité{'s' if len(rows) > 1 else ''})</a>")
    if len(rows) > MAX_MEMBRES:
        par_type: dict[str, int] = {}
        for r in rows:
            par_type[r["type"] or "autre"] = par_type.get(r["type"] or "autre", 0) + 1
        table = table_html(["Type d'entité", "Adhérents"],
                           [[k, num(formats.entier(v))] for k, v in sorted(par_type.items(), key=lambda kv: -kv[1])],
                           legende=f"Entités adhérentes par type, {t.nom}", numeriques=[1])
    else:
        table = table_html(["Adhérent", "Type", niveaux.libelle("commune"), "Depuis", "Services"],
                           [[r["nom"], r["type"] or "–", r["commune"] or "non rattachée",
                             date_fr(r["date_adhesion"]) if r["date_adhesion"] else "–",
                             num(formats.entier(r["nb_services"]))] for r in rows],
                           legende=f"Entités adhérentes, {t.nom}", numeriques=[4], enveloppe=False)
        table = f'<div class="table-defil{" haute" if len(rows) > 25 else ""}" {defilante(f"Entités adhérentes, {t.nom}")}>{table}</div>'
    return f"<h3>Adhérents ({formats.entier(len(rows))})</h3>" + lien + table


def _non_adherentes_html(t: Territoire) -> str:
    rows = non_adherentes(t)
    if not rows:
        return ""
    csv = _csv(["code_commune", "commune", "population", "score_presence", "adresse_electronique"],
               [[r["code"], r["nom"], r["population"], r["score"], r["email"] or ""] for r in rows])
    slug = f"{t.niveau}-{t.code}"
    lien = (f'<a class="telecharger" href="{csv_data_uri(csv)}" download="communes-non-adherentes-{e(slug)}.csv">'
            f"Télécharger la liste (CSV, {formats.entier(len(rows))} commune{'s' if len(rows) > 1 else ''})</a>")
    montrees = rows[:MAX_MEMBRES]
    table = table_html([niveaux.libelle("commune"), "Population", "Score /100"],
                       [[r["nom"], num(formats.entier(r["population"])),
                         num(formats.entier(r["score"]) if r["score"] is not None else "–")] for r in montrees],
                       legende=f"Communes non adhérentes, {t.nom} (les plus peuplées d'abord)", numeriques=[1, 2],
                       enveloppe=False)
    note = (f'<p class="note">Les {formats.entier(MAX_MEMBRES)} plus peuplées sont affichées ; le fichier CSV les '
            "liste toutes.</p>") if len(rows) > MAX_MEMBRES else ""
    return (f"<h3>Communes non adhérentes ({formats.entier(len(rows))})</h3>" + lien
            + f'<div class="table-defil haute" {defilante(f"Communes non adhérentes, {t.nom}")}>{table}</div>' + note)


__all__ = ["section_adhesion", "operateurs", "registres", "etats", "CHARGE", "SANS_RATTACHEMENT", "ABSENT",
           "phrases_etats", "membres", "non_adherentes", "phrase_sans_registre",
           "COMMUNES_DU_TERRITOIRE"]
