#!/usr/bin/env python3
"""The multi-host scenario (issue 10): Driveshaft on two gearmand servers as
one job system, from two hosts. Five network namespaces: gm1 and gm2 each
run a gearmand; hA and hB each run a Driveshaft master with a queue-sized
pool and its own endpoint and status port, both configured with both
servers; cl runs the clients, which submit foreground jobs to both servers
all along. Every pair that talks has its own link (netns.py).

During the run: hA's master is killed -9 with its workers (a host lost:
their jobs in hand go back to gearmand and to hB), then started again;
hA is cut from gm1 (link down), then joined again; gm2 is stopped and
started again on its address; then gm1 hangs (SIGSTOP: its kernel still
accepts connections, nothing answers) for 20 s while gm2's jobs must keep
running, and resumes. The ledger at the end: every job answered
exactly once, or its client was told its server went away; none silent,
none answered twice; every answer is its own workload; hB's pool grew when
it was left alone with the load.

    multihost.py [--seconds S] [--keep]     (default 40 s of load)

Exit 0 when the ledger holds. Namespaces and processes are removed on any
exit, failure or signal included."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import netns  # noqa: E402
from testlib import GMCLIENT, MASTER, gearmand_argv, wait_for  # noqa: E402

GM_PORT, EP_PORT, STATUS_PORT = 4730, 8080, 9090
JOB_MS = 300
BATCH = 8
MAX_WORKERS = 40
HANG_S = 20


class Ledger:
    """What the clients were told, job by job."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {}          # workload -> outcome
        self.errors = []

    def record(self, workloads, stdout, stderr):
        told = "run_tasks:" in stderr and "TIMEOUT" not in stderr
        seen = set()
        for line in stdout.splitlines():
            parts = line.split("\t")
            i, what = int(parts[0]), parts[1]
            seen.add(i)
            w = workloads[i]
            if what == "OK":
                got = bytes.fromhex(parts[2]).decode() if len(parts) > 2 else ""
                out = "OK" if got == w else f"WRONG:{got}"
            elif what == "PENDING":
                out = "TOLD" if told else "SILENT"
            else:
                out = what          # FAIL, DUP
            with self.lock:
                self.jobs[w] = out
        for i, w in enumerate(workloads):
            if i not in seen:
                with self.lock:
                    self.jobs[w] = "TOLD" if told else "SILENT"

    def counts(self):
        c = {}
        for out in self.jobs.values():
            key = out.split(":")[0]
            c[key] = c.get(key, 0) + 1
        return c


