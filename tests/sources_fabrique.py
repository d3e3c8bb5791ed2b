"""Fetched sources for tests: each fixture of tests/fixtures/sources/ downloaded through the
real fetch (loopback HTTP server, pooch), so it lands under data/raw/<producteur>/<id>/
<millesime>/ with its sidecar exactly as `territoires fetch` leaves it."""

from __future__ import annotations

from pathlib import Path

F = Path(__file__).parent / "fixtures" / "sources"

#: source id → its fixture file (one generalisation of the contours: 1000 m)
FIXTURES = {
    "anct-st-operateurs": "anct/operateurs-quotidien.csv",
    "anct-st-services": "anct/services-quotidien.csv",
    "anct-st-adherents": "anct/adherents-quotidien.csv.gz",
    "anct-st-souscriptions": "anct/souscriptions-quotidien.csv.gz",
    "anct-st-deploiement": "anct/deploiement-quotidien.csv.gz",
    "datagouv-organisations": "datagouv/organisations-datagouv.csv",
    "odf-observatoire": "odf/indicateurs-odater-organisations.csv",
    "decp-consolide": "decp/decp.parquet",
    "decp-profil-megalis": "decp/profil-megalis.json",
    "banatic-perimetre-epci": "banatic/perimetre-epci-a-fp.csv",
    "banatic-groupements": "banatic/banatic-export-france.xlsx",
    "anct-dpnt-json": "dpnt/dpnt-quotidien.json.gz",
    "insee-cog-2025-communes": "insee/v_commune_2025.csv",
    "insee-cog-2025-departements": "insee/v_departement_2025.csv",
    "insee-cog-2025-regions": "insee/v_region_2025.csv",
    "insee-cog-2025-mouvements": "insee/v_mvt_commune_2025.csv",
    "insee-populations-2022": "populations/ensemble.zip",
    "etalab-contours-2025-communes-1000m": "contours/communes-1000m.geojson.gz",
    "etalab-contours-2025-epci-1000m": "contours/epci-1000m.geojson.gz",
    "etalab-contours-2025-departements-1000m": "contours/departements-1000m.geojson.gz",
    "etalab-contours-2025-regions-1000m": "contours/regions-1000m.geojson.gz",
    "dila-annuaire": "annuaire/api-lannuaire-administration.json",
}


def telecharger_fixtures(raw_dir: Path, ids: list[str] | None = None, contenus: dict[str, bytes] | None = None) -> None:
    """Fetch the fixtures of ``ids`` (all by default) into ``raw_dir`` through a loopback
    server; ``contenus`` replaces the bytes served for some ids (a malformed file)."""
    from serveur_local import ServeurLocal

    from territoires.sources.telechargement import fetch

    with ServeurLocal() as s:
        for sid in ids or list(FIXTURES):
            donnees = (contenus or {}).get(sid) or (F / FIXTURES[sid]).read_bytes()
            fetch(sid, raw_dir, url=s.servir(f"/{sid}", donnees), progress=False, accepter_nouvelle_empreinte=True)
