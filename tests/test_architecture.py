"""The shape of the code: imports flow one way (no circle between modules nor between
packages, imports inside functions counted), the ground floor ``territoires.entrepot``
imports nothing above it, and an import of the project's own code inside a function is
there only for a stated reason (a heavy third-party library it would load for every
caller), written beside it as ``# paresseux : …``.

Read statically from the sources (``ast``), so an import hidden in a function counts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1] / "src"
PAQUET = "territoires"
SOL = f"{PAQUET}.entrepot"


@cache
def modules() -> dict[str, Path]:
    out = {}
    for p in (RACINE / PAQUET).rglob("*.py"):
        rel = p.relative_to(RACINE).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = p
    return out


def _cibles(module: str, noeud: ast.Import | ast.ImportFrom) -> list[str]:
    mods = modules()
    if isinstance(noeud, ast.Import):
        return [a.name for a in noeud.names if a.name in mods]
    base = module if mods[module].name == "__init__.py" else module.rpartition(".")[0]
    if noeud.level:
        for _ in range(noeud.level - 1):
            base = base.rpartition(".")[0]
        nom = base + ("." + noeud.module if noeud.module else "")
    else:
        nom = noeud.module or ""
    return [c for c in (f"{nom}.{a.name}" if f"{nom}.{a.name}" in mods else nom for a in noeud.names) if c in mods]


def _sous_type_checking(arbre: ast.Module) -> set[int]:
    """Lines of ``if TYPE_CHECKING:`` blocks (annotations only, never run)."""
    lignes = set()
    for n in ast.walk(arbre):
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
            lignes |= {m.lineno for b in n.body for m in ast.walk(b) if hasattr(m, "lineno")}
    return lignes


@cache
def imports() -> list[tuple[str, str, int, bool]]:
    """``(module, imported module, line, inside a function)`` for every import of the project's code."""
    out = []
    for module, chemin in modules().items():
        arbre = ast.parse(chemin.read_text(encoding="utf-8"))
        ignores = _sous_type_checking(arbre)
        dans_fonction = {id(m) for f in ast.walk(arbre) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                         for m in ast.walk(f)}
        for n in ast.walk(arbre):
            if isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno not in ignores:
                out += [(module, c, n.lineno, id(n) in dans_fonction) for c in _cibles(module, n) if c != module]
    return out


def paquet(module: str) -> str:
    """``territoires.sources.connecteurs.banatic`` → ``territoires.sources``; a top-level
    module is its own unit, and so is the package root."""
    return ".".join(module.split(".")[:2])


def circuits(aretes: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    graphe: dict[str, set[str]] = {}
    for a, b in aretes:
        graphe.setdefault(a, set()).add(b)
    index: dict[str, int] = {}
    bas: dict[str, int] = {}
    pile: list[str] = []
    sur_pile: set[str] = set()
    out: list[list[str]] = []

    def visiter(n: str) -> None:
        index[n] = bas[n] = len(index)
        pile.append(n)
        sur_pile.add(n)
        for m in graphe.get(n, ()):
            if m not in index:
                visiter(m)
                bas[n] = min(bas[n], bas[m])
            elif m in sur_pile:
                bas[n] = min(bas[n], index[m])
        if bas[n] == index[n]:
            composante = []
            while True:
                m = pile.pop()
                sur_pile.discard(m)
                composante.append(m)
                if m == n:
                    break
            if len(composante) > 1:
                out.append(sorted(composante))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for n in list(graphe):
        if n not in index:
            visiter(n)
    return out


#: lines a module may hold: one screen of a reader's attention per concern, past which a
#: module is split along its concerns (a rule the sessions kept by hand until now)
LIGNES_MAX = 450


def test_no_module_over_450_lines():
    longs = {nom: n for nom, p in modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIGNES_MAX}
    assert longs == {}


def test_no_import_circle_between_modules():
    assert circuits({(a, b) for a, b, _, _ in imports()}) == []


def test_no_import_circle_between_packages():
    aretes = {(paquet(a), paquet(b)) for a, b, _, _ in imports() if paquet(a) != paquet(b)}
    assert circuits(aretes) == []


def test_nothing_imports_the_package_root():
    """The root (``territoires.connect``, ``table``…) is the analysts' door: library code
    opens the warehouse through ``territoires.entrepot.connexion``."""
    assert [(a, ligne) for a, b, ligne, _ in imports() if b == PAQUET] == []


def test_the_ground_floor_imports_nothing_above_it():
    assert [(a, b) for a, b, _, _ in imports() if a.startswith(SOL) and not b.startswith(SOL)] == []


def test_an_import_inside_a_function_says_why():
    sans_raison = []
    for module, _, ligne, dans_fonction in imports():
        if dans_fonction:
            lignes = modules()[module].read_text(encoding="utf-8").splitlines()
            voisines = lignes[ligne - 2:ligne + 3]  # the statement may span lines; the reason sits beside it
            if not any("paresseux" in v for v in voisines):
                sans_raison.append(f"{modules()[module].relative_to(RACINE)}:{ligne}")
    assert sans_raison == []


def test_importing_the_package_loads_nothing_heavy():
    code = ("import sys, territoires, territoires.config, territoires.niveaux, territoires.entrepot.litteraux; "
            "print(sorted(m for m in ('polars', 'pandas', 'pyarrow', 'plotly', 'geopandas', 'papermill', 'duckdb')"
            " if m in sys.modules))")
    sortie = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert sortie.strip() == "[]"
