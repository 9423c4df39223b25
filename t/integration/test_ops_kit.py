"""The operators' kit (issue 8), each piece run for real: driveshaft
--query against a real master, a pool on a unix-socket endpoint, the PHP
example endpoint under php -S, make demo, the man pages, the install tree
and the .deb (test_ops_service.py has the init script and rsyslog,
test_ops_guard.py what the kit refuses and warns of)."""
import os
import pwd
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import MASTER, MasterTestCase, submit, threads, wait_for
from ops_helpers import TEST_USER, ensure_test_user, install_tree, php_endpoint


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


    def test_query_escapes_what_a_hostile_status_port_sends(self):
        """What reaches the terminal (`service driveshaft status` prints
        it to root's): control bytes as \\xNN, so no ESC ] 2 ; retitles it;
        tab and line ends stay for scripts."""
        srv = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(srv.close)

        def serve():
            c, _ = srv.accept()
            with c:
                c.recv(64)
                c.sendall(b"\x1b]2;owned\x07P\t1\t1\r\n\x1b[2J\xc2\x9b31mred\x7f\n")
        threading.Thread(target=serve, daemon=True).start()
        p = subprocess.run([MASTER, "--query", "pools", "--status_port",
                            str(srv.getsockname()[1])], capture_output=True, timeout=30)
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual(p.stdout, b"\\x1B]2;owned\\x07P\t1\t1\n"
                         b"\\x1B[2J\\xC2\\x9B31mred\\x7F\n")


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
           "usr/share/doc/driveshaft/examples/jobs-fastcgi.json",
           "usr/share/doc/driveshaft/examples/php-fpm-driveshaft.conf",
           "usr/share/doc/driveshaft/examples/logconfig"]
    FILES = {  # path in a PREFIX=/usr tree: mode
        **{p: 0o644 for p in ETC + DOC}, "etc/init.d/driveshaft": 0o755,
        "etc/driveshaft/jobs.json": 0o640,  # it may hold endpoint credentials
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
        gid = pwd.getpwuid(ensure_test_user(self)).pw_gid
        root = install_tree(self, SERVICE_GROUP=TEST_USER)
        self.assertEqual(self.tree(root), self.FILES)
        # the jobs config: root's, read by the service user through its group
        st = os.stat(os.path.join(root, "etc/driveshaft/jobs.json"))
        self.assertEqual((st.st_uid, st.st_gid), (0, gid))
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
        # PREFIX=/usr/local: same layout under it, the unit too; no such
        # group: the jobs config stays root's alone, and install says so
        local = os.path.join(self.tmp, "local")
        p = subprocess.run(["sh", os.path.join(harness.TOP, "contrib", "install.sh")],
                           env=dict(os.environ, PREFIX="/usr/local", DESTDIR=local,
                                    BUILD=harness.BUILD, SERVICE_GROUP="ds-no-such-group"),
                           check=True, capture_output=True, text=True)
        self.assertIn(f"install: {local}/etc/driveshaft/jobs.json is 0640 without the group "
                      "ds-no-such-group: chgrp it to the service user's group", p.stdout)
        self.assertIn("usr/local/lib/systemd/system/driveshaft.service", self.tree(local))
        self.assertIn("usr/local/libexec/driveshaft/driveshaft-worker", self.tree(local))
        st = os.stat(os.path.join(local, "etc/driveshaft/jobs.json"))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, 0, 0o640))

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

    def assert_postinst_gives_the_group(self, postinst):
        """The package's postinst, run for real in a private mount
        namespace over a copy of /etc (its user and the jobs config land
        there, not on the machine): the jobs config, unpacked root's and
        0640, ends root:driveshaft."""
        etc = os.path.join(self.tmp, "etc")
        subprocess.run(["cp", "-a", "/etc", etc], check=True)
        os.makedirs(os.path.join(etc, "driveshaft"), exist_ok=True)
        with open(os.path.join(etc, "driveshaft", "jobs.json"), "w") as f:
            f.write("{}")
        os.chmod(os.path.join(etc, "driveshaft", "jobs.json"), 0o640)
        script = os.path.join(self.tmp, "postinst")
        with open(script, "w") as f:
            f.write(postinst)
        p = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f'mount --bind "{etc}" /etc && rm -f /etc/init.d/driveshaft && '
             f'sh "{script}" configure && stat -c "%U:%G %a" /etc/driveshaft/jobs.json'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stdout), (0, "root:driveshaft 640\n"), p.stderr)

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
        perms = {0o755: "-rwxr-xr-x", 0o644: "-rw-r--r--", 0o640: "-rw-r-----"}
        want = {p: (perms[m], "root/root") for p, m in self.FILES.items()}
        for page in ("driveshaft.8", "driveshaft-worker.8"):
            want[f"usr/share/man/man8/{page}.gz"] = want.pop(f"usr/share/man/man8/{page}")
        want["usr/share/doc/driveshaft/copyright"] = ("-rw-r--r--", "root/root")
        want["usr/share/doc/driveshaft/changelog.gz"] = ("-rw-r--r--", "root/root")
        # the jobs config's 0640 is meant
        want["usr/share/lintian/overrides/driveshaft"] = ("-rw-r--r--", "root/root")
        self.assertEqual(files, want)

        def field(name):
            return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True,
                                  text=True, check=True).stdout.strip()
        self.assertEqual(field("Package"), "driveshaft")
        # the worker speaks Gearman itself: libcurl, not libgearman
        self.assertIn("libcurl", field("Depends"))
        self.assertNotIn("libgearman", field("Depends"))
        self.assertIn("adduser", field("Depends"))
        ctrl = os.path.join(self.tmp, "ctrl")
        subprocess.run(["dpkg-deb", "-e", deb, ctrl], check=True)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/" + p for p in sorted(self.ETC)])
        with open(os.path.join(ctrl, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assert_postinst_gives_the_group(postinst)
        self.assertIn("defaults-disabled", postinst)  # registered, not enabled
        code = [ln for ln in postinst.splitlines() if not ln.lstrip().startswith("#")]
        self.assertFalse(any(w in ln for ln in code for w in (" start", "systemctl")),
                         postinst)
        # a running service is upgraded in place, or restarted when it
        # refuses; nothing else (test_upgrade_ops.py runs it)
        self.assertEqual(sorted(ln.split("invoke-rc.d driveshaft ")[1].split()[0]
                                for ln in code if "invoke-rc.d" in ln),
                         ["restart", "upgrade"], postinst)
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
        self.assertNotIn("non-standard-file-perm", p.stdout)
