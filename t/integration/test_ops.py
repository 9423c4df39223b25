"""The operators' kit (issue 8), each piece run for real: driveshaft
--query against a real master, a pool on a unix-socket endpoint, the PHP
example endpoint under php -S, the init script from a `make install
DESTDIR=` tree, rsyslog with the contrib snippet plus a logrotate run, the
man pages, the install tree and the .deb."""
import os
import subprocess
import time

import harness
from harness import MASTER, MasterTestCase, submit, threads, wait_for


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
