"""Propriétés (hypothesis) des lecteurs de registres : des octets quelconques, des textes
quelconques dans chaque encodage et séparateur ne donnent jamais de trace d'appel, et
toujours lues = acceptées + rejetées."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adherents_fabrique import ENTETE, referentiel_mini, siret
from territoires.members.validation import Validateur

REGLAGES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _verifier(chemin) -> None:
    v = Validateur("megalis", referentiel_mini())
    b = v.fichier(chemin)
    assert b.lues == b.acceptees + b.rejetees
    assert b.lues >= 0 and b.lignes_vides >= 0
    for p in b.problemes():
        str(p)
    if b.erreurs:
        assert b.lues == b.acceptees + b.rejetees


@REGLAGES
@given(donnees=st.binary(max_size=2000))
def test_octets_quelconques(tmp_path_factory, donnees):
    chemin = tmp_path_factory.mktemp("p") / "r.csv"
    chemin.write_bytes(donnees)
    _verifier(chemin)


@REGLAGES
@given(prefixe=st.sampled_from([b"PK\x03\x04", b"\x1f\x8b", b"\xef\xbb\xbf", b"\xff\xfe", b"\xd0\xcf\x11\xe0"]),
       donnees=st.binary(max_size=500))
def test_octets_avec_signatures_de_formats(tmp_path_factory, prefixe, donnees):
    chemin = tmp_path_factory.mktemp("p") / "r.bin"
    chemin.write_bytes(prefixe + donnees)
    _verifier(chemin)


cellule = st.one_of(st.text(max_size=30), st.sampled_from(["", siret(1), siret(2), "29019", "2A004", "1001",
                                                            "31/02/2021", "15 mars 2021", "=1+1", "<b>x</b>",
                                                            "Actes|Parapheur", "Commune", '"', ";", "\n"]))


@REGLAGES
@given(lignes=st.lists(st.lists(cellule, max_size=8), max_size=15),
       sep=st.sampled_from([";", ",", "\t"]),
       encodage=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]),
       compresse=st.booleans())
def test_textes_quelconques_tous_encodages(tmp_path_factory, lignes, sep, encodage, compresse):
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=sep).writerows([ENTETE] + lignes)
    donnees = buf.getvalue().encode(encodage, errors="replace")
    chemin = tmp_path_factory.mktemp("p") / "r.csv"
    chemin.write_bytes(gzip.compress(donnees) if compresse else donnees)
    _verifier(chemin)


cellule_xlsx = st.one_of(st.none(), st.integers(min_value=-10**15, max_value=10**15),
                         st.floats(allow_nan=False, allow_infinity=False), cellule,
                         st.datetimes(min_value=__import__("datetime").datetime(1901, 1, 1)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lignes=st.lists(st.lists(cellule_xlsx, max_size=7), max_size=8))
def test_xlsx_quelconques(tmp_path_factory, lignes):
    from adherents_fabrique import ecrire_xlsx

    chemin = ecrire_xlsx(tmp_path_factory.mktemp("p") / "r.xlsx", [ENTETE] + lignes)
    _verifier(chemin)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(donnees=st.binary(max_size=800))
def test_commande_validate_octets_quelconques(tmp_path_factory, monkeypatch, capsys, donnees):
    from territoires.cli import main

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    chemin = home / "registre.csv"
    chemin.write_bytes(donnees)
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis"]) in (0, 1)
    out = capsys.readouterr().out
    derniere = out.strip().splitlines()[-1]
    assert derniere.startswith("lues : ")
    n = [int(x.split(" : ")[1].split()[0].replace("\u202f", "")) for x in derniere.split(" · ")[:3]]
    assert n[0] == n[1] + n[2]


@settings(max_examples=300, deadline=None)
@given(valeur=st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans(),
                        st.dates(), st.datetimes()),
       tableur=st.booleans())
def test_dates_et_libelles_ne_levent_jamais(valeur, tableur):
    from territoires.members.dates import lire_date
    from territoires.members.taxonomie import taxonomie

    d, raison = lire_date(valeur, tableur=tableur)
    assert d is None or raison is None
    t = taxonomie()
    t.type_entite(str(valeur))
    t.service(str(valeur), "megalis")
