"""Shared fixtures: the sample registry built in code, a CLI runner, fresh workspaces."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from pathlib import Path

# PIPELINE_TEST_SPAWN=1: run as on Windows, before anything of the product is imported: workers
# are started by spawn (nothing inherited), and there is no `resource` module (the readers'
# watchdog keeps their limits). `fcntl` stays: the product never imports it, and the workspace
# lock (filelock) uses the Windows system's own locking there.
if os.environ.get("PIPELINE_TEST_SPAWN"):
    importlib.import_module("psutil")  # on Linux psutil itself needs `resource`: it keeps its own
    sys.modules["resource"] = None
    multiprocessing.set_start_method("spawn", force=True)

import pytest
from click.testing import CliRunner

import helpers
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


@pytest.fixture
def in_workers(monkeypatch, tmp_path_factory):
    """``patch(module, name, helper)`` replaces ``module.name`` by the function ``helper`` of
    tests/helpers.py here and in every worker process, however it is started: a forked worker
    inherits the patch; a spawned one (PIPELINE_TEST_SPAWN, Windows) applies it on starting,
    from a sitecustomize on its PYTHONPATH."""
    folder = tmp_path_factory.mktemp("in-workers")
    lines = ["import importlib", "import helpers"]

    def patch(module: str, name: str, helper: str) -> None:
        monkeypatch.setattr(importlib.import_module(module), name, getattr(helpers, helper))
        lines.append(f"setattr(importlib.import_module({module!r}), {name!r}, helpers.{helper})")
        (folder / "sitecustomize.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
        tests = str(Path(__file__).resolve().parent)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), tests,
                                                                        os.environ.get("PYTHONPATH")])))
    return patch
