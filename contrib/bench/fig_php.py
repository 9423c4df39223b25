"""fig_php.py: PHP without a web server (make bench, BENCH_ONLY=php):
contrib/endpoint/job.php on php-fpm, with as many php-fpm children as
workers, reached (a) through nginx over HTTP, as PHP shops run it today
(nginx keeps its FastCGI connections to php-fpm: the strong baseline), and
(b) by the workers over FastCGI directly. The two sides take turns in one
run (A/B, then B/A), at c = workers and at c = 1; each reports jobs/s,
p50/p99, and CPU per job of every process that serves the job (driveshaft,
nginx, php-fpm; gearmand beside them), then callgrind instructions per job
of the worker alone on each path."""
import os
import signal
import statistics
import subprocess

from benchlib import (BENCH, BUILD, P, QUICK, TOP, children, free_port,
                      loadgen, log, stop_proc, wait_for)
from fig_cost import cg_total
from services import Master, children_by_pool

JOB_PHP = os.path.join(TOP, "contrib", "endpoint", "job.php")
WORKER = os.path.join(BUILD, "driveshaft-worker")
FPM = next((p for p in ("/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm")
            if os.path.exists(p)), "php-fpm")
NGINX = "/usr/sbin/nginx"
# job.php's function names: one for each path, both job_echo
FN = {"nginx": "Echo", "fcgi": "FormEcho"}
ROUNDS = 3 if QUICK else 5
JOBS = 1500 if QUICK else 4000
RTT_JOBS = 200 if QUICK else 600
CG_JOBS = (50, 250)
WORKLOAD = b"12345678"


def cpu_of(pids):
    """Time on CPU of each process, all its threads (gearmand runs
    several), in ns."""
    out = {}
    for p in pids:
        out[p] = 0
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    out[p] += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return out


