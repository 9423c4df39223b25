"""Dead hosts are noticed: workers in one network namespace, gearmand A
beside them and gearmand B in another namespace behind a veth link. B's
side of the link goes down while the workers are connected to it (a host
gone without a FIN): jobs through A keep running, and B is served again
once the link is back. The workers' connections to B carry TCP keepalive
(ss shows its timer). Needs root and ip netns."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import GEARMAND, GMCLIENT, MASTER, TOP, free_port, wait_for

sys.path.insert(0, os.path.join(TOP, "t", "multihost"))
import netns  # noqa: E402
import endpoint  # noqa: E402

WORKERS = 2


class HungNetnsTest(unittest.TestCase):

    def setUp(self):
        why = netns.available()
        if why:
            self.skipTest(why)
        self._tmp = tempfile.TemporaryDirectory(prefix="ds-netns-")
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        self.net = netns.Net(tag=f"dshung{os.getpid()}")
        self.addCleanup(self.net.cleanup)
        self.net.machine("host")
        self.net.machine("gmb")
        _, self.ip_b = self.net.link("host", "gmb")
        self.ep = endpoint.UnixServer(os.path.join(self.tmp, "ep.sock")).start()
        self.addCleanup(self.ep.stop)
        self.a = f"127.0.0.1:{free_port()}"
        self.b = f"{self.ip_b}:{free_port()}"
        self.gearmand("host", self.a)
        self.gearmand("gmb", self.b)

    def gearmand(self, machine, server):
        host, port = server.split(":")
        p = subprocess.Popen(self.net.argv(
            machine, GEARMAND, "-L", host, "-p", port, "-t", "2",
            f"--log-file={self.tmp}/gearmand-{machine}.log"),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        wait_for(lambda: self.registered(machine, server, "") is not None,
                 10, f"gearmand {server}")

    def registered(self, machine, server, fn):
        """How many workers registered fn at server; None: no answer."""
        host, port = server.split(":")
        p = subprocess.run(self.net.argv(machine, "gearadmin", "-h", host,
                                         "-p", port, "--workers"),
                           capture_output=True, text=True, timeout=10)
        if p.returncode != 0 or not p.stdout.endswith(".\n"):
            return None
        return sum(1 for ln in p.stdout.splitlines()
                   if fn and fn in ln.split(":")[-1].split())

    def start_master(self):
        cfg = os.path.join(self.tmp, "jobs.json")
        with open(cfg, "w") as f:
            json.dump({"gearman_servers_list": [self.a, self.b],
                       "queue_poll_interval": 0,
                       "pools_list": {"N": {
                           "worker_count": WORKERS, "jobs_list": ["NSum"],
                           "job_processing_uri": "http://localhost/sum",
                           "unix_socket": self.ep.path}}}, f)
        self.log = os.path.join(self.tmp, "master.log")
        with open(self.log, "wb") as out:
            m = subprocess.Popen(self.net.argv(
                "host", MASTER, "--jobsconfig", cfg, "--loop_timeout", "1"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.addCleanup(m.wait)
        self.addCleanup(lambda: os.killpg(m.pid, signal.SIGKILL))
        for machine, server in (("host", self.a), ("gmb", self.b)):
            wait_for(lambda: self.registered(machine, server, "NSum") ==
                     WORKERS, 15, f"{WORKERS} workers at {server}")

    def master_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def submit(self, machine, server, base, n, within):
        """n jobs through server, run from machine: all answered right
        within `within` seconds. Returns how long they took."""
        lines = "".join(f"NSum\thex:{f'{base + i} 1'.encode().hex()}\n"
                        for i in range(n))
        t0 = time.monotonic()
        p = subprocess.run(self.net.argv(machine, GMCLIENT, "-s", server,
                                         "-t", str(within)),
                           input=lines, capture_output=True, text=True,
                           timeout=within + 30)
        took = time.monotonic() - t0
        got = [ln.split("\t")[1:] for ln in p.stdout.splitlines()]
        want = [["OK", str(base + i + 1).encode().hex()] for i in range(n)]
        self.assertEqual((p.returncode, got), (0, want), p.stderr)
        self.assertLess(took, within)
        return took

    def keepalive_to_b(self):
        out = subprocess.run(
            self.net.argv("host", "ss", "-tno", "state", "established",
                          "dst", self.ip_b), capture_output=True,
            text=True).stdout
        return out.count("timer:(keepalive")

    def set_b_link(self, up):
        dev = self.net.links[("host", "gmb")][1]
        netns.run("ip", "-n", self.net.ns["gmb"], "link", "set", dev,
                  "up" if up else "down")

    def test_b_link_down_then_back(self):
        self.start_master()
        # a socket shows one timer: a moment of data in flight shows the
        # retransmit timer instead, so wait for a quiet moment
        wait_for(lambda: self.keepalive_to_b() == WORKERS, 10,
                 f"keepalive on the {WORKERS} connections to B")
        self.submit("host", self.a, 0, 5, 10)
        self.submit("gmb", self.b, 100, 5, 10)
        self.set_b_link(False)
        took = self.submit("host", self.a, 200, 20, 10)
        wait_for(lambda: self.master_log().count(
            f"server={self.b} ") >= WORKERS, 15, "B dropped by each worker")
        self.set_b_link(True)
        wait_for(lambda: self.master_log().count(
            f"event=gearman_conn_up pool=N") >= WORKERS, 20,
            "B reconnected by each worker")
        wait_for(lambda: self.registered("gmb", self.b, "NSum") == WORKERS,
                 15, "workers registered at B again")
        self.submit("gmb", self.b, 300, 5, 10)
        self.assertEqual(len(self.ep.requests), 35)
        print(f"\n  B's link down: 20 jobs through A in {took:.2f}s; B "
              f"reconnected after the link came back")


if __name__ == "__main__":
    unittest.main()
