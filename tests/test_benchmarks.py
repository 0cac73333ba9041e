"""The benchmark stays runnable: a small month through every stage and its floors (times are never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARK = REPO / "benchmarks" / "run.py"


def test_the_benchmark_times_every_stage_against_its_floors(tmp_path):
    # Run as it is run by hand, in its own processes, on this checkout's package.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-W", "error", str(BENCHMARK), "--units", "20", "--repeat", "1",
         "--results", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(next(tmp_path.glob("units-20-*.json")).read_text(encoding="utf-8"))
    assert results["workload"]["units"] == 20 and results["workload"]["broken"] > 0
    assert [entry["stage"]["name"] for entry in results["stages"]] == ["templates", "collect", "report"]
    for entry in results["stages"]:
        assert len(entry["floors"]) >= 1
        for timing in (entry["stage"], *entry["floors"]):
            assert timing["seconds"] > 0 and timing["files"] > 0 and timing["ratio"] > 0 and timing["main_mb"] > 0
            assert timing["name"] in done.stdout
