"""FastCGI pools (issue 20) against a real php-fpm started by the test
(fpm.py): contrib/endpoint/job.php unchanged serves an HTTP pool (php -S)
and FastCGI pools over TCP and a unix socket alike; php-fpm recycling its
children after pm.max_requests loses and repeats no job; php-fpm killed
mid-load fails the jobs in hand once and serves the next ones."""
import os
import random
import re
import subprocess

import harness
from fpm import COUNT_PHP, Fpm
from harness import GMCLIENT, MasterTestCase, status, submit, wait_for
from ops_helpers import php_endpoint

STATUS_PHP = os.path.join(harness.TOP, "t", "integration", "fpm_status.php")
ENV_PHP = os.path.join(harness.TOP, "t", "integration", "fpm_env.php")


def log_lines(test, event):
    return [ln for ln in test.master_log().splitlines() if f"event={event} " in ln]


class FastcgiJobPhpTest(MasterTestCase):

    def test_job_php_over_http_and_fastcgi(self):
        fpm = Fpm(self, children=3).start()
        http = php_endpoint(self)
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        fns = ["Sum", "Echo", "Fail", "FormSum", "FormEcho"]
        pools = {
            "H": ("Sum Echo Fail", http, "json"),
            "T": ("Sum Echo Fail", fpm.uri_tcp(), "json"),
            "U": ("Sum Echo Fail", fpm.uri_unix(), "json"),
            "HF": ("FormSum FormEcho", http.replace("job.php", "job.php?f"), "form"),
            "TF": ("FormSum FormEcho", fpm.uri_tcp(query="?f"), "form"),
            "UF": ("FormSum FormEcho", fpm.uri_unix(), "form"),
        }
        big = random.Random(20).randbytes(1 << 20)
        blob = bytes(range(256)) * 4
        for name, (jobs, uri, fmt) in pools.items():
            # one pool at a time, so that its answers are its own
            p = {name: {"worker_count": 2, "jobs_list": jobs.split(), "uri": uri,
                        "request_format": fmt}}
            if name.startswith("U"):
                p[name]["unix_socket"] = fpm.sock
            self.start_master(p, "--logconfig", logconf)
            form = fmt == "form"
            s, e = ("FormSum", "FormEcho") if form else ("Sum", "Echo")
            got = submit(self.gearmand.server,
                         [(s, f"{i} {i + 1} 7") for i in range(200)] +
                         [(e, blob), (e, big), (s, "[1,2]")], timeout=120)
            self.assertEqual(got, [("OK", str(2 * i + 8).encode()) for i in range(200)] +
                             [("OK", blob), ("OK", big), ("OK", b"3")], name)
            # a PHP exception, and a PHP warning made one, are WORK_FAIL
            bad = [("Fail", "x"), ("Sum", "1 x")] if not form else [(s, "1 x")]
            self.assertEqual(submit(self.gearmand.server, bad),
                             [("FAIL", None)] * len(bad), name)
            wait_for(lambda: len(log_lines(self, "job_failed")) == len(bad), 10,
                     "job_failed lines")
            for ln in log_lines(self, "job_failed"):
                self.assertIn(f"pool={name} ", ln)
                self.assertIn('reason="endpoint returned gearman_ret 1"', ln)
            if uri.startswith("fastcgi"):
                # what PHP said on STDERR: one escaped line a job
                err = log_lines(self, "fastcgi_stderr")
                self.assertEqual(len(err), len(bad), err)
                self.assertIn("job.php: " + s + " failed: InvalidArgumentException: "
                              "not an integer: 'x'", "\n".join(err))
            rows = [r.split("\t") for r in status(self.status_port, "pools").split("\r\n")
                    if r.startswith(name + "\t")]
            # the status port counts them as for HTTP: done, failed
            self.assertEqual(rows[0][5:7], ["203", str(len(bad))], rows)
            self.master.kill()
            self.master.wait()
            wait_for(lambda: not self.gearmand.workers() or all(
                f not in w for w in self.gearmand.workers() for f in fns), 10,
                "workers gone")
            os.unlink(os.path.join(self.tmp, "master.log"))

    def test_http_status_comes_from_the_status_header(self):
        fpm = Fpm(self, children=1).start()
        self.start_master({
            "S": {"worker_count": 1, "jobs_list": ["S503"],
                  "uri": fpm.uri_tcp(STATUS_PHP, "?code=503")},
            "K": {"worker_count": 1, "jobs_list": ["S200"],
                  "uri": fpm.uri_unix(STATUS_PHP, "?code=200"), "unix_socket": fpm.sock},
        })
        self.assertEqual(submit(self.gearmand.server, [("S503", "x"), ("S200", "y")]),
                         [("FAIL", None), ("OK", b"status")])
        wait_for(lambda: log_lines(self, "job_failed"), 10, "job_failed line")
        line = log_lines(self, "job_failed")[0]
        self.assertIn("pool=S function=S503", line)
        self.assertIn('http_status=503 reason="HTTP status 503"', line)
        wait_for(lambda: 'driveshaft_http_errors_total{pool="S",code="503"} 1'
                 in status(self.status_port, "metrics"), 10, "the 503 counted")


    def test_cgi_params_as_php_sees_them(self):
        fpm = Fpm(self, children=1).start()
        tcp = fpm.uri_tcp(ENV_PHP, "?a=1&b=%20")
        self.start_master({
            "E": {"worker_count": 1, "jobs_list": ["Env"],
                  "uri": tcp.replace("fastcgi://", "fastcgi://us%40r:p%2Fw@")},
            "F": {"worker_count": 1, "jobs_list": ["EnvForm"], "request_format": "form",
                  "uri": fpm.uri_unix(ENV_PHP), "unix_socket": fpm.sock},
        })
        (s1, a), (s2, b) = submit(self.gearmand.server, [("Env", "x"), ("EnvForm", "y")])
        self.assertEqual((s1, s2), ("OK", "OK"))
        a, b = a.decode().split("\n"), b.decode().split("\n")
        self.assertEqual(a[0:2], ["POST", "application/json"])
        n, got = a[2].split("=")
        self.assertEqual(n, got)  # CONTENT_LENGTH is what came
        self.assertEqual(a[3:8], ["a=1&b=%20", "us@r:p/w", ENV_PHP,
                                  ENV_PHP + "?a=1&b=%20", "driveshaft/0.1.0"])
        self.assertEqual(a[8:], ["CGI/1.1", "HTTP/1.1"])
        self.assertTrue(b[1].startswith("multipart/form-data; boundary="), b)
        self.assertEqual(b[3:5], ["", "-:-"])


