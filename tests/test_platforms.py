"""Where offices run: no POSIX-only module at import, limits kept without the kernel's help.

The whole suite also runs as on Windows: ``PIPELINE_TEST_SPAWN=1 python -m pytest`` starts every
worker by ``spawn`` and hides ``resource`` (see conftest.py); CI runs the reading, collecting,
template and report tests that way too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pipeline import readers
from pipeline.readers import Limits, read_files

from test_readers import SHEETS, _workbook, cell_bomb


def test_no_posix_only_module_is_needed_at_import():
    """As on Windows, where ``resource`` and ``fcntl`` do not exist: every module imports and
    the command line answers."""
    script = textwrap.dedent("""
        import pkgutil, sys
        sys.modules["resource"] = sys.modules["fcntl"] = None
        import pipeline
        for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
            if module.name != "pipeline.__main__":
                __import__(module.name)
        assert sys.modules["pipeline.readers"].resource is None
        from pipeline.cli import cli
        cli(["--help"])
    """)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "政务公开任务进展报送" in done.stdout


@pytest.fixture
def without_kernel_limits(monkeypatch):
    """The readers as on a system without setrlimit: the watchdog keeps the limits."""
    monkeypatch.setattr(readers, "resource", None)


def test_the_watchdog_ends_a_worker_past_its_memory_and_the_rest_go_on(tmp_path, without_kernel_limits):
    bomb = cell_bomb(tmp_path / "cells.xlsx", "CV200000")  # 20 million cells: about 1 GB to read
    good = [_workbook(tmp_path / f"good{n}.xlsx", {"A1": f"v{n}"}) for n in range(3)]
    results = dict(read_files([good[0], bomb, *good[1:]], SHEETS, Limits(worker_memory=400 * 2**20), workers=2))
    assert results[str(bomb)].refusal.code == "file-reader-crashed"
    for n, path in enumerate(good):
        assert results[str(path)].workbook.sheets["进展填报"][0][0] == f"v{n}"


def test_the_watchdog_ends_a_worker_past_its_cpu_time(tmp_path, without_kernel_limits):
    slow = cell_bomb(tmp_path / "cells.xlsx", "CV200000")  # seconds of reading
    [(_, result)] = read_files([slow], SHEETS, Limits(cpu_seconds=0), workers=1)
    assert result.refusal.code == "file-reader-crashed"


def test_with_room_enough_the_same_file_is_read(tmp_path, without_kernel_limits):
    """The two refusals above are the watchdog's doing, not the file's."""
    big = cell_bomb(tmp_path / "cells.xlsx", "CV200000")
    [(_, result)] = read_files([big], SHEETS, Limits(worker_memory=8 * 2**30), workers=1)
    assert result.refusal is None and result.workbook.sheets["进展填报"][0][0] == "x"
