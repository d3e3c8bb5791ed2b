"""SQL models: one ``.sql`` file per table, named as its table, each with its tests.

A model runs after the models whose tables it reads: DuckDB's own parser finds them in
its SQL (``schema.table`` of ``raw``, ``staging``, ``intermediate``, ``marts``; a name in
a comment or a string is not a read), and :func:`ordonner` sorts the models on that, ties
by layer then name. A model reads only ``raw`` and its own or an earlier layer.

A model's header declares its tests, dbt's way, one per comment line; every line adds a
test (a second ``unique`` line is a second key, never a replacement)::

    -- unique: niveau, code                       the pair is unique
    -- unique: code_insee                         and so is this column (another test)
    -- not_null: niveau, code                     none of these is null
    -- accepted_values: niveau in (a, b, c)       values of a column, from a list
    -- references: niveau -> staging.niveaux(niveau)   every value exists in another table

Column names go into the test queries quoted, so a name is never read as SQL.

Two more header lines, and one placeholder:

    -- materialisation: vue                       a view rather than a table (cheap to
                                                  remake when what it reads changed)
    -- materialisation: cache                     a table also kept outside the warehouse
                                                  by its fingerprint, read back by a later
                                                  build instead of recomputed (:mod:`.cache`)
    {{ agregation_indicateurs }}                  the text of sql/fragments/<name>.sql, for
                                                  SQL that two models share (written once)
    {{ champ_mairie(champ = site, nom = url) }}   the same, each ``{{ champ }}`` of the
                                                  fragment replaced by ``site`` (a value is
                                                  SQL text: quotes and parentheses kept whole)
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from territoires.entrepot.etapes import BuildError
from territoires.entrepot.litteraux import litteral

SQL_DIR = Path(__file__).with_name("sql")
LAYERS = ("staging", "intermediate", "marts")
#: where a model's inputs live: the loaded tables, then the models' layers
SCHEMAS = ("raw", *LAYERS)

_TEST_LINE = re.compile(r"^--\s*(unique|not_null|accepted_values|references):\s*(.+)$")
_MATERIALISATION = re.compile(r"^--\s*materialisation:\s*(\S+)\s*$")
MATERIALISATIONS = {"table": "table", "vue": "view", "cache": "table"}
FRAGMENTS_DIR = SQL_DIR / "fragments"
_FRAGMENT = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*(?:\((.*?)\)\s*)?\}\}", re.S)
_REFERENCE = re.compile(r"^(\w+)\s*->\s*(\w+)\.(\w+)\s*\(\s*(\w+)\s*\)$")
#: a model's file name, which is its table's name
_NOM = re.compile(r"^[a-z_][a-z0-9_]*$")


def q(identifier: str) -> str:
    """A quoted SQL identifier (``"name"``, inner quotes doubled)."""
    return '"' + identifier.strip().replace('"', '""') + '"'


def _table(name: str) -> str:
    return ".".join(q(part) for part in name.split("."))


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    path: Path
    sql: str
    #: one unique key (columns), for a model built by hand; parsed models use ``uniques``
    unique: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    accepted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: every unique key declared, one per ``-- unique:`` line
    uniques: tuple[tuple[str, ...], ...] = ()
    #: (column, referenced table, referenced column)
    references: tuple[tuple[str, str, str], ...] = ()
    #: ``table``, ``vue`` or ``cache`` (``-- materialisation:``)
    materialisation: str = "table"
    #: the tables its SQL reads (:func:`tables_lues`)
    lit: frozenset[str] = frozenset()

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sorte(self) -> str:
        """What the model creates, in SQL: ``table`` or ``view``."""
        return MATERIALISATIONS[self.materialisation]

    @property
    def keys(self) -> tuple[tuple[str, ...], ...]:
        return ((self.unique,) if self.unique else ()) + self.uniques


def _columns(arg: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in arg.split(",") if c.strip())


def _lire_modele(path: Path) -> tuple[str, str]:
    """A model's file as written, and its SQL (the fragments it names written in)."""
    texte = path.read_text(encoding="utf-8")
    return texte, _FRAGMENT.sub(lambda m: _fragment(path, texte, m), texte)


