"""Live checks of every downloadable source (off by default: ``pytest -m network``).

Each test asks the registry's real address for its first bytes only (a HEAD, then a GET
with ``Range: bytes=0-65535``, read no further) and parses them: the CSV header and
separator, the gzip or zip or parquet magic, the start of the JSON. A publisher that
changes a column name or a format makes the matching test fail here first.
"""

from __future__ import annotations

import zlib

import pytest

from territoires.sources import load_registry

REG = load_registry()
TELECHARGEABLES = sorted(s.id for s in REG.values() if s.telechargeable)


def premiers_octets(url: str, n: int = 65536) -> bytes:
    import requests

    h = requests.head(url, allow_redirects=True, timeout=30, headers={"User-Agent": "territoires-tests"})
    assert h.status_code in (200, 405), f"{url}: HEAD {h.status_code}"
    with requests.get(url, stream=True, timeout=60, headers={"Range": f"bytes=0-{n - 1}", "Accept-Encoding": "identity",
                                                            "User-Agent": "territoires-tests"}) as r:
        assert r.status_code in (200, 206), f"{url}: GET {r.status_code}"
        data = b""
        for bloc in r.raw.stream(8192, decode_content=False):
            data += bloc
            if len(data) >= n:
                break
    return data[:n]


def degz(data: bytes) -> bytes:
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)


def entete(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0]


def csv_cols(*cols: str, sep: str = ";", gz: bool = False):
    def check(data: bytes) -> None:
        ligne = entete(degz(data) if gz else data)
        trouvees = [c.strip('"') for c in ligne.split(sep)]
        assert set(cols) <= set(trouvees), f"colonnes {cols} attendues, trouvées {trouvees}"
    return check


def csv_cols_separateur_inconnu(*cols: str, seps: tuple[str, ...] = (",", ";")):
    """The columns under one of ``seps`` (a producer whose separator is not documented)."""
    def check(data: bytes) -> None:
        ligne = entete(data)
        assert any(set(cols) <= {c.strip('"') for c in ligne.split(sep)} for sep in seps), \
            f"colonnes {cols} attendues, en-tête {ligne!r}"
    return check


def magic(prefixe: bytes, ensuite=None):
    def check(data: bytes) -> None:
        assert data.startswith(prefixe), data[:16]
        if ensuite:
            ensuite(data)
    return check


def json_debut(car: str, gz: bool = False, contient: str = ""):
    def check(data: bytes) -> None:
        texte = (degz(data) if gz else data).decode("utf-8", errors="replace").lstrip()
        assert texte.startswith(car), texte[:80]
        assert contient in texte
    return check


CONTROLES = {
    "anct-st-operateurs": csv_cols("id", "nom", "siret", "services", "departements"),
    "anct-st-services": csv_cols("id", "nom", "url", "maturite", "date_lancement"),
    "anct-st-adherents": csv_cols("operateur_id", "organisation_siret", "organisation_type", "organisation_code_insee", gz=True),
    "anct-st-souscriptions": csv_cols("operateur_id", "service_id", "organisation_siret", "date_creation", gz=True),
    "anct-st-deploiement": csv_cols("type", "siret", "insee", "population", "service", "active", gz=True),
    "decp-consolide": magic(b"PAR1"),
    "decp-profil-megalis": json_debut("{", contient='"resources"'),
    "decp-profil-arnia": json_debut("{", contient='"resources"'),
    "decp-profil-maximilien": json_debut("{", contient='"resources"'),
    "banatic-perimetre-epci": csv_cols("siren", "raison_sociale", "insee", "siren_membre"),
    "banatic-groupements": magic(b"PK\x03\x04"),
    "anct-dpnt-json": json_debut("[", gz=True, contient='"siret"'),
    "anct-dpnt-csv": csv_cols("type", "siret", "siren", "code_insee", "population", "rpnt", gz=True),
    "insee-cog-2025-communes": csv_cols("TYPECOM", "COM", "REG", "DEP", "LIBELLE", "COMPARENT", sep=","),
    "insee-cog-2025-departements": csv_cols("DEP", "REG", "CHEFLIEU", "LIBELLE", sep=","),
    "insee-cog-2025-regions": csv_cols("REG", "CHEFLIEU", "LIBELLE", sep=","),
    "insee-cog-2025-mouvements": csv_cols("MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "TYPECOM_AP", "COM_AP", sep=","),
    "insee-populations-2022": magic(b"PK\x03\x04"),
    "dila-annuaire": json_debut("[", contient='"pivot"'),
    "datagouv-organisations": csv_cols("id", "name", "business_number_id", "metric.datasets"),
    "odf-observatoire": csv_cols_separateur_inconnu("siren", "url-ptf", "nb-ptf"),
}
for _id in TELECHARGEABLES:
    if _id.startswith("etalab-contours-"):
        CONTROLES[_id] = json_debut("{", gz=True, contient='"FeatureCollection"')


def test_every_downloadable_source_has_a_live_check():
    assert sorted(CONTROLES) == TELECHARGEABLES


@pytest.mark.network
@pytest.mark.parametrize("source_id", TELECHARGEABLES)
def test_live_source_first_bytes(source_id):
    CONTROLES[source_id](premiers_octets(REG[source_id].url))
