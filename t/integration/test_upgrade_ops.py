"""Upgrading without a stop (issue 19), the operators' side, run for real:
driveshaft --upgrade-check against the options a running master has,
driveshaft --upgrade against a real master (and what it refuses to signal),
the init script's upgrade action from a `make install DESTDIR=` tree, and
the Debian postinst's choice between an upgrade in place and a restart.
The core (USR2 -> check -> exec) is test_upgrade.py's."""
import os
import re
import socket
import subprocess
import threading

import harness
from harness import MASTER, MasterTestCase, scaled, submit, wait_for, write_config
from ops_helpers import ensure_test_user, install_tree

# not ops_helpers.TEST_USER: test_ops_service, beside this module, kills
# every process of that user when a test of its ends (one of these masters
# was SIGKILLed so, and --upgrade found its status port closed)
TEST_USER = "dsupgtest"

VERSION = subprocess.run([MASTER, "--version"], capture_output=True,
                         text=True).stdout.split()[-1]
CHECK_LINE = re.compile(r"upgrade-check ok version=(\S+) reads_state=(\d+)-(\d+)\n\Z")


def run(argv, timeout=None, **kw):
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout or scaled(30), **kw)


def read(path):
    with open(path) as f:
        return f.read()


def core_waited_for(port):
    """Why the success path cannot run yet, or None: it needs the core
    (master/upgrade.c) and the status port's upgrade counters."""
    if not os.path.exists(os.path.join(harness.TOP, "master", "upgrade.c")):
        return "waits for the in-place upgrade core (master/upgrade.c) on main"
    if "\r\nupgrades " not in harness.status(port, "version"):
        return "waits for the 'upgrades N failed M' line of the version reply"
    return None


def old_status_port(test, reply=b"driveshaft 0.0.9\r\n"):
    """A status port that answers `version` as a master from before in-place
    upgrades did: no counters. Returns its port."""
    srv = socket.create_server(("127.0.0.1", 0))
    test.addCleanup(srv.close)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                c.recv(64)
                c.sendall(reply)
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


