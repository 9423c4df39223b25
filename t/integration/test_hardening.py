"""What a hostile host, launcher or config can do to a root daemon (issue 7):
links where the pid file goes, descriptors left open by the caller,
credentials in endpoint URIs, configs the service user cannot read, and
log lines doubled under a service manager. Real master, real gearmand."""
import base64
import os
import pwd
import select
import signal
import socket
import stat
import subprocess
import time

from harness import (MASTER, Background, open_fds as fds, MasterTestCase, children_of, free_port, port_open,
                     scaled, status, submit, threads, wait_for, write_config)

TEST_USER = "dstestuser"


def test_user():
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


class HardeningTest(MasterTestCase):

    def pool(self, ep, count=1, path="/sum", **extra):
        d = {"worker_count": count, "jobs_list": ["Sum"],
             "uri": f"http://127.0.0.1:{ep.port}{path}"}
        d.update(extra)
        return {"P": d}

    def run_master(self, *args, timeout=15, **kw):
        return subprocess.run([MASTER, *args], capture_output=True, text=True,
                              timeout=timeout, **kw)

    # 1. the pid file
    def test_pid_file_never_follows_a_link_or_writes_an_odd_file(self):
        ep = self.endpoint()
        cfg = os.path.join(self.tmp, "j.json")
        write_config(cfg, [self.gearmand.server], self.pool(ep))
        victim = os.path.join(self.tmp, "victim")
        precious = b"precious bytes\n" * 100
        with open(victim, "wb") as f:
            f.write(precious)
        link = os.path.join(self.tmp, "link.pid")
        os.symlink(victim, link)
        hard = os.path.join(self.tmp, "hard.pid")
        os.link(victim, hard)
        fifo = os.path.join(self.tmp, "fifo.pid")
        os.mkfifo(fifo)
        dangling = os.path.join(self.tmp, "dangling.pid")
        os.symlink(os.path.join(self.tmp, "created-by-root"), dangling)
        cases = [
            (link, [], "is a symbolic link; refusing to follow it"),
            (link, ["--daemonize"], "is a symbolic link; refusing to follow it"),
            (dangling, [], "is a symbolic link; refusing to follow it"),
            (hard, [], "has 2 hard links; refusing to write to a file with other names"),
            (fifo, [], "not a regular file"),
            (self.tmp, [], "Is a directory"),
        ]
        for path, extra, msg in cases:
            p = self.run_master("--jobsconfig", cfg, "--pid_file", path, *extra)
            self.assertEqual(p.returncode, 2, (path, extra, p.stderr))
            self.assertIn(f"--pid_file {path}: {msg}", p.stderr)
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), precious)
        self.assertFalse(os.path.lexists(os.path.join(self.tmp, "created-by-root")))
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    # 2. descriptors the caller left open
    def test_inherited_descriptors_reach_neither_master_nor_workers(self):
        ep = self.endpoint()
        leak_path = os.path.join(self.tmp, "leak")
        leak = os.open(leak_path, os.O_WRONLY | os.O_CREAT, 0o600)
        self.addCleanup(os.close, leak)
        cfg = os.path.join(self.tmp, "j.json")
        write_config(cfg, [self.gearmand.server], self.pool(ep, count=2))
        port = free_port()
        m = self.spawn([MASTER, "--jobsconfig", cfg, "--loop_timeout", "1",
                        "--status_port", str(port)], "master.log", pass_fds=(leak,),
                       start_new_session=True)
        self.master = m
        wait_for(lambda: port_open(port), 10, "status port")
        wait_for(lambda: sum(1 for r in threads(port) if r[3] == "Waiting for work") == 2,
                 15, "2 workers")
        self.assertNotIn(leak_path, fds(m.pid).values())
        for kid in children_of(m.pid):
            held = fds(kid)
            self.assertNotIn(leak_path, held.values(), kid)
            # 0, 1, 2, the socketpair and its own sockets and pipes (both
            # ends held: libgearman's wake-up pipe); nothing else
            targets = list(held.values())
            odd = {fd: t for fd, t in held.items()
                   if fd > 2 and not t.startswith(("socket:", "anon_inode:"))
                   and not (t.startswith("pipe:") and targets.count(t) == 2)}
            self.assertEqual(odd, {}, kid)
            self.assertTrue(held[3].startswith("socket:"), held)

    def test_daemon_keeps_no_pipe_of_its_launcher(self):
        ep = self.endpoint()
        cfg = os.path.join(self.tmp, "j.json")
        write_config(cfg, [self.gearmand.server], self.pool(ep))
        pid_file = os.path.join(self.tmp, "ds.pid")
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        p = subprocess.run([MASTER, "--jobsconfig", cfg, "--daemonize", "--loop_timeout",
                            "1", "--pid_file", pid_file], capture_output=True, text=True,
                           timeout=15, pass_fds=(w,))
        os.close(w)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        with open(pid_file) as f:
            daemon = int(f.read())
        self.addCleanup(self.kill_tree, daemon)
        # a launcher waiting for EOF on its pipe gets it: nobody holds it
        ready, _, _ = select.select([r], [], [], 5)
        self.assertEqual(ready, [r], "the daemon still holds the launcher's pipe")
        self.assertEqual(os.read(r, 1), b"")
        jobs = [("Sum", "1 2")]
        self.assertEqual(submit(self.gearmand.server, jobs), [("OK", b"3")])

    def kill_tree(self, pid):
        kids = children_of(pid, monitor=True)
        for p in [pid] + kids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # 6. credentials in the endpoint URI
    def test_uri_credentials_show_nowhere_but_reach_the_endpoint(self):
        ep = self.endpoint()
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        pools = {"P": {"worker_count": 2, "jobs_list": ["Sum"],
                       "uri": f"http://alice:s3cret@127.0.0.1:{ep.port}/sum"}}
        self.start_master(pools, "--logconfig", logconf)
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 2")] * 3),
                         [("OK", b"3")] * 3)
        with ep.lock:
            auth = {r["authorization"] for r in ep.requests}
        self.assertEqual(auth, {"Basic " + base64.b64encode(b"alice:s3cret").decode()})
        log = self.master_log()
        self.assertIn(f"uri=http://***@127.0.0.1:{ep.port}/sum", log)
        shown = [log]
        for cmd in ("threads", "pools", "metrics"):
            shown.append(status(self.status_port, cmd))
        kids = children_of(self.master.pid)
        self.assertEqual(len(kids), 2)
        for pid in kids + [self.master.pid]:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                shown.append(f.read().decode("utf-8", "replace"))
        for pid in kids:
            # where the URI travels, only its own user (and root) may look
            st = os.stat(f"/proc/{pid}/environ")
            self.assertEqual(st.st_mode & 0o077, 0)
        p = self.run_master("--jobsconfig", self.config, "--check")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"json to http://***@127.0.0.1:{ep.port}/sum", p.stdout)
        shown.append(p.stdout + p.stderr)
        # a bad URI's error does not show the password either
        bad = os.path.join(self.tmp, "bad.json")
        write_config(bad, [self.gearmand.server],
                     {"P": {"worker_count": 1, "jobs_list": ["Sum"],
                            "uri": "ftp://alice:s3cret@127.0.0.1/"}})
        p = self.run_master("--jobsconfig", bad, "--check")
        self.assertEqual(p.returncode, 1)
        self.assertIn('got "ftp://***@127.0.0.1/"', p.stderr)
        shown.append(p.stdout + p.stderr)
        for text in shown:
            self.assertNotIn("s3cret", text)
            self.assertNotIn("alice", text)

    # 7. configs the service user cannot read
    def test_user_that_cannot_read_the_configs_is_refused_at_start(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create a user")
        test_user()
        ep = self.endpoint()
        os.chmod(self.tmp, 0o755)
        cfg = os.path.join(self.tmp, "j.json")
        logconf = os.path.join(self.tmp, "log.conf")
        write_config(cfg, [self.gearmand.server], self.pool(ep))
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        for path in (cfg, logconf):
            os.chmod(path, 0o600)
        want = [f"driveshaft: --jobsconfig {cfg}: cannot be read by user {TEST_USER}: "
                "Permission denied",
                f"driveshaft: --logconfig {logconf}: cannot be read by user {TEST_USER}: "
                "Permission denied"]
        for extra, rc in (([], 2), (["--check"], 1)):
            p = self.run_master("--jobsconfig", cfg, "--logconfig", logconf,
                                "--user", TEST_USER, *extra)
            self.assertEqual(p.returncode, rc, p.stderr)
            self.assertEqual(p.stderr.splitlines(), want)
        os.chmod(logconf, 0o644)
        p = self.run_master("--jobsconfig", cfg, "--logconfig", logconf,
                            "--user", TEST_USER, "--check")
        self.assertEqual((p.returncode, p.stderr.splitlines()), (1, want[:1]))
        # readable: it starts, and a HUP (read as the user) resizes the pool
        os.chmod(cfg, 0o644)
        pools = self.pool(ep)
        worker = self.public_worker()
        self.start_master(pools, "--user", TEST_USER, "--logconfig", logconf,
                          "--worker", worker)
        os.chmod(self.config, 0o644)
        pools["P"]["worker_count"] = 3
        self.reload(pools)
        wait_for(lambda: self.ready_workers() == 3, 10, "3 workers after HUP")
        self.assertNotIn("reload_failed", self.master_log())

    def public_worker(self):
        """A copy of the worker the test user can run (the checkout may sit
        under a private directory)."""
        import shutil
        from harness import WORKER
        d = os.path.join(self.tmp, "bin")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        shutil.copy(WORKER, d)
        return os.path.join(d, "driveshaft-worker")

    # 8. one copy of each log line
    def test_log_lines_go_to_syslog_once_and_not_to_a_captured_stderr(self):
        ep = self.endpoint()
        sock_path = os.path.join(self.tmp, "log.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        self.addCleanup(sock.close)
        os.chmod(sock_path, 0o666)
        xml = os.path.join(self.tmp, "log4cxx.xml")
        with open(xml, "w") as f:
            f.write('<?xml version="1.0"?>\n<log4j:configuration/>\n')
        forced = os.path.join(self.tmp, "forced.conf")
        with open(forced, "w") as f:
            f.write("stderr = 1\n")
        for logconf, copied in ((xml, False), (forced, True)):
            lines = self.run_with_syslog(ep, sock, sock_path, logconf)
            stderr = self.log_of(self.master)
            self.assertIn("event=start ", lines)
            self.assertIn("event=worker_start ", lines)
            self.assertIn("event=stop ", lines)
            self.assertEqual(lines.count("event=start "), 1)
            if copied:
                self.assertIn("event=start ", stderr)
                self.assertIn("event=worker_start ", stderr)
            else:
                self.assertEqual(stderr.splitlines(), [
                    f"driveshaft: warning: {xml}: log4cxx XML config is not "
                    "supported, using default logging settings"])

    def run_with_syslog(self, ep, sock, sock_path, logconf):
        """Runs a master whose /dev/log is sock (a private mount namespace:
        the machine's own logging is untouched), one job, then a stop.
        Returns what reached syslog."""
        cfg = os.path.join(self.tmp, "j.json")
        write_config(cfg, [self.gearmand.server], self.pool(ep))
        save = os.path.join(self.tmp, "dev")
        os.makedirs(save, exist_ok=True)
        script = (
            'set -e; mount --make-rprivate /; mount --bind /dev "$1"; '
            'mount -t tmpfs tmpfs /dev; '
            'for n in null zero full random urandom; do touch /dev/$n; '
            'mount --bind "$1/$n" /dev/$n; done; '
            'touch /dev/log; mount --bind "$2" /dev/log; shift 2; exec "$@"')
        port = free_port()
        m = self.spawn(["unshare", "--mount", "sh", "-c", script, "sh", save, sock_path,
                        MASTER, "--jobsconfig", cfg, "--loop_timeout", "1",
                        "--status_port", str(port), "--logconfig", logconf],
                       f"master-{os.path.basename(logconf)}.log", start_new_session=True)
        self.master = m
        got = []

        def drain():
            while select.select([sock], [], [], 0)[0]:
                got.append(sock.recv(65536).decode("utf-8", "replace"))
            return "\n".join(got)
        wait_for(lambda: port_open(port) or m.poll() is not None, 10, "status port")
        self.assertIsNone(m.poll(), self.log_of(m))
        wait_for(lambda: "event=worker_start " in drain(), 10, "worker_start in syslog")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "2 2")]), [("OK", b"4")])
        m.send_signal(signal.SIGTERM)
        self.assertEqual(m.wait(15), 0)
        wait_for(lambda: "event=stop " in drain(), 5, "stop in syslog")
        return drain()

    # 9. a job is counted once its answer has left
    def test_answer_that_cannot_be_sent_counts_as_answer_lost(self):
        ep = self.endpoint()
        # a big answer takes several writes: once gearmand is gone the
        # first one draws a reset and the next fails for certain
        pools = {"P": {"worker_count": 1, "jobs_list": ["Big"],
                       "uri": f"http://127.0.0.1:{ep.port}/slow/1500/big/8000000"}}
        self.start_master(pools)
        bg = Background(self, [("Big", "x")], timeout=20)
        wait_for(lambda: len(ep.requests) == 1, 10, "the job at the endpoint")
        port = self.gearmand.port
        self.gearmand.proc.kill()
        self.gearmand.proc.wait()
        rc, res = bg.results()
        self.assertNotEqual(res, [["OK"]])  # its client was told the server went
        wait_for(lambda: "event=job_answer_lost pool=P" in self.master_log(), 10,
                 "job_answer_lost in the log")

        def pools_row():
            return status(self.status_port, "pools").split("\r\n")[0].split("\t")
        wait_for(lambda: pools_row()[5:9] == ["0", "0", "0", "1"], 5,
                 "pools: completed 0, failed 0, timed out 0, answers lost 1")
        metrics = status(self.status_port, "metrics")
        self.assertIn('driveshaft_jobs_answer_lost_total{pool="P",function="Big"} 1',
                      metrics)
        self.assertIn('driveshaft_jobs_completed_total{pool="P",function="Big"} 0',
                      metrics)
        # gearmand back on its port: the same pool serves and counts again
        from harness import Gearmand
        self.gearmand = Gearmand(self.tmp, port=port).start()
        pools["P"]["uri"] = f"http://127.0.0.1:{ep.port}/sum"
        pools["P"]["jobs_list"] = ["Sum"]
        self.reload(pools)
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 1")]), [("OK", b"2")])
        wait_for(lambda: pools_row()[5:9] == ["1", "0", "0", "1"], 5, "completed 1")

    # 3. running out of descriptors or processes
    def test_config_that_cannot_fit_the_descriptor_limit_is_refused(self):
        ep = self.endpoint()
        cfg = os.path.join(self.tmp, "j.json")
        write_config(cfg, [self.gearmand.server], self.pool(ep, count=20))
        want = (f"driveshaft: {cfg}: 20 workers need 330 descriptors (2 each, one more "
                "worker a pool while an upgrade rolls them, and 288 for the master), but "
                "RLIMIT_NOFILE is 300: lower worker_count or raise the limit (ulimit -n, "
                "LimitNOFILE=)")
        for extra, rc in (([], 1), (["--check"], 1)):
            p = subprocess.run(["prlimit", "--nofile=300:300", MASTER, "--jobsconfig", cfg,
                                *extra], capture_output=True, text=True, timeout=15)
            self.assertEqual((p.returncode, p.stderr.strip()), (rc, want))
        p = self.run_master("--jobsconfig", cfg, "--check")
        self.assertEqual(p.returncode, 0, p.stderr)
        # on HUP: one line, and the running config stays in force
        pools = self.pool(ep, count=2)
        self.start_master_limited(["prlimit", "--nofile=300:300"], pools)
        wait_for(lambda: self.ready_workers() == 2, scaled(10), "2 workers up")
        before = sorted(r[0] for r in threads(self.status_port))
        pools["P"]["worker_count"] = 20
        self.reload(pools)
        wait_for(lambda: "event=reload_failed" in self.master_log(), 5, "reload_failed")
        self.assertEqual(self.master_log().count("event=reload_failed"), 1)
        self.assertIn("20 workers need 330 descriptors", self.master_log())
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)), before)
        self.assertEqual(submit(self.gearmand.server, [("Sum", "2 3")]), [("OK", b"5")])

    def start_master_limited(self, prefix, pools, *extra):
        """start_master, run under a prefix such as prlimit."""
        self.config = os.path.join(self.tmp, "jobs.json")
        self.pools = pools
        write_config(self.config, [self.gearmand.server], pools)
        self.status_port = free_port()
        m = self.spawn([*prefix, MASTER, "--jobsconfig", self.config, "--loop_timeout", "1",
                        "--status_port", str(self.status_port), *extra], "master.log",
                       start_new_session=True)
        self.master = m
        wait_for(lambda: port_open(self.status_port) or m.poll() is not None, 10,
                 "status port")
        self.assertIsNone(m.poll(), self.log_of(m))
        return m

    def test_spawn_failures_back_off_quietly_and_fill_in_after_hup(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create a user")
        pw = test_user()

        def user_procs():
            n = 0
            for p in os.listdir("/proc"):
                try:
                    n += p.isdigit() and os.stat(f"/proc/{p}").st_uid == pw.pw_uid
                except OSError:
                    pass
            return n
        # the process limit counts every process of the user: wait for the
        # workers of an earlier test to finish leaving
        wait_for(lambda: user_procs() == 0, 15, f"no process of {TEST_USER}")
        ep = self.endpoint()
        os.chmod(self.tmp, 0o755)
        pools = self.pool(ep, count=10)
        # the master (two tasks: its loop and its spawner thread), the
        # queue monitor (started in the first turn, while the first worker
        # is in the spawner's hands) and 3 workers: the 4th spawn fails
        # with EAGAIN
        m = self.start_master_limited(["prlimit", "--nproc=6:64"], pools, "--user", TEST_USER,
                                      "--worker", self.public_worker())
        wait_for(lambda: "event=spawn_failed pool=P" in self.master_log(), scaled(10),
                 "spawn_failed")
        # 3 workers, or 4 when a worker's spawn won the race with the
        # monitor's (whose own start then failed and backs off)
        running = int(status(self.status_port, "pools").split("\t")[2])
        self.assertIn(running, (3, 4))
        wait_for(lambda: self.ready_workers() == running, scaled(10),
                 f"{running} workers up")

        def cpu_ticks():
            with open(f"/proc/{m.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        lines_before, ticks_before = self.master_log().count("\n"), cpu_ticks()
        t0 = time.monotonic()
        self.assertEqual(submit(self.gearmand.server, [("Sum", f"{i} 1") for i in range(30)]),
                         [("OK", str(i + 1).encode()) for i in range(30)])
        time.sleep(max(0.0, 5 - (time.monotonic() - t0)))  # a window to measure
        ticks = cpu_ticks() - ticks_before
        log = self.master_log()
        new_lines = log.count("\n") - lines_before
        failed = log.count("event=spawn_failed")
        print(f"\n  nproc 6: {failed} spawn_failed lines, {new_lines} log lines and "
              f"{ticks} CPU ticks of the master in 5 s", end=" ")
        self.assertLessEqual(failed, 5)       # 1 s, 2 s, 4 s ...: not one per slot
        self.assertLessEqual(new_lines, 12)
        self.assertLessEqual(ticks, 30)       # 0.3 s of CPU in 5 s at most
        self.assertIn("error=\"Resource temporarily unavailable\"", log)
        row = status(self.status_port, "pools").split("\t")
        self.assertEqual(row[1:3], ["10", str(running)])
        # the operator raises the limit and sends HUP: the pool fills in
        # (as its own user: this container's root lacks CAP_SYS_RESOURCE)
        subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                        "--clear-groups", "prlimit", "--pid", str(m.pid), "--nproc=64:64"],
                       check=True)
        m.send_signal(signal.SIGHUP)
        wait_for(lambda: self.ready_workers() == 10, 10, "10 workers after HUP")
        self.assertIn("event=spawn_recovered pool=P", self.master_log())