class Scenario:
    def __init__(self, seconds, tmp):
        self.seconds = seconds
        self.tmp = tmp
        self.net = netns.Net()
        self.procs = []
        self.masters = {}
        self.stop_load = threading.Event()
        self.ledger = Ledger()
        self.sizes = []         # (t, size of hA's pool, size of hB's pool)
        self.t0 = time.monotonic()
        self.marks = {}

    def now(self):
        return time.monotonic() - self.t0

    def mark(self, what):
        self.marks[what] = self.now()
        print(f"  {self.now():6.1f}s  {what}", flush=True)

    # --- the machines ---

    def spawn(self, machine, argv, log):
        f = open(os.path.join(self.tmp, log), "ab")
        p = subprocess.Popen(self.net.argv(machine, *argv), stdin=subprocess.DEVNULL,
                             stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        return p

    def build(self):
        for m in ("gm1", "gm2", "hA", "hB", "cl"):
            self.net.machine(m)
        self.addr = {}          # (client machine, server) -> server address
        for gm in ("gm1", "gm2"):
            for m in ("hA", "hB", "cl"):
                self.addr[(m, gm)] = self.net.link(gm, m)[0]
        for gm in ("gm1", "gm2"):
            self.start_gearmand(gm)
        for h in ("hA", "hB"):
            self.spawn(h, [sys.executable, os.path.join(HERE, "mh_endpoint.py"), h,
                           str(EP_PORT), os.path.join(self.tmp, "runs.tsv")],
                       f"endpoint-{h}.log")
            self.write_config(h)
        time.sleep(0.5)
        for h in ("hA", "hB"):
            self.start_master(h)

    def start_gearmand(self, gm):
        self.gearmand = getattr(self, "gearmand", {})
        self.gearmand[gm] = self.spawn(gm, gearmand_argv(
            GM_PORT, f"{self.tmp}/{gm}.log", listen="0.0.0.0",
            # a partitioned worker's FIN never arrives: without keepalive
            # gearmand keeps its job assigned forever
            extra=("--keepalive", "--keepalive-idle=3", "--keepalive-interval=1",
                   "--keepalive-count=3")), f"{gm}.out")
        wait_for(lambda: netns.run(*self.net.argv(gm, "gearadmin", "-p", str(GM_PORT),
                                                  "--status"), check=False).returncode == 0,
                 10, f"gearmand on {gm}", step=0.1, error=RuntimeError)

    def write_config(self, h):
        doc = {"gearman_servers_list": [f"{self.addr[(h, gm)]}:{GM_PORT}"
                                        for gm in ("gm1", "gm2")],
               "queue_poll_interval": 0.5, "stuck_after": 10,
               "pools_list": {"MH": {"min_workers": 1, "max_workers": MAX_WORKERS,
                                     "scale_down_after": 3, "jobs_list": ["mh"],
                                     "job_processing_uri":
                                     f"http://127.0.0.1:{EP_PORT}/work/{JOB_MS}"}}}
        with open(os.path.join(self.tmp, f"jobs-{h}.json"), "w") as f:
            json.dump(doc, f, indent=1)

    def start_master(self, h):
        self.masters[h] = self.spawn(h, [MASTER, "--jobsconfig",
                                         os.path.join(self.tmp, f"jobs-{h}.json"),
                                         "--loop_timeout", "1", "--status_port",
                                         str(STATUS_PORT)], f"master-{h}.log")

    def query(self, h, cmd):
        p = netns.run(*self.net.argv(h, MASTER, "--query", cmd, "--status_port",
                                     str(STATUS_PORT)), check=False)
        return p.stdout if p.returncode == 0 else None

    def size(self, h):
        out = self.query(h, "pools")
        for line in (out or "").splitlines():
            cols = line.split("\t")
            if cols[0] == "MH" and len(cols) >= 12:
                return int(cols[9])
        return 0

    # --- the load and the sampler ---

    def client(self, gm, k):
        b = 0
        while not self.stop_load.is_set():
            work = [f"{gm}-{k}-{b}-{i}" for i in range(BATCH)]
            p = subprocess.run(self.net.argv("cl", GMCLIENT, "-s",
                                             f"{self.addr[('cl', gm)]}:{GM_PORT}",
                                             "-t", "60"),
                               input="".join(f"mh\t{w}\n" for w in work),
                               capture_output=True, text=True, timeout=120)
            self.ledger.record(work, p.stdout, p.stderr)
            if p.returncode != 0 and "run_tasks:" in p.stderr:
                time.sleep(0.3)     # a server away: do not spin on it
            b += 1

    def sampler(self):
        while not self.stop_load.is_set():
            self.sizes.append((self.now(), self.size("hA"), self.size("hB")))
            time.sleep(0.5)

    # --- chaos ---

    def crash(self, h):
        m = self.masters[h]
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(m.pid)],
                              capture_output=True, text=True).stdout.split()
        # the master runs under `ip netns exec`, which execs it: same pid
        for pid in [m.pid] + [int(k) for k in kids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        m.wait()

    def hang(self, gm, seconds):
        """A hung server: gm stops answering for seconds, then resumes.
        `ip netns exec` execs gearmand, so the pid is gearmand's."""
        p = self.gearmand[gm]
        p.send_signal(signal.SIGSTOP)
        self.mark(f"{gm} hung (SIGSTOP) for {seconds} s")
        try:
            time.sleep(seconds)
        finally:
            p.send_signal(signal.SIGCONT)
        self.mark(f"{gm} answers again (SIGCONT)")

    def at(self, frac):
        due = self.load_t0 + frac * self.seconds
        while self.now() < due:
            time.sleep(0.05)

    def run(self):
        self.build()
        self.mark("2 gearmand, 2 hosts up")
        time.sleep(2)
        threads = [threading.Thread(target=self.client, args=(gm, k), daemon=True)
                   for gm in ("gm1", "gm2") for k in range(2)]
        threads.append(threading.Thread(target=self.sampler, daemon=True))
        self.load_t0 = self.now()
        for t in threads:
            t.start()
        self.mark("load: 2 clients on each server, batches of 8 jobs of 300 ms")
        self.at(0.2)
        self.size_b_at_crash = self.size("hB")
        self.crash("hA")
        self.mark(f"kill -9 hA's master and workers (hB at {self.size_b_at_crash})")
        self.at(0.35)
        self.start_master("hA")
        self.mark("hA's master started again")
        self.at(0.45)
        self.net.set_link("gm1", "hA", False)
        self.mark("hA cut from gm1 (link down)")
        self.at(0.6)
        self.net.set_link("gm1", "hA", True)
        self.mark("hA joined gm1 again (link up)")
        self.at(0.7)
        self.gearmand["gm2"].terminate()
        self.gearmand["gm2"].wait(10)
        self.mark("gm2 stopped")
        self.at(0.8)
        self.start_gearmand("gm2")
        self.mark("gm2 started again")
        self.at(0.85)
        self.hang("gm1", HANG_S)
        self.at(1.0)
        self.stop_load.set()
        self.mark("load stops; the batches in hand finish")
        for t in threads:
            t.join(150)
        self.mark("every client done")
        return self.verify()

    # --- the ledger ---

    def runs(self):
        out = {}
        try:
            with open(os.path.join(self.tmp, "runs.tsv")) as f:
                for line in f:
                    host, w, t0, t1 = line.rstrip("\n").split("\t")
                    out.setdefault(w, []).append((host, float(t0), float(t1)))
        except FileNotFoundError:
            pass
        return out

    def verify(self):
        problems = []
        c = self.ledger.counts()
        runs = self.runs()
        crash = self.marks["kill -9 hA's master and workers (hB at %d)"
                           % self.size_b_at_crash]
        for w, out in sorted(self.ledger.jobs.items()):
            if out in ("SILENT", "DUP") or out.startswith("WRONG"):
                problems.append(f"job {w}: {out}")
            if out == "OK" and w not in runs:
                problems.append(f"job {w}: answered, but no endpoint ran it")
        rehanded = [w for w, r in runs.items()
                    if len({h for h, _, _ in r}) > 1 and self.ledger.jobs.get(w) == "OK"]
        after = [b for t, _, b in self.sizes if t >= crash]
        peak_b = max(after) if after else 0
        if c.get("OK", 0) == 0:
            problems.append("no job answered at all")
        if peak_b <= self.size_b_at_crash and self.size_b_at_crash < MAX_WORKERS:
            problems.append(f"hB's pool did not grow after hA went "
                            f"({self.size_b_at_crash} -> {peak_b})")
        for h, events in (("hA", ("gearman_server_down", "gearman_server_up")),
                          ("hB", ("gearman_server_down", "gearman_server_up"))):
            log = open(os.path.join(self.tmp, f"master-{h}.log")).read()
            for e in events:
                if f"event={e}" not in log:
                    problems.append(f"{h}: no event={e} in its log")
        hung = self.during_hang(runs)
        if hung == 0:
            problems.append("no job of gm2 ran while gm1 was hung")
        total = len(self.ledger.jobs)
        print(f"\n  ledger: {total} jobs: {c.get('OK', 0)} answered once and right, "
              f"{c.get('TOLD', 0)} told their server went away, "
              f"{c.get('FAIL', 0)} failed, {c.get('SILENT', 0)} silent, "
              f"{c.get('DUP', 0)} answered twice")
        print(f"  endpoint runs: {sum(len(r) for r in runs.values())}, "
              f"jobs run on both hosts and answered once: {len(rehanded)}")
        print(f"  while gm1 was hung ({HANG_S} s): {hung} jobs of gm2 ran")
        print(f"  hB's pool: {self.size_b_at_crash} at the crash, up to {peak_b} "
              f"after; sizes sampled (t, hA, hB): "
              f"{[s for s in self.sizes[::6]]}")
        for p in problems[:20]:
            print("  PROBLEM:", p)
        return not problems

    def during_hang(self, runs):
        """Runs of gm2's jobs that started while gm1 was hung (the
        endpoints stamp wall-clock time; the marks are monotonic)."""
        a = self.marks[f"gm1 hung (SIGSTOP) for {HANG_S} s"]
        b = self.marks["gm1 answers again (SIGCONT)"]
        skew = time.time() - self.now()
        return sum(1 for w, r in runs.items() if w.startswith("gm2-")
                   for _, t0, _ in r if a + skew + 3 <= t0 <= b + skew)

    def cleanup(self):
        self.stop_load.set()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        self.net.cleanup()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--keep", action="store_true", help="keep the logs' folder")
    a = ap.parse_args()
    why = netns.available()
    if why:
        print(f"multihost: skipped: {why}")
        return 0
    tmp = tempfile.mkdtemp(prefix="ds-multihost-")
    sc = Scenario(a.seconds, tmp)

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    ok = False
    try:
        ok = sc.run()
    finally:
        sc.cleanup()
        print(f"multihost: {'ok' if ok else 'FAILED'} (logs in {tmp})")
        if ok and not a.keep:
            subprocess.run(["rm", "-rf", tmp])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
