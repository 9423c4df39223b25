"""fig_scale.py: the figures of make bench on starting and changing workers
(contrib/bench/bench.py): start-up, a HUP that adds a worker, and pools of
hundreds or thousands of workers with how their figures grow."""
import statistics
import time

from benchlib import P, children, loadgen, machine_busy_ms, run_ns, wait_for
from services import FloorLoop, Limits, Master


class ScaleFigures:
    """Steps startup, hup, scaleN and growth of Bench."""

    # -- start-up of 500 workers, in ABCCBA blocks: each side follows
    # itself or another as evenly as three sides allow, so that whatever a
    # run leaves behind (500 processes torn down, gearmand's connections
    # closed) falls on all alike. Sides: driveshaft, the limit programs
    # spawned by this Python process, and the floor (floor.c registering
    # one function, spawned back to back by spawnloop.c). The A/A control
    # splits the floor's runs by what ran before them.
    SEQ = ("ds", "lim", "flo", "flo", "lim", "ds")

    def startup(self):
        n = P["start_n"]
        runs = []  # (side, side before, ms, machine CPU ms, own CPU ms)
        self.master_start_ms, self.loop_ms = [], []
        for i in range(P["start_runs"]):
            side = self.SEQ[i % len(self.SEQ)]
            runs.append((side, runs[-1][0] if runs else None,
                         *self.start_once(side, n)))

        def med(side, col, after=None):
            return statistics.median(r[col] for r in runs if r[0] == side and
                                     (after is None or r[1] == after))

        def per_block(a, b):
            k = len(self.SEQ)
            blocks = [runs[i:i + k] for i in range(0, len(runs) - k + 1, k)]
            return statistics.median(
                statistics.mean(r[2] for r in bl if r[0] == a) /
                statistics.mean(r[2] for r in bl if r[0] == b) for bl in blocks)
        ms, lim, flo = med("ds", 2), med("lim", 2), med("flo", 2)
        # A/A: the floor against itself, by what ran before it
        aa = med("flo", 2, "flo") / med("flo", 2, "lim")
        self.put(f"startup_{n}_ms", round(ms))
        self.put(f"startup_{n}_limit_ms", round(lim))
        self.put(f"startup_{n}_floor_ms", round(flo))
        self.put(f"startup_{n}_ratio", round(ms / lim, 3))
        self.put(f"startup_{n}_floor_ratio", round(ms / flo, 3))
        self.put(f"startup_{n}_limit_floor_ratio", round(lim / flo, 3))
        self.put(f"startup_{n}_ratio_of_blocks", round(per_block("ds", "lim"), 3))
        self.put(f"startup_{n}_floor_ratio_of_blocks",
                 round(per_block("ds", "flo"), 3))
        self.put(f"startup_{n}_aa_ratio", round(aa, 3))
        for k, col in (("machine_cpu", 3), ("own_cpu", 4)):
            self.put(f"startup_{n}_{k}_ms", round(med("ds", col)))
            self.put(f"startup_{n}_{k}_limit_ms", round(med("lim", col)))
            self.put(f"startup_{n}_{k}_floor_ms", round(med("flo", col)))
            self.put(f"startup_{n}_{k}_ratio",
                     round(med("ds", col) / med("lim", col), 3))
            self.put(f"startup_{n}_{k}_floor_ratio",
                     round(med("ds", col) / med("flo", col), 3))
        self.put(f"startup_{n}_runs", '"' + " ".join(
            f"{r[0]}:{r[2]:.0f}/{r[4]:.0f}" for r in runs) + '"')
        self.put(f"startup_{n}_master_cpu_ms", '"' + " ".join(
            f"{x:.0f}" for x in self.master_start_ms) + '"')
        self.put(f"startup_{n}_floor_loop_ms", '"' + " ".join(
            f"{x:.0f}" for x in self.loop_ms) + '"')
        each = len(runs) // len(set(self.SEQ))
        self.row(f"start-up: {n} workers registered, ms (median of {each}, "
                 "ABCCBA)", f"{ms:.0f}", f"{lim:.0f}", f"{ms / lim:.3f} x",
                 "<= 1.05 x")
        self.row(f"  the floor: {n} floor.c spawned by a C loop, ms",
                 f"{ms:.0f}", f"floor {flo:.0f}", f"{ms / flo:.3f} x",
                 "<= 1.05 x")
        self.row("  A/A control: the floor after itself / after the limit",
                 f"{med('flo', 2, 'flo'):.0f}", f"{med('flo', 2, 'lim'):.0f}",
                 f"{aa:.3f} x", "shows the noise")
        self.row(f"  CPU the machine spent starting {n}, ms (median)",
                 f"{med('ds', 3):.0f}", f"{med('lim', 3):.0f}",
                 f"{med('ds', 3) / med('lim', 3):.3f} x",
                 f"floor {med('flo', 3):.0f}")
        self.row(f"  of which the {n} programs and their starter, ms",
                 f"{med('ds', 4):.0f}", f"{med('lim', 4):.0f}",
                 f"{med('ds', 4) / med('lim', 4):.3f} x",
                 f"floor {med('flo', 4):.0f}")

    def start_once(self, side, n):
        """One start of n workers: ms until gearmand has them all, the
        machine's CPU ms in that time, and the CPU ms of the programs
        started (and of the master, or of the floor's loop)."""
        c0 = machine_busy_ms()
        if side == "ds":
            m = Master(self.tmp, "start", self.gm, {"Start": {
                "worker_count": n, "jobs_list": ["BenchStart"],
                "job_processing_uri": self.nginx.uri("/ok")}})
            try:
                self.gm.wait_workers("BenchStart", n)
                t, c = (time.monotonic() - m.t0) * 1000, machine_busy_ms() - c0
                o = sum(run_ns(p) for p in m.pids()) / 1e6
                self.master_start_ms.append(run_ns(m.pid) / 1e6)
            finally:
                m.stop()
            self.gm.wait_workers("BenchStart", 0)
            return t, c, o
        if side == "flo":
            fl = FloorLoop(self.gm, "BenchStartF", n)
            try:
                self.gm.wait_workers("BenchStartF", n)
                t, c = (time.monotonic() - fl.t0) * 1000, machine_busy_ms() - c0
                o = sum(run_ns(p) for p in fl.pids()) / 1e6
            finally:
                self.loop_ms.append(fl.stop())
            self.gm.wait_workers("BenchStartF", 0)
            return t, c, o
        fn = "BenchStartL"
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
