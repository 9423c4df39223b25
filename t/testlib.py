"""testlib.py: what every test driver of this repository shares -- the
integration tests (t/integration/harness.py), the soak (t/soak), the
multi-host run (t/multihost) and the bench (contrib/bench): the paths to
the programs under test, free loopback ports, waiting on a condition with a
deadline, the machine factor that stretches start-up deadlines, a real
gearmand and stopping a process for certain.

Each driver keeps its own error type: wait_for and Gearmand raise the one
they are given (AssertionError by default, the unittest failure)."""
import os
import signal
import socket
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("DS_BUILD", os.path.join(TOP, "build"))
if not os.path.isabs(BUILD):  # DS_BUILD=build/san, as given from the top
    BUILD = os.path.join(TOP, BUILD)
WORKER = os.path.join(BUILD, "driveshaft-worker")
MASTER = os.path.join(BUILD, "driveshaft")
GMCLIENT = os.path.join(BUILD, "t", "gmclient")
GEARMAND = "/usr/sbin/gearmand"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def is_monitor(pid):
    """The master's queue monitor: by its title, or its command line
    before it has set one."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    return args[0].startswith(b"driveshaft-worker: queue monitor") or \
        b"--monitor" in args[1:2]


_factor = None
# 50 spawns and reaps of /bin/true on the machine the deadlines were set on
# (2 cores, idle: 35-41 ms); a slower machine scales them by its own time
FACTOR_REFERENCE_S = 0.050


def machine_factor():
    """How much slower than the reference this machine starts processes:
    the median of three rounds of 50 /bin/true spawned and reaped, over
    FACTOR_REFERENCE_S, never below 1.0. Measured once per process and
    printed, so that a slow run says why its deadlines were long."""
    global _factor
    if _factor is None:
        rounds = []
        for _ in range(3):
            t = time.monotonic()
            for _ in range(50):
                os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
            rounds.append(time.monotonic() - t)
        _factor = max(1.0, sorted(rounds)[1] / FACTOR_REFERENCE_S)
        print(f"\n  machine factor {_factor:.2f} (50 x /bin/true: "
              f"{sorted(rounds)[1] * 1000:.0f} ms)", file=sys.stderr, flush=True)
    return _factor


def scaled(seconds):
    """A deadline that covers process start-up, stretched by the machine
    factor. Not for the product's own latency bounds: those hold as they
    are on any machine."""
    return seconds * machine_factor()


def wait_for(cond, timeout, what, step=0.02, error=AssertionError):
    """Polls cond() every step seconds until it returns something true and
    returns that; raises error naming `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise error(f"timed out after {timeout:.3g}s waiting for {what}")
        time.sleep(step)


def stop_proc(p, sig=signal.SIGTERM, timeout=10):
    """Sends sig to a Popen and reaps it; SIGKILL when it outlives timeout."""
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def gearmand_argv(port, log, listen="127.0.0.1", extra=()):
    """gearmand's command line as every driver runs it: two threads, its
    log in a file, and what the caller adds (a queue, keepalive, backlog)."""
    return [GEARMAND, "-L", listen, "-p", str(port), "-t", "2",
            f"--log-file={log}", *extra]


class Gearmand:
    """A real gearmand on a loopback port. A port taken by someone else
    between free_port() and the bind is traded for a new one, unless the
    caller fixed it."""

    def __init__(self, tmp, port=None, extra=(), log_name=None,
                 error=AssertionError):
        self._fixed = port is not None
        self.port = port or free_port()
        self.tmp = tmp
        self.extra = tuple(extra)
        self.log_name = log_name
        self.error = error
        self.proc = None

    @property
    def log(self):
        return os.path.join(self.tmp, self.log_name or f"gearmand-{self.port}.log")

    def start(self, tries=3):
        for attempt in range(tries):
            try:
                return self._start()
            except self.error:
                if self._fixed or attempt == tries - 1:
                    raise
                self.port = free_port()
        return self

    def _start(self):
        self.proc = subprocess.Popen(
            gearmand_argv(self.port, self.log, extra=self.extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 scaled(10), f"gearmand on port {self.port}", error=self.error)
        if self.proc.poll() is not None:
            raise self.error(f"gearmand on port {self.port} exited with "
                             f"{self.proc.returncode}")
        return self

    def stop(self, sig=signal.SIGTERM):
        stop_proc(self.proc, sig)
        self.proc = None

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def gearadmin(self, what, timeout=10):
        """gearadmin's answer to `what` (--workers, --status) as lines; None
        when it did not answer in time."""
        try:
            out = subprocess.run(["gearadmin", "-h", "127.0.0.1", "-p",
                                  str(self.port), what], capture_output=True,
                                 text=True, timeout=timeout).stdout
        except subprocess.TimeoutExpired:
            return None
        return [ln for ln in out.splitlines() if ln and ln != "."]

    def workers(self):
        return self.gearadmin("--workers") or []
