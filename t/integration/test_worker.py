"""driveshaft-worker against a real gearmand and real HTTP endpoints."""
import os
import signal
import time

from harness import ProcTestCase, alive, submit, wait_for


class WorkerTest(ProcTestCase):

    def sum_jobs(self, fn, n):
        jobs = [(fn, f"{i} {i * 3} 7") for i in range(n)]
        want = [("OK", str(i + i * 3 + 7).encode()) for i in range(n)]
        return jobs, want

    def test_1000_jobs_4_workers_json_and_form(self):
        ep = self.endpoint()
        for fmt in ("json", "form"):
            fn = f"Sum_{fmt}"
            for _ in range(4):
                self.worker("P" + fmt, [fn], f"http://127.0.0.1:{ep.port}/sum",
                            "--request_format", fmt)
            self.wait_registered(fn, 4)
            jobs, want = self.sum_jobs(fn, 1000)
            self.assertEqual(submit(self.gearmand.server, jobs), want)
            with ep.lock:
                formats = {r["format"] for r in ep.requests if r["req"]["function_name"] == fn}
            self.assertEqual(formats, {fmt})
        with ep.lock:
            self.assertEqual(len(ep.requests), 2000)
            self.assertEqual({r["user_agent"] for r in ep.requests}, {"driveshaft/0.1.0"})
            r = ep.requests[0]["req"]
        self.assertTrue(r["job_handle"].startswith("H:"))
        self.assertTrue(r["unique"].startswith("gm-"))

    def test_bad_responses_fail_and_the_worker_goes_on(self):
        ep = self.endpoint()
        w = self.worker("Mux", ["Mux"], f"http://127.0.0.1:{ep.port}/mux",
                        "--max_running_time", "1", "--max_response_bytes", "1000")
        self.wait_registered("Mux")
        bad = ["!fail500", "!notjson", "!empty", "!array", "!missing",
               "!ret:\"0\"", "!ret:1.5", "!ret:-1", "!ret:9223372036854775808",
               "!ret:1e400", "!ret:null", "!notstring", "!big:5000", "!badb64",
               "!retfail"]
        for i, cmd in enumerate(bad):
            got = submit(self.gearmand.server, [("Mux", cmd), ("Mux", f"{i} 1")])
            self.assertEqual(got, [("FAIL", None), ("OK", str(i + 1).encode())], cmd)
        self.assertTrue(alive(w.pid))
        log = self.log_of(w)
        self.assertIn('reason="HTTP status 500"', log)
        self.assertIn('reason="response is JSON but not an object"', log)
        self.assertIn('reason="response has no response_string"', log)
        self.assertIn('reason="gearman_ret is out of range"', log)
        self.assertIn('reason="response body over the max_response_bytes cap of 1000 bytes"', log)
        self.assertEqual(log.count("event=job_failed pool=Mux function=Mux handle=H:"), len(bad))
        # a failed job is no gearmand outage (found by make soak)
        self.assertNotIn("event=gearman_down", log)

    def test_good_edge_responses(self):
        ep = self.endpoint()
        self.worker("Mux", ["Mux"], f"http://127.0.0.1:{ep.port}/mux",
                    "--max_response_bytes", "1000")
        self.wait_registered("Mux")
        got = submit(self.gearmand.server, [("Mux", "!nul"), ("Mux", "!b64"),
                                            ("Mux", "!big:900"), ("Mux", "!ret:0")])
        self.assertEqual(got[0], ("OK", b"a\x00b\x00"))
        self.assertEqual(got[1], ("OK", b"\xff\x00\xfe"))
        self.assertEqual(got[2], ("OK", b"x" * 860))
        self.assertEqual(got[3], ("OK", b"x"))

    def test_binary_workload_is_base64(self):
        ep = self.endpoint()
        self.worker("E", ["Echo"], f"http://127.0.0.1:{ep.port}/echo")
        self.wait_registered("Echo")
        payload = b"\xff\x00bin\x80"
        got = submit(self.gearmand.server, [("Echo", payload), ("Echo", "héllo")])
        self.assertEqual(got, [("OK", payload), ("OK", "héllo".encode())])
        with ep.lock:
            enc = {r["req"]["workload"]: r["req"].get("workload_encoding")
                   for r in ep.requests}
        self.assertEqual(enc, {payload: "base64", "héllo".encode(): None})

    def test_slow_endpoint_fails_within_a_second_of_max_running_time(self):
        ep = self.endpoint()
        w = self.worker("Slow", ["Mux"], f"http://127.0.0.1:{ep.port}/mux",
                        "--max_running_time", "1.5")
        self.wait_registered("Mux")
        t0 = time.monotonic()
        self.assertEqual(submit(self.gearmand.server, [("Mux", "!slow:5000")]),
                         [("FAIL", None)])
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 2.5)
        self.assertEqual(submit(self.gearmand.server, [("Mux", "2 2")]), [("OK", b"4")])
        self.assertIn("outcome=timeout", self.log_of(w))

    def test_connection_refused_then_endpoint_comes_up(self):
        from harness import free_port
        port = free_port()
        w = self.worker("R", ["Sum"], f"http://127.0.0.1:{port}/sum")
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 1")]), [("FAIL", None)])
        self.assertIn("Failed to connect to 127.0.0.1 port", self.log_of(w))
        self.endpoint(port)
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 1")]), [("OK", b"2")])
        self.assertTrue(alive(w.pid))

    def test_500_jobs_one_connection(self):
        ep = self.endpoint()
        self.worker("K", ["Sum"], f"http://127.0.0.1:{ep.port}/sum")
        self.wait_registered("Sum")
        jobs, want = self.sum_jobs("Sum", 500)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        self.assertEqual(ep.connections, 1)

    def test_gearmand_restart(self):
        ep = self.endpoint()
        w = self.worker("G", ["Sum"], f"http://127.0.0.1:{ep.port}/sum")
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "1 2")]), [("OK", b"3")])
        self.gearmand.stop()
        wait_for(lambda: "event=gearman_down" in self.log_of(w), 10, "outage logged")
        time.sleep(3)  # the outage itself: gearmand stays down a few seconds
        self.gearmand.start()
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "5 5")]), [("OK", b"10")])
        wait_for(lambda: "event=gearman_up" in self.log_of(w), 10, "recovery logged")
        log = self.log_of(w)
        self.assertEqual(log.count("event=gearman_down"), 1, log)
        self.assertEqual(log.count("event=gearman_up"), 1, log)
        self.assertTrue(alive(w.pid))

    def test_stop_finishes_job_in_hand_and_idle_stop_is_immediate(self):
        ep = self.endpoint()
        w = self.worker("S", ["Mux"], f"http://127.0.0.1:{ep.port}/mux")
        self.wait_registered("Mux")
        import subprocess
        from harness import GMCLIENT
        c = subprocess.Popen([GMCLIENT, "-s", self.gearmand.server, "-t", "20"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        c.stdin.write("Mux\t!slow:800\n")
        c.stdin.close()
        wait_for(lambda: len(ep.requests) == 1, 10, "the job at the endpoint")
        w.send_signal(signal.SIGTERM)
        out = c.stdout.read()
        self.assertEqual(c.wait(20), 0)
        self.assertEqual(out.split("\t")[1], "OK")  # finished, not aborted
        self.assertEqual(w.wait(10), 0)
        w2 = self.worker("S", ["Mux"], f"http://127.0.0.1:{ep.port}/mux")
        self.wait_registered("Mux")
        t0 = time.monotonic()
        w2.send_signal(signal.SIGTERM)
        self.assertEqual(w2.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 0.5)

    def test_stop_fails_a_job_that_outlasts_two_loop_timeouts(self):
        ep = self.endpoint()
        w = self.worker("S", ["Mux"], f"http://127.0.0.1:{ep.port}/mux")
        self.wait_registered("Mux")
        import subprocess
        from harness import GMCLIENT
        c = subprocess.Popen([GMCLIENT, "-s", self.gearmand.server, "-t", "30"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        c.stdin.write("Mux\t!slow:10000\n")
        c.stdin.close()
        wait_for(lambda: len(ep.requests) == 1, 10, "the job at the endpoint")
        t0 = time.monotonic()
        w.send_signal(signal.SIGTERM)
        self.assertEqual(c.stdout.read().split("\t")[1].strip(), "FAIL")
        self.assertLess(time.monotonic() - t0, 2 * 1 + 1.5)  # loop_timeout is 1
        self.assertEqual(w.wait(10), 0)
        self.assertIn("outcome=aborted", self.log_of(w))

    def test_max_jobs_per_worker(self):
        ep = self.endpoint()
        w = self.worker("M", ["Sum"], f"http://127.0.0.1:{ep.port}/sum",
                        "--max_jobs_per_worker", "3")
        self.wait_registered("Sum")
        jobs, want = self.sum_jobs("Sum", 3)
        self.assertEqual(submit(self.gearmand.server, jobs), want)
        self.assertEqual(w.wait(10), 0)
        self.assertIn("reason=max_jobs_per_worker jobs=3", self.log_of(w))

    def test_client_id_names_pool_slot_pid(self):
        ep = self.endpoint()
        w = self.worker("Ident", ["Sum"], f"http://127.0.0.1:{ep.port}/sum", "--slot", "7")
        self.wait_registered("Sum")
        ids = [line.split()[2] for line in self.gearmand.workers()]
        self.assertIn(f"Ident:7:{w.pid}", ids)
        with open(f"/proc/{w.pid}/cmdline", "rb") as f:
            self.assertTrue(f.read().startswith(b"driveshaft-worker: pool=Ident slot=7"))

    def test_a_proxy_in_the_environment_never_sees_a_job(self):
        import socket
        import threading
        ep = self.endpoint()
        proxy = socket.socket()
        proxy.bind(("127.0.0.1", 0))
        proxy.listen(16)
        self.addCleanup(proxy.close)
        seen = []

        def accept():
            while True:
                try:
                    c, _ = proxy.accept()
                except OSError:
                    return
                seen.append(c)
                c.close()
        threading.Thread(target=accept, daemon=True).start()
        url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
        env.update({k: url for k in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                     "HTTPS_PROXY", "all_proxy", "ALL_PROXY")})
        self.worker("Px", ["Sum"], f"http://127.0.0.1:{ep.port}/sum", env=env)
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "20 22")]),
                         [("OK", b"42")])
        self.assertEqual(len(seen), 0, "the proxy got a connection")

    def test_a_uri_libcurl_cannot_parse_fails_the_start_and_hides_the_password(self):
        # the second: a '/' in a password that should have been escaped
        # leaves libcurl a host "user" and a port "se"
        for i, uri in enumerate(("http://user:secret@[::1/sum",
                                 "http://user:se/cret@127.0.0.1/sum")):
            w = self.worker(f"BadUri{i}", ["Sum"], uri)
            self.assertEqual(w.wait(10), 2)
            log = self.log_of(w)
            self.assertIn(f'event=worker_failed pool=BadUri{i} slot=0 '
                          f'error="--uri: ', log)
            self.assertNotIn("cret", log)

    def test_bad_command_lines(self):
        import subprocess
        from harness import WORKER
        cases = [
            ([], "missing --pool"),
            (["--pool", "P", "--server", "h:0"], '--server: "h:0": port must be 1 to 65535'),
            (["--pool", "P", "--server", "h", "--function", "F", "--uri", "ftp://x"],
             '--uri: expected an http://, https:// or fastcgi:// URL, got "ftp://x"'),
            (["--pool", "P", "--bogus"], 'unknown option "--bogus"'),
            (["--pool", "P", "--max_running_time", "0"],
             '--max_running_time: expected seconds > 0 and <= 86400, got "0"'),
        ]
        for args, msg in cases:
            p = subprocess.run([WORKER, *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 1, args)
            self.assertIn(msg, p.stderr)
        p = subprocess.run([WORKER, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--max_running_time", p.stdout)

    def test_worker_started_before_gearmand(self):
        ep = self.endpoint()
        self.gearmand.stop()
        w = self.worker("Early", ["Sum"], f"http://127.0.0.1:{ep.port}/sum")
        wait_for(lambda: "event=gearman_down" in self.log_of(w), 10, "outage logged")
        self.gearmand.start()
        self.wait_registered("Sum")
        self.assertEqual(submit(self.gearmand.server, [("Sum", "20 22")]), [("OK", b"42")])
        log = self.log_of(w)
        self.assertEqual((log.count("event=gearman_down"), log.count("event=gearman_up")),
                         (1, 1), log)
        self.assertTrue(alive(w.pid))