def parse_model(path: Path, schema: str, lu: tuple[str, str] | None = None) -> Model:
    """Read one ``.sql`` model (``lu``: :func:`_lire_modele`'s, when read already); its
    tests are declared in its header comments."""
    texte, sql = lu or _lire_modele(path)
    materialisation = "table"
    uniques: list[tuple[str, ...]] = []
    not_null: list[str] = []
    accepted: dict[str, tuple[str, ...]] = {}
    references: list[tuple[str, str, str]] = []
    for lineno, line in enumerate(sql.splitlines(), 1):
        mat = _MATERIALISATION.match(line.strip())
        if mat:
            materialisation = mat.group(1)
            if materialisation not in MATERIALISATIONS:
                raise ValueError(f"{path}, ligne {lineno} : « materialisation: {materialisation} » ; "
                                 f"valeurs possibles : {', '.join(MATERIALISATIONS)}")
            continue
        m = _TEST_LINE.match(line.strip())
        if not m:
            continue
        kind, arg = m.groups()
        if kind == "unique":
            uniques.append(_columns(arg))
        elif kind == "not_null":
            not_null += [c for c in _columns(arg) if c not in not_null]
        elif kind == "accepted_values":
            col, _, values = arg.partition(" in ")
            accepted[col.strip()] = accepted.get(col.strip(), ()) + tuple(
                v.strip() for v in values.strip(" ()").split(","))
        else:
            ref = _REFERENCE.match(arg.strip())
            if not ref:
                raise ValueError(f"{path}, ligne {lineno} : « references: {arg} » ; attendu "
                                 "« references: colonne -> schema.table(colonne) »")
            col, schema_ref, table_ref, col_ref = ref.groups()
            references.append((col, f"{schema_ref}.{table_ref}", col_ref))
    if not _NOM.match(path.stem):
        raise ValueError(f"{path} : « {path.stem} » ne peut pas nommer une table ; un modèle porte le nom de sa "
                         "table (minuscules, chiffres, _, sans chiffre en tête : l'ordre d'exécution vient des "
                         "tables que chaque modèle lit, pas du nom du fichier)")
    try:
        lit = tables_lues(sql)
    except ValueError as exc:
        message, position = exc.args
        ligne = "" if position is None else f", ligne {sql.count(chr(10), 0, int(position)) + 1}" + (
            " (fragments inclus)" if sql != texte else "")
        raise ValueError(f"{path}{ligne} : SQL illisible pour l'analyseur de DuckDB ({message}) ; "
                         "un modèle est une seule requête select") from None
    return Model(schema, path.stem, path, sql, not_null=tuple(not_null), accepted=accepted,
                 uniques=tuple(uniques), references=tuple(references), materialisation=materialisation, lit=lit)


@cache
def _analyseur() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _tables(noeud: object, out: set[str]) -> None:
    if isinstance(noeud, dict):
        if noeud.get("type") == "BASE_TABLE" and noeud.get("schema_name") in SCHEMAS:
            out.add(f"{noeud['schema_name']}.{noeud['table_name']}")
        for v in noeud.values():
            _tables(v, out)
    elif isinstance(noeud, list):
        for v in noeud:
            _tables(v, out)


#: a table read in DuckDB's tree as JSON text: a ``BASE_TABLE`` node, its schema and name
#: (in a JSON string a quote is escaped: such a sequence is never inside a value)
_TABLE_JSON = re.compile(r'"type":"BASE_TABLE",.*?"schema_name":"((?:[^"\\]|\\.)*)","table_name":"((?:[^"\\]|\\.)*)"')
_NOEUD_TABLE = '"type":"BASE_TABLE"'

#: :func:`tables_lues` of every SQL text met in this process
_LUES: dict[str, frozenset[str]] = {}


def _depuis_json(texte: str) -> frozenset[str]:
    """The tables of :data:`SCHEMAS` in ``json_serialize_sql``'s output: found in the text
    (ten times faster than walking the tree, 0.03 s for the models), or by walking the tree
    when the text does not pair every ``BASE_TABLE`` node with its names (another layout)."""
    trouvees = _TABLE_JSON.findall(texte)
    if len(trouvees) == texte.count(_NOEUD_TABLE) and all("\\" not in s + t for s, t in trouvees):
        return frozenset(f"{s}.{t}" for s, t in trouvees if s in SCHEMAS)
    out: set[str] = set()
    _tables(json.loads(texte), out)
    return frozenset(out)


def tables_lues(sql: str) -> frozenset[str]:
    """The tables ``sql`` reads, ``schema.table`` of :data:`SCHEMAS`, as DuckDB's parser
    finds them (``json_serialize_sql``): a table named in a comment or a string is not
    read. Raises ``ValueError(message, position)`` when the parser refuses the SQL."""
    _lire_toutes([sql])
    if sql not in _LUES:  # refused: the parser's message and where it stopped
        arbre = json.loads(_analyseur().execute(f"select json_serialize_sql({litteral(sql)})").fetchone()[0])
        raise ValueError(arbre.get("error_message", "erreur"), arbre.get("position"))
    return _LUES[sql]


