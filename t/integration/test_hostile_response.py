"""What a hostile endpoint answer costs a real driveshaft-worker (issue 7,
point 4): whatever the body, the worker's peak memory (VmHWM) stays within
3 x the body + 16 MiB, the client gets the right answer, the worker goes on,
and its memory comes back down after a large answer."""
from harness import (SANITIZED, ProcTestCase, alive, endpoint, reset_peak, status_kb,
                     submit, wait_for)

MiB = 1 << 20
BODY = 16 * MiB  # the default max_response_bytes


class HostileResponseTest(ProcTestCase):

    def start_worker(self):
        ep = self.endpoint()
        w = self.worker("Hostile", ["Mux"], f"http://127.0.0.1:{ep.port}/mux",
                        "--max_response_bytes", str(64 * MiB),
                        "--max_running_time", "120")
        self.wait_registered("Mux")
        # warm: libraries touched, connection to the endpoint open
        self.assertEqual(submit(self.gearmand.server, [("Mux", "1 2")]),
                         [("OK", b"3")])
        return w

    def run_hostile(self, w, kind):
        """Sends one /hostile/<kind> job; returns the body size and the
        worker's peak memory in bytes while it handled it."""
        body, want = endpoint.hostile_body(kind, BODY)
        reset_peak(w.pid)
        got = submit(self.gearmand.server, [("Mux", f"!hostile:{kind}:{BODY}")],
                     timeout=120)
        self.assertTrue(got == [want], f"{kind}: got {got[0][0]} with "
                        f"{len(got[0][1] or b'')} bytes, want {want[0]} with "
                        f"{len(want[1] or b'')} bytes")
        self.assertTrue(alive(w.pid), f"worker died on {kind}")
        return len(body), status_kb(w.pid, "VmHWM") * 1024

    def test_peak_memory_is_bounded_by_the_body(self):
        w = self.start_worker()
        # "string" sends a 16 MiB WORK_COMPLETE: about 11 s, as libgearman
        # and gearmand pin their socket buffers at 32 KiB (on loopback one
        # 64 KiB segment moves per ~44 ms delayed ACK: 1.5 MB/s)
        for kind in ("array", "members", "nests", "deep", "nul", "failbase64",
                     "string"):
            size, peak = self.run_hostile(w, kind)
            if not SANITIZED:
                self.assertLessEqual(peak, 3 * size + 16 * MiB,
                                     f"{kind}: VmHWM {peak / MiB:.1f} MiB for "
                                     f"a {size / MiB:.1f} MiB body")
        self.assertIn('reason="response is not valid JSON"', self.log_of(w))
        self.assertEqual(submit(self.gearmand.server, [("Mux", "2 2")]),
                         [("OK", b"4")])

    def test_memory_comes_back_after_a_large_answer(self):
        w = self.start_worker()
        before = status_kb(w.pid, "VmRSS") * 1024
        # gearman_ret 1: the same body to take in, without a 16 MiB answer
        # to send (at libgearman's 1.5 MB/s, see the test above). After the
        # first large body, glibc would serve the next from a heap it keeps.
        for kind in ("failstring", "array", "members", "failstring"):
            self.run_hostile(w, kind)
            if SANITIZED:
                continue
            wait_for(lambda: status_kb(w.pid, "VmRSS") * 1024 - before < 4 * MiB,
                     10, f"VmRSS back within 4 MiB of {before // 1024} kB "
                     f"after {kind}")
        self.assertEqual(submit(self.gearmand.server, [("Mux", "2 2")]),
                         [("OK", b"4")])

    def test_runs_of_large_binary_jobs_come_back_exact(self):
        """Large requests and answers reuse the worker's buffers while
        they keep coming (the answer decoded inside the body), smaller
        jobs in between make it give them back: every answer is still the
        exact bytes, and the worker's memory is back near idle once it has
        waited a loop timeout for work."""
        ep = self.endpoint()
        w = self.worker("E", ["Echo"], f"http://127.0.0.1:{ep.port}/echo")
        self.wait_registered("Echo")
        self.assertEqual(submit(self.gearmand.server, [("Echo", "warm")]),
                         [("OK", b"warm")])
        before = status_kb(w.pid, "VmRSS")
        jobs = []
        for i, size in enumerate((150000, 5, 150000, 150000, 90000, 150000,
                                  70000, 3, 400000, 149999, 7)):
            body = bytes((i * 31 + k * 7) % 256 for k in range(size))
            if i % 3 == 1:  # some as UTF-8 text, sent and answered as is
                body = bytes(b % 64 + 48 for b in body)
            jobs.append(("Echo", body))
        got = submit(self.gearmand.server, jobs, timeout=120)
        for k, ((_, body), (status, data)) in enumerate(zip(jobs, got)):
            self.assertEqual(status, "OK", f"job {k}")
            self.assertTrue(data == body, f"job {k}: {len(data or b'')} "
                            f"bytes back for {len(body)}")
        self.assertTrue(alive(w.pid))
        if not SANITIZED:
            wait_for(lambda: status_kb(w.pid, "VmRSS") - before < 1024, 10,
                     f"VmRSS back within 1 MiB of {before} kB when idle")
