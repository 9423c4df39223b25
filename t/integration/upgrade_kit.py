"""upgrade_kit.py: what the in-place upgrade tests (test_upgrade.py) need
beside the harness. Not a test module.

- Builds: the binaries under test (version A) and a second build of the
  same tree made the same way (plain, or ASan when DS_BUILD is sanitized)
  that differs only in its version (B), installed by rename into the
  directory a master was started from, so that USR2 finds the other one.
- Load: t/soakclient's foreground jobs from a few threads and background
  jobs at a fixed rate, every job with a unique id, against the endpoint's
  /soak path (its answer names the job, its runs are recorded); ledger()
  counts every job as answered, lost, answered twice or failed.
- Poller: a thread querying `pools` on the status port at a fixed
  interval: refused connections, errors, the slowest answer and whether
  a pool's completed counter ever went back."""
import collections
import os
import re
import shutil
import socket
import subprocess
import threading
import time

from harness import BUILD, MASTER, SANITIZED, TOP, WORKER, scaled, wait_for

SOAKCLIENT = os.path.join(BUILD, "t", "soakclient")
NAMES = ("driveshaft-worker", "driveshaft")
UPGRADE_RE = re.compile(r"event=upgrade from=(\S+) to=(\S+) children=(\d+) ms=(\d+)")


def version_of(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                         timeout=30).stdout.split()
    return out[1] if len(out) > 1 else "?"


class Builds:
    """A (the build under test) and B (the same tree with VERSION=A-b) in
    tmp/a and tmp/b; install() puts one of them into a bin directory."""

    def __init__(self, tmp):
        self.a = version_of(MASTER)
        self.b = self.a + "-b"
        self.dirs = {self.a: os.path.join(tmp, "a"), self.b: os.path.join(tmp, "b")}
        os.makedirs(self.dirs[self.a])
        for name, src in zip(NAMES, (WORKER, MASTER)):
            shutil.copy2(src, os.path.join(self.dirs[self.a], name))
        argv = ["make", "-C", TOP, "--no-print-directory", "-j2",
                f"BUILD={self.dirs[self.b]}", f"VERSION={self.b}"]
        if SANITIZED:  # as make san-integration builds DS_BUILD
            argv += ["SAN=1", "CFLAGS=-O1 -g"]
        argv += [os.path.join(self.dirs[self.b], n) for n in NAMES]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise AssertionError(f"the second build failed: {p.stderr[-2000:]}")
        got = version_of(os.path.join(self.dirs[self.b], "driveshaft"))
        if got != self.b:
            raise AssertionError(f"second build says version {got}, not {self.b}")

    def other(self, version):
        return self.b if version == self.a else self.a

    def install(self, version, bindir):
        """Both binaries of version into bindir, each by an atomic rename
        (a hard link when possible: nothing is copied)."""
        os.makedirs(bindir, exist_ok=True)
        for name in NAMES:
            src = os.path.join(self.dirs[version], name)
            tmp = os.path.join(bindir, f".{name}.new")
            if os.path.lexists(tmp):
                os.unlink(tmp)
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copy2(src, tmp)
            os.rename(tmp, os.path.join(bindir, name))

    @staticmethod
    def put(bindir, name, text=None, src=None, mode=0o755):
        """A file of our own (a script, a copy without x) as bindir/name,
        by rename; never a hard link, so a mode change stays its own."""
        tmp = os.path.join(bindir, f".{name}.new")
        if src is not None:
            shutil.copyfile(src, tmp)
        else:
            with open(tmp, "w") as f:
                f.write(text)
        os.chmod(tmp, mode)
        os.rename(tmp, os.path.join(bindir, name))


