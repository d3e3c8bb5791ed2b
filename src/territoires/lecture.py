"""Lecture en flux des registres : CSV (éventuellement gzip) et XLSX, ligne par ligne.

La mémoire reste bornée quelle que soit la taille du fichier : les lignes sont produites
une à une. Chaque ligne porte son numéro de ligne dans le fichier (l'en-tête est la
ligne 1 quand il ouvre le fichier ; une cellule sur plusieurs lignes garde le numéro de sa
première ligne). Les lignes vides sont sautées et comptées.

CSV :

- encodage : la règle unique de :mod:`territoires.encodages` (marque d'ordre d'octets
  UTF-8 ou UTF-16, sinon UTF-8 si tout le fichier se décode ainsi, sinon cp1252 — ce
  qu'écrit Excel sous Windows, ’ et œ compris — ; un fichier qui n'est ni l'un ni l'autre
  est refusé avec la position de l'octet fautif) ;
- séparateur : ``;``, ``,``, tabulation ou ``|``, deviné sur la ligne d'en-tête (le plus
  fréquent hors guillemets) ;
- compression gzip reconnue à ses premiers octets (``.csv.gz`` des exports ANCT).

XLSX : python-calamine (Rust, une feuille lue d'un bloc, 100 000 lignes en 0,5 s), ou à
défaut openpyxl en lecture seule (en flux) ; première feuille ou feuille nommée ; les
dates restent des dates, les nombres des nombres (la validation convertit les numéros de
série Excel).

Toute erreur qui empêche de lire le fichier lève :class:`ErreurFichier`, un message en
français qui nomme le fichier : jamais de trace d'appel.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from territoires.encodages import detecter

__all__ = ["ErreurFichier", "Ligne", "Lecteur", "ouvrir", "SEPARATEURS"]

SEPARATEURS: tuple[str, ...] = (";", "\t", ",", "|")
NOMS_SEPARATEURS = {";": "« ; »", ",": "« , »", "\t": "tabulation", "|": "« | »"}
#: taille maximale d'une cellule CSV (16 Mo ; 128 ko par défaut dans le module csv)
TAILLE_CELLULE = 1 << 24
CONSEIL_ENCODAGE = ("ouvrez-le dans votre tableur et enregistrez-le au format « CSV UTF-8 », "
                    "ou en XLSX")


class ErreurFichier(ValueError):
    """Le fichier ne peut pas être lu comme registre ; le message dit lequel et pourquoi."""


@dataclass(frozen=True, slots=True)
class Ligne:
    """Une ligne de données : son numéro dans le fichier et ses cellules brutes."""

    numero: int
    cellules: list


def _format(chemin: Path) -> str:
    try:
        with chemin.open("rb") as f:
            debut = f.read(8)
    except OSError as exc:
        raise ErreurFichier(f"{chemin}: lecture impossible ({exc.strerror or exc})") from exc
    if debut.startswith(b"\x1f\x8b"):
        return "csv.gz"
    if debut.startswith(b"PK\x03\x04"):
        return "xlsx"
    if debut.startswith(b"\xd0\xcf\x11\xe0"):
        raise ErreurFichier(f"{chemin}: format XLS (Excel 97-2003) non pris en charge — "
                            "enregistrez le fichier en XLSX ou en CSV")
    return "csv"


def _ouvrir_binaire(chemin: Path, fmt: str):
    return gzip.open(chemin, "rb") if fmt == "csv.gz" else chemin.open("rb")


def _compter_hors_guillemets(texte: str) -> dict[str, int]:
    n = dict.fromkeys(SEPARATEURS, 0)
    dedans = False
    for c in texte:
        if c == '"':
            dedans = not dedans
        elif not dedans and c in n:
            n[c] += 1
    return n


def deviner_separateur(ligne: str) -> str:
    """Le séparateur le plus fréquent hors guillemets sur la ligne d'en-tête (``;`` à égalité)."""
    n = _compter_hors_guillemets(ligne)
    meilleur = max(SEPARATEURS, key=lambda s: (n[s], -SEPARATEURS.index(s)))
    return meilleur if n[meilleur] else ";"