def _lire_toutes(sqls: list[str]) -> None:
    """Fill :data:`_LUES` for every text of ``sqls`` the parser accepts, in one query (half
    the time of one query each: the models are read so); :func:`tables_lues` says why a
    text is refused."""
    nouveaux = [q for q in dict.fromkeys(sqls) if q not in _LUES]
    if not nouveaux:
        return
    # literals, not parameters: the first parameterised query of a process costs a second
    valeurs = ", ".join(f"({litteral(q)}, {i})" for i, q in enumerate(nouveaux))
    lignes = _analyseur().execute(
        f"select j, (j->>'error')::boolean from (select json_serialize_sql(q) as j, i from (values {valeurs}) t(q, i))"
        " order by i").fetchall()
    for q, (texte, refuse) in zip(nouveaux, lignes):
        if not refuse:
            _LUES[q] = _depuis_json(texte)


def _fragment(path: Path, sql: str, m: re.Match) -> str:
    """The text of ``sql/fragments/<name>.sql`` for ``{{ name }}`` in ``path``, or for
    ``{{ name(param = valeur, …) }}`` with each ``{{ param }}`` of the fragment replaced."""
    ligne = sql.count("\n", 0, m.start()) + 1
    fragment = FRAGMENTS_DIR / f"{m.group(1)}.sql"
    if not fragment.is_file():
        connus = ", ".join(sorted(p.stem for p in FRAGMENTS_DIR.glob("*.sql"))) or "aucun"
        raise ValueError(f"{path}, ligne {ligne} : fragment « {m.group(1)} » introuvable dans {FRAGMENTS_DIR} "
                         f"(fragments : {connus})")
    texte = fragment.read_text(encoding="utf-8").strip()
    valeurs = _parametres(path, ligne, m.group(2) or "")
    attendus = sorted({nom for nom, _ in _FRAGMENT.findall(texte)})
    if sorted(valeurs) != attendus:
        raise ValueError(f"{path}, ligne {ligne} : le fragment « {m.group(1)} » attend "
                         f"{', '.join(attendus) or 'aucun paramètre'} ; reçu : {', '.join(sorted(valeurs)) or 'aucun'} "
                         f"(écrire « {{{{ {m.group(1)}({', '.join(p + ' = …' for p in attendus)}) }}}} »)")
    return _FRAGMENT.sub(lambda p: valeurs[p.group(1)], texte)


def _parametres(path: Path, ligne: int, texte: str) -> dict[str, str]:
    """``param = valeur, …`` → {param: valeur}; a comma inside quotes or parentheses
    belongs to its value."""
    morceaux, profondeur, guillemet, debut = [], 0, "", 0
    for i, car in enumerate(texte):
        if guillemet:
            guillemet = "" if car == guillemet else guillemet
        elif car in "'\"":
            guillemet = car
        elif car in "([":
            profondeur += 1
        elif car in ")]":
            profondeur -= 1
        elif car == "," and profondeur == 0:
            morceaux.append(texte[debut:i])
            debut = i + 1
    morceaux.append(texte[debut:])
    valeurs: dict[str, str] = {}
    for morceau in (m for m in morceaux if m.strip()):
        nom, egal, valeur = morceau.partition("=")
        if not egal or not _NOM.match(nom.strip()) or not valeur.strip() or nom.strip() in valeurs:
            raise ValueError(f"{path}, ligne {ligne} : paramètre de fragment « {morceau.strip()} » illisible ; "
                             "attendu « nom = valeur », chaque nom une fois")
        valeurs[nom.strip()] = valeur.strip()
    return valeurs


def models() -> list[Model]:
    """All models in execution order (:func:`ordonner`)."""
    fichiers = [(path, layer) for layer in LAYERS for path in sorted((SQL_DIR / layer).glob("*.sql"))]
    lus = [_lire_modele(path) for path, _ in fichiers]
    _lire_toutes([sql for _, sql in lus])  # what each reads, in one query
    return ordonner([parse_model(path, layer, lu) for (path, layer), lu in zip(fichiers, lus)])


