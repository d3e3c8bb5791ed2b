"""Le référentiel auquel les registres se rattachent : communes (et communes fusionnées,
arrondissements), EPCI, et correspondance SIREN → code INSEE des communes quand une
référence est fournie (BANATIC, ANCT DPNT)."""

from __future__ import annotations

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from territoires.members.identifiants import (
    verifier_code_insee,
    verifier_siren,
)
from territoires.lecture import ErreurFichier, ouvrir
from territoires.members.schema import reconnaitre


# ------------------------------------------------------------------ référentiel
@dataclass
class Referentiel:
    """Ce qu'il faut savoir des territoires pour valider et rattacher les adhérents.

    - ``communes`` : code INSEE d'une commune en vigueur → nom ;
    - ``anciennes`` : code d'une commune déléguée, associée ou fusionnée → (code de la commune
      qui l'a absorbée, son nom, nom de l'ancienne commune) ;
    - ``arrondissements`` : code d'arrondissement municipal → (code de la commune, son nom, nom) ;
    - ``epci`` : SIREN d'EPCI → nom (le SIREN d'un EPCI est son code dans l'entrepôt) ;
    - ``siren_communes`` : SIREN de commune → code INSEE, d'après un fichier de référence
      (ANCT DPNT, BANATIC) quand il y en a un.

    Un référentiel vide (:meth:`vide`) ne vérifie pas l'existence des codes INSEE.
    """

    communes: dict[str, str] = field(default_factory=dict)
    anciennes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    arrondissements: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    epci: dict[str, str] = field(default_factory=dict)
    siren_communes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def vide(cls) -> Referentiel:
        return cls()

    @property
    def verifie_insee(self) -> bool:
        """Vrai si l'existence des codes INSEE peut être vérifiée."""
        return bool(self.communes)

    @classmethod
    def depuis_entrepot(cls, con) -> Referentiel:
        """Lit ``staging.communes`` (COM ; COMD/COMA → ``code_parent`` ; ARM) et ``staging.epci``."""
        ref = cls()
        lignes = con.execute(
            "select c.code, c.type, c.nom, c.code_parent, p.nom from staging.communes c "
            "left join staging.communes p on p.code = c.code_parent and p.type = 'COM' "
            "where c.type in ('COM', 'COMD', 'COMA', 'ARM')"
        ).fetchall()
        for code, typ, nom, parent, nom_parent in lignes:
            if typ == "COM":
                ref.communes[code] = nom
        for code, typ, nom, parent, nom_parent in lignes:
            if code in ref.communes or not parent or parent not in ref.communes:
                continue
            cible = ref.arrondissements if typ == "ARM" else ref.anciennes
            cible[code] = (parent, nom_parent or ref.communes[parent], nom)
        ref.epci = dict(con.execute("select code, nom from staging.epci").fetchall())
        return ref

    def ajouter_sirens_communes(self, chemin: Path) -> int:
        """Ajoute la correspondance SIREN → code INSEE d'un CSV de référence (colonnes
        reconnues : SIREN et code INSEE, ex. un extrait de BANATIC ou de l'ANCT DPNT).
        Rend le nombre de correspondances ajoutées ; les lignes invalides sont ignorées."""
        n = 0
        with ouvrir(chemin) as lecteur:
            col = reconnaitre(lecteur.entetes, "*")
            if "siren" not in col.champs or "code_insee" not in col.champs:
                raise ErreurFichier(f"{chemin}: colonnes SIREN et code INSEE attendues "
                                    f"(trouvées : {', '.join(lecteur.entetes)})")
            i, j = col.champs["siren"], col.champs["code_insee"]
            for ligne in lecteur:
                c = ligne.cellules
                if max(i, j) >= len(c):
                    continue
                s, k = verifier_siren(c[i]), verifier_code_insee(c[j])
                if s.valide and k.valide:
                    self.siren_communes[s.valeur] = k.valeur
                    n += 1
        return n