def _vide(cellules) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cellules)


class Lecteur:
    """Un registre ouvert : ``entetes``, puis ses lignes par itération (une seule fois).

    À utiliser comme gestionnaire de contexte ; ``lignes_vides`` est à jour à la fin de
    l'itération.
    """

    def __init__(self, chemin: Path, *, nom: str | None = None, feuille: str | None = None,
                 separateur: str | None = None, encodage: str | None = None) -> None:
        self.chemin = Path(chemin)
        self.nom = nom or str(chemin)
        self.format = _format(self.chemin)
        self.encodage: str | None = None
        self.separateur: str | None = None
        self.feuille: str | None = None
        self.entetes: list[str] = []
        self.ligne_entete = 0
        self.lignes_vides = 0
        #: bibliothèque qui lit un XLSX : « calamine » ou « openpyxl »
        self.moteur: str | None = None
        self._fermer = []
        try:
            if self.format == "xlsx":
                self._lignes = self._ouvrir_xlsx(feuille)
            else:
                self._lignes = self._ouvrir_csv(separateur, encodage)
            self._lire_entete()
        except ErreurFichier:
            self.close()
            raise
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeError) as exc:
            self.close()
            raise ErreurFichier(f"{self.nom}: fichier illisible ({exc})") from exc

    # ------------------------------------------------------------------ CSV
    def _ouvrir_csv(self, separateur: str | None, encodage: str | None) -> Iterator[tuple[int, list]]:
        self.encodage = encodage or detecter(self.chemin, nom=self.nom, conseil=CONSEIL_ENCODAGE, erreur=ErreurFichier)
        try:
            codecs.lookup(self.encodage)
        except LookupError as exc:
            raise ErreurFichier(f"{self.nom}: encodage inconnu {self.encodage!r}") from exc
        binaire = _ouvrir_binaire(self.chemin, self.format)
        texte = io.TextIOWrapper(binaire, encoding=self.encodage, newline="")
        self._fermer.append(texte)
        # la ligne d'en-tête : la première non vide, lue à part pour deviner le séparateur
        numero = 0
        entete = ""
        while True:
            brute = texte.readline()
            if not brute:
                break
            numero += 1
            if brute.strip().strip(";,\t|").strip():
                entete = brute
                break
            self.lignes_vides += 1
        self.separateur = separateur or deviner_separateur(entete)
        return self._iterer_csv(texte, entete, numero)

    def _iterer_csv(self, texte, entete: str, numero_entete: int) -> Iterator[tuple[int, list]]:
        if not entete:
            return
        if csv.field_size_limit() < TAILLE_CELLULE:
            csv.field_size_limit(TAILLE_CELLULE)
        # l'en-tête peut contenir un champ entre guillemets sur plusieurs lignes : rare, on le
        # relit avec le reste du flux
        lecteur = csv.reader(_chainer(entete, texte), delimiter=self.separateur)
        precedent = 0
        for cellules in lecteur:
            debut = numero_entete + precedent
            precedent = lecteur.line_num
            yield debut, cellules

    # ----------------------------------------------------------------- XLSX
    def _ouvrir_xlsx(self, feuille: str | None) -> Iterator[tuple[int, list]]:
        """python-calamine d'abord (Rust : 100 000 lignes en 0,5 s), openpyxl en lecture seule
        (en flux, 20 fois plus lent) s'il est absent ou ne sait pas lire le fichier."""
        self.format = "xlsx"
        try:
            from python_calamine import CalamineWorkbook
        except ImportError:
            return self._ouvrir_openpyxl(feuille)
        try:
            classeur = CalamineWorkbook.from_path(str(self.chemin))
            noms = list(classeur.sheet_names)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # erreur ou panique Rust d'un fichier abîmé : openpyxl tranchera
            try:
                return self._ouvrir_openpyxl(feuille)
            except ErreurFichier:
                raise ErreurFichier(f"{self.nom}: classeur XLSX illisible ({type(exc).__name__}: {exc})") from exc
        self.feuille = self._choisir_feuille(noms, feuille)
        try:
            ws = classeur.get_sheet_by_name(self.feuille)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            raise ErreurFichier(f"{self.nom}: feuille {self.feuille!r} illisible ({type(exc).__name__}: {exc})") from exc
        self.moteur = "calamine"
        return self._iterer_calamine(ws)

    def _choisir_feuille(self, noms: list[str], feuille: str | None) -> str:
        if feuille is not None and feuille not in noms:
            raise ErreurFichier(f"{self.nom}: feuille {feuille!r} absente (feuilles : {', '.join(noms)})")
        if not noms:
            raise ErreurFichier(f"{self.nom}: classeur sans feuille")
        return feuille or noms[0]

    def _iterer_calamine(self, ws) -> Iterator[tuple[int, list]]:
        # python-calamine 0.9 rend les lignes depuis la ligne 1 de la feuille (lignes vides
        # du haut comprises) : le rang dans l'itération est le numéro de ligne (testé)
        try:
            for numero, valeurs in enumerate(ws.iter_rows(), start=1):
                yield numero, valeurs
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            raise ErreurFichier(f"{self.nom}: feuille {self.feuille!r} illisible ({type(exc).__name__}: {exc})") from exc

    def _ouvrir_openpyxl(self, feuille: str | None) -> Iterator[tuple[int, list]]:
        import warnings

        try:
            import openpyxl
        except ImportError as exc:  # pragma: no cover - dépendance déclarée
            raise ErreurFichier(f"{self.nom}: lecture XLSX impossible (openpyxl absent : make install)") from exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                classeur = openpyxl.load_workbook(self.chemin, read_only=True, data_only=True)
        except Exception as exc:  # zip abîmé, XML invalide… : jamais de trace d'appel
            raise ErreurFichier(f"{self.nom}: classeur XLSX illisible ({type(exc).__name__}: {exc})") from exc
        self._fermer.append(classeur)
        self.feuille = self._choisir_feuille(classeur.sheetnames, feuille)
        ws = classeur[self.feuille]
        self.moteur = "openpyxl"
        return self._iterer_xlsx(ws)

    def _iterer_xlsx(self, ws) -> Iterator[tuple[int, list]]:
        try:
            for numero, valeurs in enumerate(ws.iter_rows(values_only=True), start=1):
                yield numero, list(valeurs)
        except Exception as exc:
            raise ErreurFichier(f"{self.nom}: feuille {self.feuille!r} illisible ({type(exc).__name__}: {exc})") from exc

    # --------------------------------------------------------------- commun
    def _lire_entete(self) -> None:
        for numero, cellules in self._lignes:
            if _vide(cellules):
                self.lignes_vides += 1
                continue
            entetes = ["" if c is None else str(c).strip() for c in cellules]
            while entetes and not entetes[-1]:
                entetes.pop()
            self.entetes = entetes
            self.ligne_entete = numero
            return
        raise ErreurFichier(f"{self.nom}: fichier vide (aucune ligne d'en-tête)")

    def __iter__(self) -> Iterator[Ligne]:
        try:
            for numero, cellules in self._lignes:
                if _vide(cellules):
                    self.lignes_vides += 1
                    continue
                yield Ligne(numero, cellules)
        except ErreurFichier:
            raise
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeError) as exc:
            raise ErreurFichier(f"{self.nom}: lecture interrompue ({exc})") from exc

    def close(self) -> None:
        for f in self._fermer:
            try:
                f.close()
            except Exception:
                pass
        self._fermer = []

    def __enter__(self) -> Lecteur:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _chainer(premiere: str, suite) -> Iterator[str]:
    yield premiere
    yield from suite


def ouvrir(chemin: str | Path, *, nom: str | None = None, feuille: str | None = None,
           separateur: str | None = None, encodage: str | None = None) -> Lecteur:
    """Ouvre un registre (format reconnu à ses premiers octets) ; lève :class:`ErreurFichier`."""
    return Lecteur(Path(chemin), nom=nom, feuille=feuille, separateur=separateur, encodage=encodage)
