"""`launch_distributed_search`: a keras-tuner chief and workers, restarted when they die.

keras-tuner's distributed mode runs the same script in every process; the
environment says which role a process plays (`KERASTUNER_TUNER_ID`, "chief"
for the oracle's server) and where the chief listens
(`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`). All processes must see
the same search directory (a shared file system across machines).
"""

import os
import shutil
import socket
import subprocess
import time

from keras_recipes.recipes._validation import check_positive_int
from keras_recipes.tuning import _chief

#: Seconds the workers get to exit by themselves once the chief has ended the
#: search; a worker still running then waits for a chief that is gone.
WORKER_GRACE_SECONDS = 5.0


def free_port(host="127.0.0.1"):
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def visible_gpus():
    """The GPU ids this machine offers: `CUDA_VISIBLE_DEVICES` if set, else `nvidia-smi`'s."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    answer = subprocess.run(
        ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
        capture_output=True, text=True, check=False,
    )
    return [line.strip() for line in answer.stdout.splitlines() if line.strip()] if answer.returncode == 0 else []


def worker_devices(workers, gpu_ids):
    """`CUDA_VISIBLE_DEVICES` per worker: one GPU each, round robin; `""` without GPUs."""
    if not gpu_ids:
        return [""] * workers
    return [str(gpu_ids[i % len(gpu_ids)]) for i in range(workers)]


def process_environments(workers, *, host, port, gpu_ids, chief=True, worker_prefix="worker"):
    """The environment of each process, keyed by tuner id (chief first)."""
    base = {"KERASTUNER_ORACLE_IP": host, "KERASTUNER_ORACLE_PORT": str(port)}
    # The chief only serves the oracle: it must not take a GPU.
    roles = {"chief": {**base, "KERASTUNER_TUNER_ID": "chief", "CUDA_VISIBLE_DEVICES": ""}}
    roles = roles if chief else {}
    for i, device in enumerate(worker_devices(workers, gpu_ids)):
        roles[f"{worker_prefix}{i}"] = {
            **base, "KERASTUNER_TUNER_ID": f"{worker_prefix}{i}", "CUDA_VISIBLE_DEVICES": device,
        }
    return roles


class _Fleet:
    """The running processes: start, watch, restart, stop."""

    def __init__(self, command, environments, extra_env):
        self.command, self.environments, self.extra_env = command, environments, extra_env
        self.processes, self.restarts, self.returncodes = {}, {}, {}
        self.stopped = []

    def start(self, tuner_id):
        env = {**os.environ, **self.extra_env, **self.environments[tuner_id]}
        if tuner_id == "chief":
            # The workers the chief waits for at the end: those not done yet.
            waiting = [t for t in self.environments if t != "chief" and t not in self.returncodes]
            env[_chief.WORKER_IDS_ENV] = ",".join(waiting)
        self.processes[tuner_id] = subprocess.Popen(self.command, env=env)

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def end_after_chief(self, grace_seconds):
        """The chief ended the search: workers get `grace_seconds` to exit, then are stopped.

        A worker still running then is blocked on the chief that is gone (it
        started or restarted too late to be told the search is over): that
        is no failure, and restarting it would only block it again.
        """
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and self._running():
            time.sleep(0.1)
        self.stopped = self._running()
        for tuner_id in self.stopped:
            print(f"{tuner_id} is still running after the chief ended the search; "
                  "stopping it", flush=True)
        self.stop_all()
        self.returncodes = {t: p.returncode for t, p in self.processes.items()}

    def _running(self):
        return [t for t, p in self.processes.items() if p.poll() is None]

    def check(self, max_restarts):
        """Restarts dead processes; returns True when the search is over."""
        chief = self.processes.get("chief")
        if chief is not None and chief.poll() == 0:
            self.end_after_chief(WORKER_GRACE_SECONDS)
            return True
        for tuner_id, process in list(self.processes.items()):
            if tuner_id in self.returncodes or process.poll() is None:
                continue
            if process.returncode == 0:
                self.returncodes[tuner_id] = 0
                continue
            if self.restarts.get(tuner_id, 0) >= max_restarts:
                self.stop_all()
                raise RuntimeError(
                    f"Process `{tuner_id}` of the distributed search died "
                    f"{max_restarts + 1} times; expected it to finish. "
                    f"Received: returncode={process.returncode}"
                )
            self.restarts[tuner_id] = self.restarts.get(tuner_id, 0) + 1
            print(f"{tuner_id} exited with status {process.returncode}; "
                  "restarting it with the same tuner id", flush=True)
            self.start(tuner_id)
        return len(self.returncodes) == len(self.processes)


def launch_distributed_search(
    command,
    workers=2,
    *,
    gpus=None,
    host="127.0.0.1",
    port=None,
    chief=True,
    worker_prefix="worker",
    max_restarts=3,
    env=None,
    timeout=None,
    poll_seconds=0.5,
):
    """Runs a search script as a keras-tuner chief plus `workers` workers.

    The chief runs with `CUDA_VISIBLE_DEVICES=""` (it only serves the oracle);
    each worker gets one GPU (round robin when there are more workers than
    GPUs; none on a CPU machine) and runs one trial at a time. A process that
    dies is started again with the same tuner id, so the chief hands it back
    its unfinished trial (keras-tuner otherwise waits for it forever). The
    search is over when the chief exits with status 0: the chief first waits
    (up to a minute) until each worker was told so, and a worker still running
    a few seconds later (one that started or restarted after the chief left
    waits for it forever) is stopped, not restarted. A worker on another
    machine arriving after the end reads the chief's `search_over.json` in
    the shared directory and ends once the chief stays unreachable for 30 s.
    Every
    process must use the same `directory` and `project_name` and never
    `overwrite=True` (that deletes the shared folder). Across machines, run
    the chief here (`chief=True`) and, on each other machine, call this with
    `chief=False`, the chief's `host` and `port`, and a distinct `worker_prefix`.

    Args:
        command: The search script's command line, e.g.
            `[sys.executable, "search.py"]`.
        workers: Number of worker processes. Defaults to `2`.
        gpus: GPU ids to use; `None` detects them. Defaults to `None`.
        host: The chief's address. Defaults to `"127.0.0.1"`.
        port: The chief's port; `None` picks a free one. Defaults to `None`.
        chief: Start the chief here. Defaults to `True`.
        worker_prefix: Tuner ids are `worker_prefix` + number.
            Defaults to `"worker"`.
        max_restarts: Restarts allowed per process. Defaults to `3`.
        env: Extra environment variables for every process. Defaults to `None`.
        timeout: Seconds before everything is stopped; `None` waits.
            Defaults to `None`.
        poll_seconds: How often the processes are checked. Defaults to `0.5`.

    Returns:
        A dict: `port`, `returncodes` and `restarts` per tuner id, and
        `stopped`, the tuner ids stopped after the chief ended the search.

    Raises:
        ValueError: for an empty command or a bad count.
        RuntimeError: when a process died more than `max_restarts` times.
        TimeoutError: when `timeout` passed first.

    Example:

    >>> launch_distributed_search([sys.executable, "search.py"], workers=2)
    """
    if isinstance(command, str) or not command:
        raise ValueError(
            "Invalid value for argument `command`: expected a non-empty list of "
            f"strings (the program and its arguments). Received: command={command!r}"
        )
    check_positive_int("workers", workers)
    if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
        raise ValueError(
            "Invalid value for argument `max_restarts`: expected an integer >= 0. "
            f"Received: max_restarts={max_restarts!r}"
        )
    port = port or free_port(host)
    gpu_ids = visible_gpus() if gpus is None else [str(g) for g in gpus]
    environments = process_environments(
        workers, host=host, port=port, gpu_ids=gpu_ids, chief=chief, worker_prefix=worker_prefix
    )
    fleet = _Fleet([str(c) for c in command], environments, dict(env or {}))
    for tuner_id in environments:
        fleet.start(tuner_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not fleet.check(max_restarts):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"The distributed search did not finish in {timeout} s.")
            time.sleep(poll_seconds)
    except BaseException:
        fleet.stop_all()
        raise
    return {"port": port, "returncodes": dict(fleet.returncodes),
            "restarts": dict(fleet.restarts), "stopped": list(fleet.stopped)}

