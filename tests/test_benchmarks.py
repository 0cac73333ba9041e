"""The benchmark stays runnable: a small month through every stage and its floors, and the commands as
the clerk runs them (times are never asserted)."""

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
    # The commands as the clerk runs them, each in its own process, and the targets.
    commands = {command["name"]: command for command in results["commands"]}
    assert list(commands) == ["pipeline collect 2018-06", "pipeline collect 2018-06, run again", "pipeline --help",
                              'python -c "import click"']
    first, again, help_, click = commands.values()
    assert first["over"] == "floor: bare calamine, 1 process" and again["over"] == first["name"]
    assert help_["over"] == click["name"] and click["ratio"] is None and click["peak_mb"] is None
    for command in (first, again):
        assert command["peak_mb"] > 0 and command["largest_mb"] > 0
    for command in commands.values():
        assert command["seconds"] > 0 and command["name"] in done.stdout
        assert command["ratio"] is None or command["ratio"] > 0
    assert first["paired"] == [first["ratio"]]  # one repeat: its own floor is the best one
    assert [(target["unit"], target["limit"]) for target in results["targets"]] == [
        ("×", 2.0), ("×", 2.0), ("×", 0.3), ("MB", 500), ("×", 3.0)]
    for target in results["targets"]:
        assert target["value"] > 0 and isinstance(target["met"], bool) and target["name"] in done.stdout
