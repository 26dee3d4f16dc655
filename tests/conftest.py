"""Shared pytest fixtures. Each area keeps its fixtures in its own delimited section below."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from sample_repo import make_sample_repo

from indexer import localdb
from indexer.errors import LocalServerError
from indexer.settings import Settings
from indexer.store import GraphStore, open_store

# A shell that starts a command in the background without job control (`bash .ci/run &`, some CI runners) starts
# it with SIGINT ignored, and every process it spawns inherits that: the tests that press Ctrl-C on a graphdex
# process would then test nothing. Ctrl-C is handled again here, so children start with its default action.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# ============================================================================================================
# Managed local graph server (indexer/localdb.py): one ArcadeDB server for the whole test session.
# Tests reach it through `graph_server` (its ServerInfo), `graph_settings` (ensure_running(graph_settings)
# returns this same instance) or `neo4j_driver`. Tests that stop servers must use their own temporary home.
# ============================================================================================================


@pytest.fixture(scope="session")
def graph_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graphdex-home")


@pytest.fixture(scope="session")
def graph_server(graph_home: Path) -> Iterator[localdb.ServerInfo]:
    """Started in a fresh home, stopped at session end. A missing runtime fails loudly: never a skip."""
    settings = Settings.from_env(home=graph_home)
    try:
        try:
            info = localdb.ensure_running(settings)
        except LocalServerError as exc:
            problem = str(exc)  # failed outside the handler, so the report is this one message
        else:
            problem = ""
        if problem:
            pytest.fail(f"the managed graph server is needed for these tests: {problem}", pytrace=False)
        yield info
    finally:
        localdb.stop(settings)


@pytest.fixture(scope="session")
def graph_settings(graph_home: Path, graph_server: localdb.ServerInfo) -> Settings:
    """Settings bound to the session server's home; needs graph_server so that fixture owns the server."""
    return Settings.from_env(home=graph_home)


@pytest.fixture(scope="session")
def neo4j_driver(graph_server: localdb.ServerInfo) -> Iterator[neo4j.Driver]:
    driver = neo4j.GraphDatabase.driver(
        graph_server.bolt_uri,
        auth=(graph_server.username, graph_server.password),
    )
    try:
        yield driver
    finally:
        driver.close()


# ============================================================================================================


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    """A connection to the session server for one test module (tests with a server of their own override it)."""
    with open_store(graph_settings) as s:
        yield s


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A fresh copy of the sample repository (tests/sample_repo.py: its graph is known)."""
    return make_sample_repo(tmp_path / "sample")
