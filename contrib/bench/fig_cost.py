"""fig_cost.py: the figures of make bench that noise cannot move
(contrib/bench/bench.py): system calls per job (strace -c) and instructions
per job (callgrind), with the profile written beside the results."""
import os
import shutil
import signal
import subprocess
import time

from benchlib import BENCH, LIMIT, P, TOP, children, loadgen, stop_proc
from services import Limits, Master


class CostFigures:
    """Steps syscalls and callgrind of Bench."""

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
                if v == "json":
                    out[("limp", jobs)] = self.cg_limit(cg, v, jobs,
                                                        parsed=True)
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
            if v == "json":
                self.cg_parsed_url(out, per, lo, hi)
                self.cg_startup(out, per, lo)
            self.cg_profile(out, lo, hi, v)

    def cg_parsed_url(self, out, per, lo, hi):
        """The limit given libcurl's URL as the worker gives it (parsed
        once, no proxy lookup): most of the worker's lead over the plain
        limit is that alone, and this row keeps it in view."""
        x = (out[("limp", hi)]["limit"][0] -
             out[("limp", lo)]["limit"][0]) / (hi - lo)
        ds = per["worker"] + per["master"]
        self.put("instructions_per_job_limit_parsed_url", round(x))
        self.row(f"  the limit with the URL parsed once, as the worker "
                 f"does", f"{ds / 1000:.1f}k (worker + master)", f"{x / 1000:.1f}k",
                 f"{ds / x:.3f} x", "")

    def cg_startup(self, out, per, lo):
        """What a worker's life costs beside its jobs (start, register,
        stop): the short run less its jobs. Start-up time is noisy; this
        is not."""
        fixed = {who: (out[(side, lo)][who][0] - lo * per[who]) / 1e6
                 for side, who in (("ds", "worker"), ("ds", "master"),
                                   ("lim", "limit"))}
        for who, x in fixed.items():
            self.put(f"instructions_fixed_{who}_m", round(x, 2))
        self.row("instructions of a worker's start and stop, callgrind, "
                 "millions", f"worker {fixed['worker']:.2f}M + master "
                 f"{fixed['master']:.2f}M (all its life, one worker)",
                 f"{fixed['limit']:.2f}M",
                 f"{fixed['worker'] / fixed['limit']:.3f} x (worker)", "")

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

    def cg_limit(self, cg, v, jobs, parsed=False):
        f = f"{cg}/limit-{v}-{jobs}{'-parsed' if parsed else ''}"
        fn = f"BenchCg{v}L"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}",
                LIMIT, "--server", self.gm.server, "--function", fn,
                "--uri", self.limit_uri(v), "--max_jobs", str(jobs),
                *(["--form"] if v == "form" else []),
                *(["--parsed_url"] if parsed else [])]
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
                tag = "-parsed-url" if k[0] == "limp" else ""
                shutil.copy(fn, os.path.join(
                    BENCH, f"callgrind.{who}{tag}.{v}.{k[1]}"))
        self.put(f"profile_{v}", os.path.relpath(path, TOP))


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
