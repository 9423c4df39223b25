"""The status port (docs/status-port.md) under clients that hold what they can:
a flood of held connections evicts the idle longest so a fresh query still
answers, an empty reply closes at once, a slow reader of a large reply keeps
its connection while it makes progress (and loses it when it stops), and a
client that never stops sending after its reply does not hold the master."""
import os
import resource
import socket
import threading
import time

from harness import (VERSION_RE, MasterTestCase, children_of, gm_line, pools_rows,
                     raw, threads, wait_for)

MAX_CLIENTS = 256   # DS_STATUS_MAX_CLIENTS in master/status.h
IDLE_S = 5          # DS_STATUS_IDLE_MS


def need_fds(n):
    """Raises this process's descriptor limit (the master inherits it) to
    at least n, restored by the returned callable."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n), hard))
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def holds(pid, sock):
    """Whether process pid still has the other end of our connection sock
    open (its socket inode among pid's descriptors)."""
    me = sock.getsockname()[1]
    peer = sock.getpeername()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        for ln in f.readlines()[1:]:
            fields = ln.split()
            lport = int(fields[1].split(":")[1], 16)
            rport = int(fields[2].split(":")[1], 16)
            if (lport, rport) == (peer, me):
                inode = fields[9]
    if inode in (None, "0"):
        return False
    want = f"socket:[{inode}]"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                return True
        except OSError:
            pass
    return False


def is_closed(sock):
    """Whether the master closed its end (without reading from sock)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def timed(port, line, timeout=15):
    t0 = time.monotonic()
    reply = raw(port, line, timeout=timeout)
    return reply, time.monotonic() - t0


def slow_conn(port, line):
    """A connection whose peer can have little in flight: a small receive
    buffer, and a small MSS, which keeps the master's send buffer small
    too (on loopback it would take the whole reply otherwise)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    s.connect(("127.0.0.1", port))
    s.sendall(line)
    return s


class StatusFloodTest(MasterTestCase):

    def load(self, n, ms):
        """n jobs on a 2-worker pool whose endpoint takes ms each; returns
        the gmclient and the answers it must print."""
        ep = self.endpoint()
        m = self.start_master(self.mux_pool(ep, name="Sum", count=2,
                                            function="Sum", path=f"/slow/{ms}"))
        gm = self.gmclient_bg([gm_line("Sum", f"{i} {i * 3}".encode())
                               for i in range(n)], timeout=120)
        wait_for(lambda: int(pools_rows(self.status_port)[0][5]) > 0, 10,
                 "the load under way")
        return m, gm, [("OK", str(i * 4).encode()) for i in range(n)]

    def completed(self):
        return int(pools_rows(self.status_port)[0][5])

    # (a)
    def test_flood_of_held_connections_evicts_the_idle_longest(self):
        self.addCleanup(need_fds(2048))
        m, gm, want = self.load(400, 40)
        port = self.status_port
        base = nfds(m.pid)
        done_before = self.completed()
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        t_flood = time.monotonic()
        for _ in range(300):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        t_garbage = time.monotonic()
        print(f"\n  300 idle connections opened in {t_garbage - t_flood:.3f}s",
              flush=True)
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"\x01garbage without a newline %d" % i)
            held.append(s)
        # the master holds a full table of them
        wait_for(lambda: nfds(m.pid) >= base + MAX_CLIENTS - 6, 5,
                 "the status client table full")

        reply, took = timed(port, b"threads\n")
        print(f"\n  fresh threads under 350 held connections: {took:.3f}s",
              flush=True)
        rows = [ln.split("\t") for ln in reply.decode().split("\r\n") if ln]
        self.assertEqual(sorted(int(r[0]) for r in rows), children_of(m.pid))
        self.assertEqual({r[1] for r in rows}, {"Sum"})
        self.assertLess(took, 1.0, "a fresh query under the flood")
        if time.monotonic() - t_garbage < IDLE_S - 1:
            # before any idle timeout: room was made by evicting silent
            # clients, at least one for each connection over the table
            # (ours included); the garbage senders, idle less long, stay
            closed = [is_closed(s) for s in held]
            self.assertGreaterEqual(sum(closed[:300]), 350 + 1 - MAX_CLIENTS)
            self.assertEqual(sum(closed[300:]), 0)
        for line, want_reply in ((b"version\n", VERSION_RE),
                                 (b"pools\n", None)):
            reply, took = timed(port, line)
            self.assertLess(took, 1.0, line)
            if want_reply:
                self.assertRegex(reply, want_reply)
        # jobs went on meanwhile, and all of them were answered right
        wait_for(lambda: self.completed() > done_before, 5,
                 "jobs completed while the connections are held")
        self.assertEqual(self.gm_results(gm, 120), want)
        self.assertIsNone(m.poll())

    # (b)
    def test_empty_reply_closes_at_once(self):
        ep = self.endpoint()
        zero = {"worker_count": 0, "jobs_list": ["F"],
                "uri": f"http://127.0.0.1:{ep.port}/sum"}
        m = self.start_master({"A": zero, "B": dict(zero)},
                              expect_workers=False)
        self.assertEqual(len(pools_rows(self.status_port)), 2)
        for line in (b"threads\n", b"threads\r\n"):
            reply, took = timed(self.status_port, line)
            print(f"\n  empty threads reply closed after {took:.3f}s", flush=True)
            self.assertEqual(reply, b"")
            self.assertLess(took, 1.0, "the empty reply's connection closed")
        self.assertEqual(children_of(m.pid), [])

    # (c)
    def test_slow_reader_of_a_large_reply_keeps_its_connection(self):
        ep = self.endpoint()
        uri = f"http://127.0.0.1:{ep.port}/sum"
        # 500 pools with long names: the metrics text is over 400 KiB
        pools = {f"Z{i:03d}" + "x" * 120: {"worker_count": 0, "jobs_list": ["F"],
                                           "uri": uri} for i in range(500)}
        m = self.start_master(pools, expect_workers=False)
        port = self.status_port
        # the text is the same from the queue view's first read on
        wait_for(lambda: b"driveshaft_gearman_up{" in raw(port, b"metrics\n"),
                 15, "the queue view's first read")
        full = raw(port, b"metrics\n")
        self.assertGreater(len(full), 400 * 1024)

        # one reads at most 1 KiB every 25 ms (under 41 KiB/s: at the idle
        # timeout over 100 KiB are still to come, beyond what the kernel
        # buffers hold), one reads nothing
        slow = slow_conn(port, b"metrics\n")
        stuck = slow_conn(port, b"metrics\n")
        self.addCleanup(slow.close)
        self.addCleanup(stuck.close)
        wait_for(lambda: holds(m.pid, stuck), 5, "the stuck reader accepted")
        t0 = time.monotonic()
        got = b""
        stuck_gone = None
        while True:
            chunk = slow.recv(1024)
            if not chunk:
                break
            got += chunk
            if stuck_gone is None and not holds(m.pid, stuck):
                stuck_gone = time.monotonic() - t0
            time.sleep(0.025)
        took = time.monotonic() - t0
        print(f"\n  {len(got)} bytes read slowly in {took:.1f}s; "
              f"the stuck reader dropped after {stuck_gone}s", flush=True)
        self.assertGreater(took, IDLE_S + 1, "read for longer than the idle timeout")
        self.assertEqual(len(got), len(full))
        self.assertEqual(got, full)
        # the reader that made no progress was dropped at its deadline
        self.assertIsNotNone(stuck_gone)
        self.assertTrue(IDLE_S - 0.5 <= stuck_gone <= IDLE_S + 2, stuck_gone)
        stuck.settimeout(5)
        rest = b""
        try:
            while chunk := stuck.recv(65536):
                rest += chunk
        except ConnectionResetError:
            pass
        self.assertLess(len(rest), len(full))
        self.assertIsNone(m.poll())

    # (d)
    def test_a_client_sending_forever_after_its_reply_delays_nobody(self):
        m, gm, want = self.load(100, 40)
        port = self.status_port
        stop = threading.Event()
        sent = [0]
        # sendfile: the kernel copies faster than any reader can keep up
        junk = os.path.join(self.tmp, "junk")
        with open(junk, "wb") as f:
            f.write(b"x" * (16 << 20))

        def blast():
            with open(junk, "rb") as f:
                while not stop.is_set():
                    try:
                        with socket.create_connection(("127.0.0.1", port),
                                                      timeout=5) as s:
                            s.sendall(b"version\n")
                            while not stop.is_set():
                                sent[0] += os.sendfile(s.fileno(), f.fileno(),
                                                       0, 16 << 20)
                    except OSError:
                        pass  # dropped by the master: connect again
        blasters = [threading.Thread(target=blast) for _ in range(2)]
        for t in blasters:
            t.start()
        try:
            wait_for(lambda: sent[0] > 8 << 20, 10, "the blasters under way")
            done_before = self.completed()
            worst = 0.0
            for _ in range(10):
                reply, took = timed(port, b"version\n")
                self.assertRegex(reply, VERSION_RE)
                worst = max(worst, took)
                t0 = time.monotonic()
                self.assertEqual(len(threads(port)), 2)
                worst = max(worst, time.monotonic() - t0)
            print(f"\n  slowest query beside the blasters: {worst:.3f}s "
                  f"({sent[0] >> 20} MiB blasted)", flush=True)
            self.assertLess(worst, 0.5)
            wait_for(lambda: self.completed() > done_before, 5,
                     "jobs completed beside the blasters")
        finally:
            stop.set()
            for t in blasters:
                t.join(10)
        self.assertEqual(self.gm_results(gm, 120), want)
        self.assertIsNone(m.poll())
