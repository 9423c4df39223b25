"""fig_upgrade.py: the in-place upgrade's figures of make bench (step
`upgrade`, contrib/bench/bench.py; issue 19).

A master is started from a directory of its own holding the binaries
under test; each round renames the other build (make bench builds it:
this tree with VERSION=<version>-b, in build/bench/upgrade-b) over them
and sends USR2. Per pool size (100 and 2,000 workers):
- USR2 to `event=upgrade`: the line's ms= (the master's own exec and
  adoption time) and as the bench sees it (signal to the line in the log);
- the status port meanwhile, asked `pools` every 10 ms by a thread: the
  longest gap between two answers and the slowest answer around the exec;
- the roll: from `event=upgrade` until every worker runs the new version.
Targets with 2,000 workers: exec and adoption <= 200 ms, no status answer
slower than 250 ms (met / missed)."""
import os
import re
import shutil
import signal
import socket
import statistics
import threading
import time

from benchlib import BENCH, MASTER, P, wait_for
from services import Master
from testlib import WORKER

UPGRADE_B = os.path.join(BENCH, "upgrade-b")
NAMES = ("driveshaft-worker", "driveshaft")
LINE = re.compile(rb"event=upgrade from=(\S+) to=(\S+) children=(\d+) ms=(\d+)")
EXEC_TARGET_MS, ANSWER_TARGET_MS = 200, 250


