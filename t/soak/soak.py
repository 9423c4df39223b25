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

This file holds the run (set-up, the calm end, the checks on processes) and
main; chaos.py the chaos actions, ledger.py the ledger and its printing,
procs.py gearmand, the load client and /proc, soaklib.py what they share.
"""
import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

# soaklib first: it puts t/ on the path
from soaklib import (JOB_TIMEOUT_S, MAX_RUNNING_S, SOAKCLIENT, SoakError,
                     log, status_query, wait_for)
import endpoint  # noqa: E402
from chaos import Chaos  # noqa: E402
from ledger import Ledger  # noqa: E402
from testlib import (BUILD, GEARMAND, MASTER, WORKER, free_port,  # noqa: E402
                     is_monitor, port_open)
from procs import (Gearmand, Load, all_pids, proc_cmdline,  # noqa: E402
                   proc_exe, proc_fds, proc_rss_kb, proc_stat)


class Soak(Chaos, Ledger):
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
        self.hangs = []              # (wall stop, wall cont) of a hung gearmand
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
