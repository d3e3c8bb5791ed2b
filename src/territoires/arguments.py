"""The command line in French, end to end: argparse's own messages (usage, help, unknown
sub-command, bad number, missing value, conflicting options) translated, usage errors
exiting with status 2, and argument types that refuse an empty value instead of letting
the default take its place (``--regions ''`` is an error, not the default regions).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from typing import Iterator

#: argparse's messages (Python 3.11–3.13), in French; placeholders kept
FRANCAIS = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur « %s » inattendue pour cette option",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "unexpected option string: %s": "option inattendue : %s",
    "invalid %(type)s value: %(value)r": "« %(value)s » n'est pas une valeur valide (%(type)s attendu)",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix « %(value)s » inconnu (choix possibles : %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "sous-commande « %(parser_name)s » inconnue (choix possibles : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
}
_PLURIELS = {("expected %s argument", "expected %s arguments"): ("%s valeur attendue", "%s valeurs attendues")}
#: names of argparse's own types as shown in « … (int attendu) »
_TYPES = {"(int attendu)": "(nombre entier attendu)", "(float attendu)": "(nombre attendu)"}


def _gettext(message: str) -> str:
    return FRANCAIS.get(message, message)


def _ngettext(singulier: str, pluriel: str, n: int) -> str:
    fr = _PLURIELS.get((singulier, pluriel))
    if fr is None:
        return singulier if n == 1 else pluriel
    return fr[0] if n == 1 else fr[1]


@contextlib.contextmanager
def en_francais() -> Iterator[None]:
    """argparse speaks French while the block runs (its messages are looked up at use)."""
    avant = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _gettext, _ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = avant


class Parseur(argparse.ArgumentParser):
    """An ``ArgumentParser`` in French; its sub-parsers are of the same class."""

    def __init__(self, *args, **kwargs) -> None:
        with en_francais():
            super().__init__(*args, **kwargs)

    def add_argument_group(self, *args, **kwargs):
        with en_francais():
            return super().add_argument_group(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        with en_francais():
            return super().add_subparsers(**kwargs)

    def parse_args(self, args=None, namespace=None):
        with en_francais():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with en_francais():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        with en_francais():
            return super().format_usage()

    def format_help(self) -> str:
        with en_francais():
            return super().format_help()

    def error(self, message: str):
        """Print the usage and the error in French; exit with status 2."""
        for en, fr in _TYPES.items():
            message = message.replace(en, fr)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {message}\n")


# ── argument types: French messages, no empty value ─────────────────────────

def non_vide(texte: str) -> str:
    """A text that must hold something (``--scope ''`` is refused)."""
    if not texte.strip():
        raise argparse.ArgumentTypeError("valeur vide : donnez une valeur ou retirez l'option")
    return texte


def codes(texte: str) -> tuple[str, ...]:
    """Codes separated by commas, at least one (``--regions ''`` and ``--regions ,`` refused)."""
    valeurs = tuple(c.strip() for c in texte.split(",") if c.strip())
    if not valeurs:
        raise argparse.ArgumentTypeError("valeur vide : donnez au moins un code (séparés par des virgules)")
    return valeurs


def entier_positif(texte: str) -> int:
    """A whole number ≥ 1 (``--jobs``)."""
    try:
        n = int(texte.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {texte} » n'est pas un nombre entier") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"« {texte} » : un nombre entier supérieur ou égal à 1 est attendu")
    return n


def secondes(texte: str) -> float:
    """A duration in seconds, a positive number (``--timeout 0,5`` or ``0.5``)."""
    try:
        s = float(texte.strip().replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {texte} » n'est pas une durée en secondes (un nombre)") from None
    if not math.isfinite(s) or s <= 0:
        raise argparse.ArgumentTypeError(f"« {texte} » : une durée positive en secondes est attendue")
    return s