class Load:
    """Foreground jobs from soakclient (threads x batch in flight, each
    paced by the endpoint's delay) and background jobs at bg_rate a second
    from a second soakclient fed line by line."""

    def __init__(self, test, fg_fn, bg_fn, threads, batch, bg_rate):
        server = test.gearmand.server
        self.lock = threading.Lock()
        self.fg = {}                    # unique -> {"w": workload, "a": [(kind, data)]}
        self.bg_sent = {}               # unique -> workload
        self.bg_taken, self.bg_refused = set(), set()
        self.bg_fn, self.bg_rate = bg_fn, bg_rate
        self.stopping = threading.Event()
        err = open(os.path.join(test.tmp, "soakclient.err"), "wb")
        self.fgp = subprocess.Popen(
            [SOAKCLIENT, "-s", server, "-f", fg_fn, "-n", str(threads), "-b",
             str(batch), "-t", "60", "-p", "fg"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=err)
        self.bgp = subprocess.Popen([SOAKCLIENT, "-B", "-s", server],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err)
        err.close()
        test.procs += [self.fgp, self.bgp]
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=f, daemon=True) for f in
                        (self._read_fg, self._read_bg, self._feed_bg)]
        for t in self.threads:
            t.start()

    def _read_fg(self):
        for raw in self.fgp.stdout:
            f = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            with self.lock:
                if f[0] == "S":
                    self.fg[f[1]] = {"w": f[3], "a": []}
                elif f[0] in "CFXGLD" and len(f) > 2 and f[1] in self.fg:
                    self.fg[f[1]]["a"].append((f[0], f[2]))

    def _read_bg(self):
        for raw in self.bgp.stdout:
            f = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            with self.lock:
                (self.bg_taken if f[0] == "B" else self.bg_refused).add(f[1])

    def _feed_bg(self):
        i, start = 0, time.monotonic()
        while not self.stopping.is_set():
            u, w = f"bg-{i}", f"{i} 1 2"
            with self.lock:
                self.bg_sent[u] = w
            try:
                self.bgp.stdin.write(f"{self.bg_fn}\t{u}\t{w}\n".encode())
                self.bgp.stdin.flush()
            except OSError:  # soakclient gone: the ledger tells
                return
            i += 1
            self.stopping.wait(max(0.0, start + i / self.bg_rate - time.monotonic()))

    def counts(self):
        with self.lock:
            return len(self.fg), len(self.bg_sent)

    def answered(self):
        """Foreground jobs with an answer so far."""
        with self.lock:
            return sum(1 for j in self.fg.values() if j["a"])

    def stop(self, timeout):
        """No new jobs; the ones in hand finish (soakclient ends its
        batches). Returns the seconds the load ran."""
        self.stopping.set()
        self.threads[2].join(5)
        secs = time.monotonic() - self.t0
        self.bgp.stdin.close()
        self.fgp.stdin.write(b"stop\n")
        self.fgp.stdin.close()
        for p in (self.bgp, self.fgp):
            p.wait(timeout)
        for t in self.threads[:2]:
            t.join(5)
        for p in (self.bgp, self.fgp):
            p.stdout.close()
        return secs

    def ledger(self, ep):
        """Every job once: answered (right answer), lost (none), twice (two
        answers, or the endpoint ran it twice), failed (WORK_FAIL, an
        exception, a wrong answer, a client time-out or gone server)."""
        with ep.lock:
            runs = collections.Counter(r["u"] for r in ep.soak_runs)
        L = collections.Counter({k: 0 for k in (
            "submitted", "answered", "lost", "twice", "failed", "timed_out",
            "bg_submitted", "bg_ran", "bg_lost", "bg_twice", "bg_refused")})
        examples = collections.defaultdict(list)
        with self.lock:
            fg = dict(self.fg)
            bg_sent, taken = dict(self.bg_sent), set(self.bg_taken)
            refused = set(self.bg_refused)
        for u, j in fg.items():
            L["submitted"] += 1
            finals = [a for a in j["a"] if a[0] in "CFXGL"]
            if len(finals) > 1 or any(a[0] == "D" for a in j["a"]) or runs[u] > 1:
                L["twice"] += 1
                examples["twice"].append(u)
            if not finals:
                L["lost"] += 1
                examples["lost"].append(u)
                continue
            kind, data = finals[0]
            want = f"{u}:{sum(int(x) for x in j['w'].split())}".encode().hex()
            if kind == "C" and data == want:
                L["answered"] += 1
                continue
            L["timed_out" if kind == "L" else "failed"] += 1
            examples["failed"].append(f"{u} {kind} {data[:40]}")
        for u in bg_sent:
            L["bg_submitted"] += 1
            if u in refused or u not in taken:
                L["bg_refused"] += 1
                examples["bg_refused"].append(u)
            elif runs[u] == 0:
                L["bg_lost"] += 1
                examples["bg_lost"].append(u)
            else:
                L["bg_ran"] += 1
                if runs[u] > 1:
                    L["bg_twice"] += 1
                    examples["bg_twice"].append(u)
        return L, {k: v[:5] for k, v in examples.items()}

    def bg_done(self, ep):
        """Has every background job gearmand took run?"""
        with ep.lock:
            ran = {r["u"] for r in ep.soak_runs if "t1" in r}
        with self.lock:
            return self.bg_taken <= ran