class UpgradeCheckTest(MasterTestCase):
    """--upgrade-check: the new binary says it would start with the running
    master's options, and which state versions it reads."""

    def pools(self, ep):
        return {"A": {"worker_count": 1, "jobs_list": ["UpA"],
                      "uri": f"http://127.0.0.1:{ep.port}/sum"}}

    def test_good_config_beside_the_running_master(self):
        """With the very options of a running master (its status port bound,
        its pid file locked) the check passes: it takes neither."""
        pidfile = os.path.join(self.tmp, "ds.pid")
        self.start_master(self.pools(self.endpoint()), "--pid_file", pidfile)
        argv = self.master.args + ["--upgrade-check"]
        p = run(argv)
        self.assertEqual((p.returncode, p.stderr), (0, ""), p.stdout)
        m = CHECK_LINE.match(p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertEqual(m.group(1), VERSION)
        self.assertLessEqual(1, int(m.group(2)))
        self.assertLessEqual(int(m.group(2)), int(m.group(3)))
        # nothing of the running master was touched
        self.assertIsNone(self.master.poll())
        self.assertEqual(read(pidfile).strip(), str(self.master.pid))
        self.assertEqual(submit(self.gearmand.server, [("UpA", "2 3")]), [("OK", b"5")])

    def test_bad_options_and_configs_are_named(self):
        ep = self.endpoint()
        good = os.path.join(self.tmp, "good.json")
        write_config(good, [self.gearmand.server], self.pools(ep))
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write(read(good).replace('"worker_count": 1', '"worker_count": "x"'))
        badlog = os.path.join(self.tmp, "log.conf")
        with open(badlog, "w") as f:
            f.write("facility = nosuch\n")
        nox = os.path.join(self.tmp, "worker-not-executable")
        open(nox, "w").close()
        missing = os.path.join(self.tmp, "missing.json")
        cases = [  # extra arguments, a part of what stderr must say
            (["--jobsconfig", bad], 'pools_list.A.worker_count: expected integer >= 0, got "x"'),
            (["--jobsconfig", missing], missing),
            (["--jobsconfig", good, "--logconfig", badlog], "--logconfig"),
            (["--jobsconfig", good, "--worker", nox], f"cannot run the worker {nox}"),
            (["--jobsconfig", good, "--worker", missing], f"cannot run the worker {missing}"),
            (["--jobsconfig", good, "--user", "ds-no-such-user"], "ds-no-such-user"),
        ]
        for extra, said in cases:
            p = run([MASTER, "--upgrade-check", *extra])
            self.assertEqual(p.returncode, 1, (extra, p.stdout, p.stderr))
            self.assertEqual(p.stdout, "", extra)
            self.assertIn(said, p.stderr, extra)
            self.assertIn("upgrade-check failed", p.stderr, extra)


class UpgradeCliTest(MasterTestCase):
    """driveshaft --upgrade: what it refuses, said clearly, exit 1; and
    nothing signalled that is not a driveshaft master able to upgrade."""

    def upgrade(self, pidfile, port, timeout=None):
        return run([MASTER, "--upgrade", "--pid_file", pidfile,
                    "--status_port", str(port)], timeout=timeout)

    def test_refusals_say_why(self):
        port = harness.free_port()  # nothing listens there
        pidfile = os.path.join(self.tmp, "ds.pid")
        gone = subprocess.Popen(["true"])
        gone.wait()
        sleeper = self.spawn(["sleep", "600"], "sleep.log")
        cases = [  # pid file content (None: absent), a part of the error
            (None, f"--pid_file {pidfile}: No such file or directory "
                   "(the master is not running)"),
            ("", f"--pid_file {pidfile} is empty (the master is not running)"),
            ("driveshaft\n", f'--pid_file {pidfile} does not hold a pid: "driveshaft"'),
            (f"{gone.pid}\n", f"--pid_file {pidfile} names pid {gone.pid}, and no such "
                              "process runs: a stale pid file"),
            (f"{sleeper.pid}\n", f"--pid_file {pidfile} names pid {sleeper.pid}, which is "
                                 'not driveshaft but "sleep": a stale pid file'),
        ]
        for content, said in cases:
            if content is None:
                if os.path.exists(pidfile):
                    os.unlink(pidfile)
            else:
                with open(pidfile, "w") as f:
                    f.write(content)
            p = self.upgrade(pidfile, port)
            self.assertEqual((p.returncode, p.stdout), (1, ""), (content, p.stderr))
            self.assertIn(said, p.stderr, content)
        self.assertIsNone(sleeper.poll(), "the stranger got no signal")

        p = run([MASTER, "--upgrade", "--pid_file", pidfile])
        self.assertEqual(p.returncode, 1)
        self.assertIn("--upgrade needs --pid_file FILE and --status_port PORT", p.stderr)

    def test_no_status_port_answers(self):
        pidfile = os.path.join(self.tmp, "ds.pid")
        self.start_master({"A": {"worker_count": 1, "jobs_list": ["NoA"],
                                 "uri": "http://127.0.0.1:9/"}},
                          "--pid_file", pidfile, status=False, expect_workers=False)
        wait_for(lambda: os.path.exists(pidfile) and read(pidfile).strip() ==
                 str(self.master.pid), scaled(10), "the pid file")
        port = harness.free_port()
        p = self.upgrade(pidfile, port)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"the status port 127.0.0.1:{port}: nothing answers", p.stderr)
        self.assertIsNone(self.master.poll())

    def test_a_master_too_old_gets_no_signal(self):
        """A master whose version reply has no upgrade counters predates
        USR2, which would kill it: none is sent, exit 1, it serves on."""
        ep = self.endpoint()
        pidfile = os.path.join(self.tmp, "ds.pid")
        self.start_master({"A": {"worker_count": 1, "jobs_list": ["OldA"],
                                 "uri": f"http://127.0.0.1:{ep.port}/sum"}},
                          "--pid_file", pidfile)
        p = self.upgrade(pidfile, old_status_port(self))
        self.assertEqual((p.returncode, p.stdout), (1, ""), p.stderr)
        self.assertIn(f"the master (pid {self.master.pid}, driveshaft 0.0.9) is too old "
                      "to upgrade in place", p.stderr)
        self.assertIsNone(self.master.poll())
        self.assertEqual(submit(self.gearmand.server, [("OldA", "1 1")]), [("OK", b"2")])

    def test_upgraded_in_place_and_refused(self):
        ep = self.endpoint()
        pidfile = os.path.join(self.tmp, "ds.pid")
        pools = {"A": {"worker_count": 2, "jobs_list": ["UpA"],
                       "uri": f"http://127.0.0.1:{ep.port}/sum"}}
        self.start_master(pools, "--pid_file", pidfile)
        why = core_waited_for(self.status_port)
        if why:
            self.skipTest(why)
        p = self.upgrade(pidfile, self.status_port, timeout=scaled(90))
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout, f"driveshaft: upgraded in place to {VERSION} "
                                   f"(pid {self.master.pid})\n")
        self.assertIsNone(self.master.poll())
        self.assertEqual(read(pidfile).strip(), str(self.master.pid))
        self.assertIn("event=upgrade ", self.master_log())
        self.assertEqual(submit(self.gearmand.server, [("UpA", "2 2")]), [("OK", b"4")])
        # a config the binary would not start with: refused, serves on
        with open(self.config, "w") as f:
            f.write("{")
        p = self.upgrade(pidfile, self.status_port, timeout=scaled(90))
        self.assertEqual((p.returncode, p.stdout), (1, ""), p.stderr)
        self.assertIn("upgrade refused; see the log (event=upgrade_failed)", p.stderr)
        wait_for(lambda: "event=upgrade_failed" in self.master_log(), scaled(10),
                 "the upgrade_failed line")
        self.assertIsNone(self.master.poll())
        self.assertEqual(submit(self.gearmand.server, [("UpA", "3 3")]), [("OK", b"6")])


