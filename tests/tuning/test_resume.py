"""kill -9 in the middle of round 2, then the same call continues the search."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

SCRIPT = pathlib.Path(__file__).with_name("search_script.py")


def _trials(project):
    found = {}
    for path in project.glob("trial_*/trial.json"):
        state = json.loads(path.read_text())
        found[state["trial_id"]] = state
    return found


def _completed(project):
    return {i: s for i, s in _trials(project).items() if s["status"] == "COMPLETED"}


def _checkpoint_times(project, trial_ids):
    return {i: os.stat(project / f"trial_{i}" / "checkpoint.weights.h5").st_mtime_ns
            for i in trial_ids}


def test_a_search_killed_mid_round_resumes_without_losing_or_rerunning_trials(tmp_path):
    project = tmp_path / "search"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path), "--slow"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(_completed(project)) < 5 and time.monotonic() < deadline:  # 4 coarse + 1 fine
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = _completed(project)
    assert 5 <= len(before) < 7
    ranges_before = json.loads((project / "oracle.json").read_text())["coarse_to_fine"]
    times_before = _checkpoint_times(project, before)

    finished = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]
    after = _trials(project)
    assert sorted(after) == ["0", "1", "2", "3", "4", "5", "6"]  # the budget, no more
    assert all(state["status"] == "COMPLETED" for state in after.values())
    for trial_id, state in before.items():  # nothing lost, nothing re-run
        assert after[trial_id]["hyperparameters"]["values"] == state["hyperparameters"]["values"]
        assert after[trial_id]["score"] == state["score"]
    assert _checkpoint_times(project, before) == times_before
    oracle = json.loads((project / "oracle.json").read_text())["coarse_to_fine"]
    assert oracle["round_ranges"] == ranges_before["round_ranges"]
    assert len(oracle["round_ranges"]) == 2
    rounds = [after[i]["hyperparameters"]["values"]["coarse_to_fine/round"] for i in sorted(after)]
    assert rounds == [1, 1, 1, 1, 2, 2, 2]
