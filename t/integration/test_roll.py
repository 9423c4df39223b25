"""Rolling the workers to the master's version (master/roll.c), with a
real gearmand, a real endpoint and real workers: a worker binary that says
another version (the Makefile's other-version worker, built from the same
objects with only worker/version.c compiled again) shows on the status
port, a roll that cannot help stalls once and respawns nothing, and once
the binary on disk is the master's own, a HUP rolls the pool under load
with every job answered once, none failed, and the pool never short of
its workers."""
import os
import re
import shutil
import signal
import threading
import time

from harness import (BUILD, WORKER, MasterTestCase, scaled, status, submit,
                     wait_for)

OTHER = os.path.join(BUILD, "t", "other-version", "driveshaft-worker")
OTHER_VERSION = "9.9.9-test"
# the pool's size; DS_ROLL_N=100 measures a larger roll
N = int(os.environ.get("DS_ROLL_N", "4"))


def version_of(binary):
    """The version a worker binary writes into its page, as its only
    string of that form beside the master's."""
    with open(binary, "rb") as f:
        data = f.read()
    return OTHER_VERSION if OTHER_VERSION.encode() + b"\0" in data else None


def install(src, dst):
    """Puts src at dst the way a package does: a new file renamed over the
    old one, so that running workers keep the old binary."""
    tmp = dst + ".new"
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


class Load:
    """A client that keeps submitting small batches (sums and a few slow
    jobs) until stopped, checking each job's one answer."""

    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.sent = self.wrong = 0
        self.errors = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        i = 0
        while not self.stop.is_set():
            jobs, want = [], []
            for k in range(8):
                if k % 4 == 3:
                    jobs.append(("SumR", "!slow:40"))
                    want.append(("OK", b"slept"))
                else:
                    jobs.append(("SumR", f"{i} 1"))
                    want.append(("OK", str(i + 1).encode()))
                i += 1
            try:
                got = submit(self.server, jobs, timeout=60)
            except AssertionError as e:  # a job without one answer
                self.errors.append(str(e))
                return
            self.sent += len(jobs)
            self.wrong += sum(1 for g, w in zip(got, want) if g != w)

    def finish(self):
        self.stop.set()
        self.t.join(scaled(90))


class Poller:
    """Reads `pools` every 50 ms: the least workers in the pool's slots
    that are up (busy or idle), and any reply that is not one."""

    def __init__(self, port):
        self.port = port
        self.least = None
        self.samples = 0
        self.errors = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            try:
                row = status(self.port, "pools").split("\r\n")[0].split("\t")
                up = int(row[3]) + int(row[4])
                self.least = up if self.least is None else min(self.least, up)
                self.samples += 1
            except (OSError, ValueError, IndexError) as e:
                self.errors.append(repr(e))
            self.stop.wait(0.05)

    def finish(self):
        self.stop.set()
        self.t.join(10)


