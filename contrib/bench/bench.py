"""make bench: what Driveshaft costs next to the physical limit of its design.

Starts its own gearmand and nginx (a fixed answer, keep-alive) on free
loopback ports, a driveshaft master, and the limit programs (limit.c: a
libgearman grab loop and one reused curl handle per process, nothing else),
then measures both sides alternately (A/B/A/B) in the same run and prints
a table for people and one key=value line per figure. BENCH_QUICK=1 runs a
shorter version (fewer rounds and jobs). See README, "Benchmark".

Figures decided by what noise cannot move (instructions by callgrind,
context switches, bytes) are printed beside the timed ones."""
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("DS_BUILD", os.path.join(TOP, "build"))
MASTER = os.path.join(BUILD, "driveshaft")
BENCH = os.path.join(BUILD, "bench")
LOADGEN = os.path.join(BENCH, "loadgen")
LIMIT = os.path.join(BENCH, "limit")
FLOOR = os.path.join(BENCH, "floor")
GEARMAND = "/usr/sbin/gearmand"
NGINX = "/usr/sbin/nginx"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
HZ = os.sysconf("SC_CLK_TCK")
OK_BODY = '{"gearman_ret":0,"response_string":"ok"}'

P = dict(  # what a run measures; BENCH_QUICK=1 keeps it under 2 minutes
    workers=4,
    rounds=3 if QUICK else 7,
    tput_jobs=5000 if QUICK else 20000,
    rtt_jobs=300 if QUICK else 2000,
    bin_jobs=400 if QUICK else 3000,
    start_n=500,
    start_alt=1 if QUICK else 3,
    hup_n=10 if QUICK else 20,
    scale=[500] if QUICK else [500, 2000],
    scale_jobs=2000 if QUICK else 10000,
    cg_jobs=(100, 600) if QUICK else (200, 2200),
    sys_jobs=500 if QUICK else 2000,
    cg_bin_jobs=(10, 60),
    cg_variants=("json",) if QUICK else ("json", "form", "bin"),
)
VARIANTS = ("json", "form", "bin")
FUNC = {"json": "BenchJson", "form": "BenchForm", "bin": "BenchBin"}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, step=0.005):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


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

def cpu_ticks(pid):
    """utime + stime of a live process, in clock ticks; 0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
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


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                             capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]


def run_ns(pid):
    """Time on CPU in ns (/proc/PID/schedstat): finer than utime+stime's
    clock ticks, for the master's small share."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def ctxt(pid):
    return status_field(pid, "voluntary_ctxt_switches")


def cpu_of(pids):
    return {p: cpu_ticks(p) for p in pids}


def cpu_delta(before, after):
    return sum(after.get(p, 0) - before.get(p, 0) for p in before)


# ---- services -------------------------------------------------------------

class Gearmand:
    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [GEARMAND, "-L", "127.0.0.1", "-p", str(self.port), "-t", "2",
             f"--log-file={tmp}/gearmand.log", "--verbose=ERROR"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 10, "gearmand")
        if self.proc.poll() is not None:
            raise RuntimeError(f"gearmand exited with {self.proc.returncode}")
        self.server = f"127.0.0.1:{self.port}"
        self.admin = socket.create_connection(("127.0.0.1", self.port))
        self.admin_buf = b""

    def workers(self, function):
        """How many connected workers can do `function` (admin `workers`)."""
        self.admin.sendall(b"workers\n")
        data = self.admin_buf
        while not (data.endswith(b"\n.\n") or data == b".\n"):
            chunk = self.admin.recv(1 << 20)
            if not chunk:
                raise RuntimeError("gearmand closed the admin connection")
            data += chunk
        self.admin_buf = b""
        n = 0
        for line in data.split(b"\n"):
            _, sep, funcs = line.partition(b" : ")
            if sep and function.encode() in funcs.split():
                n += 1
        return n

    def wait_workers(self, function, n, timeout=120, stall=20):
        """Waits until exactly n workers can do `function`; fails after
        `timeout` s, or once the count has not moved for `stall` s (a
        start-up that stops half way says so at once)."""
        # polling costs gearmand and us CPU: often only for small pools
        step = 0.001 if n < 10 else 0.02 if n < 1000 else 0.05
        deadline = time.monotonic() + timeout
        last, moved = None, time.monotonic()
        while True:
            have = self.workers(function)
            now = time.monotonic()
            if have == n:
                return
            if have != last:
                last, moved = have, now
            if now > deadline or now - moved > stall:
                raise RuntimeError(f"{function}: {have} of {n} workers "
                                   f"registered, no change for "
                                   f"{now - moved:.0f} s")
            time.sleep(step)

    def stop(self):
        self.admin.close()
        stop_proc(self.proc)


