"""What the operators' kit refuses and warns of (issue 16): the example
PHP endpoint under php -S refusing what Driveshaft would never send, and
the master warning of a root run with no --user and of credentials in a
config every user can read. test_ops_kit.py and test_ops_service.py have
the rest of the kit."""
import json
import os
import pwd
import subprocess
import urllib.error
import urllib.request

from harness import MASTER, MasterTestCase, submit, wait_for, write_config
from ops_helpers import TEST_USER, ensure_test_user, php_endpoint


class WarningsTest(MasterTestCase):
    """What a careless install is told: a master run as root with no --user
    to drop to, and a jobs config with credentials every user can read."""

    def check(self, cfg, *extra):
        return subprocess.run([MASTER, "--jobsconfig", cfg, "--check", *extra],
                              capture_output=True, text=True, timeout=30)

    def test_running_as_root_is_said_once(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        ep = self.endpoint()
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        pools = {"R": {"worker_count": 1, "jobs_list": ["SumR"],
                       "uri": f"http://127.0.0.1:{ep.port}/sum"}}
        self.start_master(pools, "--logconfig", logconf)
        pools["R"]["worker_count"] = 2
        self.reload(pools)
        wait_for(lambda: self.ready_workers() == 2, 10, "2 workers after a HUP")
        lines = [ln for ln in self.master_log().splitlines() if "running_as_root" in ln]
        self.assertEqual(len(lines), 1, self.master_log())
        self.assertIn(' warning event=running_as_root detail="no --user: the master and '
                      'every worker run as root', lines[0])
        p = self.check(self.config)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.splitlines(), [
            "driveshaft: warning: running as root: no --user: the master and every worker "
            "run as root, and the workers parse what gearmand and the endpoints send; "
            "give --user NAME (RUN_AS in /etc/default/driveshaft)"])
        ensure_test_user(self)
        os.chmod(self.tmp, 0o755)
        p = self.check(self.config, "--user", TEST_USER)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def test_check_warns_of_credentials_every_user_can_read(self):
        ensure_test_user(self)
        os.chmod(self.tmp, 0o755)
        cfg = os.path.join(self.tmp, "j.json")
        plain = {"Plain": {"worker_count": 1, "jobs_list": ["A"], "uri": "http://127.0.0.1/a"}}
        secret = {"Secret": {"worker_count": 1, "jobs_list": ["B"],
                             "uri": "http://alice:s3cret@127.0.0.1/b"}}
        warning = (f"driveshaft: warning: {cfg}: mode 0644 lets every user read the "
                   "credentials in it; make it 0640 with the group of the --user "
                   "(chmod o-r); URIs with credentials: pool Secret\n")
        cases = [  # pools, mode, group, what --check says on stderr
            ({**plain, **secret}, 0o644, 0, warning),
            ({**plain, **secret}, 0o640, pwd.getpwnam(TEST_USER).pw_gid, ""),
            (plain, 0o644, 0, ""),  # nothing to hide
        ]
        for pools, mode, gid, said in cases:
            write_config(cfg, [self.gearmand.server], pools)
            os.chown(cfg, 0, gid)
            os.chmod(cfg, mode)
            p = self.check(cfg, "--user", TEST_USER)
            self.assertEqual((p.returncode, p.stderr), (0, said), oct(mode))
            self.assertNotIn("s3cret", p.stdout + p.stderr)


def post(uri, body, headers):
    """One POST; returns (HTTP status, response_string)."""
    req = urllib.request.Request(uri, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())["response_string"]
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())["response_string"]


class PhpEndpointAdmitTest(MasterTestCase):
    """job.php runs jobs for Driveshaft only: not for a browser's
    cross-site form, not for a body type Driveshaft never sends, and with
    DRIVESHAFT_ENDPOINT_SECRET set, not without the pool's credentials."""

    JOB = json.dumps({"function_name": "Sum", "job_handle": "H:x:1", "unique": "u",
                      "workload": "1 2"}).encode()

    def test_job_php_refuses_browsers_and_other_content_types(self):
        uri = php_endpoint(self, workers=1)
        js = {"Content-Type": "application/json"}
        types = "expected application/json or multipart/form-data"
        cases = [  # headers, HTTP status, response_string
            (js, 200, "3"),
            ({"Content-Type": "Application/JSON; charset=utf-8"}, 200, "3"),
            ({**js, "Origin": "https://evil.example"}, 403,
             "refused: a request with an Origin header (from a browser)"),
            ({**js, "Origin": "null"}, 403,
             "refused: a request with an Origin header (from a browser)"),
            ({"Content-Type": "text/plain"}, 415,
             f"refused: Content-Type 'text/plain', {types}"),
            ({"Content-Type": "application/x-www-form-urlencoded"}, 415,
             f"refused: Content-Type 'application/x-www-form-urlencoded', {types}"),
        ]
        for headers, code, said in cases:
            self.assertEqual(post(uri, self.JOB, headers), (code, said), headers)

    def test_job_php_shared_secret(self):
        # a / in the secret goes %2F in the URI; libcurl sends it decoded
        uri = php_endpoint(self, workers=2, DRIVESHAFT_ENDPOINT_SECRET="s3c/ret")
        host = uri.split("//", 1)[1]
        logconf = os.path.join(self.tmp, "log.conf")
        with open(logconf, "w") as f:
            f.write("stderr = 1\n")
        self.start_master({
            "Right": {"worker_count": 1, "jobs_list": ["Sum"],
                      "uri": f"http://driveshaft:s3c%2Fret@{host}"},
            "Form": {"worker_count": 1, "jobs_list": ["FormSum"], "request_format": "form",
                     "uri": f"http://any:s3c%2Fret@{host}"},
            "Wrong": {"worker_count": 1, "jobs_list": ["Sum2"],
                      "uri": f"http://driveshaft:s3c%2Fre@{host}"},
            "None": {"worker_count": 1, "jobs_list": ["Sum3"], "uri": uri},
        }, "--logconfig", logconf)
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 2"), ("FormSum", "2 2"),
                                                       ("Sum2", "1 2"), ("Sum3", "1 2")]),
                         [("OK", b"3"), ("OK", b"4"), ("FAIL", None), ("FAIL", None)])
        for pool in ("Wrong", "None"):
            wait_for(lambda: f"event=job_failed pool={pool} " in self.master_log(), 10,
                     f"{pool}'s job_failed line")
            line = next(ln for ln in self.master_log().splitlines()
                        if f"event=job_failed pool={pool} " in ln)
            self.assertIn("HTTP status 401", line)
        js = {"Content-Type": "application/json"}
        self.assertEqual(post(uri, self.JOB, js), (401, "refused: no credentials "
                                                   "(DRIVESHAFT_ENDPOINT_SECRET is set)"))
        self.assertEqual(post(uri, self.JOB, {**js, "Authorization": "Basic " +
                                              "ZDpzM2MvcmV0"}), (200, "3"))  # d:s3c/ret
        self.assertEqual(post(uri, self.JOB, {**js, "Authorization": "Basic ZDpz"}),
                         (401, "refused: wrong credentials "
                          "(DRIVESHAFT_ENDPOINT_SECRET is set)"))
        self.assertNotIn("s3c", self.master_log())