class StatusPoller(threading.Thread):
    """`pools` every interval s: (sent, answered or None) per query."""

    def __init__(self, port, interval=0.01):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.log, self.failures = [], 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t = time.monotonic()
            ok = self.ask()
            self.log.append((t, time.monotonic() if ok else None))
            self.done.wait(max(0.0, t + self.interval - time.monotonic()))

    def ask(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                s.sendall(b"pools\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            if data.endswith(b"\r\n"):
                return True
        except OSError:
            pass
        self.failures += 1
        return False

    def around(self, t0, t1):
        """Longest gap between answers and slowest answer, ms, for the
        queries sent from just before t0 to t1 and the first one after."""
        sent = [q for q in self.log if t0 - 0.05 <= q[0] <= t1 + 0.05]
        ends = sorted(e for _, e in sent if e is not None)
        gap = max((b - a for a, b in zip(ends, ends[1:])), default=0.0)
        slow = max(((e if e is not None else time.monotonic()) - s
                    for s, e in sent), default=0.0)
        return gap * 1000, slow * 1000

    def stop(self):
        self.done.set()
        self.join(15)


def install(src_dir, bindir):
    """Both binaries of a build into bindir, each by rename."""
    for name in NAMES:
        tmp = os.path.join(bindir, f".{name}.new")
        shutil.copy2(os.path.join(src_dir, name), tmp)
        os.rename(tmp, os.path.join(bindir, name))


def workers_by_version(m):
    out = {}
    for ln in m.query("version").split("\r\n"):
        f = ln.split()
        if len(f) == 3 and f[0] == "workers":
            out[f[1]] = int(f[2])
    return out


class UpgradeFigures:
    """Step upgrade of Bench."""

    def upgrade(self):
        if not os.access(os.path.join(UPGRADE_B, "driveshaft"), os.X_OK):
            raise RuntimeError(f"{UPGRADE_B} missing: run make bench")
        builds = {"a": os.path.dirname(MASTER), "b": UPGRADE_B}
        for n in P["upgrade"]:
            self.upgrade_n(n, builds)

    def upgrade_n(self, n, builds):
        bindir = os.path.join(self.tmp, f"upgrade-bin-{n}")
        os.makedirs(bindir, exist_ok=True)
        shutil.copy2(WORKER, os.path.join(bindir, "driveshaft-worker"))
        shutil.copy2(MASTER, os.path.join(bindir, "driveshaft"))
        pool = {"worker_count": n, "jobs_list": ["BenchUp"],
                "job_processing_uri": self.nginx.uri("/ok")}
        m = Master(self.tmp, f"upgrade{n}", self.gm, {"Up": pool},
                   binary=os.path.join(bindir, "driveshaft"))
        poller = StatusPoller(m.status_port)
        rounds = []
        try:
            self.gm.wait_workers("BenchUp", n, 300)
            wait_for(lambda: m.query("threads").count("Waiting for work") == n,
                     120, "all waiting", step=0.05)
            poller.start()
            side = "a"
            for _ in range(P["upgrade_rounds"]):
                side = "b" if side == "a" else "a"
                rounds.append(self.upgrade_round(m, n, builds[side], poller))
        finally:
            poller.stop()
            m.stop(300)
        self.gm.wait_workers("BenchUp", 0, 120)
        self.upgrade_report(n, rounds, poller.failures)

    def upgrade_round(self, m, n, src, poller):
        """One USR2: (ms=, wall ms, gap ms, slowest ms, roll ms)."""
        install(src, os.path.dirname(m.binary))
        with open(m.log.name, "rb") as f:
            before = len(LINE.findall(f.read()))
        t0 = time.monotonic()
        os.kill(m.pid, signal.SIGUSR2)

        def line():
            with open(m.log.name, "rb") as f:
                found = LINE.findall(f.read())
            return found[before] if len(found) > before else None
        got = wait_for(line, 60, "event=upgrade", step=0.002)
        t1 = time.monotonic()
        to = got[1].decode()
        time.sleep(0.1)  # the answers right after the exec count too
        gap, slow = poller.around(t0, t1)
        if not workers_by_version(m):  # a master without the roll
            return int(got[3]), (t1 - t0) * 1000, gap, slow, None
        wait_for(lambda: workers_by_version(m) == {to: n} and
                 m.query("threads").count("\r\n") == n, 600,
                 f"{n} workers on {to}", step=0.05)
        roll = (time.monotonic() - t1) * 1000
        return int(got[3]), (t1 - t0) * 1000, gap, slow, roll

    def upgrade_report(self, n, rounds, failures):
        ms = [r[0] for r in rounds]
        wall = [r[1] for r in rounds]
        gap = max(r[2] for r in rounds)
        slow = max(r[3] for r in rounds)
        rolls = [r[4] for r in rounds if r[4] is not None]
        roll = statistics.median(rolls) if rolls else None
        key = f"upgrade_{n}"
        self.put(f"{key}_exec_ms", '"' + " ".join(str(x) for x in ms) + '"')
        self.put(f"{key}_exec_max_ms", max(ms))
        self.put(f"{key}_usr2_to_line_max_ms", round(max(wall)))
        self.put(f"{key}_status_gap_max_ms", round(gap))
        self.put(f"{key}_status_slowest_ms", round(slow))
        self.put(f"{key}_status_failures", failures)
        self.put(f"{key}_roll_ms", round(roll) if rolls else '"no roll"')
        big = n >= 2000
        self.row(f"upgrade, {n} workers: USR2 to event=upgrade, ms= (max of "
                 f"{len(ms)})", str(max(ms)), "-", f"wall {max(wall):.0f} ms",
                 self.met(max(ms) <= EXEC_TARGET_MS, f"<= {EXEC_TARGET_MS} ms")
                 if big else "")
        self.row(f"upgrade, {n} workers: status answers, longest gap / "
                 "slowest, ms", f"{gap:.0f}", "-", f"slowest {slow:.0f}, "
                 f"{failures} failed",
                 self.met(slow <= ANSWER_TARGET_MS and not failures,
                          f"<= {ANSWER_TARGET_MS} ms") if big else "")
        self.row(f"upgrade, {n} workers: roll to the new binary, ms (median)",
                 f"{roll:.0f}" if rolls else "no roll", "-", "", "")

    @staticmethod
    def met(ok, target):
        return f"{target}: {'met' if ok else 'MISSED'}"
