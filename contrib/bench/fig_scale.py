"""fig_scale.py: the figures of make bench on starting and changing workers
(contrib/bench/bench.py): start-up, a HUP that adds a worker, and pools of
hundreds or thousands of workers with how their figures grow."""
import statistics
import time

from benchlib import P, children, loadgen, machine_busy_ms, run_ns, wait_for
from services import Limits, Master


class ScaleFigures:
    """Steps startup, hup, scaleN and growth of Bench."""

    # -- start-up of 500 workers: driveshaft, the limit and the A/A
    # control (a second limit group) in every round, each side first,
    # second and third equally often: whoever goes after a teardown of
    # 500 processes, or after whom, is no side's luck
    ORDERS = (("ds", "lim", "aa"), ("lim", "aa", "ds"), ("aa", "ds", "lim"),
              ("ds", "aa", "lim"), ("aa", "lim", "ds"), ("lim", "ds", "aa"))

    def startup(self):
        n = P["start_n"]
        ms = {"ds": [], "lim": [], "aa": []}
        cpu = {"ds": [], "lim": [], "aa": []}
        own = {"ds": [], "lim": [], "aa": []}
        for r in range(P["start_alt"]):
            for side in self.ORDERS[r % len(self.ORDERS)]:
                t, c, o = self.start_once(side, n)
                ms[side].append(t)
                cpu[side].append(c)
                own[side].append(o)
        med = {k: statistics.median(v) for k, v in ms.items()}
        cmed = {k: statistics.median(v) for k, v in cpu.items()}
        ratio = med["ds"] / med["lim"]
        self.put(f"startup_{n}_ms", round(med["ds"]))
        self.put(f"startup_{n}_limit_ms", round(med["lim"]))
        self.put(f"startup_{n}_ratio", round(ratio, 3))
        self.put(f"startup_{n}_ratio_of_rounds", round(statistics.median(
            a / b for a, b in zip(ms["ds"], ms["lim"])), 3))
        self.put(f"startup_{n}_aa_ratio", round(med["aa"] / med["lim"], 3))
        self.put(f"startup_{n}_machine_cpu_ms", round(cmed["ds"]))
        self.put(f"startup_{n}_machine_cpu_limit_ms", round(cmed["lim"]))
        self.put(f"startup_{n}_machine_cpu_ratio",
                 round(cmed["ds"] / cmed["lim"], 3))
        self.row(f"start-up: {n} workers registered, ms (median of "
                 f"{len(ms['ds'])})", f"{med['ds']:.0f}", f"{med['lim']:.0f}",
                 f"{ratio:.3f} x", "<= 1.05 x")
        self.row("  A/A control: a second group of limit programs, ms",
                 f"{med['aa']:.0f}", f"{med['lim']:.0f}",
                 f"{med['aa'] / med['lim']:.3f} x", "shows the noise")
        self.row(f"  CPU the machine spent starting {n}, ms (median)",
                 f"{cmed['ds']:.0f}", f"{cmed['lim']:.0f}",
                 f"{cmed['ds'] / cmed['lim']:.3f} x", "")
        omed = {k: statistics.median(v) for k, v in own.items()}
        self.put(f"startup_{n}_own_cpu_ms", round(omed["ds"]))
        self.put(f"startup_{n}_own_cpu_limit_ms", round(omed["lim"]))
        self.put(f"startup_{n}_own_cpu_aa_ms", round(omed["aa"]))
        self.row(f"  of which the {n} programs and the master, ms",
                 f"{omed['ds']:.0f}", f"{omed['lim']:.0f}",
                 f"{omed['ds'] / omed['lim']:.3f} x",
                 f"A/A {omed['aa'] / omed['lim']:.3f} x")

    def start_once(self, side, n):
        """One start of n workers: ms until gearmand has them all, the
        machine's CPU ms in that time, and the CPU ms of the programs
        started (and of the master)."""
        c0 = machine_busy_ms()
        if side == "ds":
            m = Master(self.tmp, "start", self.gm, {"Start": {
                "worker_count": n, "jobs_list": ["BenchStart"],
                "job_processing_uri": self.nginx.uri("/ok")}})
            try:
                self.gm.wait_workers("BenchStart", n)
                t, c = (time.monotonic() - m.t0) * 1000, machine_busy_ms() - c0
                o = sum(run_ns(p) for p in m.pids()) / 1e6
            finally:
                m.stop()
            self.gm.wait_workers("BenchStart", 0)
            return t, c, o
        fn = {"lim": "BenchStartL", "aa": "BenchStartA"}[side]
        lm = Limits(self.gm, fn, self.nginx.uri("/ok"), n)
        try:
            self.gm.wait_workers(fn, n)
            t, c = (time.monotonic() - lm.t0) * 1000, machine_busy_ms() - c0
            o = sum(run_ns(p) for p in lm.pids) / 1e6
        finally:
            lm.stop()
        self.gm.wait_workers(fn, 0)
        return t, c, o

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