class FastcgiRecycleTest(MasterTestCase):

    def test_max_requests_7_with_500_jobs(self):
        """php-fpm closes a kept connection after pm.max_requests: the next
        job goes on a new one, none fails and none runs twice."""
        fpm = Fpm(self, children=3, max_requests=7).start()
        runs = os.path.join(self.tmp, "runs.log")
        q = f"?log={runs}"
        self.start_master({
            "T": {"worker_count": 2, "jobs_list": ["Sum"], "uri": fpm.uri_tcp(COUNT_PHP, q)},
            "U": {"worker_count": 1, "jobs_list": ["Sum"], "uri": fpm.uri_unix(COUNT_PHP, q),
                  "unix_socket": fpm.sock},
        })
        jobs = [("Sum", f"{i} 1") for i in range(500)]
        got = submit(self.gearmand.server, jobs, timeout=240)
        self.assertEqual(got, [("OK", str(i + 1).encode()) for i in range(500)],
                         "\n".join(log_lines(self, "job_failed")))
        with open(runs) as f:
            seen = f.read().split("\n")[:-1]
        self.assertEqual(len(seen), 500)
        self.assertEqual(len(set(seen)), 500)
        self.assertEqual(log_lines(self, "job_failed"), [])


class FastcgiRestartTest(MasterTestCase):

    def test_php_fpm_killed_and_restarted_mid_load(self):
        fpm = Fpm(self, children=2).start()
        runs = os.path.join(self.tmp, "runs.log")
        self.start_master({
            "T": {"worker_count": 1, "jobs_list": ["Echo"],
                  "uri": fpm.uri_tcp(COUNT_PHP, f"?log={runs}")},
            "U": {"worker_count": 1, "jobs_list": ["Echo"],
                  "uri": fpm.uri_unix(COUNT_PHP, f"?log={runs}"), "unix_socket": fpm.sock},
        })
        # warm: both workers hold a kept connection to php-fpm
        self.assertEqual(submit(self.gearmand.server, [("Echo", f"w{i}") for i in range(20)]),
                         [("OK", f"w{i}".encode()) for i in range(20)])
        slow = subprocess.Popen([GMCLIENT, "-s", self.gearmand.server, "-t", "60"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(slow)
        slow.stdin.write("".join(f"Echo\tsleep {i}\n" for i in range(2)))
        slow.stdin.close()

        def in_hand():
            with open(runs) as f:
                return sum(1 for ln in f if ln.startswith("sleep"))
        wait_for(lambda: in_hand() == 2, 20, "both slow jobs in php-fpm")
        fpm.kill()
        out = slow.stdout.read()
        self.assertEqual(slow.wait(), 0)
        self.assertEqual([ln.split("\t")[1] for ln in out.splitlines()], ["FAIL", "FAIL"])
        failed = log_lines(self, "job_failed")
        self.assertEqual(len(failed), 2, failed)
        for ln in failed:
            self.assertRegex(ln, r'reason="FastCGI: (\S+ closed the connection '
                                 r'before END_REQUEST \(\d+ request bytes sent\)|'
                                 r'read from \S+: Connection reset by peer)"')
        fpm.start()
        jobs = [("Echo", f"after {i}") for i in range(100)]
        self.assertEqual(submit(self.gearmand.server, jobs),
                         [("OK", f"after {i}".encode()) for i in range(100)])
        self.assertEqual(len(log_lines(self, "job_failed")), 2)
        with open(runs) as f:
            self.assertEqual(sum(1 for ln in f if ln.startswith("sleep")), 2)  # once each
