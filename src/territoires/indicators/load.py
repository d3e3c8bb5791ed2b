"""Load the indicator data files into ``raw`` during the build, and register the UDFs.

Data files (this folder, each one a registry source whose sha256 is recorded at build time):

- ``sites.csv``        → ``raw.classement_sites``        (source ``classement-sites``)
- ``messageries.csv``  → ``raw.classement_messageries``  (source ``classement-messageries``)
- ``extensions.csv``   → ``raw.extensions_domaine``      (source ``extensions-domaine``)
- ``mx.csv``           → ``raw.classement_mx``           (source ``classement-mx``: the probe's MX hosts)
- ``catalogue.toml``   → ``raw.indicateurs_catalogue``, ``raw.indicateurs_criteres``,
  ``raw.score_ponderations``, ``raw.millesimes_libelles`` (source ``indicateurs-catalogue``)

Every file is validated here; an error names the file, the line and the reason.
The UDFs (IDNA 2008 encoding/decoding of host names with the ``idna`` package, registrable
domains by the Public Suffix List with ``publicsuffixlist``) and the macros of
``macros.sql`` exist only on the build connection: models are materialised, so readers
never need them.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache, lru_cache
from pathlib import Path

from territoires.entrepot.etapes import Etape
from territoires.entrepot.litteraux import inserer
from territoires.fichiers import lire_toml

HERE = Path(__file__).parent
SITES_FILE = HERE / "sites.csv"
MESSAGERIES_FILE = HERE / "messageries.csv"
EXTENSIONS_FILE = HERE / "extensions.csv"
MX_FILE = HERE / "mx.csv"
CATALOGUE_FILE = HERE / "catalogue.toml"
MACROS_FILE = HERE / "macros.sql"

#: data files whose content changes the warehouse (hashed into the build fingerprint; the
#: code is found from the build's imports, :mod:`territoires.empreintes`)
FICHIERS = (SITES_FILE, MESSAGERIES_FILE, EXTENSIONS_FILE, MX_FILE, CATALOGUE_FILE, MACROS_FILE)

CLASSES_SITE = ("domaine_propre", "plateforme_publique", "constructeur_commercial", "pages_perso_fai")
CLASSES_EMAIL = ("domaine_propre", "plateforme_publique", "webmail_grand_public", "fournisseur_partage")
CLASSES_MX = ("operateur_public_francais", "hebergeur_francais", "webmail_etranger", "autre")

#: criteria that count communes or points rather than a yes/no fact: they may be a
#: numerator or a denominator but never weigh in the composite score. The criteria
#: themselves are declared once, in catalogue.toml (families: :data:`FAMILLES`), read here
#: and by the indicator models (marts.indicateurs_presence, _adhesion, _sources) through
#: the variables that :func:`set_criteres` sets. Besides them, ``service:<id>``
#: (a member commune uses a service of the taxonomy) exists for every service.
NON_PONDERABLES = ("commune", "fiche_mairie", "score_presence", "score_maximum")
#: criteria families of catalogue.toml → the SQL variable listing them: [criteres]
#: (marts.presence_numerique), [criteres_adhesion] (marts.adhesion_communes),
#: [criteres_sources] (intermediate.faits_sources: facts from the fetched official sources)
FAMILLES = {"presence": "criteres", "adhesion": "criteres_adhesion", "sources": "criteres_sources"}

POLARITES = ("hausse_favorable", "baisse_favorable")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class DonneesError(ValueError):
    """A data file of the indicators is invalid; the message names the file, line and reason."""


# --- UDFs -----------------------------------------------------------------------------


#: distinct host names remembered by each UDF: a build asks for the same ones several
#: times (every commune's site and e-mail host, then their registrable domains; e-mail
#: hosts repeat: 34,875 communes, about 15,600 distinct hosts), each answer costs tens of µs
_MEMOIRE = 1 << 17


#: a host of letters, digits and inner hyphens only (most of them): its ASCII and its
#: Unicode forms are itself in lower case, as ``idna`` returns them, at a tenth of the cost
_HOTE_ASCII = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
#: hyphens in the 3rd and 4th places: an ``xn--`` label, or one that ``idna`` refuses
_TIRETS_34 = re.compile(r"(?:^|\.)[a-z0-9-]{2}--")


def _hote_ascii(host: str) -> str | None:
    """``host`` in lower case when :data:`_HOTE_ASCII` holds it whole (≤ 253 characters,
    no hyphens in the 3rd and 4th places), else ``None``: ``idna`` decides."""
    bas = host.lower()
    if (len(bas) <= 253 and bas.isascii() and _HOTE_ASCII.fullmatch(bas)
            and not _TIRETS_34.search(bas)):
        return bas
    return None


@lru_cache(maxsize=_MEMOIRE)
def idna_ascii(host: str | None) -> str | None:
    """Host name → ASCII form (``xn--`` labels), lower case; ``None`` if not a valid name.

    IDNA 2008 with the UTS #46 mapping (the ``idna`` package, as browsers do):
    ``Thézac17.fr`` → ``xn--thzac17-cya.fr``.
    """
    import idna

    if host is None:
        return None
    host = host.strip().rstrip(".")
    if not host:
        return None
    simple = _hote_ascii(host)
    if simple is not None:
        return simple
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


@lru_cache(maxsize=_MEMOIRE)
def idna_unicode(host: str | None) -> str | None:
    """Host name → Unicode form, lower case (``xn--`` labels decoded); ``None`` if invalid."""
    import idna

    ascii_form = idna_ascii(host)
    if ascii_form is None:
        return None
    if _hote_ascii(ascii_form) is not None:
        return ascii_form
    try:
        return idna.decode(ascii_form).lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


@cache
def _liste_suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


@lru_cache(maxsize=_MEMOIRE)
def domaine_enregistrable(host: str | None) -> str | None:
    """The registrable domain of a host by the Public Suffix List (ICANN section, shipped
    offline by ``publicsuffixlist``): ``mairie.x.gouv.fr`` → ``x.gouv.fr``,
    ``www.brest.fr`` → ``brest.fr``; a host that is itself a public suffix stays as is."""
    ascii_form = idna_ascii(host)
    if ascii_form is None:
        return None
    found = _liste_suffixes().privatesuffix(ascii_form) or ascii_form
    return idna_unicode(found)


def prechauffer() -> None:
    """Import, ahead of time, what the first call of these UDFs pays for: numpy (DuckDB's
    ``create_function``), pandas and pyarrow (DuckDB's check of a Python value returned
    by a UDF), idna, and the Public Suffix List parsed once. A cold build runs this in a
    thread while DuckDB reads the raw files (it releases the GIL meanwhile): about 0.3 s
    that the models then do not wait for. Nothing here changes any result."""
    import idna  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    _liste_suffixes()


def register_functions(con) -> None:
    """Create on a DuckDB connection the UDFs ``tn_idna_ascii``, ``tn_idna_unicode``,
    ``tn_domaine_enregistrable`` and the macros of ``macros.sql`` (a second call on the
    same connection keeps the UDFs it finds: the same Python functions).

    The functions are pure, but declared with side effects: DuckDB then calls them once
    per row where the SQL names them, whereas it copies a pure function's call into every
    filter and join that reads its result (France's e-mail model called ``tn_idna_ascii``
    170,000 times for 34,482 addresses)."""
    from duckdb import sqltypes

    presentes = {n for (n,) in con.execute(
        "select function_name from duckdb_functions() where function_name like 'tn\\_%' escape '\\' "
        "and function_type = 'scalar'").fetchall()}
    for name, fn in (("tn_idna_ascii", idna_ascii), ("tn_idna_unicode", idna_unicode),
                     ("tn_domaine_enregistrable", domaine_enregistrable)):
        if name not in presentes:
            con.create_function(name, fn, [sqltypes.VARCHAR], sqltypes.VARCHAR,
                                null_handling="special", side_effects=True)
    con.execute(MACROS_FILE.read_text(encoding="utf-8"))


# --- data files -----------------------------------------------------------------------


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a commented CSV (lines starting with ``#`` are comments), with line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DonneesError(f"{path}: illisible ({exc})") from exc
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise DonneesError(f"{path}: fichier vide")
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)))
    header = [h.strip() for h in next(reader)]
    if tuple(header) != columns:
        raise DonneesError(f"{path}, ligne {lines[0][0]} : en-tête {header} ; attendu {list(columns)}")
    out = []
    for (lineno, _), row in zip(lines[1:], reader):
        if len(row) != len(columns):
            raise DonneesError(f"{path}, ligne {lineno} : {len(row)} champ(s) au lieu de {len(columns)}")
        out.append((lineno, {k: v.strip() for k, v in zip(columns, row)}))
    return out


def _domaine(path: Path, lineno: int, value: str, *, suffix: bool = False) -> str:
    """Validate a domain of a list; return its Unicode lower-case form."""
    if value != value.lower() or value.startswith("www.") and not suffix:
        raise DonneesError(f"{path}, ligne {lineno} : domaine « {value} » à écrire en minuscules, sans « www. »")
    ascii_form = idna_ascii(value)
    if ascii_form is None or not all(_LABEL.match(lab) for lab in ascii_form.split(".")):
        raise DonneesError(f"{path}, ligne {lineno} : domaine « {value} » invalide")
    if not suffix and "." not in ascii_form:
        raise DonneesError(f"{path}, ligne {lineno} : « {value} » n'est pas un nom de domaine (extension seule)")
    return idna_unicode(value)


def _classement(path: Path, classes: tuple[str, ...]) -> list[tuple]:
    rows, seen = [], {}
    for lineno, r in _read_csv(path, ("domaine", "classe", "libelle", "commune_titulaire", "origine")):
        dom = _domaine(path, lineno, r["domaine"])
        if dom in seen:
            raise DonneesError(f"{path}, ligne {lineno} : domaine « {dom} » déjà classé ligne {seen[dom]}")
        seen[dom] = lineno
        if r["classe"] not in classes:
            raise DonneesError(f"{path}, ligne {lineno} : classe « {r['classe']} » inconnue ; choix : {', '.join(classes)}")
        if not r["libelle"] or not r["origine"]:
            raise DonneesError(f"{path}, ligne {lineno} : libellé et origine sont obligatoires")
        titulaire = r["commune_titulaire"] or None
        if titulaire and not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", titulaire):
            raise DonneesError(f"{path}, ligne {lineno} : code commune « {titulaire} » invalide")
        rows.append((dom, r["classe"], r["libelle"], titulaire, r["origine"], lineno))
    return rows


def _classement_mx(path: Path) -> list[tuple]:
    """``mx.csv``: suffix of an MX host name → operator class (the probe's MX, classified at build)."""
    rows, seen = [], {}
    for lineno, r in _read_csv(path, ("domaine", "classe", "libelle", "origine")):
        dom = _domaine(path, lineno, r["domaine"], suffix=True)
        if dom in seen:
            raise DonneesError(f"{path}, ligne {lineno} : domaine « {dom} » déjà classé ligne {seen[dom]}")
        seen[dom] = lineno
        if r["classe"] not in CLASSES_MX:
            raise DonneesError(f"{path}, ligne {lineno} : classe « {r['classe']} » inconnue ; choix : {', '.join(CLASSES_MX)}")
        if not r["libelle"] or not r["origine"]:
            raise DonneesError(f"{path}, ligne {lineno} : libellé et origine sont obligatoires")
        rows.append((idna_ascii(dom), r["classe"], r["libelle"], r["origine"], lineno))
    return rows


def _extensions(path: Path) -> list[tuple]:
    rows, seen = [], set()
    for lineno, r in _read_csv(path, ("extension", "type", "souveraine", "libelle", "origine")):
        ext = _domaine(path, lineno, r["extension"].lstrip("."), suffix=True)
        if ext in seen:
            raise DonneesError(f"{path}, ligne {lineno} : extension « {ext} » en double")
        seen.add(ext)
        if r["type"] != "premier_niveau":
            raise DonneesError(f"{path}, ligne {lineno} : type « {r['type']} » inconnu (premier_niveau ; les "
                               "suffixes publics viennent de la Public Suffix List)")
        if "." in ext:
            raise DonneesError(f"{path}, ligne {lineno} : « {ext} » ne correspond pas au type {r['type']}")
        if r["souveraine"] not in ("oui", "non"):
            raise DonneesError(f"{path}, ligne {lineno} : souveraine doit valoir oui ou non")
        rows.append((ext, r["type"], r["souveraine"] == "oui", r["libelle"], r["origine"]))
    return rows


def read_catalogue(path: Path = CATALOGUE_FILE) -> dict:
    """Parse and validate ``catalogue.toml``; return its tables as lists of tuples."""
    data = lire_toml(path, DonneesError, "catalogue des indicateurs")
    criteres = data.get("criteres", {})
    bad = [c for c in criteres if not _ID.match(c) or not isinstance(criteres[c], str) or not criteres[c]]
    if not criteres or bad:
        raise DonneesError(f"{path}: la table [criteres] doit associer à chaque critère (identifiant en minuscules) "
                           f"son libellé ; invalides : {bad or '(table vide)'}")
    manquants = [c for c in NON_PONDERABLES if c not in criteres]
    if manquants:
        raise DonneesError(f"{path}: la table [criteres] doit déclarer {manquants} (calculés par l'entrepôt)")
    criteres_score = [c for c in criteres if c not in NON_PONDERABLES]
    adhesion = data.get("criteres_adhesion", {})
    bad = [c for c in adhesion if not _ID.match(c) or not isinstance(adhesion[c], str) or not adhesion[c] or c in criteres]
    if bad:
        raise DonneesError(f"{path}: [criteres_adhesion] : critère(s) invalide(s) ou déjà dans [criteres] : {bad}")
    sources = data.get("criteres_sources", {})
    bad = [c for c in sources if not _ID.match(c) or not isinstance(sources[c], str) or not sources[c]
           or c in criteres or c in adhesion]
    if bad:
        raise DonneesError(f"{path}: [criteres_sources] : critère(s) invalide(s) ou déjà déclaré(s) : {bad}")
    tous = {**criteres, **adhesion, **sources}
    millesimes = data.get("millesimes", {})
    poids = data.get("score", {}).get("critere", [])
    seen: set[str] = set()
    ponderations = []
    for i, p in enumerate(poids, 1):
        c, w = p.get("critere"), p.get("poids")
        if c not in criteres_score:
            raise DonneesError(f"{path}: [[score.critere]] n°{i} : critère « {c} » inconnu ; choix : {', '.join(criteres_score)}")
        if c in seen:
            raise DonneesError(f"{path}: [[score.critere]] n°{i} : critère « {c} » en double")
        if not isinstance(w, int) or isinstance(w, bool) or w <= 0:
            raise DonneesError(f"{path}: [[score.critere]] n°{i} : poids entier positif attendu, trouvé {w!r}")
        seen.add(c)
        ponderations.append((c, w, i))
    total = sum(w for _, w, _ in ponderations)
    if total != 100:
        raise DonneesError(f"{path}: les poids du score font {total}, pas 100")
    indicateurs = []
    ids: set[str] = set()
    required = ("id", "libelle", "libelle_court", "definition", "unite", "polarite",
                "numerateur", "denominateur", "sources", "millesimes")
    for i, ind in enumerate(data.get("indicateur", []), 1):
        missing = [k for k in required if not ind.get(k)]
        if missing:
            raise DonneesError(f"{path}: indicateur n°{i} : champ(s) manquant(s) {missing}")
        iid = ind["id"]
        if not _ID.match(iid) or iid in ids:
            raise DonneesError(f"{path}: indicateur n°{i} : identifiant « {iid} » invalide ou en double")
        ids.add(iid)
        if ind["polarite"] not in POLARITES:
            raise DonneesError(f"{path}: indicateur {iid} : polarité « {ind['polarite']} » ; choix : {', '.join(POLARITES)}")
        for key in ("numerateur", "denominateur"):
            if ind[key] not in tous:
                raise DonneesError(f"{path}: indicateur {iid} : {key} « {ind[key]} » n'est pas un critère ; choix : {', '.join(tous)}")
        unknown = [m for m in ind["millesimes"] if m not in millesimes]
        if unknown:
            raise DonneesError(f"{path}: indicateur {iid} : millésime(s) {unknown} absent(s) de la table [millesimes]")
        indicateurs.append((
            iid, i, ind["libelle"], ind["libelle_court"], " ".join(ind["definition"].split()), ind["unite"],
            ind["polarite"], ind["numerateur"], ind["denominateur"], [str(s) for s in ind["sources"]],
            [str(m) for m in ind["millesimes"]], bool(ind.get("tableau", False)), ind.get("formule"),
        ))
    if not indicateurs:
        raise DonneesError(f"{path}: aucun indicateur")
    return {
        "indicateurs": indicateurs,
        "criteres": [(c, criteres[c], "presence") for c in criteres]
        + [(c, adhesion[c], "adhesion") for c in adhesion]
        + [(c, sources[c], "sources") for c in sources],
        "ponderations": ponderations,
        "millesimes": [(k, v) for k, v in millesimes.items()],
    }


def set_criteres(con) -> None:
    """The variables ``criteres``, ``criteres_adhesion`` and ``criteres_sources`` that the
    indicator models (marts.indicateurs_presence, _adhesion, _sources) read: the criteria
    they unpivot (``raw.indicateurs_criteres``, i.e. catalogue.toml)."""
    for famille, variable in FAMILLES.items():
        con.execute(f"set variable {variable} = (select coalesce(list(critere order by critere), []::varchar[]) "
                    f"from raw.indicateurs_criteres where famille = '{famille}')")


def load_raw(con, registry=None) -> dict[str, int]:
    """Create the ``raw`` tables of the indicators and register the UDFs on ``con``.

    Returns ``{source id: rows}`` for ``raw.sources``. Raises :class:`DonneesError`
    (a ``ValueError``) naming the file and the reason.
    """
    if registry is not None:
        missing = [s for s in ("classement-sites", "classement-messageries", "extensions-domaine",
                               "indicateurs-catalogue") if s not in registry]
        if missing:
            raise DonneesError(f"registre des sources : source(s) {missing} manquante(s)")
    register_functions(con)
    con.execute("create schema if not exists raw")
    sites = _classement(SITES_FILE, CLASSES_SITE)
    messageries = _classement(MESSAGERIES_FILE, CLASSES_EMAIL)
    extensions = _extensions(EXTENSIONS_FILE)
    cat = read_catalogue()
    for table in ("classement_sites", "classement_messageries"):
        con.execute(
            f"create or replace table raw.{table} (domaine varchar, classe varchar, libelle varchar,"
            " commune_titulaire varchar, origine varchar, ligne integer)"
        )
    inserer(con, "raw.classement_sites", sites)
    inserer(con, "raw.classement_messageries", messageries)
    con.execute(
        "create or replace table raw.extensions_domaine (extension varchar, type varchar,"
        " souveraine boolean, libelle varchar, origine varchar)"
    )
    inserer(con, "raw.extensions_domaine", extensions)
    mx = _classement_mx(MX_FILE)
    con.execute("create or replace table raw.classement_mx (domaine varchar, classe varchar, libelle varchar,"
                " origine varchar, ligne integer)")
    inserer(con, "raw.classement_mx", mx)
    con.execute(
        "create or replace table raw.indicateurs_catalogue (indicateur varchar, ordre integer,"
        " libelle varchar, libelle_court varchar, definition varchar, unite varchar, polarite varchar,"
        " numerateur varchar, denominateur varchar, sources varchar[], millesimes varchar[],"
        " tableau boolean, formule varchar)"
    )
    inserer(con, "raw.indicateurs_catalogue", cat["indicateurs"])
    con.execute("create or replace table raw.indicateurs_criteres (critere varchar, libelle varchar, famille varchar)")
    inserer(con, "raw.indicateurs_criteres", cat["criteres"])
    set_criteres(con)
    con.execute("create or replace table raw.score_ponderations (critere varchar, poids integer, ordre integer)")
    inserer(con, "raw.score_ponderations", cat["ponderations"])
    con.execute("create or replace table raw.millesimes_libelles (cle varchar, libelle varchar)")
    inserer(con, "raw.millesimes_libelles", cat["millesimes"])
    return {
        "classement-sites": len(sites),
        "classement-messageries": len(messageries),
        "extensions-domaine": len(extensions),
        "classement-mx": len(mx),
        "indicateurs-catalogue": len(cat["indicateurs"]),
    }


def _version(paquet: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(paquet)
    except PackageNotFoundError:
        return ""


#: the raw tables of :func:`load_raw`
TABLES = ("raw.classement_sites", "raw.classement_messageries", "raw.extensions_domaine", "raw.classement_mx",
          "raw.indicateurs_catalogue", "raw.indicateurs_criteres", "raw.score_ponderations",
          "raw.millesimes_libelles")


def etape() -> Etape:
    """The indicators' loading step: classification lists and catalogue (fingerprint: their
    files, this code, and the IDNA and Public Suffix List versions that classify hosts)."""
    return Etape("raw.indicateurs", TABLES,
                 repr([p.read_bytes().hex() for p in FICHIERS] + [_version("idna"), _version("publicsuffixlist")]),
                 lambda con: load_raw(con))