class PhpStack:
    """php-fpm (a pool for each path, pm = static, `children` each, on
    unix sockets) and nginx in front of the first."""

    def __init__(self, tmp, children):
        self.d = os.path.join(tmp, "php")
        os.makedirs(self.d, exist_ok=True)
        self.sock = {s: os.path.join(self.d, f"{s}.sock") for s in FN}
        conf = os.path.join(self.d, "php-fpm.conf")
        user = "user = root\ngroup = root\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"[global]\npid = {self.d}/fpm.pid\n"
                    f"error_log = {self.d}/fpm.log\ndaemonize = no\n")
            for side, sock in self.sock.items():
                f.write(f"[{side}]\nlisten = {sock}\npm = static\n"
                        f"pm.max_children = {children}\n{user}")
        argv = [FPM, "-F", "-y", conf] + (["-R"] if user else [])
        self.fpm = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        wait_for(lambda: all(os.path.exists(s) for s in self.sock.values())
                 or self.fpm.poll() is not None, 30, "php-fpm")
        self.port = free_port()
        nconf = os.path.join(self.d, "nginx.conf")
        with open(nconf, "w") as f:
            f.write(self.nginx_conf(children))
        self.nginx = subprocess.Popen([NGINX, "-p", self.d, "-c", nconf],
                                      stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        from benchlib import port_open
        wait_for(lambda: port_open(self.port) or self.nginx.poll() is not None,
                 10, "nginx")

    def nginx_conf(self, children):
        d = self.d
        return f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_body_temp_path {d}/body;
    fastcgi_temp_path {d}/fastcgi;
    proxy_temp_path {d}/proxy;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream fpm {{
        server unix:{self.sock['nginx']};
        keepalive {children};
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location = /job.php {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME {JOB_PHP};
            fastcgi_keep_conn on;
            fastcgi_pass fpm;
        }}
    }}
}}
"""

    def fpm_children(self, side):
        out = []
        for pid in children(self.fpm.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().startswith(f"php-fpm: pool {side}".encode()):
                        out.append(pid)
            except OSError:
                pass
        return out

    def stop(self):
        stop_proc(self.nginx, signal.SIGQUIT)
        stop_proc(self.fpm, signal.SIGQUIT)


class PhpFigures:
    """Step php of Bench."""

    def php(self):
        w = P["workers"]
        stack = PhpStack(self.tmp, w)
        wl = os.path.join(self.tmp, "php-workload")
        with open(wl, "wb") as f:
            f.write(WORKLOAD)
        pools = {
            "PhpNginx": {"worker_count": w, "jobs_list": [FN["nginx"]],
                         "job_processing_uri":
                         f"http://127.0.0.1:{stack.port}/job.php"},
            "PhpFcgi": {"worker_count": w, "jobs_list": [FN["fcgi"]],
                        "job_processing_uri": f"fastcgi://{JOB_PHP}",
                        "unix_socket": stack.sock["fcgi"]},
        }
        m = Master(self.tmp, "php", self.gm, pools)
        try:
            for fn in FN.values():
                self.gm.wait_workers(fn, w, 60)
            groups = self.php_groups(m, stack)
            for side in FN:  # warm: opcache, connections, learning
                self.php_load(side, JOBS // 2, w, wl)
            res = {(s, c): [] for s in FN for c in ("cw", "c1")}
            for r in range(ROUNDS):
                order = list(FN) if r % 2 == 0 else list(FN)[::-1]
                for side in order:
                    for c, conc, n in (("cw", w, JOBS), ("c1", 1, RTT_JOBS)):
                        res[(side, c)].append(
                            self.php_turn(side, conc, n, wl, groups[side]))
            self.php_report(res, w)
        finally:
            m.stop()
            stack.stop()
        self.php_callgrind(wl)

    def php_groups(self, m, stack):
        gm = [self.gm.proc.pid]
        return {
            "nginx": {"driveshaft": [m.pid, *children_by_pool(m, "PhpNginx")],
                      "nginx": [stack.nginx.pid],
                      "php-fpm": stack.fpm_children("nginx"), "gearmand": gm},
            "fcgi": {"driveshaft": [m.pid, *children_by_pool(m, "PhpFcgi")],
                     "php-fpm": stack.fpm_children("fcgi"), "gearmand": gm},
        }

    def php_load(self, side, n, conc, wl):
        return loadgen(self.gm, FN[side], n, conc, wl, wl)

    def php_turn(self, side, conc, n, wl, groups):
        pids = [p for g in groups.values() for p in g]
        before = cpu_of(pids)
        r = self.php_load(side, n, conc, wl)
        after = cpu_of(pids)
        cpu = {g: sum(after[p] - before[p] for p in ps) / n / 1000
               for g, ps in groups.items()}  # us per job
        return {"jps": r["jobs_per_s"], "p50": r["p50_us"], "p99": r["p99_us"],
                "cpu": cpu}

    def php_report(self, res, w):
        med = statistics.median
        out = {}
        for (side, c), turns in res.items():
            cpu = {g: med(t["cpu"][g] for t in turns) for g in turns[0]["cpu"]}
            total = sum(v for g, v in cpu.items() if g != "gearmand")
            out[(side, c)] = dict(jps=med(t["jps"] for t in turns),
                                  p50=med(t["p50"] for t in turns),
                                  p99=med(t["p99"] for t in turns),
                                  cpu=cpu, total=total)
            key = f"php_{side}_{c}"
            self.put(f"{key}_jobs_per_s", round(out[(side, c)]["jps"]))
            self.put(f"{key}_p50_us", round(out[(side, c)]["p50"]))
            self.put(f"{key}_p99_us", round(out[(side, c)]["p99"]))
            self.put(f"{key}_cpu_us_per_job", round(total, 1))
            for g, v in cpu.items():
                self.put(f"{key}_cpu_us_{g.replace('-', '')}", round(v, 1))
        for c, label in (("cw", f"c={w}"), ("c1", "c=1")):
            a, b = out[("nginx", c)], out[("fcgi", c)]
            self.row(f"PHP job.php, jobs/s, {label} (FastCGI | via nginx)",
                     f"{b['jps']:.0f}", f"{a['jps']:.0f}",
                     f"{b['jps'] / a['jps']:.2f} x", ">= 1.25 x" if c == "cw" else "")
            self.row(f"PHP job.php, p50 / p99 us, {label}",
                     f"{b['p50']:.0f} / {b['p99']:.0f}",
                     f"{a['p50']:.0f} / {a['p99']:.0f}",
                     f"{b['p50'] / a['p50']:.2f} x p50",
                     "<= 0.7 x p50" if c == "c1" else "")
            self.row(f"PHP job.php, CPU us per job, {label} (ds+nginx+php-fpm)",
                     f"{b['total']:.0f}", f"{a['total']:.0f}",
                     f"{b['total'] / a['total']:.2f} x", "<= 0.8 x")
            for g in ("driveshaft", "nginx", "php-fpm", "gearmand"):
                self.row(f"  CPU us per job, {label}, {g}",
                         f"{b['cpu'].get(g, 0):.0f}", f"{a['cpu'].get(g, 0):.0f}",
                         "", "")

    def php_callgrind(self, wl):
        """Instructions per job of one worker on each path (the difference
        between two runs of CG_JOBS, so start-up and exit cancel out)."""
        stack = PhpStack(os.path.join(self.tmp, "cg"), 1)
        cg = os.path.join(BENCH, "callgrind-php")
        os.makedirs(cg, exist_ok=True)
        per = {}
        try:
            for side, uri, extra in (
                    ("nginx", f"http://127.0.0.1:{stack.port}/job.php", []),
                    ("fcgi", f"fastcgi://{JOB_PHP}",
                     ["--unix_socket", stack.sock["fcgi"]])):
                tot = []
                for n in CG_JOBS:
                    f = os.path.join(cg, f"worker-{side}-{n}")
                    fn = FN["nginx"]  # a job.php job: Echo
                    p = subprocess.Popen(
                        ["valgrind", "--tool=callgrind",
                         f"--callgrind-out-file={f}", WORKER, "--pool", "Cg",
                         "--server", self.gm.server, "--function", fn,
                         "--uri", uri, "--max_jobs_per_worker", str(n), *extra],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
                    try:
                        self.gm.wait_workers(fn, 1, 120)
                        loadgen(self.gm, fn, n, 4, wl, wl)
                        p.wait(120)
                    finally:
                        stop_proc(p)
                    tot.append(cg_total(f))
                per[side] = (tot[1] - tot[0]) / (CG_JOBS[1] - CG_JOBS[0])
        finally:
            stack.stop()
        self.put("php_cg_worker_nginx_instr_per_job", round(per["nginx"]))
        self.put("php_cg_worker_fcgi_instr_per_job", round(per["fcgi"]))
        self.row("PHP job.php, worker instructions per job, callgrind",
                 f"{per['fcgi'] / 1000:.1f}k", f"{per['nginx'] / 1000:.1f}k",
                 f"{per['fcgi'] / per['nginx']:.2f} x", "<= 1 x")
        log(f"php: callgrind files in {cg}")
