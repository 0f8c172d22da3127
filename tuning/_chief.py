"""The chief's oracle server, ending as soon as the search ends.

keras-tuner's own `oracle_chief.start_server` looks for the end of the search
every 20 seconds once a worker was told to stop, so every distributed search
idled up to 20 s at its end (half the run time of a small search). This is
the same server with a short poll. keras-tuner's server also ends as soon as
no trial runs and every worker that has asked for a trial was told to stop:
a worker that connects later (one still starting when a finished search is
run again, or one restarted) then waits for a chief that is gone. So the
chief also waits, for a bounded time, until every worker the launcher started
(`WORKER_IDS_ENV`) was told to stop. A worker the launcher did not start
(one on another machine, `chief=False`) can still arrive after the chief has
left: the chief writes `SEARCH_OVER_FILE` into the shared project directory,
and a worker that finds it there and cannot reach the chief for
`GONE_CHIEF_SECONDS` ends instead of waiting keras-tuner's hour for an answer.
keras-tuner exports no public route to its servicer: this module is the one
place that imports `keras_tuner.src`.
"""

import json
import os
import time
from concurrent import futures

import grpc
import tensorflow as tf
from keras_tuner.engine.trial import TrialStatus
# No public route to keras-tuner's oracle servicer (see the module doc).
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief

from keras_recipes.tuning import _atomic

#: Seconds between checks for the end of the search.
POLL_SECONDS = 0.25

#: The environment variable naming, comma-separated, the tuner ids of the
#: workers the chief waits for at the end of the search.
WORKER_IDS_ENV = "KERAS_RECIPES_WORKER_IDS"

#: Longest wait, once the search is over, for a listed worker to ask for a
#: trial (a worker that never comes must not keep the chief forever).
LATE_WORKER_SECONDS = 60.0


#: Written by the chief into the project directory once its search is over
#: (and removed when a chief serves that directory again).
SEARCH_OVER_FILE = "search_over.json"

#: How long a worker waits for a chief it cannot reach once the project
#: directory says the search, with at least the worker's budget, is over.
GONE_CHIEF_SECONDS = 30.0

#: Seconds per attempt to reach the chief while a worker waits for it.
CONNECT_SECONDS = 1.0

#: The longest a worker waits for its chief here (keras-tuner's own timeout
#: for a call to the chief, which then takes over).
MAX_WAIT_SECONDS = 3600.0


def is_chief():
    """Whether this process is the chief of a distributed search."""
    has_chief = "KERASTUNER_ORACLE_IP" in os.environ
    return has_chief and "chief" in os.environ.get("KERASTUNER_TUNER_ID", "")


def expected_workers():
    """The tuner ids in `WORKER_IDS_ENV` (none when it is unset)."""
    listed = os.environ.get(WORKER_IDS_ENV, "")
    return {tuner_id.strip() for tuner_id in listed.split(",") if tuner_id.strip()}


def may_stop_serving(search_over, told_to_stop, expected, seconds_over):
    """Whether the chief may stop: the search is over and every expected
    worker was told so, or the search has been over for `LATE_WORKER_SECONDS`."""
    if not search_over:
        return False
    return set(expected) <= set(told_to_stop) or seconds_over >= LATE_WORKER_SECONDS


def _search_over_path(project_dir):
    return os.path.join(str(project_dir), SEARCH_OVER_FILE)


def mark_search_over(project_dir, max_trials):
    """Records, for late workers, that the search of `max_trials` is over."""
    _atomic.save_json(_search_over_path(project_dir), {"max_trials": int(max_trials)})


def clear_search_over(project_dir):
    """Removes the record: a chief serves this directory again."""
    path = _search_over_path(project_dir)
    if tf.io.gfile.exists(path):
        tf.io.gfile.remove(path)


def finished_budget(project_dir):
    """The trial budget of the search recorded as over, or `None`."""
    path = _search_over_path(project_dir)
    try:
        with tf.io.gfile.GFile(path) as file:
            return int(json.load(file)["max_trials"])
    except (tf.errors.NotFoundError, ValueError, KeyError, TypeError):
        return None


def wait_for_chief(project_dir, max_trials):
    """Waits until the chief can be reached; `False` when it is gone for good.

    The chief counts as gone when `project_dir` records a search over with at
    least `max_trials` trials and the chief stayed unreachable for
    `GONE_CHIEF_SECONDS` since that record was first seen (a chief restarting
    on the directory removes the record before it serves).
    """
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    channel = grpc.insecure_channel(address)
    start, over_since = time.monotonic(), None
    try:
        while time.monotonic() - start < MAX_WAIT_SECONDS:
            try:
                grpc.channel_ready_future(channel).result(timeout=CONNECT_SECONDS)
                return True
            except grpc.FutureTimeoutError:
                pass
            budget = finished_budget(project_dir)
            if budget is None or budget < max_trials:
                over_since = None
                continue
            over_since = time.monotonic() if over_since is None else over_since
            if time.monotonic() - over_since >= GONE_CHIEF_SECONDS:
                return False
        return True
    finally:
        channel.close()


class _Servicer(oracle_chief.OracleServicer):
    """keras-tuner's servicer, noting which workers were told to stop."""

    def __init__(self, oracle):
        super().__init__(oracle)
        self.told_to_stop = set()

    def CreateTrial(self, request, context):
        response = super().CreateTrial(request, context)
        if TrialStatus.from_proto(response.trial.status) == TrialStatus.STOPPED:
            self.told_to_stop.add(request.tuner_id)
        return response


def serve_oracle(oracle):
    """Serves `oracle` until the search is over and the workers were told so."""
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = _Servicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(address)
    server.start()
    expected, over_since = expected_workers(), None
    try:
        while True:
            search_over = servicer.stop_triggered and oracle_chief.exit_chief(oracle)
            if search_over and over_since is None:
                over_since = time.monotonic()
            seconds_over = 0.0 if over_since is None else time.monotonic() - over_since
            if may_stop_serving(search_over, servicer.told_to_stop, expected, seconds_over):
                return
            time.sleep(POLL_SECONDS)
    finally:
        server.stop(grace=1.0)
