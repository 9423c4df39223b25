"""soaklib.py: what every part of the soak shares (t/soak/soak.py): the
paths to the programs, the soak's limits, its error, its log line, waiting
for a condition (t/testlib.py's) and one status-port query."""
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "t"))
import testlib  # noqa: E402
from testlib import BUILD  # noqa: E402

SOAKCLIENT = os.path.join(BUILD, "t", "soakclient")
MAX_RUNNING_S = 3          # every pool's max_running_time
KILL_GRACE_S = 5           # the master kills a job's worker this long after
JOB_TIMEOUT_S = 60         # a job unanswered this long (silence) is lost;
                           # --job-timeout changes it
LOAD_THREADS, LOAD_BATCH = 12, 4
# which pools serve a function; delta comes and goes with the HUP storms
FUNCTIONS = {"soak_a": {"alpha"}, "soak_b": {"beta"},
             "soak_c": {"gamma", "delta"}, "soak_bg": {"gamma"}}


class SoakError(Exception):
    """The soak could not do what it needed to (not a ledger failure)."""


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_for(cond, timeout, what):
    """testlib.wait_for, failing the soak rather than a test."""
    return testlib.wait_for(cond, timeout, what, step=0.05, error=SoakError)


def status_query(port, command, timeout=5.0):
    """One status-port command; the reply, or None when none came in time."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(command.encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data.decode("utf-8", "replace")
                data += chunk
    except OSError:
        return None


def well_formed(cmd, reply):
    """Does a status reply have the shape docs/status-port.md gives it?"""
    if cmd == "metrics":  # Prometheus text: \n line ends
        return "# TYPE" in reply and reply.endswith("\n")
    lines = reply.split("\r\n")
    if lines[-1] != "":
        return False
    if cmd == "threads":
        return all(len(ln.split("\t")) == 4 for ln in lines[:-1])
    # 8 columns, 9 with answer_lost, 12 with size, min, max, 13 with the
    # workers by version
    if cmd == "pools":
        return all(len(ln.split("\t")) in (8, 9, 12, 13) for ln in lines[:-1])
    return reply.startswith("driveshaft ")


