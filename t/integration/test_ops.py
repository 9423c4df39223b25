"""The operators' kit (issue 8), each piece run for real: driveshaft
--query against a real master, a pool on a unix-socket endpoint, the PHP
example endpoint under php -S, the init script from a `make install
DESTDIR=` tree, rsyslog with the contrib snippet plus a logrotate run, the
man pages, the install tree and the .deb."""
import os
import signal
import subprocess
import time

import harness
from harness import (MASTER, MasterTestCase, pool_pids, submit, threads, wait_for,
                     write_config)


class QueryTest(MasterTestCase):

    def test_query_every_command(self):
        ep = self.endpoint()
        self.start_master({"Q": {"worker_count": 2, "jobs_list": ["SumQ"],
                                 "uri": f"http://127.0.0.1:{ep.port}/sum"}})
        self.assertEqual(submit(self.gearmand.server, [("SumQ", "1 2")]), [("OK", b"3")])

        def query(cmd, *extra):
            return subprocess.run([MASTER, "--query", cmd, "--status_port",
                                   str(self.status_port), *extra],
                                  capture_output=True, text=True, timeout=30)
        p = query("threads")
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        rows = [ln.split("\t") for ln in p.stdout.splitlines()]
        self.assertEqual(sorted(int(r[0]) for r in rows),
                         sorted(r[0] for r in threads(self.status_port)))
        self.assertNotIn("\r", p.stdout)  # lines for scripts
        p = query("pools", "--status_addr", "127.0.0.1")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.split("\t")[:3], ["Q", "2", "2"])
        self.assertEqual(p.stdout.split("\t")[5], "1")  # one job completed
        p = query("metrics")
        self.assertEqual(p.returncode, 0)
        self.assertIn('driveshaft_', p.stdout)
        p = query("version")
        self.assertEqual(p.returncode, 0)
        self.assertIn("0.", p.stdout)

    def test_query_nothing_answers(self):
        port = harness.free_port()  # nothing listens there
        t0 = time.monotonic()
        p = subprocess.run([MASTER, "--query", "pools", "--status_port", str(port)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn(f"nothing answers on the status port 127.0.0.1:{port}", p.stderr)
        self.assertLess(time.monotonic() - t0, 5)


class UnixSocketTest(MasterTestCase):

    def test_pool_on_unix_socket_reuses_its_connection(self):
        path = os.path.join(self.tmp, "ep.sock")
        ep = harness.endpoint.UnixServer(path).start()
        self.endpoints.append(ep)
        # the host in the URI is not used: nothing listens on port 9
        self.start_master({"U": {"worker_count": 1, "jobs_list": ["SumU"],
                                 "uri": "http://127.0.0.1:9/sum",
                                 "unix_socket": path}})
        jobs = [("SumU", f"{i} 1") for i in range(200)]
        self.assertEqual(submit(self.gearmand.server, jobs),
                         [("OK", str(i + 1).encode()) for i in range(200)])
        with ep.lock:
            self.assertEqual(len(ep.requests), 200)
            self.assertEqual(ep.connections, 1)  # kept alive across jobs
        out = subprocess.run([MASTER, "--jobsconfig", self.config, "--check"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)


def php_endpoint(test, workers=4):
    """contrib/endpoint/job.php under `php -S` on a free port, in its own
    process group (PHP_CLI_SERVER_WORKERS forks) that cleanup kills."""
    port = harness.free_port()
    env = dict(os.environ, PHP_CLI_SERVER_WORKERS=str(workers))
    p = test.spawn(["php", "-S", f"127.0.0.1:{port}",
                    os.path.join(harness.TOP, "contrib", "endpoint", "job.php")],
                   "php.log", env=env, start_new_session=True)
    p.own_group = True
    wait_for(lambda: harness.port_open(port) or p.poll() is not None, 10, "php -S")
    if p.poll() is not None:
        raise AssertionError(f"php -S exited: {test.log_of(p)}")
    return f"http://127.0.0.1:{port}/job.php"


class PhpEndpointTest(MasterTestCase):

    def test_job_php_both_formats_binary_and_exceptions(self):
        uri = php_endpoint(self)
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        self.start_master({
            "J": {"worker_count": 3, "jobs_list": ["Sum", "Echo", "Fail"], "uri": uri},
            "F": {"worker_count": 3, "jobs_list": ["FormSum", "FormEcho"],
                  "uri": uri.replace("job.php", "job.php?f"), "request_format": "form"},
        }, "--logconfig", logconf)
        for fn in ("Sum", "FormSum"):
            jobs = [(fn, f"{i} {i + 1} 7") for i in range(1000)]
            self.assertEqual(submit(self.gearmand.server, jobs, timeout=120),
                             [("OK", str(2 * i + 8).encode()) for i in range(1000)], fn)
        # every byte value, NUL included: not UTF-8, so base64 both ways
        # in JSON (workload_encoding, response_encoding), raw in the form
        blob = bytes(range(256)) * 4
        self.assertEqual(submit(self.gearmand.server, [("Echo", blob), ("FormEcho", blob)]),
                         [("OK", blob), ("OK", blob)])
        self.assertEqual(submit(self.gearmand.server, [("Sum", "[1,2]")]), [("OK", b"3")])
        # a PHP exception, and a PHP warning made one, are WORK_FAIL
        self.assertEqual(submit(self.gearmand.server, [("Fail", "x"), ("Sum", "1 x")]),
                         [("FAIL", None), ("FAIL", None)])
        wait_for(lambda: "function=Fail" in self.master_log(), 10, "job_failed line")
        line = next(ln for ln in self.master_log().splitlines()
                    if "event=job_failed" in ln and "function=Fail" in ln)
        self.assertIn("pool=J", line)
        self.assertIn("gearman_ret", line)


TEST_USER = "dsopstest"


def ensure_test_user(test):
    """A system user for the service, as the package's would be; removed
    at the end when this test made it."""
    import pwd
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=True)
        test.addCleanup(subprocess.run, ["userdel", TEST_USER], check=False)
    return pwd.getpwnam(TEST_USER).pw_uid


def install_tree(test, prefix="/usr"):
    """`make install PREFIX=prefix DESTDIR=tmp/root` of the binaries under
    test; returns the DESTDIR."""
    root = os.path.join(test.tmp, "root")
    env = dict(os.environ, PREFIX=prefix, DESTDIR=root, BUILD=harness.BUILD,
               VERSION="0.0-test")
    subprocess.run(["sh", os.path.join(harness.TOP, "contrib", "install.sh")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return root


def owner(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


class InitScriptTest(MasterTestCase):
    """/etc/init.d/driveshaft from a `make install DESTDIR=` tree against a
    real gearmand, with a service user, as an operator would run it."""

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # the service user reaches the tree
        self.uid = ensure_test_user(self)
        self.root = install_tree(self)
        self.ep = self.endpoint()
        self.config = os.path.join(self.tmp, "jobs.json")
        self.status_port = harness.free_port()
        self.pidfile = os.path.join(self.tmp, "run", "driveshaft", "driveshaft.pid")
        self.addCleanup(self.kill_leftovers)

    def pools_cfg(self, a=2, b=1):
        u = f"http://127.0.0.1:{self.ep.port}"
        return {"A": {"worker_count": a, "jobs_list": ["InitA"], "uri": u + "/mux"},
                "B": {"worker_count": b, "jobs_list": ["InitB"], "uri": u + "/sum"}}

    def write_defaults(self, text):
        self.defaults = os.path.join(self.tmp, "default")
        with open(self.defaults, "w") as f:
            f.write(f"DAEMON={self.root}/usr/sbin/driveshaft\n" + text)

    def service(self, action):
        p = subprocess.run(["sh", os.path.join(self.root, "etc/init.d/driveshaft"), action],
                           env=dict(os.environ, DRIVESHAFT_DEFAULTS=self.defaults),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def master_pid(self):
        with open(self.pidfile) as f:
            return int(f.read().strip() or 0)

    def kill_leftovers(self):
        # whatever the test did, no process of ours survives it
        out = subprocess.run(["ps", "-o", "pid=", "-u", TEST_USER],
                             capture_output=True, text=True).stdout
        for pid in (int(x) for x in out.split()):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def user_procs(self):
        out = subprocess.run(["ps", "-o", "pid=,args=", "-u", TEST_USER],
                             capture_output=True, text=True).stdout
        return [ln.strip() for ln in out.splitlines() if "driveshaft" in ln]

    def test_start_status_reload_bad_reload_stop(self):
        write_config(self.config, [self.gearmand.server], self.pools_cfg())
        self.write_defaults(
            f"JOBSCONFIG={self.config}\nSTATUS_PORT={self.status_port}\n"
            f"RUN_AS={TEST_USER}\nPIDFILE={self.pidfile}\n"
            "EXTRA_OPTS='--loop_timeout 1'\nSTOP_TIMEOUT=30\n")
        rc, out = self.service("start")
        self.assertEqual(rc, 0, out)
        master = self.master_pid()
        self.assertTrue(harness.alive(master))
        wait_for(lambda: sum(1 for r in threads(self.status_port)
                             if r[3] == "Waiting for work") == 3, 15, "3 workers")
        kids = harness.children_of(master)
        self.assertEqual(len(kids), 3)
        self.assertEqual({owner(p) for p in [master] + kids}, {self.uid})

        rc, out = self.service("status")
        self.assertEqual(rc, 0, out)
        self.assertIn(f"driveshaft is running (pid {master})", out)
        self.assertIn("pool A: 2 configured, 2 running, 0 busy, 2 idle", out)
        self.assertIn("pool B: 1 configured, 1 running", out)

        b_pids = pool_pids(self.status_port, "B")
        write_config(self.config, [self.gearmand.server], self.pools_cfg(a=4))
        rc, out = self.service("reload")
        self.assertEqual(rc, 0, out)
        wait_for(lambda: len(pool_pids(self.status_port, "A")) == 4, 10, "A at 4")
        self.assertEqual(pool_pids(self.status_port, "B"), b_pids)
        self.assertEqual(self.master_pid(), master)

        before = sorted(r[0] for r in threads(self.status_port))
        good = open(self.config).read()
        with open(self.config, "w") as f:
            f.write(good.replace('"worker_count": 4', '"worker_count": "five"'))
        rc, out = self.service("reload")
        self.assertNotEqual(rc, 0, out)
        self.assertIn('pools_list.A.worker_count: expected integer >= 0, got "five"', out)
        self.assertIn("not reloaded", out)
        time.sleep(0.5)  # a HUP, had one been sent, acts well within this
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)), before)
        self.assertEqual(self.master_pid(), master)
        with open(self.config, "w") as f:
            f.write(good)

        # stop with a job in hand: it is answered, then everything is gone
        bg = subprocess.Popen([harness.GMCLIENT, "-s", self.gearmand.server, "-t", "60"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(bg)
        bg.stdin.write("InitA\t!slow:1500\n")
        bg.stdin.close()
        wait_for(lambda: any(r[3].startswith("job_handle=")
                             for r in threads(self.status_port)), 10, "a job in hand")
        workers = harness.children_of(master, monitor=True)
        rc, out = self.service("stop")
        self.assertEqual(rc, 0, out)
        self.assertIn("stopped after", out)
        self.assertEqual(bg.stdout.read().split("\t")[1:], ["OK", b"slept".hex() + "\n"])
        self.assertFalse(os.path.exists(self.pidfile))
        self.assertFalse(any(harness.alive(p) for p in [master] + workers))
        self.assertEqual(self.user_procs(), [])

        rc, out = self.service("status")
        self.assertEqual(rc, 3, out)
        self.assertIn("driveshaft is not running", out)
        rc, out = self.service("stop")  # stopping a stopped service is fine
        self.assertEqual(rc, 0, out)

    def test_original_command_line_in_daemon_opts(self):
        write_config(self.config, [self.gearmand.server], self.pools_cfg(a=1))
        pidfile = os.path.join(self.tmp, "driveshaft.pid")  # dir not the user's
        self.pidfile = pidfile
        self.write_defaults(
            f'DAEMON_OPTS="--jobsconfig {self.config} --status_port={self.status_port} '
            f'--user {TEST_USER} --pid_file {pidfile} --loop_timeout=1 --daemonize"\n')
        rc, out = self.service("start")
        self.assertEqual(rc, 0, out)
        master = self.master_pid()
        self.assertEqual(owner(master), self.uid)
        wait_for(lambda: len(threads(self.status_port)) == 2, 10, "2 workers")
        rc, out = self.service("status")
        self.assertEqual(rc, 0, out)
        self.assertIn("pool A: 1 configured, 1 running", out)
        rc, out = self.service("start")  # already running: nothing to do
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.master_pid(), master)
        rc, out = self.service("restart")
        self.assertEqual(rc, 0, out)
        self.assertNotEqual(self.master_pid(), master)
        self.assertFalse(harness.alive(master))
        rc, out = self.service("stop")
        self.assertEqual(rc, 0, out)
        self.assertFalse(os.path.exists(pidfile))
        self.assertEqual(self.user_procs(), [])
        self.assertEqual(self.service("status")[0], 3)

    def test_start_with_a_bad_config_says_why(self):
        with open(self.config, "w") as f:
            f.write('{"gearman_servers_list": [], "pools_list": {}}')
        self.write_defaults(f"JOBSCONFIG={self.config}\nSTATUS_PORT=0\n"
                            f"RUN_AS={TEST_USER}\nPIDFILE={self.pidfile}\n")
        rc, out = self.service("start")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("gearman_servers_list: expected non-empty array", out)
        self.assertEqual(self.service("status")[0], 3)


PRIVATE_DEV = r"""
set -eu
T=$1
# a /dev of our own, so rsyslogd's /dev/log is seen by our processes only:
# the host's device nodes bound in, the rest left out
mkdir -p "$T/dev/pts" "$T/dev/shm" "$T/varlog" "$T/run"
for n in null zero full random urandom tty; do
	touch "$T/dev/$n"
	mount --bind "/dev/$n" "$T/dev/$n"
done
ln -s /proc/self/fd "$T/dev/fd"
mount --rbind /dev/pts "$T/dev/pts"
mount --rbind /dev/shm "$T/dev/shm"
mount --rbind "$T/dev" /dev
# the contrib snippets' paths, /var/log and /run (rsyslogd.pid), private too
mount --bind "$T/varlog" /var/log
mount --bind "$T/run" /run
"""


class SyslogTest(MasterTestCase):
    """A real rsyslogd with contrib/rsyslog.d/driveshaft.conf and a
    logrotate run with contrib/logrotate.d/driveshaft, in a private mount
    namespace with its own /dev/log, /var/log and /run: the machine's
    logging is untouched."""

    def ns(self, argv, log_name=None, **kw):
        cmd = ["nsenter", "-t", str(self.holder.pid), "-m", "--", *argv]
        if log_name:
            return self.spawn(cmd, log_name, **kw)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)

    def log_lines(self):
        lines = []
        for name in ("driveshaft.log.1", "driveshaft.log"):
            path = os.path.join(self.tmp, "varlog", name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    lines += f.read().splitlines()
        return lines

    def count(self, what):
        return sum(1 for ln in self.log_lines() if what in ln)

    def fail_jobs(self, n, base):
        jobs = [("LogJob", "!fail500") for i in range(n)]
        return subprocess.Popen(
            [harness.GMCLIENT, "-s", self.gearmand.server, "-t", "60"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True), jobs

    def run_failures(self, n, base, during=None):
        p, jobs = self.fail_jobs(n, base)
        self.procs.append(p)
        p.stdin.write("".join(f"{fn}\thex:{w.encode().hex()}\n" for fn, w in jobs))
        p.stdin.close()
        if during:
            during()
        out = p.stdout.read()
        self.assertEqual(p.wait(60), 0)
        self.assertEqual(out.count("\tFAIL"), n)

    def test_rsyslog_file_and_logrotate_lose_no_line(self):
        self.holder = self.spawn(["unshare", "--mount", "--propagation", "private",
                                  "sleep", "600"], "holder.log")
        wait_for(lambda: os.readlink(f"/proc/{self.holder.pid}/ns/mnt") !=
                 os.readlink("/proc/self/ns/mnt"), 10, "a private mount namespace")
        r = self.ns(["sh", "-c", PRIVATE_DEV, "setup", self.tmp])
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = os.path.join(self.tmp, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write('module(load="imuxsock")\n'
                    f'$IncludeConfig {harness.TOP}/contrib/rsyslog.d/driveshaft.conf\n'
                    f'*.* {self.tmp}/other.log\n')
        self.ns(["/usr/sbin/rsyslogd", "-n", "-f", conf, "-i", "/run/rsyslogd.pid"],
                "rsyslogd.log")
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "dev", "log")) and
                 os.path.exists(os.path.join(self.tmp, "run", "rsyslogd.pid")),
                 10, "rsyslogd's /dev/log")

        ep = self.endpoint()
        self.config = os.path.join(self.tmp, "jobs.json")
        pools = {"Logs": {"worker_count": 2, "jobs_list": ["LogJob"],
                          "uri": f"http://127.0.0.1:{ep.port}/mux"}}
        write_config(self.config, [self.gearmand.server], pools)
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 0\n")  # syslog only
        self.status_port = harness.free_port()
        # nsenter enters the namespace at /: absolute paths only
        self.master = self.ns([os.path.abspath(MASTER), "--jobsconfig", self.config, "--logconfig", logconf,
                               "--status_port", str(self.status_port),
                               "--loop_timeout", "1"], "master.log")
        wait_for(lambda: self.count("event=start ") == 1 or self.master.poll() is not None,
                 10, "event=start in the file")
        self.assertEqual(self.count("event=start "), 1,
                         f"master: {self.master.poll()} {self.master_log()} "
                         f"rsyslogd: {self.log_of(self.procs[1])}")
        wait_for(lambda: self.ready_workers() == 2, 10, "2 workers")

        # failures before, during and after a rotation; each is one line
        self.run_failures(30, 0)
        wait_for(lambda: self.count("event=job_failed") == 30, 10, "30 failures logged")

        def rotate():
            r = self.ns(["/usr/sbin/logrotate", "-f", "-s",
                         os.path.join(self.tmp, "logrotate.state"),
                         f"{harness.TOP}/contrib/logrotate.d/driveshaft"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.run_failures(60, 100, during=rotate)
        pools["Logs"]["worker_count"] = 3
        write_config(self.config, [self.gearmand.server], pools)
        self.master.send_signal(signal.SIGHUP)
        wait_for(lambda: self.ready_workers() == 3, 10, "3 workers after the reload")
        self.run_failures(30, 200)
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(30), 0)
        wait_for(lambda: self.count("event=stop ") == 1, 10, "event=stop in the file")

        varlog = os.path.join(self.tmp, "varlog")
        self.assertTrue(os.path.exists(os.path.join(varlog, "driveshaft.log.1")),
                        os.listdir(varlog))
        with open(os.path.join(varlog, "driveshaft.log")) as f:
            after = f.read()
        self.assertIn("event=stop ", after)  # the new file is written to
        with open(os.path.join(varlog, "driveshaft.log.1")) as f:
            before = f.read()
        # the rotation is in the middle of the stream of failures
        self.assertGreaterEqual(before.count("event=job_failed"), 30)
        self.assertGreaterEqual(after.count("event=job_failed"), 30)
        lines = self.log_lines()
        failed = [ln for ln in lines if "event=job_failed" in ln]
        self.assertEqual(len(failed), 120, "a line was lost or doubled")
        self.assertEqual(len({ln.split("handle=")[1].split()[0] for ln in failed}), 120)
        self.assertIn("pool=Logs", failed[0])
        self.assertIn("reason=", failed[0])
        self.assertIn("HTTP status 500", failed[0])
        self.assertEqual(self.count("event=reload "), 1)
        self.assertIn("resized=Logs:2->3", next(ln for ln in lines if "event=reload " in ln))
        self.assertTrue(all(" driveshaft[" in ln for ln in lines))
        other = os.path.join(self.tmp, "other.log")
        if os.path.exists(other):
            with open(other) as f:
                self.assertNotIn("driveshaft", f.read())


def session_procs(sid):
    out = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(sid)],
                         capture_output=True, text=True).stdout
    return [ln.strip() for ln in out.splitlines() if ln.strip()]


class DemoTest(harness.ProcTestCase):
    """make demo: under a minute, exit 0, nothing left behind, also when
    interrupted with Ctrl-C (SIGINT to its process group, as a terminal
    sends it)."""

    def demo(self):
        p = subprocess.Popen(["bash", os.path.join(harness.TOP, "contrib", "demo.sh")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        p.own_group = True
        self.procs.append(p)
        self.addCleanup(self.kill_session, p.pid)
        return p

    def kill_session(self, sid):
        for ln in session_procs(sid):
            try:
                os.kill(int(ln.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass

    def test_demo_runs_and_leaves_nothing(self):
        t0 = time.monotonic()
        p = self.demo()
        out, _ = p.communicate(timeout=90)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, out)
        self.assertLess(took, 60)
        self.assertIn("answers: 200 right, 0 wrong", out)
        self.assertIn("driveshaft exited 0", out)
        self.assertIn("event=reload", out)
        wait_for(lambda: session_procs(p.pid) == [], 5, "no process of the demo left")

    def test_demo_interrupted_leaves_nothing(self):
        p = self.demo()
        seen = []
        for line in p.stdout:
            seen.append(line)
            if line.startswith("== 200 jobs"):
                break
        self.assertTrue(seen and seen[-1].startswith("== 200 jobs"), "".join(seen))
        os.killpg(p.pid, signal.SIGINT)
        out = p.stdout.read()
        self.assertEqual(p.wait(30), 130, "".join(seen) + out)
        wait_for(lambda: session_procs(p.pid) == [], 10,
                 f"no process of the demo left: {session_procs(p.pid)}")


class PackagingTest(harness.ProcTestCase):
    """make install DESTDIR= and make deb, checked file by file; lintian;
    man pages render without warnings; the unit verifies; scripts pass
    shellcheck."""

    ETC = ["etc/default/driveshaft", "etc/driveshaft/jobs.json", "etc/init.d/driveshaft",
           "etc/logrotate.d/driveshaft", "etc/rsyslog.d/driveshaft.conf"]
    DOC = ["usr/share/doc/driveshaft/README.md",
           "usr/share/doc/driveshaft/examples/job.php",
           "usr/share/doc/driveshaft/examples/jobs.json",
           "usr/share/doc/driveshaft/examples/logconfig"]
    FILES = {  # path in a PREFIX=/usr tree: mode
        **{p: 0o644 for p in ETC + DOC}, "etc/init.d/driveshaft": 0o755,
        "lib/systemd/system/driveshaft.service": 0o644,
        "usr/sbin/driveshaft": 0o755,
        "usr/libexec/driveshaft/driveshaft-worker": 0o755,
        "usr/share/man/man8/driveshaft.8": 0o644,
        "usr/share/man/man8/driveshaft-worker.8": 0o644,
    }

    def tree(self, root):
        out = {}
        for d, _, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                out[os.path.relpath(p, root)] = os.stat(p).st_mode & 0o7777
        return out

    def test_install_tree(self):
        root = install_tree(self)
        self.assertEqual(self.tree(root), self.FILES)
        for rel in self.FILES:
            if not rel.startswith("usr/sbin") and "libexec" not in rel:
                with open(os.path.join(root, rel), errors="replace") as f:
                    self.assertNotRegex(f.read(), r"@[A-Z]+@", rel)
        with open(os.path.join(root, "etc/init.d/driveshaft")) as f:
            self.assertIn("DAEMON=/usr/sbin/driveshaft\n", f.read())
        with open(os.path.join(root, "lib/systemd/system/driveshaft.service")) as f:
            self.assertIn("ExecStart=/usr/sbin/driveshaft ", f.read())
        # the installed master finds its worker under libexec
        cfg = os.path.join(root, "etc/driveshaft/jobs.json")
        p = subprocess.run([os.path.join(root, "usr/sbin/driveshaft"), "--jobsconfig", cfg,
                            "--check"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # an operator's edited files survive a second install
        with open(cfg, "w") as f:
            f.write("{}")
        install_tree(self)
        with open(cfg) as f:
            self.assertEqual(f.read(), "{}")
        # PREFIX=/usr/local: same layout under it, the unit too
        local = os.path.join(self.tmp, "local")
        subprocess.run(["sh", os.path.join(harness.TOP, "contrib", "install.sh")], check=True,
                       env=dict(os.environ, PREFIX="/usr/local", DESTDIR=local,
                                BUILD=harness.BUILD), stdout=subprocess.DEVNULL)
        self.assertIn("usr/local/lib/systemd/system/driveshaft.service", self.tree(local))
        self.assertIn("usr/local/libexec/driveshaft/driveshaft-worker", self.tree(local))

    def test_man_pages_render_without_warnings(self):
        for page in ("driveshaft.8", "driveshaft-worker.8"):
            path = os.path.join(harness.TOP, "contrib", "man", page)
            p = subprocess.run(["groff", "-man", "-ww", "-z", path],
                               capture_output=True, text=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""), page)
            p = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                               text=True, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual((p.returncode, p.stderr), (0, ""), page)
            self.assertIn("SYNOPSIS", p.stdout)
        # every option of --help is in the page, every event the code logs too
        p = subprocess.run(["man", "-l", os.path.join(harness.TOP, "contrib/man/driveshaft.8")],
                           capture_output=True, text=True, env=dict(os.environ, MANWIDTH="200"))
        page = p.stdout.replace("\u2010", "-").replace("\u2011", "-")
        helptext = subprocess.run([MASTER, "--help"], capture_output=True, text=True).stdout
        import re
        for opt in set(re.findall(r"--[a-z_]+", helptext)):
            self.assertTrue(opt in page, f"option {opt} missing from driveshaft(8)")
        src = ""
        for d in ("master", "worker"):
            for f in os.listdir(os.path.join(harness.TOP, d)):
                with open(os.path.join(harness.TOP, d, f)) as fh:
                    src += fh.read()
        for event in set(re.findall(r"event=([a-z_]+)", src)):
            self.assertTrue(event in page, f"event {event} missing from driveshaft(8)")
        cfg_src = ""
        for f in os.listdir(os.path.join(harness.TOP, "config")):
            with open(os.path.join(harness.TOP, "config", f)) as fh:
                cfg_src += fh.read()
        # the pool keys (pool.c) and the top-level ones (config.c)
        keys = re.search(r"pool_keys\[K_NKEYS\] = \{(.*?)\};", cfg_src, re.S).group(1)
        keys = re.findall(r'"([a-z_]+)"', keys)
        keys += re.findall(r'strcmp\([a-z>-]+, "([a-z_]+)"\)', cfg_src)
        self.assertIn("queue_poll_interval", keys)
        self.assertIn("min_workers", keys)
        for key in keys:
            self.assertTrue(key in page, f"config key {key} missing from driveshaft(8)")

    def test_systemd_unit_verifies(self):
        root = install_tree(self)
        units = os.path.join(root, "lib/systemd/system")
        for f in os.listdir("/lib/systemd/system"):  # what the unit refers to
            if f.endswith((".target", ".slice")):
                subprocess.run(["cp", "-a", os.path.join("/lib/systemd/system", f), units])
        p = subprocess.run(["systemd-analyze", "verify", f"--root={root}",
                            "driveshaft.service"], capture_output=True, text=True,
                           env=dict(os.environ, MANPATH=os.path.join(root, "usr/share/man")))
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_shell_scripts_pass_shellcheck(self):
        c = os.path.join(harness.TOP, "contrib")
        p = subprocess.run(["shellcheck", "init.d/driveshaft", "default/driveshaft",
                            "install.sh", "deb.sh", "demo.sh", "deps.sh",
                            "debian/postinst", "debian/prerm", "debian/postrm"],
                           cwd=c, capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stdout), (0, ""))

    def test_deb(self):
        p = subprocess.run(["make", "--no-print-directory", "deb"], cwd=harness.TOP,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        deb = p.stdout.strip().splitlines()[-1]
        listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True,
                                 text=True, check=True).stdout
        files = {}
        for ln in listing.splitlines():
            f = ln.split()
            if not f[0].startswith("d"):
                files[f[-1].lstrip("./")] = (f[0], f[1])
        want = {p: ("-rwxr-xr-x" if m == 0o755 else "-rw-r--r--", "root/root")
                for p, m in self.FILES.items()}
        for page in ("driveshaft.8", "driveshaft-worker.8"):
            want[f"usr/share/man/man8/{page}.gz"] = want.pop(f"usr/share/man/man8/{page}")
        want["usr/share/doc/driveshaft/copyright"] = ("-rw-r--r--", "root/root")
        want["usr/share/doc/driveshaft/changelog.gz"] = ("-rw-r--r--", "root/root")
        self.assertEqual(files, want)

        def field(name):
            return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True,
                                  text=True, check=True).stdout.strip()
        self.assertEqual(field("Package"), "driveshaft")
        self.assertIn("libgearman", field("Depends"))
        self.assertIn("adduser", field("Depends"))
        ctrl = os.path.join(self.tmp, "ctrl")
        subprocess.run(["dpkg-deb", "-e", deb, ctrl], check=True)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/" + p for p in sorted(self.ETC)])
        with open(os.path.join(ctrl, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertIn("defaults-disabled", postinst)  # registered, not enabled
        code = [ln for ln in postinst.splitlines() if not ln.lstrip().startswith("#")]
        self.assertFalse(any(w in ln for ln in code for w in (" start", "systemctl",
                                                              "invoke-rc.d")), postinst)
        # the binaries are stripped and run
        x = os.path.join(self.tmp, "x")
        subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
        p = subprocess.run([os.path.join(x, "usr/sbin/driveshaft"), "--version"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn("with debug_info", subprocess.run(
            ["file", "-L", os.path.join(x, "usr/sbin/driveshaft")],
            capture_output=True, text=True).stdout)
        p = subprocess.run(["lintian", "--fail-on", "error", deb], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout, r"(?m)^E: ", p.stdout)
