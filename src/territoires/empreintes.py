"""The project's code that an output depends on, found from imports rather than listed.

A fingerprint that says « this page (or this table) is up to date » must cover the code
that shapes it. Lists kept by hand drift (a module split in two leaves its new half out),
so :func:`fichiers` walks the imports of the project's own modules, statically (``ast``,
nothing is imported): module-level and function-level ``import territoires.x``,
``from territoires.x import y``, relative imports, the ``__init__.py`` of every package
on the way (Python runs their module-level code; a function of theirs counts where it is
named, ``territoires.connect``), and ``importlib.import_module(f"{__name__}.…")`` (a
package that picks its submodules by name: all of them count). Imports of other packages
are not followed: their versions are in the fingerprints that need them.

Fast enough for every ``report``/``build``: a file is read and parsed once per process
while its size and modification time stay the same (about 10 ms for the whole package,
then 1 ms per call). Ground floor: imports nothing of ``territoires``.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

#: the package walked by default: this one
RACINE = Path(__file__).resolve().parent

#: per file: (size, mtime_ns) → (modules it imports, those of each function of an
#: ``__init__.py``, sha256 of its bytes)
_CACHE: dict[Path, tuple[tuple[int, int], frozenset[str], dict[str, frozenset[str]], str]] = {}


def _fichier(module: str, racine: Path) -> Path | None:
    """The source file of ``module`` (``territoires.a.b``) under ``racine``, if any."""
    parts = module.split(".")[1:]
    base = racine.joinpath(*parts)
    for candidat in (base / "__init__.py", base.with_name(base.name + ".py") if parts else None):
        if candidat is not None and candidat.is_file():
            return candidat
    return None


def _importe_par_nom(node: ast.Call) -> bool:
    f = node.func
    return (isinstance(f, ast.Attribute) and f.attr == "import_module") or (
        isinstance(f, ast.Name) and f.id == "import_module")


def _chaine(node: ast.Attribute) -> str | None:
    """``a.b.c`` for an attribute chain on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _noms(arbre: ast.AST, path: Path, courant: str) -> set[str]:
    """Every module name ``arbre`` imports or names (``territoires.connect(…)``: an attribute
    of the package, which may be a submodule or a function of its ``__init__.py``)."""
    noms: set[str] = set()
    alias: dict[str, str] = {}  # local name → what it stands for (``connecteurs`` → ``territoires.sources.connecteurs``)
    chaines: set[str] = set()
    for node in ast.walk(arbre):
        if isinstance(node, ast.Import):
            for a in node.names:
                noms.add(a.name)
                if a.asname:
                    alias[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = courant.split(".")
                base = base[:len(base) - (node.level - 1)]
                origine = ".".join(base + ([node.module] if node.module else []))
            else:
                origine = node.module or ""
            noms.add(origine)
            for a in node.names:  # a submodule, or just a name
                noms.add(f"{origine}.{a.name}")
                alias[a.asname or a.name] = f"{origine}.{a.name}"
        elif isinstance(node, ast.Attribute):
            chaine = _chaine(node)
            if chaine:
                chaines.add(chaine)
        elif isinstance(node, ast.Call) and _importe_par_nom(node) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                noms.add(arg.value)
            else:  # a name built at run time: any submodule of this package may be meant
                dossier = path.parent
                noms.update(f"{courant}.{p.stem}" for p in dossier.glob("*.py") if p.name != "__init__.py")
                noms.update(f"{courant}.{p.parent.name}" for p in dossier.glob("*/__init__.py"))
    for chaine in chaines:
        tete, _, reste = chaine.partition(".")
        noms.add(f"{alias[tete]}.{reste}" if tete in alias else chaine)
    return noms


def _imports(path: Path, module: str, paquet: str) -> tuple[frozenset[str], dict[str, frozenset[str]], str]:
    """What ``path`` (module ``module``) reaches of the project: the module names it
    imports, those imported inside each function of a package's ``__init__.py`` (followed
    only when that function is named: ``territoires.table`` does not make every user of
    ``territoires.__version__`` depend on :mod:`territoires.analyse`), and its hash."""
    st = path.stat()
    cle = (st.st_size, st.st_mtime_ns)
    deja = _CACHE.get(path)
    if deja is not None and deja[0] == cle:
        return deja[1], deja[2], deja[3]
    data = path.read_bytes()
    est_paquet = path.name == "__init__.py"
    courant = module if est_paquet else module.rpartition(".")[0]  # where relative imports start
    arbre = ast.parse(data, filename=str(path))

    def propres(noms: set[str]) -> frozenset[str]:
        return frozenset(n for n in noms if n == paquet or n.startswith(paquet + "."))

    fonctions: dict[str, frozenset[str]] = {}
    if est_paquet:
        corps = []
        locales = {n.name for n in arbre.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in arbre.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # its imports, and the functions beside it that it calls
                appelees = {f"{module}.{n.id}" for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in locales}
                fonctions[node.name] = propres(_noms(node, path, courant) | appelees)
            else:
                corps.append(node)
        noms = set().union(*(_noms(n, path, courant) for n in corps))
    else:
        noms = _noms(arbre, path, courant)
    resultat = (propres(noms), fonctions, hashlib.sha256(data).hexdigest())
    _CACHE[path] = (cle, *resultat)
    return resultat


def fichiers(*entrees: str, racine: Path | None = None) -> tuple[Path, ...]:
    """The source files of the project reachable by import from the modules ``entrees``
    (``"territoires.warehouse.build"``), sorted; see the module docstring. ``racine``:
    the package's folder (this package by default; a copy, in tests)."""
    return tuple(sorted(_parcours(entrees, racine or RACINE)))


def _parcours(entrees: Iterable[str], racine: Path) -> dict[Path, str]:
    paquet = RACINE.name
    vus: set[str] = set()
    trouves: dict[Path, str] = {}
    pile = list(entrees)
    while pile:
        nom = pile.pop()
        if nom in vus:
            continue
        vus.add(nom)
        parts = nom.split(".")
        # the packages on the way run first (their __init__.py)
        pile.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _fichier(nom, racine)
        if path is not None:
            noms, _, h = _imports(path, nom, paquet)
            trouves[path] = h
            pile.extend(noms - vus)
            continue
        # not a module: a name in one; a function of a package's __init__.py brings its imports
        parent, _, attribut = nom.rpartition(".")
        init = _fichier(parent, racine) if parent else None
        if init is not None and init.name == "__init__.py":
            _, fonctions, _ = _imports(init, parent, paquet)
            pile.extend(fonctions.get(attribut, frozenset()) - vus)
    return trouves


def empreinte(*entrees: str, donnees: Iterable[Path] = (), racine: Path | None = None) -> str:
    """sha256 of the code reachable from ``entrees`` (:func:`fichiers`) and of the data
    files ``donnees`` (templates, assets, notebooks: what shapes the output besides code),
    each with its path relative to its package, so a renamed file changes it too."""
    racine = racine or RACINE
    h = hashlib.sha256()
    for path, digest in sorted(_parcours(entrees, racine).items()):
        h.update(f"{path.relative_to(racine).as_posix()}\0{digest}\n".encode())
    for path in sorted(Path(p) for p in donnees):
        if path.is_file():
            h.update(f"{path.parent.name}/{path.name}\0".encode())
            h.update(path.read_bytes())
            h.update(b"\n")
    return h.hexdigest()
