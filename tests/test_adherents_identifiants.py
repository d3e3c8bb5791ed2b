"""SIREN, SIRET, codes INSEE : normalisation, clés, présomption du SIREN des communes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adherents_fabrique import mauvaise_cle, siren, siret
from territoires.members.identifiants import (
    code_insee_depuis_siren_presume,
    compacter,
    nature_identifiant,
    siren_avec_cle,
    siren_commune_presume,
    siret_avec_cle,
    verifier_code_insee,
    verifier_siren,
    verifier_siret,
)


def test_siren_valide_et_normalise():
    s = siren(1)
    for forme in (s, f"{s[:3]} {s[3:6]} {s[6:]}", f"{s[:3]}.{s[3:6]}.{s[6:]}",
                  f"{s[:3]}\u00a0{s[3:6]}\u202f{s[6:]}", f" {s} ", int(s), float(s)):
        v = verifier_siren(forme)
        assert v.valide and v.valeur == s, forme


def test_siren_refus_explique():
    assert verifier_siren(mauvaise_cle(siren(1))).erreur == "clé de contrôle du SIREN invalide"
    assert "9 attendus" in verifier_siren("1234").erreur
    assert "non numérique" in verifier_siren("12345678A").erreur
    assert verifier_siren(None).erreur == "SIREN vide"


def test_siret_valide_et_refus():
    s = siret(7, 12)
    assert verifier_siret(f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}").valeur == s
    assert verifier_siret(mauvaise_cle(s)).erreur == "clé de contrôle du SIRET invalide"
    assert "14 attendus" in verifier_siret(s[:-1]).erreur
    # le SIREN contenu a une mauvaise clé : dit explicitement
    faux = siret_avec_cle(mauvaise_cle(siren(7)) + "0001")
    assert "SIREN" in verifier_siret(faux).erreur


def test_siret_la_poste():
    # SIREN de La Poste : 356000000 ; les SIRET d'établissements ont une somme de chiffres
    # multiple de 5 et pas de clé de Luhn (stdnum.fr.siret le gère)
    assert verifier_siren("356000000").valide
    assert verifier_siret("35600000000048").valide           # siège
    assert verifier_siret("35600000049837").valide           # somme des chiffres 45
    assert not verifier_siret("35600000049838").valide       # somme 46


@pytest.mark.parametrize("brut,attendu", [
    ("29019", "29019"), ("2a004", "2A004"), ("2B033", "2B033"), ("97101", "97101"),
    ("97611", "97611"), (" 29 019 ", "29019"), (29019, "29019"), (29019.0, "29019"),
])
def test_code_insee_valide(brut, attendu):
    v = verifier_code_insee(brut)
    assert v.valide and v.valeur == attendu and v.avertissement is None


def test_code_insee_excel_quatre_chiffres():
    v = verifier_code_insee("1001")
    assert v.valeur == "01001"
    assert "01001" in v.avertissement and "tableur" in v.avertissement
    assert verifier_code_insee(1001).valeur == "01001"


@pytest.mark.parametrize("brut", ["", "123", "2C004", "20004", "00123", "ABCDE", "290191"])
def test_code_insee_invalide(brut):
    assert verifier_code_insee(brut).erreur


def test_nature_identifiant():
    assert nature_identifiant(siret(1)) == "siret"
    assert nature_identifiant(siren(1)) == "siren"
    assert nature_identifiant("2A004") == "code_insee"
    assert nature_identifiant("abc") is None


def test_cles_de_test():
    assert verifier_siren(siren_avec_cle("21220222")).valeur == "212202220"
    with pytest.raises(ValueError):
        siren_avec_cle("123")


def test_siren_presume_des_communes():
    # le motif de DESIGN.md : Plouha 22222 → 212202220
    assert siren_commune_presume("22222") == "212202220"
    assert siren_commune_presume("2A004").startswith("2120000")
    assert siren_commune_presume("97101").startswith("21971001")
    assert siren_commune_presume("xx") is None
    # et l'inverse, qui ne donne que des candidats
    assert code_insee_depuis_siren_presume("212202220") == ["22222"]
    assert code_insee_depuis_siren_presume(siren_commune_presume("2A004")) == ["2A004", "2B004"]
    assert code_insee_depuis_siren_presume(siren_commune_presume("97101")) == ["97101"]
    # une commune nouvelle (SIREN en 200…) ne suit pas le motif
    assert code_insee_depuis_siren_presume("200059244") == []


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.binary().map(lambda b: b.decode("latin-1"))))
def test_normaliseurs_ne_levent_jamais(valeur):
    for f in (verifier_siren, verifier_siret, verifier_code_insee):
        v = f(valeur)
        assert (v.valeur is None) != (v.erreur is None)
    compacter(valeur)
    nature_identifiant(valeur)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999))
def test_cle_calculee_toujours_valide(n):
    s = siren_avec_cle(f"{n:08d}")
    assert verifier_siren(s).valide
    assert verifier_siret(siret_avec_cle(s + "0001")).valide


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=14))
def test_cle_rapide_identique_a_stdnum(code):
    from stdnum.fr import siren as s9
    from stdnum.fr import siret as s14

    if len(code) == 9:
        assert verifier_siren(code).valide == s9.is_valid(code)
    elif len(code) == 14:
        assert verifier_siret(code).valide == s14.is_valid(code)
    for prefixe in ("356000000",):
        c = (prefixe + code)[:14].ljust(14, "0")
        assert verifier_siret(c).valide == s14.is_valid(c)
