"""benchlib.py: what every part of make bench shares (contrib/bench/bench.py):
the paths to the programs, what a run measures (P), waiting, ports, /proc
figures of a process, stopping a process, a jobs config and one loadgen run."""
import json
import os
import resource
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "t"))
import testlib  # noqa: E402
from testlib import BUILD, MASTER, TOP, free_port, port_open  # noqa: E402,F401

BENCH = os.path.join(BUILD, "bench")
LOADGEN = os.path.join(BENCH, "loadgen")
LIMIT = os.path.join(BENCH, "limit")
FLOOR = os.path.join(BENCH, "floor")
SPAWNLOOP = os.path.join(BENCH, "spawnloop")
NGINX = "/usr/sbin/nginx"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
OK_BODY = '{"gearman_ret":0,"response_string":"ok"}'

P = dict(  # what a run measures; BENCH_QUICK=1 keeps it under 2 minutes
    workers=4,
    rounds=3 if QUICK else 7,
    tput_turns=2,  # turns each side takes within a round (fig_ab.py)
    rtt_turns=4,
    tput_jobs=5000 if QUICK else 20000,
    rtt_jobs=300 if QUICK else 2000,
    bin_jobs=400 if QUICK else 3000,
    start_n=500,
    start_runs=6 if QUICK else 18,  # ABCCBA blocks of six (fig_scale.py)
    hup_n=10 if QUICK else 20,
    scale=[500] if QUICK else [500, 2000],
    scale_jobs=2000 if QUICK else 10000,
    cg_jobs=(100, 600) if QUICK else (200, 2200),
    sys_jobs=500 if QUICK else 2000,
    cg_bin_jobs=(10, 60),
    cg_variants=("json",) if QUICK else ("json", "form", "bin"),
    upgrade=[100, 500] if QUICK else [100, 2000],  # workers (fig_upgrade.py)
    upgrade_rounds=2 if QUICK else 3,
)
VARIANTS = ("json", "form", "bin")
FUNC = {"json": "BenchJson", "form": "BenchForm", "bin": "BenchBin"}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def wait_for(cond, timeout, what, step=0.005):
    """t/testlib.py's, polling fast (the bench times what it waits for)
    and failing the step rather than a test."""
    return testlib.wait_for(cond, timeout, what, step=step, error=RuntimeError)


def raise_limits():
    for res in (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC):
        soft, hard = resource.getrlimit(res)
        if hard == resource.RLIM_INFINITY:
            hard = 1 << 20 if res == resource.RLIMIT_NOFILE else hard
        try:
            resource.setrlimit(res, (hard, hard))
        except (ValueError, OSError):
            pass


# ---- /proc ---------------------------------------------------------------

def minflt(pid):
    """Minor page faults so far; 0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[7])
    except (OSError, IndexError, ValueError):
        return 0


def status_field(pid, name):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def uss_kib(pid):
    """Private_Clean + Private_Dirty (+ Private_Hugetlb): what this process
    alone costs in memory."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:",
                                "Private_Hugetlb:")):
                total += int(line.split()[1])
    return total


def tasks(pid):
    """The threads of pid (the master has two: its loop and its spawner)."""
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def children(pid):
    """Children of every thread of pid: the master's spawner thread is the
    parent the kernel records for its workers."""
    out, read = [], False
    for t in tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
            read = True
        except OSError:
            pass
    if read:
        return out
    ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                        capture_output=True, text=True).stdout
    return [int(x) for x in ps.split()]


def run_ns(pid):
    """Time on CPU in ns (/proc/PID/task/*/schedstat, every thread): finer
    than utime+stime's clock ticks, for the master's small share."""
    total = 0
    for t in tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_busy_ms():
    """CPU time the whole machine has spent busy, every process and the
    kernel (/proc/stat): what a start-up costs, whoever pays it."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(v) - v[3] - v[4]  # not idle, not iowait
    return busy * 1000 // os.sysconf("SC_CLK_TCK")


def ctxt(pid):
    return status_field(pid, "voluntary_ctxt_switches")


def cpu_of(pids):
    """Time on CPU of each, in ns: clock ticks (10 ms) are too coarse for
    a round's second or so of work."""
    return {p: run_ns(p) for p in pids}


def cpu_delta(before, after):
    return sum(after.get(p, 0) - before.get(p, 0) for p in before)

def stop_proc(p, sig=signal.SIGTERM, timeout=60):
    testlib.stop_proc(p, sig, timeout)


def write_config(path, servers, pools):
    # no queue monitor: it is one more child, and not what is measured
    doc = {"gearman_servers_list": servers, "pools_list": pools,
           "queue_poll_interval": 0}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)


def loadgen(gm, function, jobs, conc, workload=None, result=None):
    argv = [LOADGEN, "-s", gm.server, "-f", function, "-n", str(jobs),
            "-c", str(conc), "-t", "300"]
    if workload:
        argv += ["-W", workload]
    if result:
        argv += ["-R", result]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"loadgen {function}: {p.stdout.strip()} "
                           f"{p.stderr.strip()}")
    return {k: float(v) for k, v in
            (kv.split("=") for kv in p.stdout.split())}
