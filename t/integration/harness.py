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


_factor = None
# 50 spawns and reaps of /bin/true on the machine the deadlines were set on
# (2 cores, idle: 35-41 ms); a slower machine scales them by its own time
FACTOR_REFERENCE_S = 0.050


def machine_factor():
    """How much slower than the reference this machine starts processes:
    the median of three rounds of 50 /bin/true spawned and reaped, over
    FACTOR_REFERENCE_S, never below 1.0. Measured once per process and
    printed, so that a slow run says why its deadlines were long."""
    global _factor
    if _factor is None:
        rounds = []
        for _ in range(3):
            t = time.monotonic()
            for _ in range(50):
                os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
            rounds.append(time.monotonic() - t)
        _factor = max(1.0, sorted(rounds)[1] / FACTOR_REFERENCE_S)
        print(f"\n  machine factor {_factor:.2f} (50 x /bin/true: "
              f"{sorted(rounds)[1] * 1000:.0f} ms)", file=sys.stderr, flush=True)
    return _factor


def scaled(seconds):
    """A deadline that covers process start-up, stretched by the machine
    factor. Not for the product's own latency bounds: those hold as they
    are on any machine."""
    return seconds * machine_factor()


def wait_for(cond, timeout, what):
    """Polls cond() until it returns something true; fails the test with
    `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.3g}s waiting for {what}")
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
        self._fixed = port is not None
        self.port = port or free_port()
        self.tmp = tmp
        self.proc = None

    def start(self, tries=3):
        """Starts gearmand; a port another test took since free_port()
        said it was free is traded for a new one (not for a fixed one)."""
        fixed = self._fixed
        for attempt in range(tries):
            try:
                return self._start()
            except AssertionError:
                if fixed or attempt == tries - 1:
                    raise
                self.port = free_port()

    def _start(self):
        log = os.path.join(self.tmp, f"gearmand-{self.port}.log")
        self.proc = subprocess.Popen(
            [GEARMAND, "-L", "127.0.0.1", "-p", str(self.port), "-t", "2",
             f"--log-file={log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 scaled(10), f"gearmand on port {self.port}")
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
        wait_for(lambda: n() >= count, scaled(10), f"{count} worker(s) for {function}")


def status(port, command, timeout=5):
    """Sends one command line to the status port; returns the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(command if isinstance(command, bytes) else command.encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data.decode("utf-8", "replace")
            data += chunk


def threads(port):
    """The `threads` reply as a list of (pid, pool, shutdown, state)."""
    rows = []
    for line in status(port, "threads").split("\r\n"):
        if line:
            pid, pool, shutdown, state = line.split("\t")
            rows.append((int(pid), pool, int(shutdown), state))
    return rows


def pool_pids(port, pool, shutdown=None):
    return sorted(r[0] for r in threads(port) if r[1] == pool and r[0] and
                  (shutdown is None or r[2] == shutdown))


def is_monitor(pid):
    """The master's queue monitor: by its title, or its command line
    before it has set one."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    return args[0].startswith(b"driveshaft-worker: queue monitor") or \
        b"--monitor" in args[1:2]


def open_fds(pid):
    """fd number -> what it points at, for one process."""
    d = f"/proc/{pid}/fd"
    out = {}
    for fd in os.listdir(d):
        try:
            out[int(fd)] = os.readlink(f"{d}/{fd}")
        except OSError:
            pass
    return out


def voluntary_switches(pid):
    """How many times pid has slept and woken: an idle process's count
    moves only when something wakes it."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(ln.split()[1]) for ln in f
                    if ln.startswith("voluntary_ctxt_switches:"))


def children_of(pid, monitor=False):
    """The children of pid: the workers of a master, and its queue monitor
    too when asked."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    return sorted(int(x) for x in out.split()
                  if monitor or not is_monitor(int(x)))


def write_config(path, servers, pools):
    """pools: name -> dict with worker_count, jobs_list, uri and extras."""
    import json
    doc = {"gearman_servers_list": servers, "pools_list": {}}
    for name, p in pools.items():
        d = dict(p)
        d["job_processing_uri"] = d.pop("uri")
        doc["pools_list"][name] = d
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)  # a reload never sees half a file


class MasterTestCase(ProcTestCase):
    """Runs a real driveshaft master with its real workers."""

    def start_master(self, pools, *extra, loop_timeout="1", status=True,
                     expect_workers=True, **popen):
        self.config = os.path.join(self.tmp, "jobs.json")
        self.pools = pools
        write_config(self.config, [self.gearmand.server], pools)
        self.status_port = free_port() if status else None
        argv = [MASTER, "--jobsconfig", self.config, "--loop_timeout", loop_timeout]
        if status:
            argv += ["--status_port", str(self.status_port)]
        argv += list(extra)
        m = self.spawn(argv, "master.log", start_new_session=True, **popen)
        m.own_group = False
        self.master = m
        if status:
            wait_for(lambda: port_open(self.status_port) or m.poll() is not None,
                     scaled(10), "status port")
        if expect_workers:
            want = sum(p["worker_count"] for p in pools.values())
            wait_for(lambda: self.ready_workers() == want, scaled(15),
                     f"{want} workers waiting for work")
        return m

    def ready_workers(self):
        return sum(1 for r in threads(self.status_port) if r[3] == "Waiting for work")

    def reload(self, pools):
        self.pools = pools
        write_config(self.config, [self.gearmand.server], pools)
        self.master.send_signal(signal.SIGHUP)

    def master_log(self):
        return self.log_of(self.master)

    def tearDown(self):
        # every process of ours is gone at the end of each test, whatever
        # happened in it: workers are children of the master
        m = getattr(self, "master", None)
        if m is not None and m.poll() is None:
            kids = children_of(m.pid, monitor=True)
            m.kill()
            m.wait()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
