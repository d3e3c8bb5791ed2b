"""Build hook (not shipped): put the repository's ``notebooks/`` into the wheel.

The report and exploration notebooks have one copy in the repository, ``notebooks/``
at its root, where analysts open them. At build time this ``build_py`` copies them
into the package as ``territoires/notebooks/{reports,exploration}/``, so an installed
wheel can run ``territoires init`` and ``territoires report`` with no checkout
(``territoires.notebooks_dir()`` finds them). An editable install copies nothing:
the package then reads the checkout's ``notebooks/`` directly.

Declared in ``pyproject.toml`` (``[tool.setuptools.cmdclass]``); ``MANIFEST.in`` puts
this file and ``notebooks/`` into the sdist, so a wheel built from the sdist has them.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools.command.build_py import build_py as _build_py

#: sub-folders of ``notebooks/`` that the wheel carries
DOSSIERS = ("reports", "exploration")


class build_py(_build_py):  # noqa: N801 - the command's own name
    def _notebooks(self) -> list[tuple[Path, Path]]:
        root = Path(self.distribution.src_root or os.getcwd())
        source = root / "notebooks"
        pairs = []
        for sub in DOSSIERS:
            for nb in sorted((source / sub).glob("*.ipynb")):
                pairs.append((nb, Path(self.build_lib) / "territoires" / "notebooks" / sub / nb.name))
        return pairs

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # the checkout's notebooks/ are read in place
        pairs = self._notebooks()
        if not any(p[0].parent.name == "reports" for p in pairs):
            raise RuntimeError("notebooks/reports/*.ipynb introuvables : le paquet ne pourrait pas produire de pages")
        for source, target in pairs:
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            outputs += [str(t) for _, t in self._notebooks()]
        return outputs
