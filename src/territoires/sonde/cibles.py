"""The probe's targets, read from the warehouse: every commune with a declared website or
e-mail (``marts.presence_numerique``: ``mairie_site`` where ``url_valide``, the domain
after « @ », ``email_hote``, where ``email_valide``), and every loaded member
(``marts.adherents``) with one. Members carry no site or e-mail in the registers: a
member commune has its town hall's; another member (EPCI, syndicat…) has the site and
e-mail the ANCT lists for its SIRET (``raw.dpnt_organisations``, when fetched), else none.

Scopes as ``territoires report``'s: ``all``, ``alliance``, ``<niveau>:<code>``
(``operateur:megalis``, ``region:53``, ``departement:29``, ``epci:<siren>``,
``commune:<insee>``), several separated by commas.
"""

from __future__ import annotations

from dataclasses import dataclass

from territoires import niveaux
from territoires.sonde.interpretation import hote_ascii, normaliser_url


@dataclass(frozen=True)
class Cible:
    genre: str                  # commune | adherent
    identifiant: str            # INSEE code, or the member's identifier in its register
    operateur: str | None       # the member's operator
    nom: str
    code_commune: str | None
    url: str | None             # normalised (normaliser_url)
    domaine_mail: str | None    # ASCII, lower case

    @property
    def cle_web(self) -> str | None:
        return self.url

    @property
    def cle_mail(self) -> str | None:
        return self.domaine_mail

    def ligne(self) -> dict:
        return {"type": "cible", "genre": self.genre, "identifiant": self.identifiant, "operateur": self.operateur,
                "nom": self.nom, "code_commune": self.code_commune, "url": self.url,
                "domaine_mail": self.domaine_mail, "cle_web": self.cle_web, "cle_mail": self.cle_mail}


def _filtre(portee: str, con) -> tuple[str, str]:
    """SQL conditions on communes (``code``) and members (alias ``a``) for a scope."""
    conds_c, conds_a = [], []
    for part in (p.strip() for p in portee.split(",")):
        if not part:
            continue
        if part in ("all", "alliance"):
            return "true", "true"
        niveau, sep, code = part.partition(":")
        if not sep or niveau not in (*niveaux.PAGES, "commune") or not code:
            raise ValueError(f"portée « {part} » inconnue ; portées possibles : all, alliance, "
                             + ", ".join(f"{n}:<code>" for n in (*niveaux.PAGES[1:], "commune")))
        connu = con.execute("select count(*) from marts.territoires where niveau = ? and code = ?",
                            [niveau, code]).fetchone()[0]
        if not connu:
            raise ValueError(f"code « {code} » inconnu pour le niveau {niveau} dans cet entrepôt")
        q = code.replace("'", "''")
        if niveau == "commune":
            conds_c.append(f"code = '{q}'")
            conds_a.append(f"a.code_commune = '{q}'")
            continue
        dans = (f"(select code_commune from marts.appartenances where niveau = '{niveau}' and code = '{q}')")
        conds_c.append(f"code in {dans}")
        conds_a.append(f"a.operateur = '{q}'" if niveau == "operateur" else f"a.code_commune in {dans}")
    if not conds_c:
        raise ValueError("portée vide : donnez par exemple --scope all ou --scope departement:29")
    return " or ".join(conds_c), " or ".join(conds_a)


def _avec_domaine(hote: str | None) -> str | None:
    return hote_ascii(hote) if hote else None


def cibles(con, portee: str = "all") -> list[Cible]:
    """The targets of a scope, communes first then members, each with a URL or a mail domain."""
    cond_c, cond_a = _filtre(portee, con)
    communes = con.execute(
        "select code, nom, case when url_valide then mairie_site end, case when email_valide then email_hote end "
        f"from marts.presence_numerique where dans_perimetre and (url_valide or email_valide) and ({cond_c}) "
        "order by code").fetchall()
    # the DPNT's contacts, when it was fetched (its empty shape, otherwise, has no contact columns)
    colonnes = {c for (c,) in con.execute("select column_name from duckdb_columns() where schema_name = 'raw' "
                                          "and table_name = 'dpnt_organisations'").fetchall()}
    dpnt = ("select siret, site_internet, split_part(adresse_messagerie, '@', 2) as domaine from raw.dpnt_organisations"
            if {"siret", "site_internet", "adresse_messagerie"} <= colonnes
            else "select null::varchar as siret, null::varchar as site_internet, null::varchar as domaine")
    adherents = con.execute(
        f"""with dpnt as ({dpnt}),
        presence as (select code, case when url_valide then mairie_site end as site,
                            case when email_valide then email_hote end as domaine
                     from marts.presence_numerique)
        select a.operateur, a.identifiant, a.nom, a.code_commune,
               case when a.commune_adherente then p.site else d.site_internet end,
               case when a.commune_adherente then p.domaine else nullif(d.domaine, '') end
        from marts.adherents a
        left join presence p on p.code = a.code_commune
        left join dpnt d on d.siret = a.siret and not a.commune_adherente
        where ({cond_a})
        qualify row_number() over (partition by a.operateur, a.identifiant order by d.siret) = 1
        order by a.operateur, a.identifiant""").fetchall()
    out = []
    for code, nom, site, domaine in communes:
        c = Cible("commune", code, None, nom, code, normaliser_url(site) if site else None, _avec_domaine(domaine))
        if c.url or c.domaine_mail:
            out.append(c)
    for operateur, ident, nom, commune, site, domaine in adherents:
        c = Cible("adherent", ident, operateur, nom, commune, normaliser_url(site) if site else None,
                  _avec_domaine(domaine))
        if c.url or c.domaine_mail:
            out.append(c)
    return out
