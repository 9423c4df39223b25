"""driveshaft, the master, with its real workers, a real gearmand and real
endpoints: pools, supervision, reload, shutdown and daemon hygiene."""
import os
import pwd
import shutil
import signal
import subprocess
import time

from harness import (open_fds, MASTER, WORKER, Background, MasterTestCase, alive, children_of,
                     pool_pids, submit, threads, voluntary_switches, wait_for, write_config)


def sum_jobs(fn, n, base=0):
    jobs = [(fn, f"{i + base} 1") for i in range(n)]
    return jobs, [("OK", str(i + base + 1).encode()) for i in range(n)]


class MasterTest(MasterTestCase):

    def three_pools(self, ep, **counts):
        u = f"http://127.0.0.1:{ep.port}"
        return {
            "A": {"worker_count": counts.get("A", 2), "jobs_list": ["SumA"], "uri": u + "/mux"},
            "B": {"worker_count": counts.get("B", 1), "jobs_list": ["SumB", "SumB2"],
                  "uri": u + "/sum", "request_format": "form"},
            "C": {"worker_count": counts.get("C", 1), "jobs_list": ["MuxC"], "uri": u + "/mux"},
        }

    def test_three_pools_and_kill9_mid_job(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep))
        for fn in ("SumA", "SumB", "SumB2", "MuxC"):
            jobs, want = sum_jobs(fn, 20)
            self.assertEqual(submit(self.gearmand.server, jobs), want, fn)
        old = pool_pids(self.status_port, "C")
        bg = Background(self, [("MuxC", "!slow:1500")])
        wait_for(lambda: any(r[1] == "C" and r[3].startswith("job_handle=")
                             for r in threads(self.status_port)), 10, "C busy")
        os.kill(old[0], signal.SIGKILL)
        wait_for(lambda: pool_pids(self.status_port, "C") not in ([], old), 10,
                 "a new worker in C's slot")
        rc, res = bg.results()
        self.assertEqual((rc, res), (0, [["OK", b"slept".hex()]]))
        with ep.lock:  # the endpoint saw it twice: killed, then retried
            self.assertEqual(sum(1 for r in ep.requests if r["path"] == "/mux"
                                 and r["req"]["workload"] == b"!slow:1500"), 2)
        self.assertIn(f"pid={old[0]} signal=KILL", self.master_log())

    def test_reload_resizes_only_that_pool(self):
        ep = self.endpoint()
        pools = self.three_pools(ep)
        self.start_master(pools)
        b_pids = pool_pids(self.status_port, "B")
        pools["A"]["worker_count"] = 5
        self.reload(pools)
        wait_for(lambda: len(pool_pids(self.status_port, "A")) == 5, 3, "A at 5")
        # 5 -> 1 with three jobs in hand: idle ones go at once, busy ones
        # finish their job first
        pools["A"]["uri"] += "?v=2"
        self.reload(pools)  # a URI change: A is replaced (drained)
        wait_for(lambda: len(pool_pids(self.status_port, "A", 0)) == 5 and
                 self.ready_workers() == 7, 10, "A replaced")
        bg = Background(self, [("SumA", "!slow:1500")] * 3)
        wait_for(lambda: sum(1 for r in threads(self.status_port)
                             if r[1] == "A" and r[3].startswith("job_handle")) == 3,
                 10, "three A workers busy")
        busy = [r[0] for r in threads(self.status_port) if r[3].startswith("job_handle")]
        pools["A"]["worker_count"] = 1
        self.reload(pools)
        wait_for(lambda: len(pool_pids(self.status_port, "A", 0)) == 1, 3, "A at 1")
        self.assertIn(pool_pids(self.status_port, "A", 0)[0], busy)
        # two busy ones are retired (shutdown 1) until their job ends
        self.assertEqual(sum(1 for r in threads(self.status_port) if r[1] == "A" and
                             r[2] == 1 and r[3].startswith("job_handle")), 2)
        rc, res = bg.results()
        self.assertEqual((rc, res), (0, [["OK", b"slept".hex()]] * 3))
        wait_for(lambda: len(pool_pids(self.status_port, "A")) == 1, 5,
                 "retired workers gone")
        self.assertEqual(pool_pids(self.status_port, "B"), b_pids)
        self.assertIn("resized=A:5->1", self.master_log())

    def test_reload_adds_removes_and_changes_uri(self):
        ep = self.endpoint()
        pools = self.three_pools(ep)
        self.start_master(pools)
        a_pids = pool_pids(self.status_port, "A")
        c_pids = pool_pids(self.status_port, "C")
        del pools["C"]
        pools["D"] = {"worker_count": 2, "jobs_list": ["SumD"], "uri": pools["A"]["uri"]}
        pools["B"]["uri"] = pools["B"]["uri"].replace("/sum", "/mux")
        self.reload(pools)
        wait_for(lambda: not any(alive(p) for p in c_pids), 5, "C's worker gone")
        wait_for(lambda: len(pool_pids(self.status_port, "D", 0)) == 2 and
                 self.ready_workers() == 5, 10, "D started, B replaced")
        self.assertEqual(pool_pids(self.status_port, "A"), a_pids)
        self.assertNotIn("C", {r[1] for r in threads(self.status_port)})
        jobs, want = sum_jobs("SumD", 10)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        n = len(ep.requests)
        self.assertEqual(submit(self.gearmand.server, [("SumB", "2 2")]), [("OK", b"4")])
        with ep.lock:
            self.assertEqual(ep.requests[n]["path"], "/mux")
        self.assertIn("added=D removed=C replaced=B", self.master_log())

    def test_invalid_config_on_hup_keeps_everything(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep))
        before = sorted(r[0] for r in threads(self.status_port))
        with open(self.config, "w") as f:
            f.write('{"gearman_servers_list": [], "pools_list": {')
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=reload_failed" in self.master_log(), 5, "reload_failed")
        self.assertIn("jobs.json:1:", self.master_log())
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)), before)
        jobs, want = sum_jobs("SumA", 10)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        write_config(self.config, [self.gearmand.server],
                     {"A": {"worker_count": "3", "jobs_list": ["SumA"], "uri": "http://x/"}})
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: 'pools_list.A.worker_count: expected integer >= 0, got \\"3\\"'
                 in self.master_log(), 5, "the bad value named in the log")
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)), before)

    def test_50_reloads_under_load(self):
        ep = self.endpoint()
        pools = self.three_pools(ep)
        self.start_master(pools)
        lines = [(fn, f"{i} 1") for i in range(150) for fn in ("SumA", "SumB", "MuxC")]
        bg = Background(self, lines, timeout=120)
        for i in range(50):
            pools["A"]["worker_count"] = 1 + i % 4
            pools["C"]["uri"] = pools["C"]["uri"].split("?")[0] + ("?v=%d" % (i % 2))
            if i % 10 == 5:
                pools["B"]["worker_count"] = 2 - pools["B"]["worker_count"] % 2
            self.reload(pools)
            wait_for(lambda: f"generation={i + 2} " in self.master_log(), 10,
                     f"reload {i + 1} applied")
        rc, res = bg.results(timeout=180)
        self.assertEqual(rc, 0)
        want = [["OK", str(i + 1).encode().hex()] for i in range(150) for _ in range(3)]
        self.assertEqual(res, want, self.master_log()[-3000:])
        self.assertTrue(alive(self.master.pid))

    def test_sigterm_answers_jobs_in_flight_and_cleans_up(self):
        ep = self.endpoint()
        pid_file = os.path.join(self.tmp, "ds.pid")
        self.start_master(self.three_pools(ep, A=3), "--pid_file", pid_file)
        with open(pid_file) as f:
            self.assertEqual(int(f.read()), self.master.pid)
        kids = children_of(self.master.pid)
        bg = Background(self, [("MuxC", "!slow:1000"), ("SumA", "!slow:1000")])
        wait_for(lambda: sum(1 for r in threads(self.status_port)
                             if r[3].startswith("job_handle")) == 2, 10, "2 jobs in flight")
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(15), 0)
        rc, res = bg.results()
        self.assertEqual((rc, res), (0, [["OK", b"slept".hex()]] * 2))
        self.assertFalse(os.path.exists(pid_file))
        self.assertEqual([k for k in kids if alive(k)], [])
        self.assertIn("event=stop mode=stop", self.master_log())

    def test_sigterm_gives_a_job_in_hand_two_loop_timeouts(self):
        # 1.7 s: longer than one loop_timeout, shorter than two, so a stop
        # that gave only one would fail it
        ep = self.endpoint()
        self.start_master(self.three_pools(ep))
        bg = Background(self, [("MuxC", "!slow:1700")])
        wait_for(lambda: any(r[3].startswith("job_handle") for r in threads(self.status_port)),
                 10, "the job in flight")
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(15), 0)
        self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))

    def test_job_past_max_running_time_counts_as_timed_out(self):
        ep = self.endpoint()
        pools = {"T": {"worker_count": 1, "jobs_list": ["MuxT"], "max_running_time": 1,
                       "uri": f"http://127.0.0.1:{ep.port}/mux"}}
        self.start_master(pools)
        t0 = time.monotonic()
        self.assertEqual(submit(self.gearmand.server, [("MuxT", "!slow:3000")]),
                         [("FAIL", None)])
        self.assertLess(time.monotonic() - t0, 2.9)
        self.assertEqual(submit(self.gearmand.server, [("MuxT", "1 2")]), [("OK", b"3")])
        from harness import status
        wait_for(lambda: status(self.status_port, "pools").split("\t")[5:9] ==
                 ["1", "0", "1", "0"], 5, "pools: 1 completed, 1 timed out")
        metrics = status(self.status_port, "metrics")
        self.assertIn('driveshaft_jobs_timed_out_total{pool="T",function="MuxT"} 1', metrics)
        self.assertIn('driveshaft_jobs_failed_total{pool="T",function="MuxT"} 0', metrics)
        self.assertIn("outcome=timeout", self.master_log())

    def test_kill9_master_takes_children_down(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep), loop_timeout="2")
        kids = children_of(self.master.pid, monitor=True)
        self.assertEqual(len(kids), 5)  # and the queue monitor
        self.master.kill()
        self.master.wait()
        wait_for(lambda: not any(alive(k) for k in kids), 2 + 2, "children gone")

    def test_crashing_worker_slot_backs_off(self):
        ep = self.endpoint()
        fake = os.path.join(self.tmp, "crash-worker")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nexit 3\n")
        os.chmod(fake, 0o755)
        pools = {"X": {"worker_count": 1, "jobs_list": ["X"], "uri": f"http://127.0.0.1:{ep.port}/"}}
        self.start_master(pools, "--worker", fake, expect_workers=False)
        wait_for(lambda: "quick_deaths=3 delay_ms=2000" in self.master_log(), 10,
                 "backoff doubling")
        log = self.master_log()
        self.assertIn("quick_deaths=2 delay_ms=1000", log)
        self.assertLess(log.index("delay_ms=1000"), log.index("delay_ms=2000"))
        self.assertEqual(log.count("event=child_start"), 3, log)  # no spinning
        from harness import status
        self.assertIn('driveshaft_workers{pool="X",state="backoff"} 1',
                      status(self.status_port, "metrics"))

    def test_stuck_busy_worker_is_killed_and_replaced(self):
        ep = self.endpoint()
        pools = {"S": {"worker_count": 1, "jobs_list": ["MuxS"], "max_running_time": 1,
                       "uri": f"http://127.0.0.1:{ep.port}/mux"}}
        self.start_master(pools)
        old = pool_pids(self.status_port, "S")[0]
        bg = Background(self, [("MuxS", "!slow:20000")])
        wait_for(lambda: len(ep.requests) == 1, 10, "job at the endpoint")
        os.kill(old, signal.SIGSTOP)  # wedged: its own timeout cannot fire
        wait_for(lambda: f"event=child_kill pool=S slot=0 pid={old}" in self.master_log(),
                 10, "master kills the wedged worker")
        rc, res = bg.results()
        self.assertEqual((rc, res), (0, [["FAIL"]]))  # retried, timed out once
        self.assertNotEqual(pool_pids(self.status_port, "S"), [old])

    def test_pid_file_daemonize_and_second_instance(self):
        ep = self.endpoint()
        cfg = os.path.join(self.tmp, "d.json")
        write_config(cfg, [self.gearmand.server], self.three_pools(ep))
        p = subprocess.run([MASTER, "--jobsconfig", cfg, "--daemonize",
                            "--pid_file", "/proc/nope/ds.pid"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--pid_file /proc/nope/ds.pid: No such file or directory", p.stderr)
        pid_file = os.path.join(self.tmp, "ds.pid")
        with open(pid_file, "w") as f:
            f.write("999999\n")  # stale
        from harness import free_port
        port = str(free_port())
        p = subprocess.run([MASTER, "--jobsconfig", cfg, "--daemonize", "--loop_timeout", "1",
                            "--pid_file", pid_file, "--status_port", port],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        with open(pid_file) as f:
            daemon = int(f.read())
        try:
            self.assertTrue(alive(daemon))
            # same port too: the pid file's lock is what it is told about
            p = subprocess.run([MASTER, "--jobsconfig", cfg, "--pid_file", pid_file,
                                "--status_port", port],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2)
            self.assertIn(f"locked by a running driveshaft (pid {daemon})", p.stderr)
            jobs, want = sum_jobs("SumA", 5)
            self.assertEqual(submit(self.gearmand.server, jobs), want)
        finally:
            kids = children_of(daemon, monitor=True)
            os.kill(daemon, signal.SIGTERM)
        wait_for(lambda: not alive(daemon) and not any(alive(k) for k in kids), 10,
                 "daemon and children gone")
        self.assertFalse(os.path.exists(pid_file))

    def test_user_drops_uid_gid_and_groups(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create a user")
        name = "dstestuser"
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        pw = pwd.getpwnam(name)
        ep = self.endpoint()
        # the user must be able to reach the worker binary: a checkout
        # under a private directory may not be
        private = os.path.join(self.tmp, "private")
        public = os.path.join(self.tmp, "public")
        for d, mode in ((private, 0o700), (public, 0o755)):
            os.mkdir(d)
            os.chmod(d, mode)
            shutil.copy(WORKER, d)
        os.chmod(self.tmp, 0o755)
        p = subprocess.run([MASTER, "--jobsconfig", os.path.join(self.tmp, "none.json"),
                            "--user", name, "--worker", private + "/driveshaft-worker"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1)  # no config yet: config errors come first
        write_config(os.path.join(self.tmp, "p.json"), [self.gearmand.server],
                     self.three_pools(ep))
        p = subprocess.run([MASTER, "--jobsconfig", os.path.join(self.tmp, "p.json"),
                            "--user", name, "--worker", private + "/driveshaft-worker"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"cannot run the worker {private}/driveshaft-worker as user {name}: "
                      "Permission denied", p.stderr)
        self.start_master(self.three_pools(ep), "--user", name,
                          "--worker", public + "/driveshaft-worker")
        for pid in [self.master.pid] + children_of(self.master.pid):
            with open(f"/proc/{pid}/status") as f:
                st = dict(ln.split(":", 1) for ln in f.read().splitlines())
            self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4, pid)
            self.assertEqual(st["Gid"].split(), [str(pw.pw_gid)] * 4, pid)
            self.assertEqual(st["Groups"].split(), [str(pw.pw_gid)], pid)
        jobs, want = sum_jobs("SumA", 5)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        p = subprocess.run([MASTER, "--jobsconfig", self.config, "--user", "no-such-user-x"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--user no-such-user-x: no such user", p.stderr)

    def test_process_titles(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep))
        titles = []
        for pid in children_of(self.master.pid, monitor=True):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                titles.append(f.read().split(b"\0")[0].decode())
        self.assertEqual(sorted(titles), [
            "driveshaft-worker: pool=A slot=0", "driveshaft-worker: pool=A slot=1",
            "driveshaft-worker: pool=B slot=0", "driveshaft-worker: pool=C slot=0",
            "driveshaft-worker: queue monitor servers=1"])

    def test_bad_command_lines_and_configs(self):
        def run(*args):
            return subprocess.run([MASTER, *args], capture_output=True, text=True, timeout=10)
        good = os.path.join(self.tmp, "good.json")
        write_config(good, ["127.0.0.1"], {"P": {"worker_count": 1, "jobs_list": ["F"],
                                                 "uri": "http://127.0.0.1/"}})
        for args, msg in [
            ([], "missing --jobsconfig FILE"),
            (["--jobsconfig"], 'option "--jobsconfig" needs a value'),
            (["--jobsconfig", good, "--status_port", "70000"],
             '--status_port: expected a port number from 0 to 65535, got "70000"'),
            (["--jobsconfig=" + good, "--loop_timeout=abc"],
             '--loop_timeout: expected seconds > 0 and <= 3600, got "abc"'),
            (["--jobsconfig", good, "--frobnicate"], 'unknown option "--frobnicate"'),
            (["--jobsconfig", os.path.join(self.tmp, "missing.json")],
             "missing.json: cannot read: No such file or directory"),
        ]:
            p = run(*args)
            self.assertEqual(p.returncode, 1, (args, p.stderr))
            self.assertIn(msg, p.stderr)
        bad_configs = {
            '{"gearman_servers_list": ["h:99999"], "pools_list": {}}':
                'gearman_servers_list[0]: "h:99999": port must be 1 to 65535',
            '{"gearman_servers_list": ["h"], "pools_list": {"P": {"worker_count": -1, '
            '"jobs_list": ["F"], "job_processing_uri": "http://x/"}}}':
                "pools_list.P.worker_count: expected integer >= 0, got -1",
            '{"gearman_servers_list": ["h"], "pools_list": {"P": {"worker_count": 1, '
            '"jobs_list": [], "job_processing_uri": "http://x/"}}}':
                "pools_list.P.jobs_list: expected",
            '{"gearman_servers_list": ["h"], "pools_list": {"P": {"worker_count": 1, '
            '"jobs_list": ["F"], "job_processing_uri": "ftp://x/"}}}':
                "pools_list.P.job_processing_uri: expected",
            '{"gearman_servers_list": ["h"],\n "pools_list": {,}}': "bad.json:2:",
        }
        bad = os.path.join(self.tmp, "bad.json")
        for text, msg in bad_configs.items():
            with open(bad, "w") as f:
                f.write(text)
            p = run("--jobsconfig", bad)
            self.assertEqual(p.returncode, 1, text)
            self.assertIn(msg, p.stderr, text)
        p = run("--jobsconfig", good, "--check")
        self.assertEqual(p.returncode, 0)
        self.assertIn("pool P: 1 workers, json to http://127.0.0.1/", p.stdout)
        for flag, want in (("--help", "usage: driveshaft"), ("--version", "driveshaft 0.1.0")):
            p = run(flag)
            self.assertEqual(p.returncode, 0)
            self.assertIn(want, p.stdout)
        xml = os.path.join(self.tmp, "log.xml")
        with open(xml, "w") as f:
            f.write("<?xml version=\"1.0\"?>\n<log4j:configuration/>\n")
        p = run("--jobsconfig", good, "--logconfig", xml, "--check")
        self.assertEqual(p.returncode, 0)
        # one warning for the XML (a root run without --user has its own)
        warned = [ln for ln in p.stderr.splitlines()
                  if "warning" in ln and "running as root" not in ln]
        self.assertEqual(len(warned), 1, p.stderr)
        self.assertIn("log4cxx", warned[0])

    def test_drain_gives_jobs_their_max_running_time(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep))
        bg = Background(self, [("MuxC", "!slow:3000")])
        wait_for(lambda: any(r[3].startswith("job_handle") for r in threads(self.status_port)),
                 10, "job in flight")
        self.master.send_signal(signal.SIGQUIT)  # 3 s > 2 x loop_timeout
        self.assertEqual(self.master.wait(15), 0)
        self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))
        self.assertIn("event=stop mode=drain", self.master_log())

    def test_second_signal_stops_at_once(self):
        ep = self.endpoint()
        self.start_master(self.three_pools(ep), loop_timeout="5")
        bg = Background(self, [("MuxC", "!slow:30000")])
        wait_for(lambda: any(r[3].startswith("job_handle") for r in threads(self.status_port)),
                 10, "job in flight")
        self.master.send_signal(signal.SIGTERM)
        wait_for(lambda: "event=stopping" in self.master_log(), 5, "stopping")
        t0 = time.monotonic()
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual(bg.results(), (0, [["FAIL"]]))
        self.assertIn("event=stop_now", self.master_log())

    def test_idle_master_sleeps_and_children_inherit_only_their_socket(self):
        ep = self.endpoint()
        pid_file = os.path.join(self.tmp, "ds.pid")
        self.start_master(self.three_pools(ep), "--pid_file", pid_file)

        before = voluntary_switches(self.master.pid)
        time.sleep(3)  # measuring how often an idle master wakes up
        # no tick: at most a couple of stray wake-ups, plus one per round
        # of the queue monitor (every queue_poll_interval, 5 s)
        self.assertLessEqual(voluntary_switches(self.master.pid) - before, 3)

        fds = open_fds
        master = {t for fd, t in fds(self.master.pid).items() if fd > 2}
        self.assertIn(pid_file, master)
        for kid in children_of(self.master.pid):
            self.assertEqual({t for fd, t in fds(kid).items() if fd > 2} & master, set(), kid)

    def test_workers_ignore_no_signal_the_masters_starter_ignored(self):
        # what an init script or nohup left ignored survives exec: the
        # master must not hand it on to its workers
        def ignore():
            for sig in (signal.SIGUSR2, signal.SIGALRM, signal.SIGQUIT):
                signal.signal(sig, signal.SIG_IGN)
        ep = self.endpoint()
        self.start_master(self.three_pools(ep), preexec_fn=ignore)

        def ignored(pid):
            with open(f"/proc/{pid}/status") as f:
                mask = next(int(ln.split()[1], 16) for ln in f
                            if ln.startswith("SigIgn:"))
            return {s for s in (signal.SIGUSR2, signal.SIGALRM, signal.SIGQUIT)
                    if mask & (1 << (s - 1))}
        kids = children_of(self.master.pid)
        self.assertEqual(len(kids), 4)
        for kid in kids:
            self.assertEqual(ignored(kid), set(), kid)
        # and the worker still answers a job
        jobs, want = sum_jobs("SumA", 3)
        self.assertEqual(submit(self.gearmand.server, jobs), want)

    def test_log_config_change_on_hup_reaches_workers(self):
        ep = self.endpoint()
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\nlevel = info\n")
        self.start_master(self.three_pools(ep), "--logconfig", logconf)
        before = sorted(r[0] for r in threads(self.status_port))
        with open(logconf, "w") as f:
            f.write("stderr = 1\nlevel = debug\n")
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: "replaced=A,B,C" in self.master_log(), 5, "every pool replaced")
        wait_for(lambda: self.ready_workers() == 4 and
                 not set(r[0] for r in threads(self.status_port)) & set(before),
                 10, "new workers")
        # the new workers log at debug level too
        jobs, want = sum_jobs("SumA", 1)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        wait_for(lambda: "debug" in self.master_log(), 5, "a worker's debug line")
        self.master.send_signal(signal.SIGHUP)  # unchanged: nothing replaced
        wait_for(lambda: "generation=3 added=- removed=- replaced=- resized=-"
                 in self.master_log(), 5, "a reload that changes nothing")
