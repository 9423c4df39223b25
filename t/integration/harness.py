"""Shared pieces of the integration tests: a real gearmand on a free
loopback port, the test endpoints, the gmclient submitter, processes that
are always cleaned up, and waiting on conditions with deadlines."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DS_BUILD", os.path.join(TOP, "build"))
WORKER = os.path.join(BUILD, "driveshaft-worker")
MASTER = os.path.join(BUILD, "driveshaft")
GMCLIENT = os.path.join(BUILD, "t", "gmclient")
GEARMAND = "/usr/sbin/gearmand"

sys.path.insert(0, os.path.join(TOP, "t"))
import endpoint  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what):
    """Polls cond() until it returns something true; fails the test with
    `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Gearmand:
    def __init__(self, tmp, port=None):
        self.port = port or free_port()
        self.tmp = tmp
        self.proc = None

    def start(self):
        log = os.path.join(self.tmp, f"gearmand-{self.port}.log")
        self.proc = subprocess.Popen(
            [GEARMAND, "-L", "127.0.0.1", "-p", str(self.port), "-t", "2",
             f"--log-file={log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 10, f"gearmand on port {self.port}")
        if self.proc.poll() is not None:
            raise AssertionError(f"gearmand exited with {self.proc.returncode}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def workers(self):
        out = subprocess.run(["gearadmin", "-h", "127.0.0.1", "-p", str(self.port),
                              "--workers"], capture_output=True, text=True,
                             timeout=10).stdout
        return [ln for ln in out.splitlines() if ln and ln != "."]


def submit(server, jobs, timeout=60):
    """jobs: list of (function, workload bytes). Returns a list of
    ("OK", bytes) / ("FAIL", None) in job order. Fails the test when any job
    got no answer or more than one."""
    lines = []
    for fn, w in jobs:
        if isinstance(w, str):
            w = w.encode()
        lines.append(f"{fn}\thex:{w.hex()}\n")
    p = subprocess.run([GMCLIENT, "-s", server, "-t", str(timeout)],
                       input="".join(lines), capture_output=True, text=True,
                       timeout=timeout + 30)
    results = []
    for ln in p.stdout.splitlines():
        parts = ln.split("\t")
        if parts[1] == "OK":
            results.append(("OK", bytes.fromhex(parts[2]) if len(parts) > 2 else b""))
        else:
            results.append((parts[1], None))
    if p.returncode != 0 or len(results) != len(jobs):
        raise AssertionError(f"gmclient exit {p.returncode}: "
                             f"{[r for r in results if r[0] not in ('OK', 'FAIL')][:5]} "
                             f"{p.stderr.strip()}")
    return results


class ProcTestCase(unittest.TestCase):
    """Gives each test a temp dir, a gearmand, and cleans up every process
    it started, also when the test fails."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="ds-test-")
        self.tmp = self._tmp.name
        self.procs = []
        self.endpoints = []
        self.gearmand = Gearmand(self.tmp).start()
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL) if getattr(p, "own_group", False) \
                        else p.kill()
                except ProcessLookupError:
                    pass
                p.wait()
        for e in self.endpoints:
            e.stop()
        self.gearmand.stop()
        self._tmp.cleanup()

    def endpoint(self, port=0):
        e = endpoint.Server(port).start()
        self.endpoints.append(e)
        return e

    def spawn(self, argv, log_name, **kw):
        log = open(os.path.join(self.tmp, log_name), "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, **kw)
        p.log_path = log.name
        log.close()
        self.procs.append(p)
        return p

    def worker(self, pool, functions, uri, *extra, servers=None, **kw):
        argv = [WORKER, "--pool", pool, "--loop_timeout", "1"]
        for s in servers or [self.gearmand.server]:
            argv += ["--server", s]
        for f in functions:
            argv += ["--function", f]
        argv += ["--uri", uri, *extra]
        return self.spawn(argv, f"worker-{pool}-{len(self.procs)}.log", **kw)

    @staticmethod
    def log_of(p):
        with open(p.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_registered(self, function, count=1):
        def n():
            return sum(1 for w in self.gearmand.workers()
                       if function in w.split(":")[-1].split())
        wait_for(lambda: n() >= count, 10, f"{count} worker(s) for {function}")
