"""Shared fixtures: the sample registry built in code, a CLI runner, fresh workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import hand_made_ledger, write_registry
from pipeline.cli import cli
from pipeline.units import Registry, read_registry
from pipeline.workspace import Workspace


@pytest.fixture(scope="session")
def registry_path(tmp_path_factory) -> Path:
    """The bundled sample registry written as a contract-format workbook by the test helpers."""
    return write_registry(tmp_path_factory.mktemp("registry") / "单位名录.xlsx")


@pytest.fixture(scope="session")
def registry(registry_path) -> Registry:
    return read_registry(registry_path)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workspace(tmp_path, runner) -> Path:
    """A fresh workspace made by ``pipeline init``."""
    root = tmp_path / "ws"
    result = runner.invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def ledger_workspace(tmp_path) -> Workspace:
    """A workspace whose ledger holds two hand-made months (helpers.SUBMISSIONS); U4 never reports."""
    return hand_made_ledger(tmp_path / "ws")
