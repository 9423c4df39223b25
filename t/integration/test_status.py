"""The status port (docs/status-port.md) of a real master with real workers, a
real gearmand and a real endpoint: what an operator, a script or a
Prometheus scraper reads there, and that no client, however slow, greedy or
malicious, stops it or the jobs going through."""
import http.client
import os
import random
import re
import resource
import selectors
import socket
import subprocess
import threading
import time

from harness import (VERSION, VERSION_RE, is_version, MasterTestCase, children_of, gm_line, pools_rows,
                     raw, submit, threads, wait_for)

PROMTOOL = "/usr/bin/promtool"
UNRECOGNIZED = b"Error: unrecognized command\r\n"
TOO_LONG = b"Error: line too long\r\n"


def parse_metrics(text):
    """Sample lines as {'name{labels}': 'value'}; comments left out."""
    out = {}
    for ln in text.splitlines():
        if ln and not ln.startswith("#"):
            key, value = ln.rsplit(" ", 1)
            out[key] = value
    return out


class StatusTest(MasterTestCase):

    def metrics(self):
        return raw(self.status_port, b"metrics\n").decode()

    # 1
    def test_threads_shows_the_job_in_hand_escaped(self):
        ep = self.endpoint()
        m = self.start_master(self.mux_pool(ep))
        uniq = b"u\x01\tq"
        gm = self.gmclient_bg([gm_line("Mux", b"!slow:3000", uniq)])

        def busy():
            rows = threads(self.status_port)
            return rows if any(r[3] != "Waiting for work" for r in rows) else None
        rows = wait_for(busy, 10, "a worker busy with the slow job")
        reply = raw(self.status_port, b"threads\n")
        self.assertTrue(reply.endswith(b"\r\n"))
        self.assertEqual(reply.count(b"\r\n"), 3, reply)
        self.assertEqual(reply.count(b"\n"), 3, "no raw newline inside a line")
        self.assertFalse(re.search(rb"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]", reply),
                         "no raw control character in the reply")

        busy_rows = [r for r in rows if r[3] != "Waiting for work"]
        self.assertEqual(len(busy_rows), 1, rows)
        pid, pool, shutdown, state = busy_rows[0]
        self.assertEqual((pool, shutdown), ("Mux", 0))
        self.assertRegex(state, r"^job_handle=H:\S+:\d+ job_unique=u\\x01\\x09q$")
        self.assertEqual([(r[1], r[2], r[3]) for r in rows if r is not busy_rows[0]],
                         [("Mux", 0, "Waiting for work")] * 2)
        kids = children_of(m.pid)
        self.assertEqual(sorted(r[0] for r in rows), kids)
        self.assertEqual(len(kids), 3)
        # the handle shown is the one the endpoint got, the unique is intact
        with ep.lock:
            req = ep.requests[-1]["req"]
        self.assertEqual(req["unique"], "u\x01\tq")
        self.assertEqual(state.split()[0], "job_handle=" + req["job_handle"])
        self.assertEqual(pools_rows(self.status_port),
                         [["Mux", "3", "3", "1", "2", "0", "0", "0", "0"]])

        self.assertEqual(self.gm_results(gm, 20), [("OK", b"slept")])
        wait_for(lambda: self.ready_workers() == 3, 10, "all three idle again")
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)),
                         children_of(m.pid))
        wait_for(lambda: pools_rows(self.status_port) ==
                 [["Mux", "3", "3", "0", "3", "1", "0", "0", "0"]], 5,
                 "the slow job counted as completed")

    # 2
    def test_pools_and_metrics_count_jobs_and_survive_a_worker_restart(self):
        ep = self.endpoint()
        m = self.start_master(self.mux_pool(ep, name="P", count=2,
                                            function="Fn"))
        jobs = [("Fn", f"{i} {i}") for i in range(20)] + [("Fn", "!fail500")] * 3
        random.Random(7).shuffle(jobs)
        got = submit(self.gearmand.server, jobs)
        want = [("FAIL", None) if w == "!fail500" else
                ("OK", str(2 * int(w.split()[0])).encode()) for _, w in jobs]
        self.assertEqual(got, want)

        line = ["P", "2", "2", "0", "2", "20", "3", "0", "0"]
        wait_for(lambda: pools_rows(self.status_port) == [line], 5,
                 f"pools line {line}")
        # then its size now, min and max (a fixed pool: all worker_count),
        # then its workers by the version they say (all the master's)
        self.assertEqual(raw(self.status_port, b"pools\n"),
                         "\t".join(line + ["2", "2", "2"]).encode() +
                         b"\t" + VERSION.split()[1] + b":2\r\n")

        def check_counters(starts, exits):
            mt = parse_metrics(self.metrics())
            lab = 'pool="P",function="Fn"'
            self.assertEqual(mt[f"driveshaft_jobs_completed_total{{{lab}}}"], "20")
            self.assertEqual(mt[f"driveshaft_jobs_failed_total{{{lab}}}"], "3")
            self.assertEqual(mt[f"driveshaft_jobs_timed_out_total{{{lab}}}"], "0")
            self.assertEqual(mt['driveshaft_http_errors_total{pool="P",code="500"}'], "3")
            self.assertEqual(mt[f"driveshaft_job_duration_seconds_count{{{lab}}}"], "23")
            self.assertEqual(mt[f'driveshaft_job_duration_seconds_bucket{{{lab},le="+Inf"}}'],
                             "23")
            # jobs on a local endpoint take well under 5 s each
            self.assertEqual(mt[f'driveshaft_job_duration_seconds_bucket{{{lab},le="5"}}'],
                             "23")
            self.assertLess(float(mt[f"driveshaft_job_duration_seconds_sum{{{lab}}}"]), 23 * 5)
            self.assertEqual(mt['driveshaft_worker_starts_total{pool="P"}'], str(starts))
            for k, v in exits.items():
                self.assertEqual(mt[f'driveshaft_worker_exits_total{{pool="P",reason="{k}"}}'],
                                 str(v))
            self.assertEqual(mt['driveshaft_workers{pool="P",state="idle"}'], "2")
            self.assertEqual(mt['driveshaft_workers{pool="P",state="busy"}'], "0")
            return mt

        check_counters(2, {})
        old = children_of(m.pid)
        self.assertEqual(len(old), 2)
        os.kill(old[0], 9)
        wait_for(lambda: len(children_of(m.pid)) == 2 and
                 old[0] not in children_of(m.pid) and self.ready_workers() == 2,
                 15, "a new worker in place of the killed one")
        new = children_of(m.pid)
        self.assertEqual(sorted(r[0] for r in threads(self.status_port)), new)
        self.assertIn(old[1], new)
        self.assertEqual(pools_rows(self.status_port), [line])
        check_counters(3, {"signal": 1})
        # and the new worker does jobs that add to the same counters
        self.assertEqual(submit(self.gearmand.server, [("Fn", "1 2")] * 4),
                         [("OK", b"3")] * 4)
        wait_for(lambda: pools_rows(self.status_port)[0][5] == "24", 5,
                 "24 completed")

    # 3
    def promtool(self, body):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=body,
                           capture_output=True, timeout=30)
        out = (p.stdout + p.stderr).decode()
        # lint findings (a counter without _total, ...) are failures too
        self.assertEqual((p.returncode, out), (0, ""), body.decode())

    def test_metrics_pass_promtool_plain_and_over_http(self):
        ep = self.endpoint()
        pools = self.mux_pool(ep, name="Q.1-x", count=2, function="Fn")
        pools.update(self.mux_pool(ep, name="Empty", count=0))
        self.start_master(pools)
        # before any job, then after jobs of every outcome
        self.promtool(self.metrics().encode())
        submit(self.gearmand.server, [("Fn", "1 2"), ("Fn", "!fail500"),
                                      ("Fn", "!notjson"), ("Fn", "!fail500")])
        wait_for(lambda: pools_rows(self.status_port)[0][5:7] == ["1", "3"], 5,
                 "4 jobs counted")
        body = self.metrics()
        self.promtool(body.encode())
        self.assertIn('driveshaft_http_errors_total{pool="Q.1-x",code="500"} 2\n', body)
        self.assertTrue(body.endswith("\n"))

        # what a scraper sends, with headers after the request line
        reply = raw(self.status_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                    b"User-Agent: Prometheus/2.42.0\r\nAccept: text/plain\r\n\r\n")
        head, _, hbody = reply.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.assertEqual(lines[0], b"HTTP/1.1 200 OK")
        hdrs = {k.lower(): v for k, v in (ln.split(b": ", 1) for ln in lines[1:])}
        self.assertTrue(hdrs[b"content-type"].startswith(b"text/plain; version=0.0.4"),
                        hdrs)
        self.assertEqual(int(hdrs[b"content-length"]), len(hbody))
        self.assertEqual(hbody.decode(), self.metrics())
        self.promtool(hbody)

        # HTTP/1.0 and a real HTTP client library
        r10 = raw(self.status_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        self.assertTrue(r10.startswith(b"HTTP/1.1 200 OK\r\n"), r10[:100])
        c = http.client.HTTPConnection("127.0.0.1", self.status_port, timeout=5)
        c.request("GET", "/metrics")
        r = c.getresponse()
        b = r.read()
        c.close()
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        self.assertEqual(int(r.getheader("Content-Length")), len(b))
        self.promtool(b)
        # not the metrics path: no HTTP answer
        self.assertEqual(raw(self.status_port, b"GET / HTTP/1.1\r\n\r\n"), UNRECOGNIZED)

    # 4
    def test_version_unknown_and_line_endings(self):
        ep = self.endpoint()
        self.start_master(self.mux_pool(ep, count=1))
        p = self.status_port
        self.assertRegex(raw(p, b"version\n"), VERSION_RE)
        self.assertRegex(raw(p, b"version\r\n"), VERSION_RE)
        self.assertEqual(raw(p, b"bogus\n"), UNRECOGNIZED)
        self.assertEqual(raw(p, b"\n"), UNRECOGNIZED)
        self.assertEqual(raw(p, b"Version\n"), UNRECOGNIZED)
        self.assertEqual(raw(p, b"version \n"), UNRECOGNIZED)
        t1 = raw(p, b"threads\n")
        self.assertRegex(t1, rb"^\d+\tMux\t0\tWaiting for work\r\n$")
        self.assertEqual(raw(p, b"threads\r\n"), t1)
        self.assertEqual(raw(p, b"pools\r\n"), raw(p, b"pools\n"))
        self.assertTrue(raw(p, b"metrics\r\n").startswith(b"# HELP "))
        # a line in pieces, and whatever comes after the line is ignored
        with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
            s.sendall(b"ver")
            time.sleep(0.2)
            s.sendall(b"sion\r\nthreads\n")
            self.assertRegex(s.makefile("rb").read(), VERSION_RE)

    # 5
    def test_hardening_under_load(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        ep = self.endpoint()
        m = self.start_master(self.mux_pool(ep, name="Sum", count=2,
                                            function="Sum", path="/slow/80"))
        port = self.status_port
        kids = children_of(m.pid)
        n = 300
        gm = self.gmclient_bg([gm_line("Sum", f"{i} {i * 7} 1".encode())
                               for i in range(n)], timeout=120)
        want = [("OK", str(i * 8 + 1).encode()) for i in range(n)]
        wait_for(lambda: int(pools_rows(port)[0][5]) > 0, 10, "the load under way")

        # silent clients: dropped after the idle timeout, nobody waits on them
        silent, connected = {}, []

        def hold(i):
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            t0 = time.monotonic()
            connected.append(i)
            try:
                silent[i] = (s.recv(100), time.monotonic() - t0)
            except OSError as e:
                silent[i] = (e, time.monotonic() - t0)
            s.close()
        holders = [threading.Thread(target=hold, args=(i,)) for i in range(20)]
        for t in holders:
            t.start()
        wait_for(lambda: len(connected) == 20, 5, "20 silent clients connected")
        for _ in range(10):
            t0 = time.monotonic()
            self.assertRegex(raw(port, b"version\n"), VERSION_RE)
            self.assertLess(time.monotonic() - t0, 0.5, "version with silent clients")
            t0 = time.monotonic()
            self.assertEqual(len(threads(port)), 2)
            self.assertLess(time.monotonic() - t0, 0.5, "threads with silent clients")

        # over-long lines: the error, then the close
        for size in (1025, 1500, 4096, 100000):
            self.assertEqual(raw(port, b"v" * size + b"\n"), TOO_LONG, size)
        self.assertEqual(raw(port, b"x" * 1023 + b"\n"), UNRECOGNIZED)
        self.assertEqual(raw(port, b"GET /metrics HTTP/1.1\r\n" + b"H: v\r\n" * 500 +
                             b"\r\n")[:17], b"HTTP/1.1 200 OK\r\n")

        # garbage: random binary, no newline, then close (some read, most not)
        rnd = random.Random(42)
        for i in range(60):
            size = rnd.choice([1, 7, 300, 1023, 1024, 1025, 3000, 70000])
            junk = bytes(b for b in rnd.randbytes(size) if b != 0x0A) or b"\xff"
            if i % 3 == 0:
                r = raw(port, junk, shut=True)
                self.assertIn(r, (UNRECOGNIZED, TOO_LONG), size)
                if len(junk) >= 1024:
                    self.assertEqual(r, TOO_LONG)
            else:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                        s.sendall(junk)
                except (ConnectionResetError, BrokenPipeError):
                    pass  # the master answered and closed first

        # the silent clients time out (before the burst: a full table
        # would evict them, docs/status-port.md)
        for t in holders:
            t.join(20)
        self.assertEqual(len(silent), 20)
        for i, (got, took) in silent.items():
            self.assertEqual(got, b"", f"silent client {i}: {got!r}")
            self.assertTrue(4.5 <= took <= 7.5, f"silent client {i} dropped after {took:.2f}s")

        # a burst of 1000 connections, all at once
        answered, failed, wrong = self.burst(port, 1000)
        print(f"\n  burst: {answered} answered, {failed} refused or reset, "
              f"{len(wrong)} wrong", flush=True)
        self.assertEqual(wrong, [])
        self.assertGreaterEqual(answered, 256)
        # all of the above happened while jobs were going through
        self.assertIsNone(gm.poll(), "the load still running after the abuse")
        self.assertLess(int(pools_rows(port)[0][5]), n)

        # the load went through untouched, the same workers did it all
        self.assertEqual(self.gm_results(gm, 120), want)
        wait_for(lambda: pools_rows(port) == [["Sum", "2", "2", "0", "2", str(n), "0", "0", "0"]],
                 10, f"pools: {n} completed")
        self.assertEqual(children_of(m.pid), kids)
        self.assertEqual(sorted(r[0] for r in threads(port)), kids)
        self.assertIsNone(m.poll())
        t0 = time.monotonic()
        self.assertRegex(raw(port, b"version\n"), VERSION_RE)
        self.assertLess(time.monotonic() - t0, 0.5)
        mt = parse_metrics(self.metrics())
        self.assertEqual(mt['driveshaft_jobs_completed_total{pool="Sum",function="Sum"}'],
                         str(n))

    def burst(self, port, count, deadline_s=60):
        sel = selectors.DefaultSelector()
        state = {}
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            state[s] = {"sent": False, "data": b""}
            sel.register(s, selectors.EVENT_WRITE)
        answered, failed, wrong = 0, 0, []
        deadline = time.monotonic() + deadline_s
        while state and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                st = state[s]
                done = False
                try:
                    if not st["sent"]:
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise ConnectionRefusedError(err, os.strerror(err))
                        s.send(b"version\n")
                        st["sent"] = True
                        sel.modify(s, selectors.EVENT_READ)
                        continue
                    chunk = s.recv(4096)
                    if chunk:
                        st["data"] += chunk
                        continue
                    done = True
                    if is_version(st["data"]):
                        answered += 1
                    elif st["data"]:
                        wrong.append(st["data"])
                    else:
                        failed += 1
                except OSError:
                    done = True
                    if st["data"]:
                        wrong.append(st["data"])
                    failed += 1
                if done:
                    sel.unregister(s)
                    s.close()
                    del state[s]
        for s in state:
            s.close()
        sel.close()
        self.assertEqual(state, {}, f"{len(state)} burst clients neither answered "
                         f"nor closed within {deadline_s}s")
        return answered, failed, wrong
