"""A worker's slot page written or resized from outside, as another
process of the service user could (issue 16, section 3): the master still
kills a frozen worker in time, answers the client once, and survives a
truncation. Real master, real workers, real gearmand; the page is reached
as root through /proc/PID/map_files."""
import errno
import os
import re
import signal
import struct
import subprocess
import time
import unittest

from harness import (Background, MasterTestCase, pool_pids, status, submit, threads,
                     wait_for)

# struct ds_slot_shm (common/slot.h): six uint32_t, then jobs_started,
# then busy_since_ms
BUSY_SINCE_OFFSET = 32
FAR_FUTURE_MS = 1 << 62


def page_path(pid):
    """The worker's mapping of its slot page, as a path root can open."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if "memfd:driveshaft-slot" in line:
                return f"/proc/{pid}/map_files/{line.split()[0]}"
    raise AssertionError(f"no slot page mapped in {pid}")


@unittest.skipUnless(os.geteuid() == 0, "needs root for /proc/PID/map_files")
class SlotPageTest(MasterTestCase):

    def one_pool(self, ep, path, **extra):
        d = {"worker_count": 1, "jobs_list": ["Fn"], "uri": f"http://127.0.0.1:{ep.port}{path}"}
        d.update(extra)
        return {"S": d}

    def test_frozen_worker_claiming_a_far_future_start_is_killed_in_time(self):
        max_s = 2
        ep = self.endpoint()
        self.start_master(self.one_pool(ep, "/mux", max_running_time=max_s))
        old = pool_pids(self.status_port, "S")[0]
        bg = Background(self, [("Fn", "!slow:30000")])
        wait_for(lambda: len(ep.requests) == 1, 10, "job at the endpoint")
        started = time.monotonic()  # the job started before this
        os.kill(old, signal.SIGSTOP)  # wedged: its own timeout cannot fire
        # a look by the master: it has seen the job and its honest start
        self.assertTrue(threads(self.status_port)[0][3].startswith("job_handle="))
        fd = os.open(page_path(old), os.O_RDWR)
        try:
            os.pwrite(fd, struct.pack("<q", FAR_FUTURE_MS), BUSY_SINCE_OFFSET)
            self.assertEqual(os.pread(fd, 8, BUSY_SINCE_OFFSET),
                             struct.pack("<q", FAR_FUTURE_MS))
        finally:
            os.close(fd)
        status(self.status_port, "metrics")  # a look at the rewritten page
        due = max_s + 5  # max_running_time + the kill's grace
        line = wait_for(lambda: re.search(rf"event=child_kill pool=S slot=0 pid={old} "
                                          r"state=busy busy_ms=(-?\d+)", self.master_log()),
                        due + 10, "master kills the frozen worker")
        seen = time.monotonic() - started
        busy_ms = int(line.group(1))
        # the master's own measure of the job at the kill: from the real
        # start, not from the page's; its loop wakes on the deadline
        self.assertGreaterEqual(busy_ms, due * 1000)
        self.assertLess(busy_ms, due * 1000 + 1000, line.group(0))
        self.assertLess(seen, due + 2, f"killed {seen:.1f} s after the job started")
        rc, res = bg.results()
        self.assertEqual((rc, res), (0, [["FAIL"]]))  # retried, timed out once
        self.assertNotEqual(pool_pids(self.status_port, "S"), [old])

    def test_page_cannot_be_truncated_from_outside(self):
        ep = self.endpoint()
        self.start_master(self.one_pool(ep, "/sum"))
        pid = pool_pids(self.status_port, "S")[0]
        path = page_path(pid)
        size = os.stat(path).st_size
        fd = os.open(path, os.O_RDWR)
        errors = []
        try:
            for length in (size + (1 << 20), 0):  # a shrink last
                try:
                    os.ftruncate(fd, length)
                    errors.append((length, 0))
                except OSError as e:
                    errors.append((length, e.errno))
        finally:
            os.close(fd)
        # the master looks at every page for `threads`: a shrunk one
        # would kill it with SIGBUS
        try:
            rows = threads(self.status_port)
        except OSError as e:
            rows = e
            try:  # dying: let it finish, to say of what
                self.master.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.assertIsNone(self.master.poll(), f"master died: {self.master.returncode}, "
                          f"threads: {rows}")
        self.assertEqual([r[0] for r in rows], [pid])
        self.assertEqual(errors, [(size + (1 << 20), errno.EPERM), (0, errno.EPERM)])
        self.assertEqual(os.stat(path).st_size, size)
        self.assertEqual(submit(self.gearmand.server, [("Fn", "2 3")]), [("OK", b"5")])
