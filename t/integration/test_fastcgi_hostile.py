"""A hostile FastCGI server (t/fcgi_hostile.py) against a real
driveshaft-worker: records of another request id, an endless STDERR, a
100 MB STDOUT, a bad version, a close mid-header and the rest. Each job
fails with a reason naming what was wrong, the worker's peak memory stays
within its bound, the connection is dropped, and the next job succeeds.
Also a bad fastcgi:// URI at --check and on HUP, and max_running_time."""
import os
import subprocess
import sys

import harness
from harness import (MASTER, SANITIZED, MasterTestCase, ProcTestCase, reset_peak,
                     status_kb, submit, wait_for)

sys.path.insert(0, os.path.join(harness.TOP, "t"))
import fcgi_hostile  # noqa: E402

MiB = 1 << 20
CAP = 1 * MiB  # max_response_bytes of the worker

CASES = [
    ("other-id", "FastCGI record for request id 2, expected 1"),
    ("endless-stderr", f"FastCGI STDERR over {CAP} bytes (max_response_bytes)"),
    ("huge-stdout", f"response body over the max_response_bytes cap of {CAP} bytes"),
    ("bad-version", "FastCGI record of version 2, expected 1"),
    ("close-mid-header", "closed the connection mid-record"),
    ("close-mid-record", "closed the connection mid-record"),
    ("bad-status", "CGI Status header without a 3-digit code"),
    ("app-status", "FastCGI application exited with status 3"),
    ("overloaded", "FastCGI END_REQUEST with protocol status 2 OVERLOADED"),
]


class FastcgiHostileTest(ProcTestCase):

    def test_hostile_server(self):
        srv = fcgi_hostile.Server().start()
        self.addCleanup(srv.stop)
        w = self.worker("Hostile", ["Job"], f"fastcgi://127.0.0.1:{srv.port}/srv/job.php",
                        "--max_response_bytes", str(CAP), "--max_running_time", "60")
        self.wait_registered("Job")
        self.assertEqual(submit(self.gearmand.server, [("Job", "ok")]), [("OK", b"ok")])
        base = status_kb(w.pid, "VmRSS") * 1024
        for kind, reason in CASES:
            reset_peak(w.pid)
            self.assertEqual(submit(self.gearmand.server, [("Job", kind)]),
                             [("FAIL", None)], kind)
            self.assertEqual(submit(self.gearmand.server, [("Job", "ok")]),
                             [("OK", b"ok")], kind)
            wait_for(lambda: reason in self.log_of(w), 10, f"{kind}: {reason}")
            peak = status_kb(w.pid, "VmHWM") * 1024
            if not SANITIZED:
                # the cap, the CGI headers' 16 KiB, a read buffer, the log
                # line: not the 100 MB the server offers
                self.assertLess(peak - base, 3 * CAP + 4 * MiB,
                                f"{kind}: VmHWM {peak / MiB:.1f} MiB")
        self.assertTrue(harness.alive(w.pid))
        log = self.log_of(w)
        # the STDERR it kept: one bounded line, marked as cut
        err = [ln for ln in log.splitlines() if "event=fastcgi_stderr" in ln]
        self.assertEqual(len(err), 1, err)
        self.assertGreater(int(err[0].split(" bytes=")[1].split()[0]), CAP)
        self.assertIn("cut=1", err[0])
        self.assertLess(len(err[0]), 1000)
        # every hostile answer cost its connection but a well-framed one
        # (app-status); an ok one keeps it
        with srv.lock:
            self.assertEqual(srv.requests.count("ok"), len(CASES) + 1)
            self.assertEqual(srv.connections, 1 + len(CASES) - 1)

    def test_max_running_time_closes_and_times_out(self):
        srv = fcgi_hostile.Server().start()
        self.addCleanup(srv.stop)
        w = self.worker("Slow", ["Job"], f"fastcgi://127.0.0.1:{srv.port}/srv/job.php",
                        "--max_running_time", "1")
        self.wait_registered("Job")
        self.assertEqual(submit(self.gearmand.server, [("Job", "stall")]), [("FAIL", None)])
        self.assertEqual(submit(self.gearmand.server, [("Job", "ok")]), [("OK", b"ok")])
        try:
            wait_for(lambda: "outcome=timeout" in self.log_of(w), 10, "timeout line")
        except AssertionError:
            raise AssertionError(self.log_of(w)[-2000:]) from None
        self.assertIn('reason="max_running_time of 1000 ms exceeded"', self.log_of(w))
        with srv.lock:  # the stalled connection was closed, not reused
            self.assertEqual(srv.connections, 2)


    def test_a_late_close_after_max_requests_loses_no_job(self):
        """php-fpm closes a kept connection after pm.max_requests some time
        after the last answer, and drops a request written meanwhile: on a
        slow machine, 400 ms. Once the first close has taught the count, a
        connection that reaches it carries no more requests, however late
        its close."""
        srv = fcgi_hostile.Server(max_requests=3, late_close=0.4).start()
        self.addCleanup(srv.stop)
        self.worker("Recycle", ["Job"], f"fastcgi://127.0.0.1:{srv.port}/srv/job.php")
        self.wait_registered("Job")
        self.assertEqual(submit(self.gearmand.server, [("Job", "ok")] * 24, timeout=120),
                         [("OK", b"ok")] * 24)
        with srv.lock:
            self.assertEqual((srv.dropped, len(srv.requests), srv.connections), (0, 24, 8))


class FastcgiConfigTest(MasterTestCase):

    def test_bad_uri_at_check_and_on_hup(self):
        good = {"P": {"worker_count": 1, "jobs_list": ["J"],
                      "uri": "fastcgi://127.0.0.1:9/srv/job.php"}}
        self.start_master(good)
        for uri, why in [
                ("fastcgi:///srv/job.php", "a host, or fastcgi:///abs/script.php and unix_socket"),
                ("fastcgi://127.0.0.1/srv/job.php", "a port (FastCGI has no default port)"),
                ("fastcgi://127.0.0.1:99999/srv/job.php", "a port of 1 to 65535"),
                ("fastcgi://127.0.0.1:9000", "the script's absolute path")]:
            bad = {"P": dict(good["P"], uri=uri)}
            harness.write_config(self.config, [self.gearmand.server], bad)
            out = subprocess.run([MASTER, "--jobsconfig", self.config, "--check"],
                                 capture_output=True, text=True)
            msg = ("pools_list.P.job_processing_uri: expected "
                   f"fastcgi://HOST:PORT/abs/script.php with {why}, got \"{uri}\"")
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(msg, out.stderr)
            # at start: a master with it exits 1 and says why
            out = subprocess.run([MASTER, "--jobsconfig", self.config,
                                  "--status_port", "0"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 1)
            self.assertIn(msg, out.stderr)
            n = self.master_log().count("event=reload_failed")
            self.reload(bad)
            wait_for(lambda: self.master_log().count("event=reload_failed") > n, 10,
                     "reload_failed")
            self.assertIn(msg.replace('"', '\\"'), self.master_log())
        # the pool kept running on the good config all along
        self.assertEqual(self.ready_workers(), 1)

    def test_example_config_checks(self):
        ex = os.path.join(harness.TOP, "contrib", "jobs.fastcgi.example.json")
        out = subprocess.run([MASTER, "--jobsconfig", ex, "--check"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("pools_list", out.stderr)  # (a warning may say root)
