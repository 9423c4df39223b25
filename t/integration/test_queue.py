"""The queue view against a real gearmand (issue 10): pools sized by their
backlog grow under load and shrink after the cool-down, the metrics show
gearmand's queues and whether each server answers, a HUP switches a pool
between fixed and queue-driven touching no more workers than the bounds
need, and workers that no longer get jobs are found and replaced. Each
test prints the figures it measured."""
import json
import os
import re
import signal
import subprocess
import time

import tcpproxy
from harness import (GMCLIENT, MASTER, Gearmand, MasterTestCase, children_of,
                     free_port, is_monitor, pool_pids, port_open, status, threads,
                     voluntary_switches, wait_for)


def write_jobs(path, servers, pools, **top):
    doc = {"gearman_servers_list": servers, "pools_list": {}}
    doc.update(top)
    for name, p in pools.items():
        d = dict(p)
        d["job_processing_uri"] = d.pop("uri")
        doc["pools_list"][name] = d
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)


def pools_row(port, name):
    for line in status(port, "pools").split("\r\n"):
        cols = line.split("\t")
        if cols[0] == name:
            # the numeric columns; the workers by version come after them
            return [cols[0]] + [int(c) for c in cols[1:12]]
    return None


def metric(port, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in status(port, "metrics").splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return None


class Client:
    """gmclient in the background: foreground jobs, every answer counted."""

    def __init__(self, test, server, lines, timeout=60):
        self.p = subprocess.Popen([GMCLIENT, "-s", server, "-t", str(timeout)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        test.procs.append(self.p)
        self.p.stdin.write("".join(f"{fn}\t{w}\n" for fn, w in lines))
        self.p.stdin.close()

    def results(self, timeout=90):
        out = self.p.stdout.read()
        rc = self.p.wait(timeout)
        return rc, [ln.split("\t")[1] for ln in out.splitlines()]


class QueueTest(MasterTestCase):

    def start(self, pools, servers=None, loop_timeout="1", **top):
        self.config = os.path.join(self.tmp, "jobs.json")
        self.servers = servers or [self.gearmand.server]
        self.top = top
        write_jobs(self.config, self.servers, pools, **top)
        self.status_port = free_port()
        self.master = self.spawn([MASTER, "--jobsconfig", self.config,
                                  "--loop_timeout", loop_timeout, "--status_port",
                                  str(self.status_port)], "master.log",
                                 start_new_session=True)
        wait_for(lambda: port_open(self.status_port) or
                 self.master.poll() is not None, 10, "status port")
        return self.master

    def rehup(self, pools):
        write_jobs(self.config, self.servers, pools, **self.top)
        self.master.send_signal(signal.SIGHUP)

    def size(self, pool):
        return pools_row(self.status_port, pool)[9]  # target column

    def ready(self, pool):
        return sum(1 for r in threads(self.status_port)
                   if r[1] == pool and r[3] == "Waiting for work")

    def scale_lines(self):
        return [ln for ln in self.master_log().splitlines()
                if "event=pool_scale" in ln]

    def queue_pool(self, ep, lo=1, hi=6, down=2, path="/slow/700"):
        return {"Q": {"min_workers": lo, "max_workers": hi,
                      "scale_down_after": down, "jobs_list": ["QSum"],
                      "uri": f"http://127.0.0.1:{ep.port}{path}"}}

    def test_growth_under_backlog(self):
        ep = self.endpoint()
        self.start(self.queue_pool(ep), queue_poll_interval=0.5)
        wait_for(lambda: self.ready("Q") == 1, 10, "the pool at its minimum")
        self.assertEqual(pools_row(self.status_port, "Q")[9:], [1, 1, 6])
        t0 = time.monotonic()
        client = Client(self, self.gearmand.server, [("QSum", f"{i} 1")
                                                     for i in range(30)])
        wait_for(lambda: self.size("Q") == 6, 15, "the pool at max_workers")
        grown = time.monotonic() - t0
        wait_for(lambda: self.ready("Q") + sum(
            1 for r in threads(self.status_port)
            if r[1] == "Q" and r[3].startswith("job_handle=")) == 6, 10,
            "six workers running")
        rc, res = client.results()
        took = time.monotonic() - t0
        self.assertEqual((rc, res), (0, ["OK"] * 30))
        lines = self.scale_lines()
        print(f"\n  growth: 1 -> 6 workers in {grown:.2f}s, 30 jobs of "
              f"0.7s in {took:.2f}s; {len(lines)} changes:")
        for ln in lines:
            print("   ", ln.split(": ", 1)[-1][:150])
        steps = [(int(re.search(r"from=(\d+)", ln)[1]),
                  int(re.search(r"to=(\d+)", ln)[1])) for ln in lines]
        self.assertTrue(all("reason=backlog" in ln for ln in lines), lines)
        self.assertLessEqual(max(b - a for a, b in steps), 4, steps)
        self.assertEqual(steps[-1][1], 6)
        # 30 jobs of 0.7 s on one worker would take 21 s
        self.assertLess(took, 12)

    def test_shrink_after_cooldown(self):
        ep = self.endpoint()
        self.start(self.queue_pool(ep, hi=5, down=2.5, path="/slow/300"),
                   queue_poll_interval=0.5)
        wait_for(lambda: self.ready("Q") == 1, 10, "the pool at its minimum")
        rc, res = Client(self, self.gearmand.server,
                         [("QSum", "1 1")] * 40).results()
        self.assertEqual((rc, set(res)), (0, {"OK"}))
        t_empty = time.monotonic()
        peak = self.size("Q")
        self.assertGreater(peak, 1)
        # nothing retired within the cool-down
        time.sleep(1.5)
        self.assertEqual(self.size("Q"), peak)
        wait_for(lambda: self.size("Q") == 1, 15, "back to min_workers")
        back = time.monotonic() - t_empty
        wait_for(lambda: len(pool_pids(self.status_port, "Q")) == 1 and
                 len(children_of(self.master.pid)) == 1, 10,
                 "the retired workers gone")
        shrinks = [ln for ln in self.scale_lines() if "reason=idle" in ln]
        print(f"\n  shrink: {peak} -> 1 worker {back:.2f}s after the queue "
              f"emptied (cool-down 2.5s), {len(shrinks)} steps of one")
        self.assertEqual(len(shrinks), peak - 1)
        self.assertTrue(all(int(re.search(r"from=(\d+)", ln)[1]) -
                            int(re.search(r"to=(\d+)", ln)[1]) == 1
                            for ln in shrinks))
        # the backlog was 0 while the last jobs (0.3 s) still ran
        self.assertGreaterEqual(back, 2.5 - 0.5)

    def test_metrics_and_a_server_going_down_and_back(self):
        ep = self.endpoint()
        self.start({"F": {"worker_count": 1, "jobs_list": ["FSum", "FOther"],
                          "uri": f"http://127.0.0.1:{ep.port}/sum"}},
                   queue_poll_interval=0.3)
        wait_for(lambda: self.ready("F") == 1, 10, "worker")
        srv = self.gearmand.server
        wait_for(lambda: metric(self.status_port, "driveshaft_gearman_up",
                                server=srv) == 1, 10, "gearman_up 1")
        wait_for(lambda: metric(self.status_port,
                                "driveshaft_gearman_available_workers",
                                server=srv, function="FSum") == 1, 10,
                 "available_workers 1")
        self.assertEqual(metric(self.status_port, "driveshaft_gearman_queue_jobs",
                                server=srv, function="FSum"), 0)
        port = self.gearmand.port
        self.gearmand.stop()
        wait_for(lambda: metric(self.status_port, "driveshaft_gearman_up",
                                server=srv) == 0, 10, "gearman_up 0")
        self.assertIsNone(metric(self.status_port, "driveshaft_gearman_queue_jobs",
                                 server=srv, function="FSum"))
        time.sleep(1.5)  # several rounds with the server down
        self.gearmand = Gearmand(self.tmp, port).start()
        wait_for(lambda: metric(self.status_port, "driveshaft_gearman_up",
                                server=srv) == 1, 10, "gearman_up 1 again")
        log = self.master_log()
        self.assertEqual(log.count("event=gearman_server_down"), 1, log)
        self.assertEqual(log.count("event=gearman_server_up"), 1, log)
        print("\n  " + [ln for ln in log.splitlines()
                        if "gearman_server_down" in ln][0].split(": ", 1)[-1])

    def test_hup_switches_fixed_and_queue_driven(self):
        ep = self.endpoint()
        u = f"http://127.0.0.1:{ep.port}/sum"
        self.start({"H": {"worker_count": 3, "jobs_list": ["HSum"], "uri": u}},
                   queue_poll_interval=0.5)
        wait_for(lambda: self.ready("H") == 3, 10, "three workers")
        before = pool_pids(self.status_port, "H")
        # fixed 3 -> queue 1..5: 3 is within the bounds, nobody moves
        self.rehup({"H": {"min_workers": 1, "max_workers": 5,
                          "scale_down_after": 60, "jobs_list": ["HSum"], "uri": u}})
        wait_for(lambda: "event=reload generation=2" in self.master_log(), 10,
                 "reload")
        time.sleep(1)
        self.assertEqual(pool_pids(self.status_port, "H"), before)
        self.assertEqual(pools_row(self.status_port, "H")[9:], [3, 1, 5])
        # queue 1..5 -> queue 4..8: raised to the new minimum, the three kept
        self.rehup({"H": {"min_workers": 4, "max_workers": 8,
                          "jobs_list": ["HSum"], "uri": u}})
        wait_for(lambda: self.ready("H") == 4, 10, "four workers")
        self.assertTrue(set(before) <= set(pool_pids(self.status_port, "H")))
        # queue -> fixed 2: two idle ones stopped, two kept
        self.rehup({"H": {"worker_count": 2, "jobs_list": ["HSum"], "uri": u}})
        wait_for(lambda: len(pool_pids(self.status_port, "H")) == 2, 10,
                 "two workers")
        self.assertEqual(pools_row(self.status_port, "H")[1], 2)
        self.assertEqual(pools_row(self.status_port, "H")[9:], [2, 2, 2])
        kept = pool_pids(self.status_port, "H")
        print(f"\n  HUP: fixed 3 -> 1..5 kept {before}; -> 4..8 -> fixed 2 "
              f"kept {kept}")

    def test_stuck_workers_are_replaced(self):
        """Workers whose gearmand connection went silent (a proxy that
        stops forwarding, as a NAT dropping the flow would) sit idle while
        jobs wait: they are found and replaced. Without the check these
        jobs never run. A worker checks an idle connection itself after
        loop_timeout: a long one leaves the silence to stuck detection."""
        ep = self.endpoint()
        proxy = tcpproxy.Proxy(self.gearmand.port).start()
        self.addCleanup(proxy.stop)
        self.start({"S": {"worker_count": 2, "jobs_list": ["SSum"],
                          "uri": f"http://127.0.0.1:{ep.port}/sum"}},
                   servers=[f"127.0.0.1:{proxy.port}"],
                   queue_poll_interval=0.3, stuck_after=2, loop_timeout="30")
        wait_for(lambda: self.ready("S") == 2, 10, "two workers")
        self.wait_registered("SSum", 2)
        old = pool_pids(self.status_port, "S")
        self.assertGreaterEqual(proxy.freeze(), 2)
        t0 = time.monotonic()
        # straight to gearmand, not through the proxy
        client = Client(self, self.gearmand.server,
                        [("SSum", f"{i} 1") for i in range(5)])
        rc, res = client.results()
        took = time.monotonic() - t0
        self.assertEqual((rc, res), (0, ["OK"] * 5))
        log = self.master_log()
        stuck = [ln for ln in log.splitlines() if "event=stuck_workers" in ln]
        self.assertEqual(len(stuck), 1, log)
        self.assertIn("function=SSum", stuck[0])
        self.assertIn("replaced=2", stuck[0])
        for pid in old:
            self.assertIn(str(pid), stuck[0])
        wait_for(lambda: len(set(pool_pids(self.status_port, "S")) - set(old))
                 == 2, 10, "two new workers")
        print(f"\n  stuck: 5 jobs answered {took:.2f}s after the freeze "
              f"(stuck_after 2s)\n    " + stuck[0].split(": ", 1)[-1])

    def test_a_round_wakes_the_master_once(self):
        """The monitor's rows reach the master in one batch a round: an
        idle master wakes once per queue_poll_interval, however slow the
        monitor is between rows (strace slows it here)."""
        ep = self.endpoint()
        u = f"http://127.0.0.1:{ep.port}/sum"
        self.start({n: {"worker_count": 2, "jobs_list": [n + "1", n + "2"], "uri": u}
                    for n in "DEF"}, queue_poll_interval=0.25)
        wait_for(lambda: sum(self.ready(n) for n in "DEF") == 6, 10, "six workers")
        mon = wait_for(lambda: next((p for p in children_of(self.master.pid, monitor=True)
                                     if is_monitor(p)), None), 10, "the monitor")
        trace = os.path.join(self.tmp, "monitor.strace")
        st = subprocess.Popen(["strace", "-qq", "-e", "trace=sendto,sendmsg,sendmmsg",
                               "-o", trace, "-p", str(mon)], stderr=subprocess.DEVNULL)
        try:
            def sends():  # to the master: not the admin request to gearmand
                with open(trace) as f:
                    return [ln for ln in f if ln.startswith("send") and
                            "status\\nworkers" not in ln]
            wait_for(lambda: os.path.exists(trace) and sends(), 10, "strace attached")
            first, sw0 = len(sends()), voluntary_switches(self.master.pid)
            wait_for(lambda: len(sends()) >= first + 12, 15, "12 rounds or more sends")
            sw1, lines = voluntary_switches(self.master.pid), sends()[first:]
        finally:
            st.terminate()
            st.wait()
        # a call strace was detached in the middle of has no result
        lines = [ln for ln in lines if ln.rsplit("=", 1)[-1].strip().isdigit()]
        kinds = {ln.split("(")[0] for ln in lines}
        self.assertEqual(kinds, {"sendmmsg"}, lines[:3])
        # a round: one Q_SERVER, six Q_FUNC, six Q_WORKER and the Q_ROUND
        counts = [int(ln.rsplit("=", 1)[1]) for ln in lines]
        self.assertEqual(set(counts), {14}, lines[:3])
        rounds = len(lines)
        print(f"\n  {rounds} rounds of 14 rows: {rounds} sendmmsg, the master "
              f"woke {sw1 - sw0} times")
        # once a round; a batch the master drains faster than it arrives
        # may cost a second wake-up, never one per row (14)
        self.assertLessEqual(sw1 - sw0, 2 * rounds + 2)

    def test_descriptor_table_sized_before_the_workers_start(self):
        # the table grows by doubling as workers' sockets and pages open,
        # each growth a wait of the loop (an RCU grace period, the master
        # having threads); so it is grown once, to what max_workers will
        # need (2 a worker, a spare, 288 for the master), before any start
        # and again on a HUP that raises it
        def fdsize():
            with open(f"/proc/{self.master.pid}/status") as f:
                return int(re.search(r"^FDSize:\s+(\d+)", f.read(), re.M)[1])

        ep = self.endpoint()
        self.start(self.queue_pool(ep, lo=1, hi=1000), queue_poll_interval=0.5)
        wait_for(lambda: self.ready("Q") == 1, 10, "the pool at its minimum")
        self.assertGreaterEqual(fdsize(), 2 * 1001 + 288)
        self.rehup(self.queue_pool(ep, lo=1, hi=2000))
        wait_for(lambda: "event=reload " in self.master_log(), 10, "the reload")
        self.assertGreaterEqual(fdsize(), 2 * 2001 + 288)
        self.assertEqual(self.ready("Q"), 1)

    def test_monitor_is_a_supervised_child(self):
        ep = self.endpoint()
        self.start({"M": {"worker_count": 1, "jobs_list": ["MSum"],
                          "uri": f"http://127.0.0.1:{ep.port}/sum"}},
                   queue_poll_interval=0.5)
        wait_for(lambda: "event=monitor_start pid=" in self.master_log(), 10,
                 "monitor")

        def monitor_pid():
            for pid in children_of(self.master.pid, monitor=True):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        title = f.read()
                except OSError:  # it went between the listing and the read
                    continue
                if title.startswith(b"driveshaft-worker: queue monitor"):
                    return pid
            return None
        first = wait_for(monitor_pid, 10, "the monitor's process title")
        self.assertNotIn(first, [r[0] for r in threads(self.status_port)])
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: monitor_pid() not in (None, first), 10,
                 "a new monitor")
        self.assertIn("event=monitor_exit pid=%d" % first, self.master_log())
        # off on HUP: it goes, and nothing starts it again
        write_jobs(self.config, self.servers, {"M": {
            "worker_count": 1, "jobs_list": ["MSum"],
            "uri": f"http://127.0.0.1:{ep.port}/sum"}}, queue_poll_interval=0)
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: monitor_pid() is None, 10, "no monitor")
        time.sleep(1)
        self.assertIsNone(monitor_pid())
