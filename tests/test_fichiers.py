"""One TOML reader (territoires.fichiers.lire_toml) for every TOML file of the project:
each caller's error names the file, the line and column, what the file is and why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from territoires import niveaux, operateurs
from territoires.fichiers import lire_toml
from territoires.indicators.load import DonneesError, read_catalogue
from territoires.members.schema import CorrespondanceError, lire_correspondance
from territoires.sources import SourceError, load_registry
from territoires.sources.telechargement import lire_empreintes
from territoires.warehouse import dictionnaire

#: two good lines, then a value without quotes on line 3
MAL_FORME = '# commentaire\n[table]\ncle = valeur sans guillemets\n'


def test_the_reader_names_file_line_column_and_reason(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text(MAL_FORME, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{f}, ligne 3, colonne 7 : fichier TOML illisible, TOML invalide "
                                                   "(Invalid value) ; corriger la syntaxe à cet endroit")):
        lire_toml(f)
    f.write_bytes("a = 1\nb = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(KeyError, match=re.escape(f"{f}, ligne 2 : registre illisible, pas en UTF-8 (octet 0xe9)")):
        lire_toml(f, KeyError, "registre")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'absent.toml'} : fichier TOML introuvable")):
        lire_toml(tmp_path / "absent.toml")
    f.write_text("a = 1\n[b]\nc = 'd'\n", encoding="utf-8")
    assert lire_toml(f) == {"a": 1, "b": {"c": "d"}}


def _malforme(tmp_path: Path, nom: str) -> Path:
    f = tmp_path / nom
    f.write_text(MAL_FORME, encoding="utf-8")
    return f


@pytest.mark.parametrize(("lire", "erreur", "quoi"), [
    (lambda f: operateurs.lire(f), operateurs.OperateursError, "fichier des opérateurs"),
    (lambda f: lire_correspondance(f), CorrespondanceError, "fichier de correspondance"),
    (lambda f: load_registry(f), SourceError, "registre des sources"),
    (lambda f: read_catalogue(f), DonneesError, "catalogue des indicateurs"),
    (lambda f: lire_empreintes(f.parent), SourceError, "fichier d'empreintes"),
])
def test_every_toml_file_is_read_by_the_one_reader(tmp_path, lire, erreur, quoi):
    f = _malforme(tmp_path, "empreintes.toml")
    with pytest.raises(erreur, match=re.escape(f"{f}, ligne 3, colonne 7 : {quoi} illisible, TOML invalide")):
        lire(f)


@pytest.mark.parametrize(("module", "lire", "quoi"), [
    (niveaux, niveaux.tous, "fichier des niveaux"),
    (dictionnaire, dictionnaire._donnees, "dictionnaire des marts"),
])
def test_the_packaged_files_too(tmp_path, monkeypatch, module, lire, quoi):
    f = _malforme(tmp_path, "x.toml")
    monkeypatch.setattr(module, "FICHIER", f)
    lire.cache_clear()
    try:
        with pytest.raises(Exception, match=re.escape(f"{f}, ligne 3, colonne 7 : {quoi} illisible")):
            lire()
    finally:
        monkeypatch.undo()
        lire.cache_clear()


def test_no_other_toml_reader_in_the_package():
    src = Path(__file__).resolve().parents[1] / "src" / "territoires"
    lecteurs = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if "tomllib" in p.read_text(encoding="utf-8"))
    assert lecteurs == ["fichiers.py"]
