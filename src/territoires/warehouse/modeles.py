"""SQL models: one ``.sql`` file per table, run in a declared order, each with its tests.

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
    {{ agregation_indicateurs }}                  the text of sql/fragments/<name>.sql, for
                                                  SQL that two models share (written once)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from territoires.entrepot.litteraux import litteral

SQL_DIR = Path(__file__).with_name("sql")
LAYERS = ("staging", "intermediate", "marts")

_TEST_LINE = re.compile(r"^--\s*(unique|not_null|accepted_values|references):\s*(.+)$")
_MATERIALISATION = re.compile(r"^--\s*materialisation:\s*(\S+)\s*$")
MATERIALISATIONS = {"table": "table", "vue": "view"}
FRAGMENTS_DIR = SQL_DIR / "fragments"
_FRAGMENT = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_REFERENCE = re.compile(r"^(\w+)\s*->\s*(\w+)\.(\w+)\s*\(\s*(\w+)\s*\)$")


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
    #: ``table`` or ``vue`` (``-- materialisation:``)
    materialisation: str = "table"

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


def parse_model(path: Path, schema: str) -> Model:
    """Read one ``.sql`` model; its tests are declared in its header comments."""
    texte = path.read_text(encoding="utf-8")
    sql = _FRAGMENT.sub(lambda m: _fragment(path, texte, m), texte)
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
    name = re.sub(r"^\d+_", "", path.stem)
    return Model(schema, name, path, sql, not_null=tuple(not_null), accepted=accepted,
                 uniques=tuple(uniques), references=tuple(references), materialisation=materialisation)


def _fragment(path: Path, sql: str, m: re.Match) -> str:
    """The text of ``sql/fragments/<name>.sql`` for ``{{ name }}`` in ``path``."""
    fragment = FRAGMENTS_DIR / f"{m.group(1)}.sql"
    if not fragment.is_file():
        ligne = sql.count("\n", 0, m.start()) + 1
        connus = ", ".join(sorted(p.stem for p in FRAGMENTS_DIR.glob("*.sql"))) or "aucun"
        raise ValueError(f"{path}, ligne {ligne} : fragment « {m.group(1)} » introuvable dans {FRAGMENTS_DIR} "
                         f"(fragments : {connus})")
    return fragment.read_text(encoding="utf-8").strip()


def models() -> list[Model]:
    """All models in execution order: layer by layer, file name order within a layer."""
    out = []
    for layer in LAYERS:
        for path in sorted((SQL_DIR / layer).glob("*.sql")):
            out.append(parse_model(path, layer))
    return out


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