class RollTest(MasterTestCase):

    def setUp(self):
        super().setUp()
        self.assertEqual(version_of(OTHER), OTHER_VERSION,
                         f"{OTHER} is built by make all")
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        self.worker_path = os.path.join(self.bin, "driveshaft-worker")
        install(OTHER, self.worker_path)
        ep = self.endpoint()
        self.start_master({"R": {"worker_count": N, "jobs_list": ["SumR"],
                                 "uri": f"http://127.0.0.1:{ep.port}/mux"}},
                          "--worker", self.worker_path)
        self.master_version = status(self.status_port, "version") \
            .split("\r\n")[0].split(" ")[1]

    def count(self, event):
        return len(re.findall(rf"event={event}\b", self.master_log()))

    def worker_lines(self):
        """The `workers VERSION N` lines of the version reply."""
        return [ln for ln in status(self.status_port, "version").split("\r\n")
                if ln.startswith("workers ")]

    def test_versions_shown_stall_then_roll_under_load(self):
        port = self.status_port
        # the spare from the same binary says the same as the workers it
        # should replace: one stall, and the spare leaves
        wait_for(lambda: f"event=roll_stalled pool=R version={OTHER_VERSION}\n"
                 in self.master_log(), scaled(15), "roll_stalled")
        # then the workers say the version of the binary they run
        wait_for(lambda: self.worker_lines() == [f"workers {OTHER_VERSION} {N}"],
                 scaled(10), "the workers' version in the version reply, "
                 "the stalled roll's spare gone")
        reply = status(port, "version").split("\r\n")
        self.assertEqual(reply[0], f"driveshaft {self.master_version}")
        self.assertEqual(reply[-2], "upgrades 0 failed 0")
        metrics = status(port, "metrics")
        self.assertIn(f'driveshaft_workers_by_version{{version="{OTHER_VERSION}"}} {N}\n',
                      metrics)
        self.assertIn('driveshaft_upgrades_total{result="done"} 0\n', metrics)
        self.assertIn('driveshaft_upgrades_total{result="failed"} 0\n', metrics)
        starts = self.count("child_start")
        self.assertEqual(starts, N + 1, "the slots' workers and one spare")
        # no respawn: 50 looks of the roll (20 ms apart) pass, nothing starts
        deadline = time.monotonic() + scaled(1)
        while time.monotonic() < deadline:
            self.assertEqual(self.count("child_start"), starts, "a spare again")
            time.sleep(0.05)
        self.assertEqual(self.count("roll_stalled"), 1)
        self.assertEqual(self.count("roll_start"), 1)
        pools = status(port, "pools").split("\r\n")[0].split("\t")
        self.assertEqual(pools[12], f"{OTHER_VERSION}:{N}")

        # the master's own worker binary on disk, then a HUP, under load
        install(WORKER, self.worker_path)
        load = Load(self.gearmand.server)
        poller = Poller(port)
        wait_for(lambda: load.sent >= 16, scaled(20), "load running")
        t0 = time.monotonic()
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=roll_done pool=R" in self.master_log(),
                 scaled(60), "roll_done")
        rolled_s = time.monotonic() - t0
        wait_for(lambda: self.worker_lines() == [f"workers {self.master_version} {N}"],
                 scaled(15), "every worker on the master's version")
        time.sleep(0.2)  # a few more polls and jobs after the roll
        poller.finish()
        load.finish()
        log = self.master_log()
        self.assertEqual(load.errors, [], "every job answered exactly once")
        self.assertEqual(load.wrong, 0, "no job failed or answered wrong")
        self.assertGreater(load.sent, 0)
        self.assertEqual(poller.errors, [])
        self.assertGreater(poller.samples, 5)
        self.assertGreaterEqual(poller.least, N, "the pool's up workers never "
                                "fell below its size")
        m = re.search(r"event=roll_done pool=R workers=(\d+) ms=(\d+)", log)
        self.assertEqual(int(m.group(1)), N, log[-3000:])
        self.assertEqual(self.count("roll_replace"), N)
        self.assertIn(f"event=roll_start pool=R from={OTHER_VERSION} "
                      f"to={self.master_version} workers={N}", log)
        self.assertNotIn("event=child_kill", log)
        self.assertEqual(self.count("roll_stalled"), 1)
        pools = status(port, "pools").split("\r\n")[0].split("\t")
        self.assertEqual(pools[12], f"{self.master_version}:{N}")
        self.assertIn(f'driveshaft_workers_by_version{{version="{self.master_version}"}} {N}\n',
                      status(port, "metrics"))
        self.assertNotIn(OTHER_VERSION, status(port, "metrics"))
        # a clean stop: under ASan its leak check, and the workers' own
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(scaled(30)), 0)
        log = self.master_log()
        for bad in ("Sanitizer", "runtime error"):
            self.assertNotIn(bad, log)
        print(f"\n  roll of {N} workers: {m.group(2)} ms by the master, "
              f"{rolled_s:.2f} s from HUP; {load.sent} jobs; "
              f"{poller.samples} polls, least up {poller.least}", end="")


if __name__ == "__main__":
    import unittest
    unittest.main()
