"""procs.py: the processes the soak runs besides the master (gearmand
with its sqlite queue, t/soakclient as the load) and what /proc tells of a
process (t/soak/soak.py)."""
import os
import subprocess
import threading
import time

from soaklib import LOAD_BATCH, LOAD_THREADS, SOAKCLIENT, SoakError, log
import testlib  # noqa: E402  (soaklib: path)
from testlib import free_port  # noqa: E402


def proc_stat(pid):
    """(state, ppid, session) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1]), int(rest[3])
    except (OSError, IndexError, ValueError):
        return None


def proc_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


class Gearmand(testlib.Gearmand):
    """gearmand on a fixed port with a sqlite queue that outlives restarts."""

    def __init__(self, tmp):
        db = os.path.join(tmp, "gearmand-queue.sqlite")
        super().__init__(tmp, port=free_port(), log_name="gearmand.log",
                         extra=("-q", "libsqlite3", f"--libsqlite3-db={db}"),
                         error=SoakError)
        self.db = db

    def start(self):
        for _ in range(50):  # the port may still be held a moment
            try:
                return self._start()
            except SoakError:
                time.sleep(0.2)
        raise SoakError(f"gearmand will not start on port {self.port}")

    def admin(self, what):
        return self.gearadmin(what, timeout=5)

    def queued(self, function):
        """Jobs gearmand holds for function (queued + running); 0 when
        gearadmin does not answer."""
        for ln in self.admin("--status") or []:
            f = ln.split("\t")
            if f[0] == function:
                return int(f[1])
        return 0

    def workers_for(self, function):
        rows = self.admin("--workers")
        if rows is None:
            return None
        return sum(1 for w in rows if function in w.split(":")[-1].split())


class Load:
    """t/soakclient in foreground mode, its lines parsed as they come."""

    def __init__(self, server, tmp, timeout):
        self.jobs = {}            # unique -> record
        self.lock = threading.Lock()
        self.ended = False
        self.err = open(os.path.join(tmp, "soakclient.err"), "wb")
        self.tee = open(os.path.join(tmp, "soakclient.out"), "wb")  # post-mortem
        self.proc = subprocess.Popen(
            [SOAKCLIENT, "-s", server, "-f", "soak_a,soak_b,soak_c",
             "-n", str(LOAD_THREADS), "-b", str(LOAD_BATCH),
             "-t", str(timeout), "-p", "fg"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            now = time.monotonic()
            self.tee.write(b"%.3f\t" % now + raw)
            f = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            with self.lock:
                if f[0] == "END":
                    self.ended = True
                elif f[0] == "S":
                    self.jobs[f[1]] = {"fn": f[2], "workload": f[3], "t": now,
                                       "answers": []}
                elif f[0] in "CFXGLD" and f[1] in self.jobs:
                    self.jobs[f[1]]["answers"].append((f[0], f[2], int(f[3]), now))

    def counts(self):
        with self.lock:
            return len(self.jobs), sum(1 for j in self.jobs.values()
                                       if j["answers"])

    def stop(self, timeout):
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("soakclient did not finish its jobs in time: killed")
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.err.close()
        self.tee.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