def ordonner(modeles: Iterable[Model]) -> list[Model]:
    """``modeles`` in execution order: each after the models whose tables it reads; among
    those ready, layer order then name (the same order on every machine). Staging thus
    runs whole before the rest (the member registers are loaded in between).

    Raises BuildError, naming the model's file, for two models of one table, a read of a
    table no model creates, a read of a later layer, and a cycle."""
    par_table: dict[str, Model] = {}
    for m in modeles:
        if m.table in par_table:
            raise BuildError(f"{m.path} et {par_table[m.table].path} créent tous deux la table {m.table} ; "
                             "renommer l'un des deux")
        par_table[m.table] = m
    lit: dict[str, set[str]] = {}
    for m in par_table.values():
        lit[m.table] = set()
        for t in sorted(m.lit):
            schema = t.split(".")[0]
            if schema == "raw":  # loaded by a step: :func:`verifier_brutes`
                continue
            if t not in par_table:
                connus = ", ".join(sorted(x for x in par_table if x.startswith(schema + "."))) or "aucun"
                raise BuildError(f"{m.path} : le modèle {m.table} lit {t}, qu'aucun modèle ne crée "
                                 f"(modèles de {schema} : {connus}) ; corriger le nom, ou ajouter "
                                 f"{SQL_DIR / schema / t.split('.')[1]}.sql")
            if LAYERS.index(schema) > LAYERS.index(m.schema):
                raise BuildError(f"{m.path} : le modèle {m.table} (couche {m.schema}) lit {t}, d'une couche "
                                 f"postérieure ; un modèle lit raw et les couches jusqu'à la sienne "
                                 f"({' → '.join(SCHEMAS)})")
            lit[m.table].add(t)
    lecteurs: dict[str, list[str]] = {t: [] for t in par_table}
    for t, entrees in lit.items():
        for e in entrees:
            lecteurs[e].append(t)
    cle = {t: (LAYERS.index(m.schema), m.name) for t, m in par_table.items()}
    attente = {t: len(entrees - {t}) for t, entrees in lit.items()}
    prets = [(cle[t], t) for t, n in attente.items() if n == 0 and t not in lit[t]]
    heapq.heapify(prets)
    out: list[Model] = []
    while prets:
        _, t = heapq.heappop(prets)
        out.append(par_table[t])
        for lecteur in lecteurs[t]:
            if lecteur == t:
                continue
            attente[lecteur] -= 1
            if attente[lecteur] == 0 and lecteur not in lit[lecteur]:
                heapq.heappush(prets, (cle[lecteur], lecteur))
    if len(out) < len(par_table):
        raise BuildError("modèles en cycle, chacun lisant la table du suivant : "
                         + " → ".join(str(par_table[t].path) for t in _cycle(lit, {m.table for m in out})))
    return out


def _cycle(lit: dict[str, set[str]], faits: set[str]) -> list[str]:
    """One cycle among the models not sorted (each reads the next), closed on its start."""
    t = min(x for x in lit if x not in faits)
    chemin: list[str] = []
    while t not in chemin:
        chemin.append(t)
        t = min(x for x in lit[t] if x not in faits)
    return chemin[chemin.index(t):] + [t]


def verifier_brutes(modeles: Iterable[Model], chargees: Iterable[str], apres_staging: Iterable[str] = ()) -> None:
    """Every ``raw`` table a model reads is created by a loading step: ``chargees``
    before the models, ``apres_staging`` between staging and the next layers (a staging
    model cannot read those). BuildError naming the model's file otherwise."""
    chargees, apres_staging = set(chargees), set(apres_staging)
    for m in modeles:
        for t in sorted(x for x in m.lit if x.startswith("raw.")):
            if t in apres_staging and m.schema == "staging":
                raise BuildError(f"{m.path} : le modèle {m.table} lit {t}, chargée seulement après la couche "
                                 "staging (elle dépend de staging.communes) ; lire cette table depuis "
                                 "intermediate ou marts")
            if t not in chargees | apres_staging:
                raise BuildError(f"{m.path} : le modèle {m.table} lit {t}, qu'aucune étape de chargement ne "
                                 f"crée (tables chargées : {', '.join(sorted(chargees | apres_staging))})")


def model_test_failures(con: duckdb.DuckDBPyConnection, model: Model) -> list[str]:
    """Run a model's declared tests; return one French message per failure."""
    failures = []
    t = model.table
    qt = _table(t)
    for key in model.keys:
        cols = ", ".join(q(c) for c in key)
        n = con.execute(
            f"select count(*) from (select {cols} from {qt} group by all having count(*) > 1)"
        ).fetchone()[0]
        if n:
            failures.append(f"{t}: {n} doublon(s) sur ({', '.join(key)})")
    if model.not_null:  # one scan for every column
        nuls = con.execute("select " + ", ".join(f"count(*) filter (where {q(c)} is null)" for c in model.not_null)
                           + f" from {qt}").fetchone()
        failures += [f"{t}.{col}: {n} valeur(s) nulle(s)" for col, n in zip(model.not_null, nuls) if n]
    for col, values in model.accepted.items():
        rows = con.execute(
            f"select distinct {q(col)}::varchar from {qt} where {q(col)} is not null "
            f"and {q(col)}::varchar not in ({', '.join(litteral(str(v)) for v in values)})"
        ).fetchall()
        if rows:
            failures.append(f"{t}.{col}: valeurs inattendues {[r[0] for r in rows]}")
    for col, ref_table, ref_col in model.references:
        rows = con.execute(
            f"select distinct {q(col)}::varchar from {qt} where {q(col)} is not null "
            f"and {q(col)} not in (select {q(ref_col)} from {_table(ref_table)} where {q(ref_col)} is not null)"
        ).fetchall()
        if rows:
            failures.append(f"{t}.{col}: valeurs absentes de {ref_table}.{ref_col} {[r[0] for r in rows][:10]}")
    return failures
