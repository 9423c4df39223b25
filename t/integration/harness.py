"""Shared pieces of the integration tests: a real gearmand on a free
loopback port, the test endpoints, the gmclient submitter, processes that
are always cleaned up, and waiting on conditions with deadlines. What the
soak, the multi-host run and the bench share with these is t/testlib.py;
a test module imports only this file (and ops_helpers.py, fpm.py), never
another test module: what two of them share lives here."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
import endpoint  # noqa: E402
from testlib import (BUILD, GEARMAND, GMCLIENT, MASTER, TOP, WORKER,  # noqa: E402,F401
                     Gearmand, alive, free_port, is_monitor, machine_factor,
                     port_open, scaled, stop_proc, wait_for)

# ASan's shadow memory and quarantine make RSS figures meaningless.
try:
    with open(WORKER, "rb") as _f:
        SANITIZED = b"__asan_init" in _f.read()
except OSError:  # not built yet: the tests that need it say so
    SANITIZED = False


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


def status_kb(pid, field):
    """A kB figure of /proc/PID/status (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid):
    """Sets VmHWM back to the current VmRSS (Linux 4.0 and later)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


VERSION = b"driveshaft 0.1.0\r\n"  # the first line of the `version` reply
# the whole reply: that line, the workers by the version they say, the
# master's in-place upgrades (docs/status-port.md)
VERSION_RE = re.compile(rb"\A" + re.escape(VERSION) +
                        rb"(?:workers [A-Za-z0-9._+~-]+ \d+\r\n)*"
                        rb"upgrades \d+ failed \d+\r\n\Z")


def is_version(reply):
    """True when reply is a whole `version` reply."""
    return VERSION_RE.match(reply) is not None


def raw(port, data, timeout=5, shut=False):
    """Sends data as is to the status port, reads until the master closes;
    returns bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def pools_rows(port):
    """The first nine columns of the `pools` reply; the size and bounds
    appended after them are test_queue.py's."""
    return [ln.split("\t")[:9] for ln in
            raw(port, b"pools\n").decode().split("\r\n") if ln]


def gm_line(function, workload, unique=None):
    """One gmclient input line, workload (and unique) hex-encoded."""
    ln = f"{function}\thex:{workload.hex()}"
    if unique is not None:
        ln += f"\thex:{unique.hex()}"
    return ln + "\n"


class Background:
    """A gmclient run in the background, for jobs in flight."""

    def __init__(self, test, lines, timeout=60):
        server = test.gearmand.server
        self.p = subprocess.Popen([GMCLIENT, "-s", server, "-t", str(timeout)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        test.procs.append(self.p)  # killed at cleanup if the test fails
        self.p.stdin.write("".join(f"{fn}\t{w}\n" for fn, w in lines))
        self.p.stdin.close()

    def results(self, timeout=90):
        out = self.p.stdout.read()
        rc = self.p.wait(timeout)
        return rc, [ln.split("\t")[1:] for ln in out.splitlines()]


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

    def mux_pool(self, ep, name="Mux", count=3, function="Mux", path="/mux"):
        return {name: {"worker_count": count, "jobs_list": [function],
                       "uri": f"http://127.0.0.1:{ep.port}{path}"}}

    def gmclient_bg(self, lines, timeout=90):
        """Starts gmclient on lines in the background; its output goes to a
        file (read with gm_results) so jobs stay in flight meanwhile."""
        out = open(os.path.join(self.tmp, f"gm-{len(self.procs)}.out"), "w+b")
        p = subprocess.Popen([GMCLIENT, "-s", self.gearmand.server, "-t",
                              str(timeout)], stdin=subprocess.PIPE,
                             stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        p.stdin.write("".join(lines).encode())
        p.stdin.close()
        p.out = out
        return p

    def gm_results(self, p, timeout):
        self.assertEqual(p.wait(timeout), 0, "gmclient: every job answered once")
        p.out.seek(0)
        res = []
        for ln in p.out.read().decode().splitlines():
            parts = ln.split("\t")
            res.append((parts[1], bytes.fromhex(parts[2]) if len(parts) > 2 else None))
        p.out.close()
        return res

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
