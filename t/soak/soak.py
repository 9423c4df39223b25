#!/usr/bin/env python3
"""soak.py: prove that nothing is lost (issue 7, `make soak`).

One run, on 127.0.0.1 only: a real gearmand with a sqlite persistent queue,
two real HTTP endpoints (t/endpoint.py, path /soak), a real driveshaft master
with three pools (JSON and form requests), and t/soakclient holding a stream
of foreground jobs with unique ids in flight and reporting every answer.
Meanwhile a chaos loop kills busy and idle workers with SIGKILL, sends HUP
storms that change counts and URIs (and now and then a broken config), makes
an endpoint fail (HTTP 500) or stall, stops and restarts gearmand on the same
port (with background jobs queued in sqlite across the restart) and floods
the status port.

At the end the ledger is printed, in words and as key=value lines, and the
exit status is 1 when a job was lost, answered twice or answered wrongly, a
background job queued before a restart never ran, the process table is
inconsistent, the master did not stop cleanly, or a process of ours is left
behind; 2 when the soak itself could not run. Everything started here is
killed on any exit, Ctrl-C included.

    python3 t/soak/soak.py --seconds 60 [--seed N] [--keep]

--sabotage proves that the ledger catches what it is for: "lose" freezes
gearmand (SIGSTOP) before the load stops, so jobs in flight never get an
answer; "wrong" makes the endpoint answer one job in 50 off by one. Both
must end in RESULT: FAIL and exit status 1.
"""
import argparse
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "t"))
sys.path.insert(0, os.path.join(TOP, "t", "integration"))
import endpoint  # noqa: E402
from harness import (BUILD, GEARMAND, MASTER, WORKER, free_port,  # noqa: E402
                     is_monitor, port_open)

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
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SoakError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


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
    """Does a status reply have the shape SPEC section 5 gives it?"""
    if cmd == "metrics":  # Prometheus text: \n line ends
        return "# TYPE" in reply and reply.endswith("\n")
    lines = reply.split("\r\n")
    if lines[-1] != "":
        return False
    if cmd == "threads":
        return all(len(ln.split("\t")) == 4 for ln in lines[:-1])
    if cmd == "pools":  # 8 columns, 9 with answer_lost, 12 with size, min, max
        return all(len(ln.split("\t")) in (8, 9, 12) for ln in lines[:-1])
    return reply.startswith("driveshaft ")


