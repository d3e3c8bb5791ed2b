"""The site index, ``reports/index.html``: every page by level, with a search box.

Built from the manifest (what exists, what failed) and the warehouse (names, the
département of each EPCI), so the search also finds an EPCI by its département. Works
from ``file://``: plain links, the filter is a few lines of script, no network.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import territoires
from territoires import formats, niveaux
from territoires.reports.html import e
from territoires.reports.publication import write_atomic


def _contexte(warehouse: Path) -> dict[tuple[str, str], str]:
    """A short description per page: EPCI → their départements, départements → region…"""
    out: dict[tuple[str, str], str] = {}
    try:
        con = territoires.connect(warehouse, spatial=False)
    except Exception:  # noqa: BLE001 - the index is still useful without it
        return out
    try:
        dep = dict(con.execute("select code, nom from marts.territoires where niveau = 'departement'").fetchall())
        reg = dict(con.execute("select code, nom from marts.territoires where niveau = 'region'").fetchall())
        for niveau, code, deps, regs, pop, n in con.execute(
            "select niveau, code, departements, regions, population, nb_communes from marts.territoires "
            "where niveau in ('epci', 'departement', 'region', 'operateur')"
        ).fetchall():
            where = ""
            if niveau == "epci":
                where = ", ".join(dep.get(d, d) for d in deps or [])
            elif niveau == "departement":
                where = ", ".join(reg.get(r, r) for r in regs or [])
            elif niveau == "operateur":
                where = ", ".join(reg.get(r, r) for r in regs or [])
            bits = [where] if where else []
            bits.append(f"{formats.entier(n)} commune{'s' if (n or 0) > 1 else ''}")
            out[(niveau, code)] = " · ".join(bits)
    finally:
        con.close()
    return out


def write_index(reports_dir: Path, manifest: dict[str, Any], warehouse: Path) -> Path:
    """Write ``reports/index.html`` from the manifest; return its path."""
    ctx = _contexte(warehouse)
    pages = manifest.get("pages", [])
    by_level: dict[str, list[dict[str, Any]]] = {n: [] for n in niveaux.PAGES}
    for p in pages:
        if p.get("niveau") in by_level:
            by_level[p["niveau"]].append(p)
    n_ok = sum(1 for p in pages if p.get("statut") == "ok")
    n_ko = sum(1 for p in pages if p.get("statut") == "echec")
    sections = []
    for niveau in niveaux.PAGES:
        items = sorted(by_level[niveau], key=lambda p: (p.get("nom") or "").lower())
        if not items:
            continue
        lis = []
        for p in items:
            desc = ctx.get((niveau, p["code"]), "")
            search = " ".join([p.get("nom") or "", p["code"], desc, niveaux.libelle(niveau)])
            code = "" if niveau == "alliance" else f' <span class="code">{e(p["code"])}</span>'
            extra = f' <span class="code">— {e(desc)}</span>' if desc else ""
            if p.get("statut") == "ok" and (reports_dir / p["page"]).is_file():
                lis.append(f'<li data-texte="{e(search)}"><a href="{e(p["page"])}">{e(p.get("nom"))}</a>{code}{extra}</li>')
            else:
                lis.append(f'<li data-texte="{e(search)}">{e(p.get("nom"))}{code} '
                           f'<span class="echec">(page non disponible : échec de la génération)</span></li>')
        titre = niveaux.libelle_pluriel(niveau) if niveau != "alliance" else "Alliance"
        sections.append(
            f'<section class="index-niveau" data-groupe aria-labelledby="niv-{niveau}">'
            f'<h2 id="niv-{niveau}">{e(titre)} <span class="code">({formats.entier(len(items))})</span></h2>'
            f'<ul class="index-liste">{"".join(lis)}</ul></section>'
        )
    date = datetime.now().strftime("%d/%m/%Y à %H:%M")
    failed = (f'<p class="echec">{formats.entier(n_ko)} page{"s" if n_ko > 1 else ""} en échec : voir '
              f'<a href="manifest.json">manifest.json</a>.</p>') if n_ko else ""
    body = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Présence numérique des communes — tous les tableaux de bord</title>
<meta name="description" content="Tableaux de bord de la présence numérique des communes de l'alliance des opérateurs publics de services numériques.">
<link rel="stylesheet" href="assets/territoires.css">
</head>
<body>
<a class="evitement" href="#contenu">Aller au contenu</a>
<header class="bandeau"><div class="contenu">
<a class="marque" href="index.html">Présence numérique des communes</a>
<span class="alliance">Alliance des opérateurs publics de services numériques</span>
</div></header>
<main id="contenu" class="contenu" tabindex="-1">
<h1>Tous les tableaux de bord</h1>
<p class="sous-titre">{formats.entier(n_ok)} pages : l'alliance, ses opérateurs, ses régions, ses départements et ses EPCI.</p>
{failed}
<div class="recherche" role="search">
<label for="recherche">Rechercher un territoire (nom, code, département)</label>
<input id="recherche" type="search" autocomplete="off" data-filtre="liste-pages" data-compte="compte-pages"
 aria-describedby="compte-pages">
<p id="compte-pages" class="note" aria-live="polite"></p>
</div>
<div id="liste-pages">
{"".join(sections)}
</div>
</main>
<footer class="pied"><div class="contenu">
<p>Produit le {e(date)} par territoires {e(territoires.__version__)}. Détail de chaque page (statut, durée, millésimes) :
<a href="manifest.json">manifest.json</a>.</p>
</div></footer>
<script src="assets/territoires.js" defer></script>
</body>
</html>
"""
    path = reports_dir / "index.html"
    write_atomic(path, body)
    return path