class InitScriptUpgradeTest(MasterTestCase):
    """/etc/init.d/driveshaft upgrade from a `make install DESTDIR=` tree,
    against a real master started by the same script."""

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # the service user reaches the tree
        ensure_test_user(self, TEST_USER)
        self.root = install_tree(self)
        self.ep = self.endpoint()
        self.config = os.path.join(self.tmp, "jobs.json")
        write_config(self.config, [self.gearmand.server],
                     {"A": {"worker_count": 1, "jobs_list": ["InitUpA"],
                            "uri": f"http://127.0.0.1:{self.ep.port}/sum"}})
        self.status_port = harness.free_port()
        os.mkdir(os.path.join(self.tmp, "run"), 0o755)
        self.pidfile = os.path.join(self.tmp, "run", "driveshaft", "driveshaft.pid")
        self.defaults = os.path.join(self.tmp, "default")
        with open(self.defaults, "w") as f:
            f.write(f"DAEMON={self.root}/usr/sbin/driveshaft\nJOBSCONFIG={self.config}\n"
                    f"STATUS_PORT={self.status_port}\nRUN_AS={TEST_USER}\n"
                    f"PIDFILE={self.pidfile}\nEXTRA_OPTS='--loop_timeout 1'\n"
                    "STOP_TIMEOUT=30\n")
        self.addCleanup(self.service, "stop")

    def service(self, action):
        p = run(["sh", os.path.join(self.root, "etc/init.d/driveshaft"), action],
                timeout=scaled(120), env=dict(os.environ, DRIVESHAFT_DEFAULTS=self.defaults))
        return p.returncode, p.stdout + p.stderr

    def master_pid(self):
        with open(self.pidfile) as f:
            return int(f.read().strip() or 0)

    def start(self):
        rc, out = self.service("start")
        self.assertEqual(rc, 0, out)
        wait_for(lambda: harness.port_open(self.status_port), scaled(10), "status port")
        return self.master_pid()

    def test_not_running_and_usage(self):
        rc, out = self.service("upgrade")
        self.assertEqual(rc, 7, out)
        self.assertIn("driveshaft is not running", out)
        rc, out = self.service("nosuch")
        self.assertEqual(rc, 2, out)
        self.assertIn("|status|upgrade}", out)

    def test_bad_config_sends_nothing(self):
        master = self.start()
        good = read(self.config)
        with open(self.config, "w") as f:
            f.write(good.replace('"worker_count": 1', '"worker_count": "one"'))
        rc, out = self.service("upgrade")
        self.assertEqual(rc, 6, out)
        self.assertIn('pools_list.A.worker_count: expected integer >= 0, got "one"', out)
        self.assertIn("not upgraded, the config has errors; the running one stays", out)
        self.assertEqual(self.master_pid(), master)
        self.assertTrue(harness.alive(master))
        with open(self.config, "w") as f:
            f.write(good)
        self.assertEqual(submit(self.gearmand.server, [("InitUpA", "4 4")]), [("OK", b"8")])

    def test_upgrade_keeps_the_pid(self):
        master = self.start()
        why = core_waited_for(self.status_port)
        if why:
            self.skipTest(why)
        rc, out = self.service("upgrade")
        self.assertEqual(rc, 0, out)
        self.assertIn(f"driveshaft: upgraded in place to {VERSION} (pid {master})", out)
        self.assertEqual(self.master_pid(), master)
        self.assertTrue(harness.alive(master))
        self.assertEqual(submit(self.gearmand.server, [("InitUpA", "5 5")]), [("OK", b"10")])