def proc_stat(pid):
    """(state, ppid, session) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1]), int(rest[3])
    except (OSError, IndexError, ValueError):
        return None


def proc_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


class Gearmand:
    """gearmand on a fixed port with a sqlite queue that outlives restarts."""

    def __init__(self, tmp):
        self.port = free_port()
        self.db = os.path.join(tmp, "gearmand-queue.sqlite")
        self.log = os.path.join(tmp, "gearmand.log")
        self.proc = None

    def start(self):
        for _ in range(50):  # the port may still be held a moment
            self.proc = subprocess.Popen(
                [GEARMAND, "-L", "127.0.0.1", "-p", str(self.port), "-t", "2",
                 "-q", "libsqlite3", f"--libsqlite3-db={self.db}",
                 f"--log-file={self.log}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                     10, f"gearmand on port {self.port}")
            if self.proc.poll() is None:
                return
            time.sleep(0.2)
        raise SoakError(f"gearmand will not start on port {self.port}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def admin(self, what):
        try:
            out = subprocess.run(["gearadmin", "-h", "127.0.0.1", "-p",
                                  str(self.port), what], capture_output=True,
                                 text=True, timeout=5).stdout
        except subprocess.TimeoutExpired:
            return None
        return [ln for ln in out.splitlines() if ln and ln != "."]

    def queued(self, function):
        """Jobs gearmand holds for function (queued + running); 0 when
        gearadmin does not answer."""
        for ln in self.admin("--status") or []:
            f = ln.split("\t")
            if f[0] == function:
                return int(f[1])
        return 0

    def workers_for(self, function):
        rows = self.admin("--workers")
        if rows is None:
            return None
        return sum(1 for w in rows if function in w.split(":")[-1].split())


class Load:
    """t/soakclient in foreground mode, its lines parsed as they come."""

    def __init__(self, server, tmp, timeout):
        self.jobs = {}            # unique -> record
        self.lock = threading.Lock()
        self.ended = False
        self.err = open(os.path.join(tmp, "soakclient.err"), "wb")
        self.tee = open(os.path.join(tmp, "soakclient.out"), "wb")  # post-mortem
        self.proc = subprocess.Popen(
            [SOAKCLIENT, "-s", server, "-f", "soak_a,soak_b,soak_c",
             "-n", str(LOAD_THREADS), "-b", str(LOAD_BATCH),
             "-t", str(timeout), "-p", "fg"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            now = time.monotonic()
            self.tee.write(b"%.3f\t" % now + raw)
            f = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            with self.lock:
                if f[0] == "END":
                    self.ended = True
                elif f[0] == "S":
                    self.jobs[f[1]] = {"fn": f[2], "workload": f[3], "t": now,
                                       "answers": []}
                elif f[0] in "CFXGLD" and f[1] in self.jobs:
                    self.jobs[f[1]]["answers"].append((f[0], f[2], int(f[3]), now))

    def counts(self):
        with self.lock:
            return len(self.jobs), sum(1 for j in self.jobs.values()
                                       if j["answers"])

    def stop(self, timeout):
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("soakclient did not finish its jobs in time: killed")
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.err.close()
        self.tee.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Soak:
    def __init__(self, seconds, seed, keep, job_timeout, sabotage):
        self.job_timeout = job_timeout
        self.sabotage = sabotage
        self.seconds = seconds
        self.seed = seed
        self.rng = random.Random(seed)
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="ds-soak-")
        self.master = None
        self.load = None
        self.gearmand = None
        self.endpoints = []
        self.later = []              # (when, fn) restores due
        self.kills = []              # (t, pid, pool, unique or None)
        self.freezes = []            # (t, pid, pool, unique)
        self.frozen = set()          # pids stopped and not yet dealt with
        self.restarts = []           # {"stop", "start", "sig", "bg": [uniques]}
        self.bg = {}                 # unique -> workload
        self.chaos = collections.Counter()
        self.flood_worst_ms = 0.0
        self.flood_unanswered = 0
        self.flood_most = 0
        self.flood_queries = 0
        self.hup_generation = 0
        self.bg_held = False         # soak_bg taken out of gamma's job list
        self.seen_pids = set()
        self.problems = []           # what makes the run fail, in words

    # ---- set-up -------------------------------------------------------
    def start(self):
        for e in range(2):
            srv = endpoint.Server(0).start()
            srv.soak_delay_ms = (5, 40)
            self.endpoints.append(srv)
        self.gearmand = Gearmand(self.tmp)
        self.gearmand.start()
        self.config = os.path.join(self.tmp, "jobs.json")
        self.counts = {"alpha": 3, "beta": 3, "gamma": 2}
        self.uris = {"alpha": self.uri(0, ""), "beta": self.uri(1, ""),
                     "gamma": self.uri(0, "?pool=gamma"),
                     "delta": self.uri(1, "?pool=delta")}
        self.write_config()
        self.status_port = free_port()
        self.master_log = open(os.path.join(self.tmp, "master.log"), "wb")
        self.master = subprocess.Popen(
            [MASTER, "--jobsconfig", self.config, "--loop_timeout", "1",
             "--max_running_time", str(MAX_RUNNING_S),
             "--status_port", str(self.status_port)],
            stdin=subprocess.DEVNULL, stdout=self.master_log,
            stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: port_open(self.status_port) or self.master.poll() is not None,
                 10, "the status port")
        if self.master.poll() is not None:
            raise SoakError(f"master exited with {self.master.returncode}")
        wait_for(lambda: self.settled(idle=True), 30, "every worker up")
        time.sleep(1.5)  # the status client of settled() is let go
        self.master_fds = [proc_fds(self.master.pid)]
        self.master_rss = [proc_rss_kb(self.master.pid)]
        if self.sabotage == "wrong":
            for ep in self.endpoints:
                ep.soak_wrong_every = 50
        self.load = Load(self.gearmand.server, self.tmp, self.job_timeout)

    def uri(self, ep, suffix):
        return f"http://127.0.0.1:{self.endpoints[ep].port}/soak{suffix}"

    def pools_doc(self, counts=None):
        counts = counts or self.counts
        gamma_jobs = ["soak_c"] if self.bg_held else ["soak_c", "soak_bg"]
        jobs = {"alpha": ["soak_a"], "beta": ["soak_b"], "gamma": gamma_jobs,
                "delta": ["soak_c"]}
        fmt = {"alpha": "json", "beta": "form", "gamma": "json", "delta": "form"}
        return {name: {"worker_count": counts[name], "jobs_list": jobs[name],
                       "job_processing_uri": self.uris[name],
                       "request_format": fmt[name],
                       "max_running_time": MAX_RUNNING_S}
                for name in counts}

    def write_config(self, counts=None, text=None):
        if text is None:
            text = json.dumps({"gearman_servers_list": [self.gearmand.server],
                               "pools_list": self.pools_doc(counts)}, indent=1)
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config)

    def hup(self):
        self.master.send_signal(signal.SIGHUP)
        self.chaos["hup"] += 1

    def threads(self):
        reply = status_query(self.status_port, "threads")
        if reply is None:
            return None
        rows = []
        for line in reply.split("\r\n"):
            f = line.split("\t")
            if len(f) == 4 and f[0].isdigit():
                rows.append((int(f[0]), f[1], int(f[2]), f[3]))
                if int(f[0]):
                    self.seen_pids.add(int(f[0]))
        return rows

    def pools(self):
        """`pools` as name -> (count, running, busy, idle), or None."""
        reply = status_query(self.status_port, "pools")
        if reply is None:
            return None
        out = {}
        for line in reply.split("\r\n"):
            f = line.split("\t")
            if len(f) >= 5:
                out[f[0]] = tuple(int(x) for x in f[1:5])
        return out

    def settled(self, idle=False):
        """Every pool runs its configured count of workers, each of them
        connected (busy or waiting for work; with idle, waiting)."""
        p = self.pools()
        if p is None:
            return False
        for name, n in self.counts.items():
            count, running, busy, idle_n = p.get(name, (-1, -1, -1, -1))
            if count != n or running != n or idle_n + (0 if idle else busy) != n:
                return False
        return True

    # ---- the chaos loop ----------------------------------------------
    def run(self):
        t_end = time.monotonic() + self.seconds
        next_restart = time.monotonic() + min(15, self.seconds / 4)
        events = [(self.kill_workers, 4), (self.hup_storm, 2),
                  (self.endpoint_fail, 0.6), (self.endpoint_stall, 1),
                  (self.status_flood, 1), (self.freeze_busy, 0.5)]
        last_report = time.monotonic()
        while time.monotonic() < t_end:
            self.check_alive()
            self.run_due()
            if time.monotonic() >= next_restart:
                self.gearmand_restart()
                next_restart = time.monotonic() + self.rng.uniform(20, 35)
            else:
                fn = self.rng.choices([e[0] for e in events],
                                      [e[1] for e in events])[0]
                fn()
            time.sleep(self.rng.uniform(0.2, 1.2))
            if time.monotonic() - last_report > 30:
                sub, ans = self.load.counts()
                log(f"{sub} submitted, {ans} answered, chaos {dict(self.chaos)}")
                last_report = time.monotonic()
        self.run_due(everything=True)

    def check_alive(self):
        if self.master.poll() is not None:
            raise SoakError(f"the master died (exit {self.master.returncode})")
        if self.load.proc.poll() is not None:
            raise SoakError(f"soakclient died (exit {self.load.proc.returncode})")

    def run_due(self, everything=False):
        """Runs the restores and checks that are due; with everything,
        waits for each of them to fall due."""
        while self.later:
            self.later.sort(key=lambda x: x[0])
            when, fn = self.later[0]
            if when > time.monotonic():
                if not everything:
                    return
                time.sleep(min(0.2, when - time.monotonic()))
                continue
            self.later.pop(0)
            fn()

    def kill_workers(self):
        rows = self.threads()
        if not rows:
            return
        busy = self.rng.random() < 0.6
        # a frozen worker is left to the master
        cand = [r for r in rows if r[0] and r[0] not in self.frozen and
                (r[3].startswith("job_handle=") if busy else r[3] == "Waiting for work")]
        for r in self.rng.sample(cand, min(len(cand), self.rng.randint(1, 2))):
            st = proc_stat(r[0])
            if st is None or st[1] != self.master.pid:
                continue  # gone already, or not our child any more
            unique = r[3].split("job_unique=", 1)[1] if busy else None
            try:
                os.kill(r[0], signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.kills.append((time.monotonic(), r[0], r[1], unique))
            self.chaos["kill_busy" if busy else "kill_idle"] += 1

    def freeze_busy(self):
        """SIGSTOP a worker in the middle of a job: the master must kill
        it once the job is past max_running_time and its grace (SPEC 4),
        and gearmand hands the job out again."""
        rows = self.threads()
        cand = [r for r in rows or [] if r[0] and r[0] not in self.frozen and
                r[3].startswith("job_handle=")]
        if not cand:
            return
        r = self.rng.choice(cand)
        st = proc_stat(r[0])
        if st is None or st[1] != self.master.pid:
            return
        os.kill(r[0], signal.SIGSTOP)
        time.sleep(0.3)
        # the snapshot may be stale: only a worker still busy with the
        # same job once frozen counts
        if not any(x[0] == r[0] and x[3] == r[3] for x in self.threads() or []):
            os.kill(r[0], signal.SIGCONT)
            return
        t = time.monotonic()
        self.frozen.add(r[0])
        self.freezes.append((t, r[0], r[1], r[3].split("job_unique=", 1)[1]))
        self.chaos["freeze_busy"] += 1
        self.later.append((t + MAX_RUNNING_S + KILL_GRACE_S + 3,
                           lambda pid=r[0]: self.check_frozen(pid)))

    def check_frozen(self, pid):
        """The master, and nobody else, killed the frozen worker in time."""
        self.frozen.discard(pid)
        self.master_log.flush()
        needle = f" pid={pid} ".encode()
        with open(self.master_log.name, "rb") as f:
            killed = any(b"event=child_kill" in ln and needle in ln for ln in f)
        st = proc_stat(pid)
        if killed and (st is None or st[1] != self.master.pid or st[0] == "Z"):
            self.chaos["freeze_killed_by_master"] += 1
            return
        self.problems.append(f"worker {pid}, frozen in the middle of a job, was "
                             f"not killed by the master within "
                             f"{MAX_RUNNING_S + KILL_GRACE_S + 3} s")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def random_counts(self, allow_zero):
        """New counts; now and then a fourth pool, delta (form requests,
        sharing soak_c with gamma), is added, to be removed again later."""
        lo = 0 if allow_zero else 1
        counts = {"alpha": self.rng.randint(lo, 5), "beta": self.rng.randint(lo, 4),
                  "gamma": self.rng.randint(1, 4)}
        if self.rng.random() < 0.3:
            counts["delta"] = self.rng.randint(lo, 2)
            self.chaos["with_pool_delta"] += 1
        return counts

    def hup_storm(self):
        """A few HUPs in quick succession with new counts and URIs; a
        broken config now and then (the master must keep the old one). The
        last config leaves every pool with at least one worker."""
        n = self.rng.randint(2, 6)
        for i in range(n):
            last = i == n - 1
            if not last and self.rng.random() < 0.1:
                self.write_config(text='{"gearman_servers_list": ["x"], "pools_list": ')
                self.chaos["hup_bad_config"] += 1
            else:
                self.counts = self.random_counts(allow_zero=not last)
                for name in self.uris:
                    if self.rng.random() < 0.4:
                        self.hup_generation += 1
                        self.uris[name] = self.uri(self.rng.randint(0, 1),
                                                   f"?g={self.hup_generation}")
                        self.chaos["uri_change"] += 1
                self.write_config()
            self.hup()
            time.sleep(self.rng.uniform(0.02, 0.3))
            if self.rng.random() < 0.25:
                self.kill_workers()
        self.chaos["hup_storm"] += 1

    def endpoint_fail(self):
        for ep in self.pick_endpoints():
            ep.soak_mode = ("fail500",)
            self.later.append((time.monotonic() + self.rng.uniform(0.5, 2.5),
                               lambda ep=ep: setattr(ep, "soak_mode", ("ok",))))
        self.chaos["endpoint_fail"] += 1

    def endpoint_stall(self):
        for ep in self.pick_endpoints():
            ep.soak_mode = ("stall", 200, MAX_RUNNING_S * 1000 + 1500)
            self.later.append((time.monotonic() + self.rng.uniform(1.5, 4),
                               lambda ep=ep: setattr(ep, "soak_mode", ("ok",))))
        self.chaos["endpoint_stall"] += 1

    def pick_endpoints(self):
        free = [e for e in self.endpoints if e.soak_mode == ("ok",)]
        return self.rng.sample(free, self.rng.randint(min(1, len(free)), len(free)))

    def status_flood(self):
        """Hundreds of idle connections, garbage without a newline, binary
        lines and an oversized line, held open while fresh `threads`
        queries are timed."""
        socks = []

        def conn(payload=None):
            try:
                s = socket.create_connection(("127.0.0.1", self.status_port),
                                             timeout=0.5)
            except OSError:
                return
            socks.append(s)
            s.setblocking(False)
            try:
                if payload:
                    s.send(payload)
            except OSError:
                pass
        try:
            for _ in range(self.rng.randint(200, 400)):
                conn()
            for _ in range(50):
                conn(bytes(self.rng.getrandbits(8) for _ in range(40)).replace(b"\n", b"."))
            for _ in range(20):
                conn(bytes(self.rng.getrandbits(8) for _ in range(30)) + b"\r\n")
            conn(b"t" * 200000 + b"\n")
            conn(b"threads")  # never finishes its line
            self.flood_most = max(self.flood_most, len(socks))
            end = time.monotonic() + self.rng.uniform(1, 3)
            while time.monotonic() < end:
                cmd = self.rng.choice(["threads", "threads", "pools", "metrics",
                                       "version"])
                t0 = time.monotonic()
                reply = status_query(self.status_port, cmd, timeout=5)
                ms = (time.monotonic() - t0) * 1000
                self.flood_queries += 1
                if reply is None:
                    self.flood_unanswered += 1
                elif not well_formed(cmd, reply):
                    self.problems.append(f"status reply to {cmd} malformed "
                                         f"under a flood: {reply[:200]!r}")
                self.flood_worst_ms = max(self.flood_worst_ms, ms)
                time.sleep(0.2)
        finally:
            for s in socks:
                s.close()
        self.chaos["status_flood"] += 1

    def gearmand_restart(self):
        """Background jobs go into gearmand's sqlite queue while no worker
        can take them, gearmand is stopped (TERM or KILL) and started again
        on the same port, then the function gets its workers back: every
        one of those jobs must run after the restart."""
        cycle = len(self.restarts)
        self.bg_held = True
        self.write_config()
        self.hup()
        try:
            wait_for(lambda: self.gearmand.workers_for("soak_bg") == 0,
                     MAX_RUNNING_S * 3 + 10, "no worker left for soak_bg")
        except SoakError:
            log("workers for soak_bg did not go away: restart without "
                "background jobs this time")
            self.problems.append("a pool replaced on HUP kept its old "
                                 "workers registered (soak_bg)")
            uniques = []
        else:
            uniques = [f"bg-{cycle}-{i}" for i in range(20)]
            lines = ""
            for u in uniques:
                w = f"{cycle} {len(self.bg)} {self.rng.randint(0, 9999)}"
                self.bg[u] = w
                lines += f"soak_bg\t{u}\t{w}\n"
            p = subprocess.run([SOAKCLIENT, "-B", "-s", self.gearmand.server],
                               input=lines.encode(), capture_output=True,
                               timeout=30)
            if p.returncode != 0:
                raise SoakError(f"background submission failed: {p.stdout[-500:]}")
        before = self.gearmand.queued("soak_bg")
        sig = self.rng.choice([signal.SIGTERM, signal.SIGKILL])
        t_stop, wall_stop = time.monotonic(), time.time()
        self.gearmand.stop(sig)
        outage_end = time.monotonic() + self.rng.uniform(0.5, 3)
        if self.rng.random() < 0.5:  # workers in their backoff meet a HUP
            self.hup_storm()
        time.sleep(max(0, outage_end - time.monotonic()))
        self.gearmand.start()
        t_start = time.monotonic()
        after = self.gearmand.queued("soak_bg")
        self.restarts.append({"stop": t_stop, "start": t_start,
                              "wall": (wall_stop, time.time()),
                              "sig": signal.Signals(sig).name, "bg": uniques,
                              "queued_before": before, "queued_after": after})
        self.chaos["gearmand_restart"] += 1
        self.bg_held = False
        self.write_config()
        self.hup()

    # ---- the end -------------------------------------------------------
    def finish(self):
        """Calm everything down, let every job in flight get its answer,
        then stop the master and check that nothing of ours is left."""
        log("chaos over: settling")
        for ep in self.endpoints:
            ep.soak_mode = ("ok",)
        if self.gearmand.proc is None or self.gearmand.proc.poll() is not None:
            self.gearmand.start()
        self.bg_held = False
        self.counts = {"alpha": 3, "beta": 3, "gamma": 2}
        self.write_config()
        self.hup()
        try:
            wait_for(self.settled, 30, "every worker connected after the chaos")
        except SoakError as e:
            self.problems.append(f"after the chaos: {e}: pools {self.pools()}")
        if self.sabotage == "lose":
            log("sabotage: gearmand frozen with jobs in flight")
            self.gearmand.proc.send_signal(signal.SIGSTOP)
        log("stopping the load")
        rc = self.load.stop(self.job_timeout + 30)
        if self.sabotage == "lose":
            self.gearmand.proc.send_signal(signal.SIGCONT)
        if rc != 0:
            self.problems.append(f"soakclient exit {rc}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.bg_missing():
            time.sleep(0.2)
        try:
            wait_for(lambda: self.settled(idle=True), 15, "every worker idle")
        except SoakError as e:
            self.problems.append(f"at the end: {e}: pools {self.pools()}")
        self.check_table()
        # same pools, same counts, nobody connected to the status port:
        # the master holds as many descriptors as at the start
        time.sleep(1.5)
        self.master_fds.append(proc_fds(self.master.pid))
        self.master_rss.append(proc_rss_kb(self.master.pid))
        if self.master_fds[1] != self.master_fds[0]:
            self.problems.append(f"the master held {self.master_fds[0]} descriptors "
                                 f"at the start and {self.master_fds[1]} at the end")
        self.stop_master()
        self.gearmand.stop()
        for ep in self.endpoints:
            ep.stop()
        self.endpoints_stopped = True
        self.check_strays()

    def bg_missing(self):
        ran = self.endpoint_runs()
        missing = []
        for r in self.restarts:
            for u in r["bg"]:
                if not any(run["t0"] > r["start"] for run in ran.get(u, [])):
                    missing.append(u)
        return missing

    def endpoint_runs(self):
        runs = collections.defaultdict(list)
        for ep in self.endpoints:
            with ep.lock:
                for run in ep.soak_runs:
                    runs[run["u"]].append(run)
        for v in runs.values():
            v.sort(key=lambda r: r["t0"])
        return runs

    def check_table(self):
        """The table, the master's children and the live processes agree,
        and no child stays a zombie."""
        def consistent():
            rows = self.threads()
            if rows is None:
                return False
            listed = {r[0] for r in rows if r[0]}
            kids = {p for p in all_pids() if (proc_stat(p) or (0, 0))[1] == self.master.pid
                    and not is_monitor(p)}  # the queue monitor has no slot
            zombies = {p for p in kids if (proc_stat(p) or ("",))[0] == "Z"}
            self.table_detail = (f"listed={sorted(listed)} children={sorted(kids)} "
                                 f"zombies={sorted(zombies)}")
            return listed == kids and not zombies
        try:
            wait_for(consistent, 15, "threads to match the master's children")
            self.table_ok = True
        except SoakError:
            self.table_ok = False
            self.problems.append(f"process table inconsistent: {self.table_detail}")

    def stop_master(self):
        self.master_pools = status_query(self.status_port, "pools") or ""
        self.master.send_signal(signal.SIGTERM)
        try:
            self.master_rc = self.master.wait(30)
        except subprocess.TimeoutExpired:
            self.master_rc = None
            self.problems.append("the master did not stop within 30 s of SIGTERM")
            self.master.kill()
            self.master.wait()
        if self.master_rc not in (0, None):
            self.problems.append(f"the master exited with {self.master_rc} on SIGTERM")

    def ours(self, pid):
        """Is pid a process this soak started (directly or not)?"""
        if pid == os.getpid():
            return False
        st = proc_stat(pid)
        if st is None:
            return False
        if st[1] == os.getpid():
            return True
        exe = proc_exe(pid)
        if exe.startswith(os.path.realpath(BUILD) + "/") and (
                pid in self.seen_pids or
                (self.master is not None and st[2] == self.master.pid)):
            return True
        cmd = proc_cmdline(pid)
        return self.tmp in cmd or (self.gearmand is not None and
                                   f"-p {self.gearmand.port} " in cmd + " " and
                                   "gearmand" in cmd)

    def check_strays(self):
        time.sleep(0.2)
        self.strays = []
        for pid in all_pids():
            if self.ours(pid):
                st = proc_stat(pid)
                self.strays.append(f"{pid} ({'zombie ' if st and st[0] == 'Z' else ''}"
                                   f"{proc_cmdline(pid)[:80]})")
        if self.strays:
            self.problems.append(f"processes left behind: {self.strays}")

    def cleanup(self):
        """Whatever happened: nothing we started survives us."""
        if self.load is not None:
            self.load.kill()
        if self.master is not None and self.master.poll() is None:
            self.master.kill()
            self.master.wait()
        for pid in all_pids():
            if self.ours(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.gearmand is not None:
            self.gearmand.stop(signal.SIGKILL)
        if not getattr(self, "endpoints_stopped", False):
            for ep in self.endpoints:
                ep.stop()

    # ---- the ledger -----------------------------------------------------
    def ledger(self):
        runs = self.endpoint_runs()
        outages = [(r["stop"], r["start"]) for r in self.restarts]
        # every figure is printed, zeros included
        L = collections.Counter({k: 0 for k in (
            "submitted", "completed", "wrong", "failed", "exception",
            "server_gone", "not_accepted", "server_gone_unexplained", "lost",
            "lost_no_line", "twice", "reruns")})
        fail_why = collections.Counter()
        gone_why = collections.Counter()
        rerun_why = collections.Counter()
        examples = collections.defaultdict(list)

        def note(kind, u):
            if len(examples[kind]) < 5:
                examples[kind].append(u)

        with self.load.lock:
            jobs = dict(self.load.jobs)
        for u, j in jobs.items():
            L["submitted"] += 1
            finals = [a for a in j["answers"] if a[0] in "CFXGL"]
            if any(a[0] == "D" for a in j["answers"]) or len(finals) > 1:
                L["twice"] += 1
                note("twice", u)
            if not finals:
                L["lost"] += 1
                L["lost_no_line"] += 1
                note("lost", u)
                continue
            kind, data, ms, t = finals[0]
            if kind == "C":
                want = f"{u}:{sum(int(x) for x in j['workload'].split())}"
                got = bytes.fromhex(data).decode("utf-8", "replace") if data != "-" else ""
                if got == want:
                    L["completed"] += 1
                else:
                    L["wrong"] += 1
                    note("wrong", f"{u} got {got!r} want {want!r}")
            elif kind == "F":
                L["failed"] += 1
                why = self.fail_reason(runs.get(u, []))
                fail_why[why] += 1
                if why == "unexplained":
                    note("failed_unexplained", u)
            elif kind == "X":
                L["exception"] += 1
                note("exception", u)
            elif kind == "L":
                L["lost"] += 1
                note("lost", u)
            elif kind == "G":
                created = data.startswith("1:")
                key = "server_gone" if created else "not_accepted"
                L[key] += 1
                in_outage = any(a - 1 <= t and (j["t"] <= b + 3) for a, b in outages)
                gone_why[f"{key}: {'gearmand restart' if in_outage else 'no restart near it'}"] += 1
                if not in_outage:
                    note("server_gone_unexplained", u)
                    L["server_gone_unexplained"] += 1
        # endpoint re-runs of foreground and background jobs
        killed_busy = {k[3] for k in self.kills if k[3]}
        for u, rs in runs.items():
            for prev, cur in zip(rs, rs[1:]):
                L["reruns"] += 1
                why = self.rerun_reason(u, prev, cur, killed_busy)
                rerun_why[why] += 1
                note(f"re-run ({why})", u)
        L["endpoint_runs"] = sum(len(v) for v in runs.values())
        L["bg_submitted"] = len(self.bg)
        missing = self.bg_missing()
        L["bg_missing"] = len(missing)
        L["bg_ran"] = L["bg_submitted"] - L["bg_missing"]
        for u in missing[:5]:
            note("bg_missing", u)
        L["failed_unexplained"] = fail_why["unexplained"]
        L["failed_badworkload"] = fail_why["endpoint could not read the workload"]
        L["rerun_unexplained"] = rerun_why["unexplained"]
        L["strays"] = len(self.strays)
        self.read_master_log()
        L["unexpected_exits"] = len(self.crashes)
        L["answer_lost_logged"] = self.log_events["job_answer_lost"]
        L["outages_logged_while_up"] = self.log_events["gearman_down_outside_outages"]
        self.L, self.fail_why, self.gone_why = L, fail_why, gone_why
        self.rerun_why, self.examples = rerun_why, examples
        for key, what in (("lost", "jobs lost"), ("twice", "jobs answered twice"),
                          ("wrong", "wrong answers"), ("bg_missing",
                          "background jobs that never ran after the restart"),
                          ("exception", "WORK_EXCEPTION answers"),
                          ("failed_unexplained", "jobs failed although the "
                           "endpoint answered them well and in time"),
                          ("failed_badworkload", "workloads that reached the "
                           "endpoint damaged")):
            if L[key]:
                self.problems.append(f"{L[key]} {what}: {examples[key]}")
        accounted = sum(L[k] for k in ("completed", "wrong", "failed", "exception",
                                       "server_gone", "not_accepted", "lost"))
        if accounted != L["submitted"]:
            self.problems.append(f"ledger does not add up: {accounted} accounted "
                                 f"for, {L['submitted']} submitted")

    def read_master_log(self):
        """What the master and its workers logged: events by name, job
        failures by outcome, and the worker exits the soak did not cause
        (a crash, a sanitizer report, an unexpected exit status)."""
        self.master_log.flush()
        with open(self.master_log.name, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        killed = {k[1] for k in self.kills} | {f[1] for f in self.freezes}
        events, outcomes, crashes, spurious = (collections.Counter(),
                                               collections.Counter(), [], [])
        for line in text.splitlines():
            if "Sanitizer" in line or "runtime error:" in line:
                crashes.append(line.strip()[:200])
            f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            ev = f.get("event")
            if ev is None:
                continue
            events[ev] += 1
            if ev == "job_failed":
                outcomes[f.get("outcome", "?")] += 1
            if ev == "gearman_down" and not self.in_outage(line):
                events["gearman_down_outside_outages"] += 1
                spurious.append(line.strip()[:200])
            if ev == "child_exit" and f.get("status", "0") != "0":
                crashes.append(line.strip()[:200])
            if ev == "child_exit" and "signal" in f and \
                    int(f.get("pid", 0)) not in killed:
                crashes.append(line.strip()[:200])
        self.log_events, self.log_outcomes, self.crashes = events, outcomes, crashes
        if crashes:
            self.problems.append(f"{len(crashes)} worker exits or reports the "
                                 f"soak did not cause, first: {crashes[0]}")
        if spurious:
            self.problems.append(f"{len(spurious)} gearmand outages logged while "
                                 f"gearmand was up, first: {spurious[0]}")

    def in_outage(self, line):
        """Was this log line written while gearmand was down, or soon
        enough after for a worker busy with a stalled job to notice?"""
        try:
            t = time.mktime(time.strptime(line.split()[0][:19], "%Y-%m-%dT%H:%M:%S"))
        except (ValueError, IndexError):
            return True
        slack = MAX_RUNNING_S + 3
        return any(a - 1 <= t <= b + slack for a, b in
                   (r["wall"] for r in self.restarts))

    @staticmethod
    def fail_reason(rs):
        if not rs:
            return "unexplained"
        last = rs[-1]
        if last["kind"] == "500":
            return "endpoint answered HTTP 500"
        # the endpoint's own overhead under load may add a little
        if last["kind"] == "stall" and last["stall_ms"] >= MAX_RUNNING_S * 1000 - 500:
            return "timed out (endpoint stalled past max_running_time)"
        if last["kind"] == "badworkload":
            return "endpoint could not read the workload"
        return "unexplained"

    def rerun_reason(self, u, prev, cur, killed_busy):
        pools = FUNCTIONS.get(prev["fn"], set())
        if u in killed_busy:
            return "worker killed -9 with the job in hand"
        if u in {f[3] for f in self.freezes}:
            return "worker frozen mid-job, killed by the master"
        end = prev.get("t1", cur["t0"])
        for t, _, kpool, _ in self.kills:
            if kpool in pools and prev["t0"] - 0.2 <= t <= end + 0.5:
                return "a worker of the pool was killed -9 during the run"
        for r in self.restarts:
            if prev["t0"] - 0.2 <= r["stop"] <= cur["t0"]:
                return "gearmand restarted between the runs"
        return "unexplained"

    def dump(self):
        """Every endpoint run, the kills and the restarts, for a post-mortem
        beside soakclient.out and master.log (times: time.monotonic())."""
        with open(os.path.join(self.tmp, "endpoint-runs.jsonl"), "w") as f:
            for u, rs in sorted(self.endpoint_runs().items()):
                for r in rs:
                    f.write(json.dumps(r) + "\n")
        with open(os.path.join(self.tmp, "chaos.json"), "w") as f:
            json.dump({"kills": self.kills, "freezes": self.freezes,
                       "restarts": self.restarts}, f, indent=1)

    def print_ledger(self):
        L = self.L
        out = []

        def row(label, value, indent=0):
            out.append(f"{'  ' * indent}{label:<{52 - 2 * indent}} {value:>8}")
        out.append("")
        out.append(f"==== soak ledger: {self.seconds} s of chaos, seed {self.seed} ====")
        row("foreground jobs submitted", L["submitted"])
        row("completed, answer checked correct", L["completed"], 1)
        row("completed, answer WRONG (must be 0)", L["wrong"], 1)
        row("failed (WORK_FAIL)", L["failed"], 1)
        for why, n in sorted(self.fail_why.items()):
            row(why, n, 2)
        row("told its server went away", L["server_gone"], 1)
        row("not accepted: gearmand down at submission", L["not_accepted"], 1)
        for why, n in sorted(self.gone_why.items()):
            row(why, n, 2)
        row("WORK_EXCEPTION (must be 0)", L["exception"], 1)
        row("lost: no answer (must be 0)", L["lost"], 1)
        row("answered twice (must be 0)", L["twice"])
        row("endpoint runs", L["endpoint_runs"])
        row("endpoint re-runs (counted, not failures)", L["reruns"])
        for why, n in sorted(self.rerun_why.items()):
            row(why, n, 1)
        row("background jobs queued before a gearmand restart", L["bg_submitted"])
        row("ran after the restart", L["bg_ran"], 1)
        row("never ran (must be 0)", L["bg_missing"], 1)
        out.append("chaos: " + ", ".join(f"{k} {v}" for k, v in sorted(self.chaos.items())))
        for r in self.restarts:
            out.append(f"  gearmand {r['sig']}: soak_bg queued {r['queued_before']} "
                       f"before, {r['queued_after']} after the restart")
        out.append(f"status floods: up to {self.flood_most} connections held; "
                   f"{self.flood_queries} fresh `threads` queries, slowest "
                   f"{self.flood_worst_ms:.0f} ms, {self.flood_unanswered} unanswered")
        out.append("master `pools` at the end: " +
                   " | ".join(self.master_pools.strip().split("\r\n")))
        tot = [0, 0, 0, 0]
        for line in self.master_pools.split("\r\n"):
            f = line.split("\t")
            if len(f) >= 8:
                tot = [a + int(b) for a, b in zip(tot, f[5:9] + ["0"])]
        out.append(f"  (its counters: completed {tot[0]}, failed {tot[1]}, timed "
                   f"out {tot[2]}, answer lost {tot[3]}; a removed pool takes its "
                   f"counts with it, an answer handed to a gearmand that then died "
                   f"counts as completed)")
        row("process table consistent at the end", "yes" if self.table_ok else "NO")
        row("master descriptors, start -> end", f"{self.master_fds[0]} -> {self.master_fds[1]}")
        row("master VmRSS kB, start -> end", f"{self.master_rss[0]} -> {self.master_rss[1]}")
        row("master exit status on SIGTERM", str(self.master_rc))
        row("worker exits the soak did not cause (must be 0)", L["unexpected_exits"])
        row("gearmand outages logged while it was up (must be 0)",
            L["outages_logged_while_up"])
        out.append("master log: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(self.log_events.items())))
        out.append("job failures logged by outcome: " + ", ".join(
            f"{k} {v}" for k, v in sorted(self.log_outcomes.items())))
        row("processes of ours left behind (must be 0)", L["strays"])
        for kind, us in sorted(self.examples.items()):
            out.append(f"examples of {kind}: {' '.join(us)}")
        for p in self.problems:
            out.append(f"PROBLEM: {p}")
        out.append(f"RESULT: {'FAIL' if self.problems else 'PASS'}")
        kv = dict(L)
        kv.update({"seconds": self.seconds, "seed": self.seed,
                   "table_consistent": int(self.table_ok),
                   "master_exit": self.master_rc,
                   "flood_worst_query_ms": int(self.flood_worst_ms),
                   "flood_unanswered": self.flood_unanswered,
                   "flood_connections": self.flood_most,
                   "master_fds_start": self.master_fds[0],
                   "master_fds_end": self.master_fds[1],
                   "master_rss_kb_start": self.master_rss[0],
                   "master_rss_kb_end": self.master_rss[1],
                   "result": "FAIL" if self.problems else "PASS"})
        for k, v in sorted(self.chaos.items()):
            kv[f"chaos_{k}"] = v
        for prefix, c in (("failed_", self.fail_why), ("rerun_", self.rerun_why)):
            for why, n in c.items():
                kv[prefix + "".join(ch if ch.isalnum() else "_" for ch in why)[:40]] = n
        for k in sorted(kv):
            out.append(f"soak_{k}={kv[k]}")
        print("\n".join(out), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 600)))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    ap.add_argument("--job-timeout", type=int, default=JOB_TIMEOUT_S,
                    help="seconds of silence after which a job counts as lost")
    ap.add_argument("--sabotage", choices=("lose", "wrong"),
                    help="break something on purpose: the run must fail")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    for tool in (MASTER, WORKER, SOAKCLIENT, GEARMAND):
        if not os.access(tool, os.X_OK):
            print(f"soak: {tool} missing (run make)", file=sys.stderr)
            return 2

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    # SIGINT too: a shell starts background jobs with it ignored
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    soak = Soak(a.seconds, seed, a.keep, a.job_timeout, a.sabotage)
    log(f"{a.seconds} s, seed {seed}, files in {soak.tmp}")
    rc = 2
    try:
        soak.start()
        log(f"master {soak.master.pid}, gearmand port {soak.gearmand.port}, "
            f"status port {soak.status_port}, endpoints "
            f"{[e.port for e in soak.endpoints]}")
        soak.run()
        soak.finish()
        soak.ledger()
        soak.dump()
        soak.print_ledger()
        rc = 1 if soak.problems else 0
    except SoakError as e:
        log(f"ERROR: {e}")
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        soak.cleanup()
        if rc == 0 and not a.keep:
            import shutil
            shutil.rmtree(soak.tmp, ignore_errors=True)
        else:
            log(f"files kept in {soak.tmp}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
