"""The operators' kit (issue 8), the service side, each piece run for real:
the init script from a `make install DESTDIR=` tree against a real gearmand
with a service user, and rsyslog with the contrib snippet plus a logrotate
run (test_ops_kit.py has the rest of the kit)."""
import os
import signal
import subprocess
import time

import harness
from harness import (MASTER, MasterTestCase, pool_pids, scaled, threads, wait_for,
                     write_config)
from ops_helpers import TEST_USER, ensure_test_user, install_tree, owner


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
        # as /run: a parent only root can write, where `start` makes the
        # pid file's directory
        os.mkdir(os.path.join(self.tmp, "run"), 0o755)
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
        # made by `start`: root's, since the master writes its pid file
        # before it drops to the user
        st = os.stat(os.path.dirname(self.pidfile))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o755))

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
        # the status port answers before the workers are spawned
        wait_for(lambda: "pool A: 1 configured, 1 running" in self.service("status")[1],
                 scaled(10), "pool A's worker running")
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

    def test_pid_directory_is_never_changed(self):
        """A pid directory reached through a link, or of another owner, is
        refused and left as it was; one of root or of the user is used as
        it is; one that is absent is made only where only root can write."""
        write_config(self.config, [self.gearmand.server], self.pools_cfg(a=1, b=0))
        lock = os.path.join(self.tmp, "lock")  # a /var/lock: anyone may write
        os.mkdir(lock)
        os.chmod(lock, 0o1777)
        os.symlink(lock, os.path.join(self.tmp, "varlock"))
        mine, nobodys = (os.path.join(self.tmp, d) for d in ("mine", "nobodys"))
        for d, uid, mode in ((mine, self.uid, 0o700), (nobodys, 65534, 0o755)):
            os.mkdir(d)
            os.chown(d, uid, -1)
            os.chmod(d, mode)
        cases = [  # pid file's directory, refused with, the directory looked at
            ("varlock", "is a symbolic link; refusing it", lock),
            ("nobodys", f"belongs to nobody, not root or {TEST_USER}; refusing it", nobodys),
            ("lock/new", f"does not exist, and {lock} is not a directory only root "
             "can write", lock),
            ("mine", None, mine),
            ("lock", None, lock),  # root's: used as it is, mode 1777 and all
        ]
        for sub, refused, looked_at in cases:
            self.pidfile = os.path.join(self.tmp, sub, "driveshaft.pid")
            self.write_defaults(f"JOBSCONFIG={self.config}\nSTATUS_PORT=0\n"
                                f"RUN_AS={TEST_USER}\nPIDFILE={self.pidfile}\n")
            before = os.lstat(looked_at)
            rc, out = self.service("start")
            if refused:
                self.assertNotEqual(rc, 0, out)
                self.assertIn(f"the pid file's directory {os.path.dirname(self.pidfile)} "
                              f"{refused}", out)
                self.assertEqual(self.service("status")[0], 3, sub)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "lock", "new")))
            else:
                self.assertEqual(rc, 0, out)
                self.assertEqual(owner(self.master_pid()), self.uid)
                rc, out = self.service("stop")
                self.assertEqual(rc, 0, out)
            after = os.lstat(looked_at)
            self.assertEqual((after.st_uid, after.st_gid, after.st_mode),
                             (before.st_uid, before.st_gid, before.st_mode), sub)
        self.assertEqual(self.user_procs(), [])

    def test_shipped_defaults_drop_root_in_both_modes(self):
        """/etc/default/driveshaft as shipped runs the master as driveshaft
        with its settings and with an original command line that has no
        --user; one that names its own keeps it. The daemon here only
        writes down its arguments."""
        args = os.path.join(self.tmp, "args")
        fake = os.path.join(self.tmp, "fake-driveshaft")
        with open(fake, "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {args}\n")
        os.chmod(fake, 0o755)
        with open(os.path.join(harness.TOP, "contrib", "default", "driveshaft")) as f:
            shipped = f.read()
        # the default pid file, moved to a directory of root's of our own
        piddir = os.path.join(self.tmp, "pids")
        os.mkdir(piddir)
        self.assertIn("PIDFILE=/run/driveshaft/driveshaft.pid\n", shipped)
        shipped = shipped.replace("/run/driveshaft/", piddir + "/")
        self.assertIn("\n#DAEMON_OPTS=\"", shipped)
        original = shipped.replace("\n#DAEMON_OPTS=", "\nDAEMON_OPTS=")
        for mode, text, user in (
                ("settings", shipped, ["--user", "driveshaft"]),
                ("DAEMON_OPTS without --user",
                 original.replace(" --user driveshaft", ""), ["--user", "driveshaft"]),
                ("DAEMON_OPTS with its own --user",
                 original.replace(" --user driveshaft", " --user=nobody"), ["--user=nobody"])):
            self.defaults = os.path.join(self.tmp, "default")
            with open(self.defaults, "w") as f:
                f.write(f"DAEMON={fake}\n" + text)
            rc, out = self.service("start")
            self.assertEqual(rc, 0, out)
            with open(args) as f:
                argv = f.read().split("\n")
            os.remove(args)
            got = [a for i, a in enumerate(argv) if a.startswith("--user") or
                   (i and argv[i - 1] == "--user")]
            self.assertEqual(got, user, f"{mode}: {argv}")

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
