"""The chief's oracle server, ending as soon as the search ends.

keras-tuner's own `oracle_chief.start_server` looks for the end of the search
every 20 seconds once a worker was told to stop, so every distributed search
idled up to 20 s at its end (half the run time of a small search). This is
the same server with a short poll. keras-tuner exports no public route to its
servicer: this module is the one place that imports `keras_tuner.src`.
"""

import os
import time
from concurrent import futures

import grpc
# No public route to keras-tuner's oracle servicer (see the module doc).
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief

#: Seconds between checks for the end of the search.
POLL_SECONDS = 0.25


def is_chief():
    """Whether this process is the chief of a distributed search."""
    has_chief = "KERASTUNER_ORACLE_IP" in os.environ
    return has_chief and "chief" in os.environ.get("KERASTUNER_TUNER_ID", "")


def serve_oracle(oracle):
    """Serves `oracle` to the workers until every worker was told to stop."""
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(address)
    server.start()
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(oracle)):
            time.sleep(POLL_SECONDS)
    finally:
        server.stop(grace=1.0)
