import os
import pathlib
import socket
import subprocess
import sys
import time
from concurrent import futures

import grpc

import pandas as pd
import pytest

from keras_recipes.tuning import CoarseToFineSearch, launch_distributed_search
from keras_recipes.tuning import _chief, distributed

SCRIPT = pathlib.Path(__file__).with_name("search_script.py")


def test_one_gpu_per_worker_and_none_for_the_chief():
    roles = distributed.process_environments(3, host="10.0.0.1", port=8000, gpu_ids=["0", "1"])
    assert list(roles) == ["chief", "worker0", "worker1", "worker2"]
    assert roles["chief"]["CUDA_VISIBLE_DEVICES"] == ""
    assert [roles[f"worker{i}"]["CUDA_VISIBLE_DEVICES"] for i in range(3)] == ["0", "1", "0"]
    assert {r["KERASTUNER_ORACLE_PORT"] for r in roles.values()} == {"8000"}
    assert roles["worker1"]["KERASTUNER_TUNER_ID"] == "worker1"
    assert distributed.worker_devices(2, []) == ["", ""]


def test_workers_on_another_machine_start_no_chief():
    roles = distributed.process_environments(
        2, host="10.0.0.1", port=8000, gpu_ids=[], chief=False, worker_prefix="b")
    assert list(roles) == ["b0", "b1"]


def test_free_port_can_be_bound():
    port = distributed.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"command": "python x.py"}, "command"), ({"command": []}, "command"),
     ({"command": ["python"], "workers": 0}, "workers"),
     ({"command": ["python"], "max_restarts": -1}, "max_restarts")],
)
def test_bad_launcher_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        launch_distributed_search(**kwargs)


def test_chief_and_two_workers_finish_a_search_and_a_dead_worker_is_restarted(tmp_path):
    marker = tmp_path / "worker0_died"
    outcome = launch_distributed_search(
        [sys.executable, str(SCRIPT), str(tmp_path), "--die-once", str(marker)],
        workers=2, env={"TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=240,
    )
    assert marker.exists() and outcome["restarts"] == {"worker0": 1}
    assert outcome["returncodes"] == {"chief": 0, "worker0": 0, "worker1": 0}

    # The search's files, read back in this process (no tuner id of its own).
    tuner = CoarseToFineSearch(
        lambda hp: None, "val_accuracy", coarse_trials=4, fine_trials=3, coarse_epochs=1,
        fine_epochs=2, top_k=2, directory=str(tmp_path), project_name="search")
    results = tuner.results_dataframe()
    assert len(results) == 7 and (results["status"] != "RUNNING").all()
    assert results["round"].tolist() == [1, 1, 1, 1, 2, 2, 2]
    assert pd.notna(results["score"]).all()
    assert len(tuner.ranges()) == 2


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory, search_here):
    """A directory holding the finished search of `search_script.py`, run in this process."""
    directory = tmp_path_factory.mktemp("finished")
    search_here(directory)
    return directory


def _completed_trials(directory):
    tuner = CoarseToFineSearch(
        lambda hp: None, "val_accuracy", coarse_trials=4, fine_trials=3, coarse_epochs=1,
        fine_epochs=2, top_k=2, directory=str(directory), project_name="search")
    return int((tuner.results_dataframe()["status"] == "COMPLETED").sum())


def test_a_finished_search_waits_for_a_late_worker_and_stops_a_restarted_one(
        finished_search, tmp_path):
    # One launch, two cases. worker1 asks 5 s late: the chief waits for it.
    # worker0 is told at once that the search is over, then exits with status
    # 1 once the chief has closed its port; the chief process stays 5 s
    # longer, so worker0 is restarted, waits for a chief that is gone, and
    # is stopped when the chief process ends.
    marker = tmp_path / "worker0_died"
    outcome = launch_distributed_search(
        [sys.executable, str(SCRIPT), str(finished_search), "--late", "5",
         "--die-after-search", str(marker)],
        workers=2, env={"TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=90,
    )
    assert marker.exists()
    assert outcome["returncodes"]["chief"] == 0 and outcome["returncodes"]["worker1"] == 0
    assert outcome["restarts"] == {"worker0": 1} and outcome["stopped"] == ["worker0"]
    assert outcome["returncodes"]["worker0"] != 0
    assert _completed_trials(finished_search) == 7
    assert _chief.finished_budget(finished_search / "search") == 7

    # A worker from another machine arriving after the chief has left ends
    # once the chief stays unreachable (keras-tuner alone waits an hour).
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env.update(KERASTUNER_TUNER_ID="remote0", KERASTUNER_ORACLE_IP="127.0.0.1",
               KERASTUNER_ORACLE_PORT=str(distributed.free_port()), TF_CPP_MIN_LOG_LEVEL="3")
    late = subprocess.run([sys.executable, str(SCRIPT), str(finished_search), "--gone-chief", "1"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert late.returncode == 0, late.stderr
    assert "is over and its chief has left: nothing to do for remote0" in late.stdout
    assert _completed_trials(finished_search) == 7


def test_the_chief_stops_once_each_expected_worker_was_told_or_after_a_bound():
    both = {"worker0", "worker1"}
    assert not _chief.may_stop_serving(False, both, both, seconds_over=0.0)
    assert not _chief.may_stop_serving(True, {"worker0"}, both, seconds_over=1.0)
    assert _chief.may_stop_serving(True, both, both, seconds_over=0.0)
    assert _chief.may_stop_serving(True, {"worker0"}, both, _chief.LATE_WORKER_SECONDS)
    assert _chief.may_stop_serving(True, set(), set(), seconds_over=0.0)  # no launcher


def test_a_worker_waits_for_its_chief_unless_the_search_is_over_and_the_chief_gone(
        tmp_path, monkeypatch):
    port = distributed.free_port()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setattr(_chief, "CONNECT_SECONDS", 0.2)
    monkeypatch.setattr(_chief, "GONE_CHIEF_SECONDS", 0.5)
    monkeypatch.setattr(_chief, "MAX_WAIT_SECONDS", 1.5)
    assert _chief.finished_budget(tmp_path) is None
    # No record: the chief may still be starting; wait (here until the bound).
    start = time.monotonic()
    assert _chief.wait_for_chief(tmp_path, max_trials=7)
    assert time.monotonic() - start >= 1.5
    # A record of a smaller search (this one was grown): still the chief's to answer.
    _chief.mark_search_over(tmp_path, 5)
    assert _chief.wait_for_chief(tmp_path, max_trials=7)
    # The search of this budget is over and nobody answers: the chief is gone.
    _chief.mark_search_over(tmp_path, 7)
    start = time.monotonic()
    assert not _chief.wait_for_chief(tmp_path, max_trials=7)
    assert time.monotonic() - start < 1.5
    # A chief that serves the directory again is reached at once.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        assert _chief.wait_for_chief(tmp_path, max_trials=7)
    finally:
        server.stop(grace=None)
    _chief.clear_search_over(tmp_path)
    assert _chief.finished_budget(tmp_path) is None
