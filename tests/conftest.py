"""Shared fixtures: a real warehouse built from one département (Finistère, 29).

Finistère holds two island communes without an EPCI (Île-de-Sein, Ouessant) and EPCI
whose members reach into neighbouring départements, so the edge cases are real.
The fixture is built once per test session, in a temporary TERRITOIRES_HOME.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE_DEPARTEMENT = "29"


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory) -> Path:
    """A TERRITOIRES_HOME whose warehouse holds département 29 only."""
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("home")
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    return home


@pytest.fixture(scope="session")
def fixture_warehouse(fixture_home) -> Path:
    return fixture_home / "data" / "processed" / "territoires.duckdb"


@pytest.fixture()
def in_home(fixture_home, monkeypatch) -> Path:
    """Run a test with TERRITOIRES_HOME pointing at the fixture home."""
    monkeypatch.setenv("TERRITOIRES_HOME", str(fixture_home))
    monkeypatch.chdir(fixture_home)
    return fixture_home


@pytest.fixture()
def con(fixture_warehouse):
    import territoires

    c = territoires.connect(fixture_warehouse)
    yield c
    c.close()
