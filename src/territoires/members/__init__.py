"""Registres d'adhérents des opérateurs : lecture, validation, import, taxonomie des services.

Voir ``README.md`` dans ce dossier pour le format d'un registre et ``modele_registre.csv``.
"""

from __future__ import annotations
