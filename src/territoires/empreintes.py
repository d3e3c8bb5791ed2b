"""The project's code that an output depends on, found from imports rather than listed.

A fingerprint that says « this page (or this table) is up to date » must cover the code
that shapes it. Lists kept by hand drift (a module split in two leaves its new half out),
so :func:`fichiers` walks the imports of the project's own modules, statically (nothing
is imported): module-level and function-level ``import territoires.x``,
``from territoires.x import y``, relative imports, the ``__init__.py`` of every package
on the way (Python runs their module-level code; a function of theirs counts where it is
named, ``territoires.connect(…)``), and ``importlib.import_module(f"{__name__}.…")`` (a
package that picks its submodules by name: all of them count). Imports of other packages
are not followed: their versions are in the fingerprints that need them.

The import statements are read from the text (comments and strings blanked first) with
regular expressions, not ``ast``: parsing the package's 70 files with ``ast`` cost three
times as much (140 ms of CPU against 45 on a loaded two-core machine), at every
``report`` and ``build``. What such a scan takes for an import without being one only
widens the set (a fingerprint then changes for nothing); an import it cannot see
(``__import__``, ``x = 1; import y``, ``if a: import y`` on one line) is written
otherwise in this package (tests/test_empreintes.py checks the closures). A
file is read once per process while its size and modification time stay the same (a
second call: a few ms). Ground floor: imports nothing of ``territoires``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

#: the package walked by default: this one
RACINE = Path(__file__).resolve().parent

#: per file: (size, mtime_ns) → (modules it imports, those of each function of an
#: ``__init__.py``, sha256 of its bytes)
_CACHE: dict[Path, tuple[tuple[int, int], frozenset[str], dict[str, frozenset[str]], str]] = {}

#: an import statement, at any indentation: ``from X import (a, b as c)`` / ``import a.b as c, d``
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<de>\.*[\w.]*)[ \t]+import[ \t]+(?P<quoi>\([^)]*\)|(?:[^\n\\]|\\\n)*)"
    r"|import[ \t]+(?P<mods>(?:[^\n\\;#]|\\\n)*))", re.M)
#: a function at the top of a module (its body: the indented lines after it)
_FONCTION = re.compile(r"^(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
#: a line starting a new top-level statement (not indented, not blank, not a closing bracket)
_HAUT = re.compile(r"[^\s)\]}]")
#: what is not code: comments and string literals (blanked, their line ends kept, before the scan)
_TEXTE = re.compile(r'#[^\n]*|"""[\s\S]*?"""' r"|'''[\s\S]*?'''" r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'")
#: a name followed by attributes (``connecteurs.charger``): the name is kept when it is an
#: imported one (one pattern for every file, rather than one per file's imports)
_ATTRIBUT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)")
_IMPORT_MODULE = re.compile(r"import_module\(\s*(?:(['\"])([\w.]+)\1\s*\))?")


def _fichier(module: str, racine: Path) -> Path | None:
    """The source file of ``module`` (``territoires.a.b``) under ``racine``, if any."""
    parts = module.split(".")[1:]
    base = racine.joinpath(*parts)
    for candidat in (base / "__init__.py", base.with_name(base.name + ".py") if parts else None):
        if candidat is not None and candidat.is_file():
            return candidat
    return None


def _noms_importes(liste: str) -> list[tuple[str, str | None]]:
    """``a.b as c, d`` (brackets, comments and line continuations allowed) → ``[(a.b, c), (d, None)]``."""
    liste = re.sub(r"#[^\n]*", "", liste).split(";")[0]
    out = []
    for morceau in liste.replace("\\\n", " ").strip("() \t\n").split(","):
        mots = morceau.split()
        if mots:
            out.append((mots[0], mots[2] if len(mots) == 3 and mots[1] == "as" else None))
    return out


def _noms(texte: str, brut: str, path: Path, courant: str) -> set[str]:
    """Every module name the source ``texte`` imports or names (``territoires.connect(…)``,
    ``connecteurs.charger(…)``: an attribute of an imported module, which may be a
    submodule or a function of a package's ``__init__.py``); ``brut``: the same lines with
    their strings (``import_module(f"{__name__}.…")``); ``courant``: the package relative imports
    start from."""
    noms: set[str] = set()
    alias: dict[str, str] = {}  # local name → what it stands for (``connecteurs`` → ``territoires.sources.connecteurs``)
    for m in _IMPORT.finditer(texte):
        if m["mods"] is not None:
            for nom, comme in _noms_importes(m["mods"]):
                noms.add(nom)
                tete = nom.partition(".")[0]
                alias[comme or tete] = nom if comme else tete
            continue
        de = m["de"]
        points = len(de) - len(de.lstrip("."))
        if points:
            base = courant.split(".")
            base = base[:len(base) - (points - 1)]
            origine = ".".join(base + ([de[points:]] if de[points:] else []))
        else:
            origine = de
        noms.add(origine)
        for nom, comme in _noms_importes(m["quoi"]):  # a submodule, or just a name
            noms.add(f"{origine}.{nom}")
            alias[comme or nom] = f"{origine}.{nom}"
    if alias:  # attributes of what was imported
        noms.update(alias[tete] + reste for tete, reste in _ATTRIBUT.findall(texte) if tete in alias)
    appels = [n for n, ligne in enumerate(texte.split("\n")) if "import_module(" in ligne] if "import_module(" in texte else []
    lignes_brut = brut.split("\n") if appels else []
    for m in (_IMPORT_MODULE.search(lignes_brut[n]) for n in appels):  # the call's line, strings kept
        if m and m[2]:
            noms.add(m[2])
        else:  # a name built at run time: any submodule of this package may be meant
            dossier = path.parent
            noms.update(f"{courant}.{p.stem}" for p in dossier.glob("*.py") if p.name != "__init__.py")
            noms.update(f"{courant}.{p.parent.name}" for p in dossier.glob("*/__init__.py"))
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
    brut = data.decode("utf-8")
    # the code alone: an example in a docstring (``territoires.table(…)``) is not an import
    texte = _TEXTE.sub(lambda m: "\n" * m[0].count("\n") if m[0][0] != "#" else "", brut)
    est_paquet = path.name == "__init__.py"
    courant = module if est_paquet else module.rpartition(".")[0]

    def propres(noms: set[str]) -> frozenset[str]:
        return frozenset(n for n in noms if n == paquet or n.startswith(paquet + "."))

    fonctions: dict[str, frozenset[str]] = {}
    if est_paquet:
        # top-level blocks, by line (blanking kept every line end: line n is the same in both)
        lignes, lignes_brut = texte.split("\n"), brut.split("\n")
        debuts = [n for n, ligne in enumerate(lignes) if _HAUT.match(ligne)] + [len(lignes)]
        blocs = [("\n".join(lignes[a:b]), "\n".join(lignes_brut[a:b])) for a, b in zip([0, *debuts], debuts) if b > a]
        corps = [(t, b) for t, b in blocs if not _FONCTION.match(t)]
        defs = {_FONCTION.match(t)[1]: (t, b) for t, b in blocs if _FONCTION.match(t)}
        if defs:  # a function brings its imports and the functions beside it that it calls
            appel = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, defs)) + r")\s*\(")
            fonctions = {nom: propres(_noms(t, b, path, courant) | {f"{module}.{n}" for n in appel.findall(t) if n != nom})
                         for nom, (t, b) in defs.items()}
        noms = _noms("\n".join(t for t, _ in corps), "\n".join(b for _, b in corps), path, courant)
    else:
        noms = _noms(texte, brut, path, courant)
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