def stop_proc(p, sig=signal.SIGTERM, timeout=60):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Nginx:
    """nginx in its own prefix: /ok answers OK_BODY, /bin.json 64 KiB of
    bytes that are not UTF-8, base64-encoded (a static file: POST gets 405
    from the static module, which error_page turns into the file)."""

    def __init__(self, tmp, bin_result):
        self.port = free_port()
        d = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(d, "www"))
        import base64
        with open(os.path.join(d, "www", "bin.json"), "w") as f:
            json.dump({"gearman_ret": 0, "response_string":
                       base64.b64encode(bin_result).decode(),
                       "response_encoding": "base64"}, f)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid {d}/nginx.pid;
error_log {d}/error.log error;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_max_body_size 16m;
    client_body_buffer_size 256k;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        location = /ok {{
            default_type application/json;
            return 200 '{OK_BODY}';
        }}
        location = /bin.json {{
            root {d}/www;
            default_type application/json;
            error_page 405 =200 $uri;
        }}
    }}
}}
""")
        self.proc = subprocess.Popen([NGINX, "-p", d, "-c", conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "stderr"), "w"))
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 10, "nginx")
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: see {d}/stderr")

    def connections(self):
        """Established TCP connections to nginx: one a worker (driveshaft's
        and the limit's, 3 pools of each) when keep-alive works."""
        out = subprocess.run(["ss", "-Htn", "state", "established",
                              f"( sport = :{self.port} )"],
                             capture_output=True, text=True).stdout
        return len(out.splitlines())

    def uri(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        stop_proc(self.proc, signal.SIGQUIT)


def write_config(path, servers, pools):
    doc = {"gearman_servers_list": servers, "pools_list": pools}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)


class Master:
    def __init__(self, tmp, name, gm, pools, wrapper=()):
        self.tmp, self.gm = tmp, gm
        self.config = os.path.join(tmp, f"{name}.json")
        write_config(self.config, [gm.server], pools)
        self.status_port = free_port()
        self.log = open(os.path.join(tmp, f"{name}.log"), "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*wrapper, MASTER, "--jobsconfig", self.config,
             "--status_port", str(self.status_port)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        self.pid = self.proc.pid

    def reload(self, pools):
        write_config(self.config, [self.gm.server], pools)
        self.proc.send_signal(signal.SIGHUP)

    def query(self, cmd):
        with socket.create_connection(("127.0.0.1", self.status_port),
                                      timeout=30) as s:
            s.sendall(cmd.encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    return data.decode("utf-8", "replace")
                data += chunk

    def pids(self):
        return [self.pid, *children(self.pid)]

    def stop(self, timeout=120):
        kids = children(self.pid)
        stop_proc(self.proc, timeout=timeout)
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


class Limits:
    """n limit programs, exec'd directly with posix_spawn."""

    def __init__(self, gm, function, uri, n, form=False, extra=()):
        argv = [LIMIT, "--server", gm.server, "--function", function,
                "--uri", uri, *(["--form"] if form else []), *extra]
        self.t0 = time.monotonic()
        self.pids = [os.posix_spawn(LIMIT, argv, os.environ)
                     for _ in range(n)]

    def stop(self):
        for p in self.pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self.pids:
            os.waitpid(p, 0)
        self.pids = []


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


# ---- the figures ----------------------------------------------------------

class Bench:
    def __init__(self, tmp):
        self.tmp = tmp
        self.fig = {}      # key -> value, printed as key=value
        self.rows = []     # (figure, driveshaft, limit, compare, target)
        rnd = random.Random(9)
        self.bin_workload = bytes([0xff]) + rnd.randbytes(65535)
        self.bin_result = bytes([0xfe, 0x00]) + rnd.randbytes(65534)
        self.files = {}
        for name, data in (("workload", self.bin_workload),
                           ("result", self.bin_result)):
            self.files[name] = os.path.join(tmp, f"bin-{name}")
            with open(self.files[name], "wb") as f:
                f.write(data)
        self.gm = Gearmand(tmp)
        self.nginx = Nginx(tmp, self.bin_result)

    def close(self):
        self.nginx.stop()
        self.gm.stop()

    def put(self, key, value):
        self.fig[key] = value

    def row(self, figure, ds, lim, cmp_, target=""):
        self.rows.append((figure, ds, lim, cmp_, target))

    def pools(self):
        w = P["workers"]
        return {
            "Json": {"worker_count": w, "jobs_list": [FUNC["json"]],
                     "job_processing_uri": self.nginx.uri("/ok")},
            "Form": {"worker_count": w, "jobs_list": [FUNC["form"]],
                     "job_processing_uri": self.nginx.uri("/ok"),
                     "request_format": "form"},
            "Bin": {"worker_count": w, "jobs_list": [FUNC["bin"]],
                    "job_processing_uri": self.nginx.uri("/bin.json")},
        }

    def limit_uri(self, v):
        return self.nginx.uri("/bin.json" if v == "bin" else "/ok")

    def run_load(self, side, v, jobs, conc):
        fn = FUNC[v] + ("" if side == "ds" else "L")
        if v == "bin":
            return loadgen(self.gm, fn, jobs, conc, self.files["workload"],
                           self.files["result"])
        return loadgen(self.gm, fn, jobs, conc)

    # -- A/B rounds: throughput, CPU per job, wake-ups, round trip
    def ab(self):
        w = P["workers"]
        m = Master(self.tmp, "ab", self.gm, self.pools())
        lims = {v: Limits(self.gm, FUNC[v] + "L", self.limit_uri(v), w,
                          form=v == "form") for v in VARIANTS}
        try:
            for v in VARIANTS:
                self.gm.wait_workers(FUNC[v], w, 30)
                self.gm.wait_workers(FUNC[v] + "L", w, 30)
            time.sleep(0.5)
            dsw = children_by_pool(m, "Json")
            self.uss_idle = [uss_kib(p) for p in dsw]
            self.uss_limit_idle = [uss_kib(p) for p in lims["json"].pids]
            self.uss_master = uss_kib(m.pid)
            res = {}
            sides = {"ds": lambda: m.pids(), "lim": lambda: [
                p for v in VARIANTS for p in lims[v].pids]}
            for r in range(P["rounds"]):
                for side in ("ds", "lim"):
                    self.one_round(res, side, sides[side], m.pid if
                                   side == "ds" else None)
                log(f"round {r + 1}/{P['rounds']}: " + ", ".join(
                    f"{k}={x[-1]:.0f}" for k, x in sorted(res.items())
                    if k.startswith(("tput_", "rtt_"))))
            self.put("endpoint_connections", self.nginx.connections())
            self.uss_load = [uss_kib(p) for p in dsw]
            self.uss_limit_load = [uss_kib(p) for p in lims["json"].pids]
            self.ab_results(res)
        finally:
            m.stop()
            for lm in lims.values():
                lm.stop()

    def one_round(self, res, side, pids_fn, master_pid):
        def add(k, x):
            res.setdefault(f"{k}_{side}", []).append(x)
        pids = pids_fn()
        c0 = cpu_of(pids)
        x0 = {p: ctxt(p) for p in pids}
        v0 = status_field(master_pid, "voluntary_ctxt_switches") \
            if master_pid else 0
        mc0 = run_ns(master_pid) if master_pid else 0
        r = self.run_load(side, "json", P["tput_jobs"], 64)
        c1 = cpu_of(pids)
        jobs = r["jobs"]
        add("tput_json", r["jobs_per_s"])
        add("cpu_us_per_job", cpu_delta(c0, c1) / HZ * 1e6 / jobs)
        add("ctxt_per_job", sum(ctxt(p) - x0[p] for p in pids) / jobs)
        if master_pid:
            add("master_wakeups_per_job", (status_field(
                master_pid, "voluntary_ctxt_switches") - v0) / jobs)
            add("master_cpu_us_per_job", (run_ns(master_pid) - mc0)
                / 1e3 / jobs)
        add("rtt_json", self.run_load(side, "json", P["rtt_jobs"], 1)["p50_us"])
        add("tput_form", self.run_load(side, "form", P["tput_jobs"] // 2,
                                       64)["jobs_per_s"])
        add("rtt_form", self.run_load(side, "form", P["rtt_jobs"], 1)["p50_us"])
        add("tput_bin", self.run_load(side, "bin", P["bin_jobs"], 16)
            ["jobs_per_s"])
        add("rtt_bin", self.run_load(side, "bin", P["rtt_jobs"] // 2, 1)
            ["p50_us"])

    def ab_results(self, res):
        med = {k: statistics.median(v) for k, v in res.items()}
        n = P["rounds"]
        for v in VARIANTS:
            ds, lim = med[f"tput_{v}_ds"], med[f"tput_{v}_lim"]
            self.put(f"throughput_{v}_jobs_per_s", round(ds))
            self.put(f"throughput_{v}_limit_jobs_per_s", round(lim))
            self.put(f"throughput_{v}_ratio", round(ds / lim, 3))
            # the median of each round's own ratio: drift between rounds
            # cannot move it
            self.put(f"throughput_{v}_ratio_of_rounds", round(
                statistics.median(a / b for a, b in zip(
                    res[f"tput_{v}_ds"], res[f"tput_{v}_lim"])), 3))
            jobs = {"json": P["tput_jobs"], "form": P["tput_jobs"] // 2,
                    "bin": P["bin_jobs"]}[v]
            conc = 16 if v == "bin" else 64
            self.row(f"throughput {v}, c={conc}, {jobs} jobs, jobs/s "
                     f"(median of {n})", f"{ds:.0f}", f"{lim:.0f}",
                     f"{ds / lim:.3f} x", ">= 0.97 x" if v == "json" else
                     "within 10% of json")
        for v in VARIANTS:
            ds, lim = med[f"rtt_{v}_ds"], med[f"rtt_{v}_lim"]
            self.put(f"rtt_{v}_p50_us", round(ds, 1))
            self.put(f"rtt_{v}_limit_p50_us", round(lim, 1))
            self.put(f"rtt_{v}_p50_minus_limit_us", round(ds - lim, 1))
            self.put(f"rtt_{v}_p50_ratio", round(ds / lim, 3))
            self.row(f"round trip {v}, c=1, p50 us (median of {n})",
                     f"{ds:.0f}", f"{lim:.0f}",
                     f"{ds - lim:+.0f} us ({ds / lim:.3f} x)",
                     "<= limit + 15 us" if v == "json" else
                     "within 10% of json")
        ds, lim = med["cpu_us_per_job_ds"], med["cpu_us_per_job_lim"]
        self.put("cpu_us_per_job", round(ds, 1))
        self.put("cpu_us_per_job_limit", round(lim, 1))
        self.put("cpu_per_job_ratio", round(ds / lim, 3))
        self.row("CPU per job, us (utime+stime, master + workers)",
                 f"{ds:.1f}", f"{lim:.1f}", f"{ds / lim:.3f} x", "<= 1.05 x")
        ds, lim = med["ctxt_per_job_ds"], med["ctxt_per_job_lim"]
        self.put("ctxt_switches_per_job", round(ds, 3))
        self.put("ctxt_switches_per_job_limit", round(lim, 3))
        self.row("context switches per job (voluntary, master + workers)",
                 f"{ds:.2f}", f"{lim:.2f}", f"{ds / lim:.3f} x", "")
        mc = med["master_cpu_us_per_job_ds"]
        self.put("master_cpu_us_per_job", round(mc, 2))
        self.row("master CPU per job, us (schedstat)", f"{mc:.2f}", "-", "",
                 "")
        wk = med["master_wakeups_per_job_ds"]
        self.put("master_wakeups_per_job", round(wk, 3))
        self.row("master wake-ups per job (voluntary ctxt switches)",
                 f"{wk:.3f}", "-", "", "<= 0.1")

    # -- memory
    def uss(self):
        fl = [subprocess.Popen([FLOOR], stdout=subprocess.PIPE)
              for _ in range(3)]
        try:
            for p in fl:
                p.stdout.readline()
            floor = statistics.median(uss_kib(p.pid) for p in fl)
        finally:
            for p in fl:
                p.kill()
                p.wait()
        idle = statistics.median(self.uss_idle)
        load = statistics.median(self.uss_load)
        self.put("uss_floor_kib", floor)
        self.put("uss_worker_idle_kib", idle)
        self.put("uss_worker_load_kib", load)
        self.put("uss_worker_idle_minus_floor_kib", idle - floor)
        self.put("uss_worker_load_minus_floor_kib", load - floor)
        self.put("uss_limit_idle_kib", statistics.median(self.uss_limit_idle))
        self.put("uss_limit_load_kib", statistics.median(self.uss_limit_load))
        self.put("uss_master_kib", self.uss_master)
        self.row("USS per worker idle, KiB (floor: 3 copies)", f"{idle:.0f}",
                 f"floor {floor:.0f}", f"{idle - floor:+.0f} KiB",
                 "<= floor + 32 KiB")
        self.row("USS per worker after load, KiB", f"{load:.0f}",
                 f"{statistics.median(self.uss_limit_load):.0f}",
                 f"floor {load - floor:+.0f} KiB", "<= floor + 32 KiB")

    # -- start-up of 500 workers, alternating
    def startup(self):
        n = P["start_n"]
        ds_t, lim_t = [], []
        for _ in range(P["start_alt"]):
            m = Master(self.tmp, "start", self.gm, {"Start": {
                "worker_count": n, "jobs_list": ["BenchStart"],
                "job_processing_uri": self.nginx.uri("/ok")}})
            try:
                self.gm.wait_workers("BenchStart", n)
                ds_t.append((time.monotonic() - m.t0) * 1000)
            finally:
                m.stop()
            self.gm.wait_workers("BenchStart", 0)
            lm = Limits(self.gm, "BenchStartL", self.nginx.uri("/ok"), n)
            try:
                self.gm.wait_workers("BenchStartL", n)
                lim_t.append((time.monotonic() - lm.t0) * 1000)
            finally:
                lm.stop()
            self.gm.wait_workers("BenchStartL", 0)
        ds, lim = statistics.median(ds_t), statistics.median(lim_t)
        self.put(f"startup_{n}_ms", round(ds))
        self.put(f"startup_{n}_limit_ms", round(lim))
        self.put(f"startup_{n}_ratio", round(ds / lim, 3))
        self.row(f"start-up: {n} workers registered, ms (median of "
                 f"{len(ds_t)})", f"{ds:.0f}", f"{lim:.0f}",
                 f"{ds / lim:.3f} x", "<= 1.05 x")

    # -- HUP adds a worker: time until gearmand sees it
    def hup(self):
        base = {"worker_count": 1, "jobs_list": ["BenchHup"],
                "job_processing_uri": self.nginx.uri("/ok")}
        m = Master(self.tmp, "hup", self.gm, {"Hup": base})
        t = []
        try:
            self.gm.wait_workers("BenchHup", 1, 30)
            for _ in range(P["hup_n"]):
                t0 = time.monotonic()
                m.reload({"Hup": dict(base, worker_count=2)})
                self.gm.wait_workers("BenchHup", 2, 30)
                t.append((time.monotonic() - t0) * 1000)
                m.reload({"Hup": base})
                self.gm.wait_workers("BenchHup", 1, 30)
                wait_for(lambda: len(children(m.pid)) == 1, 30, "shrink")
        finally:
            m.stop()
        p50 = statistics.median(t)
        self.put("hup_new_worker_p50_ms", round(p50, 2))
        self.row(f"HUP to new worker registered, p50 of {len(t)}, ms",
                 f"{p50:.1f}", "-", "", "<= 10 ms")

    # -- many workers
    def scale_growth(self):
        """Per worker, how the biggest pool's figures compare with the
        smallest one's: 1.0 is linear in workers, more is faster."""
        a, b = min(P["scale"]), max(P["scale"])
        if a == b:
            return
        for name, ka, kb, what in (
                ("threads_reply", "threads_reply_ms", None, "`threads` reply"),
                ("master_cpu_per_job", "master_cpu_ms_per_1000_jobs", None,
                 "master CPU per 1,000 jobs"),
                ("startup_master_cpu", "startup_master_cpu_ms", None,
                 "master CPU at start-up"),
                ("hup_to_half", f"hup_to_{a // 2}_ms", f"hup_to_{b // 2}_ms",
                 "HUP to half")):
            x, y = self.fig.get(f"scale_{a}_{ka}"), self.fig.get(
                f"scale_{b}_{kb or ka}")
            if not x or y is None:
                continue
            g = y / x / (b / a)
            self.put(f"scale_growth_{name}", round(g, 2))
            self.row(f"growth {a} -> {b} workers, per worker: {what}",
                     f"{g:.2f}", "-", f"{x} -> {y}", "1.0 = linear")

    def scale(self, n):
        pool = {"worker_count": n, "jobs_list": ["BenchScale"],
                "job_processing_uri": self.nginx.uri("/ok")}
        m = Master(self.tmp, f"scale{n}", self.gm, {"Scale": pool})
        try:
            self.gm.wait_workers("BenchScale", n, 300)
            start = (time.monotonic() - m.t0) * 1000
            start_cpu = run_ns(m.pid) / 1e6
            wait_for(lambda: m.query("threads").count("Waiting for work")
                     == n, 60, "all waiting", step=0.05)
            tt = []
            for _ in range(7):
                t0 = time.monotonic()
                reply = m.query("threads")
                tt.append((time.monotonic() - t0) * 1000)
            if reply.count("\r\n") != n:
                raise RuntimeError(f"threads: {reply.count(chr(13))} lines")
            c0 = run_ns(m.pid)
            r = loadgen(self.gm, "BenchScale", P["scale_jobs"], 64)
            mcpu = (run_ns(m.pid) - c0) / 1e6 / r["jobs"] * 1000
            half = n // 2
            t0 = time.monotonic()
            m.reload({"Scale": dict(pool, worker_count=half)})
            self.gm.wait_workers("BenchScale", half, 300)
            wait_for(lambda: len(children(m.pid)) == half, 300, "shrink")
            shrink = (time.monotonic() - t0) * 1000
            t0 = time.monotonic()
            m.reload({"Scale": pool})
            self.gm.wait_workers("BenchScale", n, 300)
            grow = (time.monotonic() - t0) * 1000
        finally:
            m.stop(300)
        self.gm.wait_workers("BenchScale", 0, 120)
        thr = statistics.median(tt)
        self.put(f"scale_{n}_startup_ms", round(start))
        self.put(f"scale_{n}_startup_master_cpu_ms", round(start_cpu, 1))
        self.put(f"scale_{n}_threads_reply_ms", round(thr, 2))
        self.put(f"scale_{n}_master_cpu_ms_per_1000_jobs", round(mcpu, 3))
        self.put(f"scale_{n}_hup_to_{half}_ms", round(shrink))
        self.put(f"scale_{n}_hup_back_to_{n}_ms", round(grow))
        self.put(f"scale_{n}_jobs_per_s", round(r["jobs_per_s"]))
        self.row(f"{n} workers: start-up, ms", f"{start:.0f}", "-",
                 f"master CPU {start_cpu:.0f} ms", "")
        self.row(f"{n} workers: `threads` reply, ms (median of 7)",
                 f"{thr:.1f}", "-", "", "linear in workers")
        self.row(f"{n} workers: master CPU per 1,000 jobs, ms",
                 f"{mcpu:.2f}", "-", f"{r['jobs_per_s']:.0f} jobs/s",
                 "linear in workers")
        self.row(f"{n} workers: HUP {n} -> {half}, ms (and back)",
                 f"{shrink:.0f}", "-", f"back: {grow:.0f} ms",
                 "linear in workers")

    # -- system calls per job (strace -c): one worker and the master, and
    # one limit program, the same jobs at the same concurrency
    def syscalls(self):
        jobs = P["sys_jobs"]
        pool = {"Sys": {"worker_count": 1, "jobs_list": ["BenchSys"],
                        "job_processing_uri": self.nginx.uri("/ok")}}
        m = Master(self.tmp, "sys", self.gm, pool)
        lm = Limits(self.gm, "BenchSysL", self.nginx.uri("/ok"), 1)
        res = {}
        try:
            self.gm.wait_workers("BenchSys", 1, 30)
            self.gm.wait_workers("BenchSysL", 1, 30)
            for fn, traced in (("BenchSys", {"worker": children(m.pid)[0],
                                             "master": m.pid}),
                               ("BenchSysL", {"limit": lm.pids[0]})):
                st = {who: subprocess.Popen(
                    ["strace", "-c", "-q", "-p", str(pid), "-o",
                     os.path.join(self.tmp, f"strace.{who}")],
                    stderr=subprocess.DEVNULL) for who, pid in traced.items()}
                time.sleep(0.5)  # strace attached
                loadgen(self.gm, fn, jobs, 8)
                time.sleep(0.2)
                for who, p in st.items():
                    p.send_signal(signal.SIGINT)
                    p.wait(30)
                    res[who] = strace_calls(os.path.join(self.tmp,
                                                         f"strace.{who}"))
        finally:
            m.stop()
            lm.stop()
        for who, calls in res.items():
            self.put(f"syscalls_per_job_{who}",
                     round(sum(calls.values()) / jobs, 2))
            self.put(f"syscalls_per_job_{who}_detail", ",".join(
                f"{k}:{v / jobs:.2f}" for k, v in sorted(
                    calls.items(), key=lambda kv: -kv[1]) if v >= jobs / 10))
        w = sum(res["worker"].values()) / jobs
        mm = sum(res["master"].values()) / jobs
        li = sum(res["limit"].values()) / jobs
        self.row(f"system calls per job (strace -c, {jobs} jobs, c=8)",
                 f"worker {w:.1f} + master {mm:.1f}", f"{li:.1f}",
                 f"{(w + mm) / li:.3f} x", "")

    # -- callgrind: user-space instructions per job
    def callgrind(self):
        """The JSON workload for the figures and the profile; form and
        64 KiB binary too in a full run (fewer jobs: each costs more)."""
        cg = os.path.join(self.tmp, "cg")
        os.makedirs(cg, exist_ok=True)
        for v in P["cg_variants"]:
            lo, hi = P["cg_jobs"] if v != "bin" else P["cg_bin_jobs"]
            out = {}
            for jobs in (lo, hi):
                out[("ds", jobs)] = self.cg_driveshaft(cg, v, jobs)
                out[("lim", jobs)] = self.cg_limit(cg, v, jobs)
            per = {}
            for who in ("worker", "master"):
                # the master's count may differ by a few instructions
                # either way: no job reaches it
                per[who] = max(0.0, (out[("ds", hi)][who][0] -
                                     out[("ds", lo)][who][0]) / (hi - lo))
            per["limit"] = (out[("lim", hi)]["limit"][0] -
                            out[("lim", lo)]["limit"][0]) / (hi - lo)
            sfx = "" if v == "json" else f"_{v}"
            for who, x in per.items():
                self.put(f"instructions_per_job{sfx}_{who}", round(x))
            self.row(f"instructions per job, callgrind, {v} "
                     f"({hi}-{lo} jobs)", f"worker {per['worker'] / 1000:.1f}k"
                     f" + master {per['master'] / 1000:.1f}k",
                     f"{per['limit'] / 1000:.1f}k",
                     f"{(per['worker'] + per['master']) / per['limit']:.3f} x",
                     "no change may raise it > 2%" if v == "json" else "")
            self.cg_profile(out, lo, hi, v)

    def cg_driveshaft(self, cg, v, jobs):
        pool = self.pools()[{"json": "Json", "form": "Form", "bin": "Bin"}[v]]
        fn = f"BenchCg{v}"
        pool = dict(pool, worker_count=1, jobs_list=[fn])
        tag = f"ds-{v}-{jobs}"
        m = Master(self.tmp, f"cg-{v}-{jobs}", self.gm, {"Cg": pool},
                   wrapper=("valgrind", "--tool=callgrind",
                            "--trace-children=yes",
                            f"--callgrind-out-file={cg}/{tag}.%p"))
        try:
            self.gm.wait_workers(fn, 1, 120)
            kid = children(m.pid)
            self.cg_load(v, fn, jobs)
        finally:
            m.stop(120)
        files = {"master": f"{cg}/{tag}.{m.pid}",
                 "worker": f"{cg}/{tag}.{kid[0]}"}
        return {who: (cg_total(f), f) for who, f in files.items()}

    def cg_load(self, v, fn, jobs):
        if v == "bin":
            loadgen(self.gm, fn, jobs, 8, self.files["workload"],
                    self.files["result"])
        else:
            loadgen(self.gm, fn, jobs, 8)

    def cg_limit(self, cg, v, jobs):
        f = f"{cg}/limit-{v}-{jobs}"
        fn = f"BenchCg{v}L"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}",
                LIMIT, "--server", self.gm.server, "--function", fn,
                "--uri", self.limit_uri(v), "--max_jobs", str(jobs),
                *(["--form"] if v == "form" else [])]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            self.gm.wait_workers(fn, 1, 120)
            self.cg_load(v, fn, jobs)
            p.wait(120)
        finally:
            stop_proc(p)
        return {"limit": (cg_total(f), f)}

    def cg_profile(self, out, lo, hi, v):
        """Top functions by instructions per job, self and inclusive, and
        where the worker spends more than the limit: build/bench/profile.txt
        (the callgrind files beside it, for callgrind_annotate)."""
        os.makedirs(BENCH, exist_ok=True)
        path = os.path.join(BENCH, f"profile-{v}.txt")
        per = {}
        with open(path, "w") as f:
            for side, who in (("ds", "worker"), ("ds", "master"),
                              ("lim", "limit")):
                for incl in (False, True):
                    a = cg_functions(out[(side, lo)][who][1], incl)
                    b = cg_functions(out[(side, hi)][who][1], incl)
                    d = {k: (b.get(k, 0) - a.get(k, 0)) / (hi - lo)
                         for k in set(a) | set(b)}
                    per[(who, incl)] = d
                    cg_write(f, f"{who}: {'inclusive' if incl else 'self'} "
                             f"instructions per job ({hi} - {lo} jobs)", d)
            for incl in (False, True):
                w, lm = per[("worker", incl)], per[("limit", incl)]
                cg_write(f, f"worker minus limit, "
                         f"{'inclusive' if incl else 'self'}, per job",
                         {k: w.get(k, 0) - lm.get(k, 0)
                          for k in set(w) | set(lm)})
        for k, files in out.items():
            for who, (_, fn) in files.items():
                shutil.copy(fn, os.path.join(
                    BENCH, f"callgrind.{who}.{v}.{k[1]}"))
        self.put(f"profile_{v}", os.path.relpath(path, TOP))

    # -- output
    def report(self):
        w = [max(len(str(r[i])) for r in self.rows + [HEAD])
             for i in range(5)]
        lines = ["| " + " | ".join(str(c).ljust(w[i]) for i, c in
                                   enumerate(HEAD)) + " |",
                 "| " + " | ".join("-" * w[i] for i in range(5)) + " |"]
        for r in self.rows:
            lines.append("| " + " | ".join(str(c).ljust(w[i]) for i, c in
                                           enumerate(r)) + " |")
        table = "\n".join(lines)
        kv = "\n".join(f"{k}={v}" for k, v in self.fig.items())
        print(machine() + "\n")
        print(table + "\n")
        print(kv)
        os.makedirs(BENCH, exist_ok=True)
        with open(os.path.join(BENCH, "results.txt"), "w") as f:
            f.write(machine() + "\n\n" + table + "\n\n" + kv + "\n")
        if os.environ.get("BENCH_README", "") not in ("", "0"):
            readme_update(machine() + "\n\n" + table)


def readme_update(text):
    """BENCH_README=1: the table and the machine go into README.md,
    between its bench markers."""
    path = os.path.join(TOP, "README.md")
    with open(path) as f:
        doc = f.read()
    begin, end = "<!-- bench:begin -->\n", "<!-- bench:end -->"
    a, b = doc.index(begin) + len(begin), doc.index(end)
    with open(path + ".tmp", "w") as f:
        f.write(doc[:a] + text + "\n" + doc[b:])
    os.replace(path + ".tmp", path)


HEAD = ("figure", "driveshaft", "limit", "compared", "target")


def children_by_pool(m, pool):
    rows = [ln.split("\t") for ln in m.query("threads").split("\r\n") if ln]
    return [int(r[0]) for r in rows if r[1] == pool and int(r[0])]


def strace_calls(path):
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and \
                    parts[-1] != "total" and parts[3].isdigit():
                calls[parts[-1]] = int(parts[3])
    return calls


def cg_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"{path}: no totals")


def cg_functions(path, inclusive=False):
    """Instructions by function (file:function) from callgrind_annotate."""
    import re
    p = subprocess.run(["callgrind_annotate", "--threshold=100",
                        f"--inclusive={'yes' if inclusive else 'no'}",
                        "--tree=none", "--auto=no", path],
                       capture_output=True, text=True)
    res = {}
    for line in p.stdout.splitlines():
        mt = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$", line)
        if not mt:
            continue
        name = mt.group(2).split(" [", 1)[0].strip()
        if name.startswith(("PROGRAM TOTALS", "events annotated")):
            continue
        # callgrind names our files both relative and absolute: one name,
        # and an inclusive cost is counted once
        name = name.replace(TOP + "/", "")
        n = int(mt.group(1).replace(",", ""))
        res[name] = max(res.get(name, 0), n) if inclusive else \
            res.get(name, 0) + n
    return res


def cg_write(f, title, d, n=30):
    f.write(f"== {title}\n")
    for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:n]:
        f.write(f"{v:10.0f}  {k}\n")
    f.write("\n")


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"machine: nproc={os.cpu_count()}, CPU {model}, kernel "
            f"{os.uname().release}, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            f"{', BENCH_QUICK=1' if QUICK else ''}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def main():
    raise_limits()
    for prog in (MASTER, LOADGEN, LIMIT, FLOOR):
        if not os.access(prog, os.X_OK):
            print(f"bench: {prog} missing: run make bench", file=sys.stderr)
            return 2
    only = os.environ.get("BENCH_ONLY", "").split(",")
    only = [x for x in only if x]
    t_start = time.monotonic()
    failed = []
    with tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp:
        b = Bench(tmp)
        try:
            steps = [("ab", b.ab), ("uss", b.uss), ("startup", b.startup),
                     ("hup", b.hup)]
            steps += [(f"scale{n}", lambda n=n: b.scale(n))
                      for n in P["scale"]]
            steps += [("growth", b.scale_growth), ("syscalls", b.syscalls),
                      ("callgrind", b.callgrind)]
            for name, fn in steps:
                if only and name not in only and not (
                        name == "uss" and "ab" in only):
                    continue
                t0 = time.monotonic()
                try:
                    fn()
                except Exception as e:  # one failed step is a figure too
                    failed.append(name)
                    b.put(f"{name}_failed", f'"{e}"')
                    b.row(f"{name}: FAILED", str(e), "-", "", "")
                    log(f"{name}: FAILED: {e}")
                log(f"{name}: {time.monotonic() - t0:.1f} s")
        finally:
            b.close()
        b.put("bench_seconds", round(time.monotonic() - t_start, 1))
        b.report()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