class PostinstTest(harness.ProcTestCase):
    """contrib/debian/postinst configure, run for real in a private mount
    namespace over a copy of /etc, with invoke-rc.d recording what it is
    asked: on a package upgrade a running service is upgraded in place and
    restarted only when it refuses; a first install touches no service."""

    def test_upgrade_in_place_or_restart(self):
        etc = os.path.join(self.tmp, "etc")
        subprocess.run(["cp", "-a", "/etc", etc], check=True)
        os.makedirs(os.path.join(etc, "driveshaft"), exist_ok=True)
        with open(os.path.join(etc, "driveshaft", "jobs.json"), "w") as f:
            f.write("{}")
        subprocess.run(["cp", os.path.join(harness.TOP, "contrib/init.d/driveshaft"),
                        os.path.join(etc, "init.d", "driveshaft")], check=True)
        stubs = os.path.join(self.tmp, "bin")
        os.mkdir(stubs)
        calls = os.path.join(self.tmp, "calls")
        with open(os.path.join(stubs, "invoke-rc.d"), "w") as f:
            f.write(f'#!/bin/sh\necho "$*" >> "{calls}"\n'
                    '[ "$2" = upgrade ] && exit "$UPGRADE_RC"\nexit 0\n')
        os.chmod(os.path.join(stubs, "invoke-rc.d"), 0o755)
        postinst = os.path.join(harness.TOP, "contrib/debian/postinst")
        cases = [  # configure's arguments, what upgrade answers, the calls
            (["configure"], "0", []),
            (["configure", "0.0.9"], "0", ["driveshaft upgrade"]),
            (["configure", "0.0.9"], "7", ["driveshaft upgrade"]),
            (["configure", "0.0.9"], "6", ["driveshaft upgrade"]),
            (["configure", "0.0.9"], "101", ["driveshaft upgrade"]),
            (["configure", "0.0.9"], "1", ["driveshaft upgrade", "driveshaft restart"]),
        ]
        script = "; ".join(
            f'rm -f "{calls}"; touch "{calls}"; UPGRADE_RC={rc} sh "{postinst}" '
            f'{" ".join(args)} >/dev/null 2>&1; echo "rc=$?"; tr "\\n" "," < "{calls}"; echo'
            for args, rc, _ in cases)
        p = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f'mount --bind "{etc}" /etc && {script}'],
            capture_output=True, text=True, timeout=scaled(120),
            env=dict(os.environ, PATH=stubs + ":" + os.environ["PATH"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        got = p.stdout.splitlines()
        self.assertEqual(len(got), 2 * len(cases), p.stdout)
        for i, (args, rc, want) in enumerate(cases):
            self.assertEqual(got[2 * i], "rc=0", (args, rc))
            self.assertEqual([c for c in got[2 * i + 1].split(",") if c], want, (args, rc))