def own_fds(pid, port):
    """The descriptors of pid but its status-port clients (a query of the
    moment): fd number -> what it points at."""
    clients = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            c = row.split()
            if int(c[1].rsplit(":", 1)[1], 16) == port and c[3] != "0A":
                clients.add(f"socket:[{c[9]}]")
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target not in clients:
            out[int(fd)] = target
    return out


def settled_fds(pid, port, looks=3, every=0.5):
    """own_fds once the same over `looks` looks `every` seconds apart: at
    the start a descriptor of the moment (a CI run counted one socket more
    before the upgrades than after, none of the status port's) must not
    make the count to come back to."""
    seen = []

    def same():
        seen.append(own_fds(pid, port))
        del seen[:-looks]
        return len(seen) == looks and all(x == seen[0] for x in seen) and seen[0]
    return wait_for(same, scaled(15), "the master's descriptors settled",
                    step=every)


class Poller(threading.Thread):
    """Asks `pools` every interval seconds (unless paused): counts the
    queries, refused connections and errors (no reply, a cut or malformed
    one), the slowest answer, and a completed counter that went back."""

    def __init__(self, port, interval):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.queries = self.refused = self.errors = self.counter_drops = 0
        self.max_ms = 0.0
        self.first_errors = []
        self.completed = {}
        self.paused = threading.Event()
        self.idle = threading.Event()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            if self.paused.is_set():
                self.idle.set()
                self.done.wait(self.interval)
                continue
            self.idle.clear()
            t = time.monotonic()
            self.query()
            self.max_ms = max(self.max_ms, (time.monotonic() - t) * 1000)
            self.done.wait(max(0.0, t + self.interval - time.monotonic()))

    def pause(self):
        """Stops querying; returns once no query of ours is open."""
        self.idle.clear()
        self.paused.set()
        self.idle.wait(10)

    def query(self):
        self.queries += 1
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(b"pools\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except ConnectionRefusedError as e:
            self.refused += 1
            self.note(f"refused: {e}")
            return
        except OSError as e:
            self.errors += 1
            self.note(f"{type(e).__name__}: {e}")
            return
        text = data.decode("utf-8", "replace")
        if not text.endswith("\r\n") or "\t" not in text:
            self.errors += 1
            self.note(f"malformed reply {text[:80]!r}")
            return
        for line in text.split("\r\n"):
            f = line.split("\t")
            if len(f) >= 6 and f[5].isdigit():
                if int(f[5]) < self.completed.get(f[0], 0):
                    self.counter_drops += 1
                    self.note(f"pool {f[0]} completed {self.completed[f[0]]} -> {f[5]}")
                self.completed[f[0]] = int(f[5])

    def note(self, what):
        if len(self.first_errors) < 5:
            self.first_errors.append(what)

    def stop(self):
        self.done.set()
        self.join(10)
