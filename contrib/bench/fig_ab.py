"""fig_ab.py: the A/B figures of make bench (contrib/bench/bench.py):
driveshaft and the limit programs measured in alternate rounds (throughput,
CPU, context switches, round trip), and memory (USS) next to a floor."""
import statistics
import subprocess
import time

from benchlib import (FLOOR, FUNC, P, VARIANTS, cpu_delta, cpu_of, ctxt,
                      log, minflt, run_ns, status_field, uss_kib)
from services import Limits, Master, children_by_pool


class ABFigures:
    """Steps ab and uss of Bench."""

    # -- A/B rounds: throughput, CPU per job, wake-ups, round trip
    def ab(self):
        w = P["workers"]
        m = Master(self.tmp, "ab", self.gm, self.pools())
        lims = {v: Limits(self.gm, FUNC[v] + "L", self.limit_uri(v), w,
                          form=v == "form") for v in VARIANTS}
        # the A/A control: the limit against itself shows what the noise
        # alone does to the JSON figures in the same rounds
        twin = Limits(self.gm, FUNC["json"] + "A", self.limit_uri("json"), w)
        floors = []
        try:
            for v in VARIANTS:
                self.gm.wait_workers(FUNC[v], w, 30)
                self.gm.wait_workers(FUNC[v] + "L", w, 30)
            self.gm.wait_workers(FUNC["json"] + "A", w, 30)
            # the floor runs beside them, so that its pages are shared
            # (or not) as the workers' are when their USS is read
            floors += [subprocess.Popen([FLOOR], stdout=subprocess.PIPE)
                       for _ in range(3)]
            for p in floors:
                p.stdout.readline()
            time.sleep(0.5)
            dsw = children_by_pool(m, "Json")
            self.uss_floor = [uss_kib(p.pid) for p in floors]
            self.uss_idle = [uss_kib(p) for p in dsw]
            self.uss_limit_idle = [uss_kib(p) for p in lims["json"].pids]
            self.uss_master = uss_kib(m.pid)
            res = {}
            sides = {"ds": (m.pids, m.pid), "lim": (lambda: [
                p for v in VARIANTS for p in lims[v].pids], None),
                "aa": (lambda: twin.pids + [
                    p for v in VARIANTS[1:] for p in lims[v].pids], None)}
            for r in range(P["rounds"]):
                self.one_round(res, sides)
                log(f"round {r + 1}/{P['rounds']}: " + ", ".join(
                    f"{k}={x[-1]:.0f}" for k, x in sorted(res.items())
                    if k.startswith(("tput_", "rtt_"))))
            self.put("endpoint_connections", self.nginx.connections())
            self.uss_load = [uss_kib(p) for p in dsw]
            self.uss_floor += [uss_kib(p.pid) for p in floors]

            self.uss_limit_load = [uss_kib(p) for p in lims["json"].pids]
            self.ab_results(res)
        finally:
            m.stop()
            for lm in lims.values():
                lm.stop()
            twin.stop()
            for p in floors:
                p.kill()
                p.wait()

    def one_round(self, res, sides):
        """A round: each figure's jobs in a few chunks (P["tput_turns"],
        P["rtt_turns"]), the two sides taking turns chunk by chunk (who
        goes first alternating), so that
        the host's slow and fast spells, seconds long here, fall on both
        alike. A round's figure of a side is over all its chunks."""
        jobs = {"json": P["tput_jobs"], "form": P["tput_jobs"] // 2,
                "bin": P["bin_jobs"]}
        for v in VARIANTS:
            names = [x for x in sides if x != "aa" or v == "json"]
            acc = {side: {} for side in names}
            rtt = {side: [] for side in names}
            for k in range(P["tput_turns"]):
                for side in self.turns(k, names):
                    pids, master = sides[side]
                    self.tput_chunk(acc[side], pids(), master, side, v,
                                    jobs[v] // P["tput_turns"],
                                    16 if v == "bin" else 64)
            for k in range(P["rtt_turns"]):
                for side in self.turns(k, names):
                    n = max(P["rtt_jobs"] // P["rtt_turns"] //
                            (2 if v == "bin" else 1), 20)
                    rtt[side].append(self.run_load(side, v, n, 1)["p50_us"])
            for side in names:
                a = acc[side]

                def add(key, x):
                    res.setdefault(f"{key}_{side}", []).append(x)
                add(f"tput_{v}", a["jobs"] / a["secs"])
                add(f"cpu_{v}", a["cpu_ns"] / 1e3 / a["jobs"])
                add(f"faults_{v}", a["faults"] / a["jobs"])
                add(f"rtt_{v}", statistics.median(rtt[side]))
                if v == "json":
                    add("ctxt_per_job", a["ctxt"] / a["jobs"])
                    if sides[side][1]:
                        add("master_wakeups_per_job", a["mwake"] / a["jobs"])
                        add("master_cpu_us_per_job",
                            a["mcpu_ns"] / 1e3 / a["jobs"])

    @staticmethod
    def turns(k, names):
        """The sides' order in turn k: each goes first in its turn."""
        k %= len(names)
        return names[k:] + names[:k]

    def tput_chunk(self, acc, pids, master, side, v, jobs, conc):
        """One throughput run, adding to acc its jobs, time, and the CPU
        time, page faults and context switches of every process of the
        side (idle ones included: what they cost while others work
        counts)."""
        def snap():
            return (cpu_of(pids), {p: minflt(p) for p in pids},
                    {p: ctxt(p) for p in pids},
                    status_field(master, "voluntary_ctxt_switches")
                    if master else 0, run_ns(master) if master else 0)
        c0, f0, x0, w0, m0 = snap()
        r = self.run_load(side, v, jobs, conc)
        c1, f1, x1, w1, m1 = snap()
        for key, x in (("jobs", r["jobs"]),
                       ("secs", r["jobs"] / r["jobs_per_s"]),
                       ("cpu_ns", cpu_delta(c0, c1)),
                       ("faults", sum(f1[p] - f0[p] for p in pids)),
                       ("ctxt", sum(x1[p] - x0[p] for p in pids)),
                       ("mwake", w1 - w0), ("mcpu_ns", m1 - m0)):
            acc[key] = acc.get(key, 0) + x

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
                     f"(median of {n} rounds)", f"{ds:.0f}", f"{lim:.0f}",
                     f"{ds / lim:.3f} x", ">= 0.97 x" if v == "json" else
                     "within 10% of json")
        for v in VARIANTS:
            ds, lim = med[f"rtt_{v}_ds"], med[f"rtt_{v}_lim"]
            self.put(f"rtt_{v}_p50_us", round(ds, 1))
            self.put(f"rtt_{v}_limit_p50_us", round(lim, 1))
            self.put(f"rtt_{v}_p50_minus_limit_us", round(ds - lim, 1))
            self.put(f"rtt_{v}_p50_ratio", round(ds / lim, 3))
            self.row(f"round trip {v}, c=1, p50 us (median of {n} rounds)",
                     f"{ds:.0f}", f"{lim:.0f}",
                     f"{ds - lim:+.0f} us ({ds / lim:.3f} x)",
                     "<= limit + 15 us" if v == "json" else
                     "within 10% of json")
        for v in VARIANTS:
            self.cpu_rows(res, med, v)
        self.control_rows(med)
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

    def control_rows(self, med):
        """The limit against a second copy of itself in the same rounds:
        how far the noise alone moves a ratio that should be 1."""
        for key, what in (("tput_json", "throughput"),
                          ("cpu_json", "CPU per job"),
                          ("rtt_json", "round trip p50")):
            lim, twin = med[f"{key}_lim"], med[f"{key}_aa"]
            self.put(f"control_{key}_ratio", round(twin / lim, 3))
            self.row(f"A/A control, json {what}: a second limit group",
                     f"{twin:.1f}", f"{lim:.1f}", f"{twin / lim:.3f} x",
                     "1.0 but for noise")

    def cpu_rows(self, res, med, v):
        ds, lim = med[f"cpu_{v}_ds"], med[f"cpu_{v}_lim"]
        sfx = "" if v == "json" else f"_{v}"
        self.put(f"cpu_us_per_job{sfx}", round(ds, 1))
        self.put(f"cpu_us_per_job{sfx}_limit", round(lim, 1))
        self.put(f"cpu_per_job{sfx}_ratio", round(ds / lim, 3))
        self.put(f"cpu_per_job{sfx}_ratio_of_rounds", round(
            statistics.median(a / b for a, b in zip(
                res[f"cpu_{v}_ds"], res[f"cpu_{v}_lim"])), 3))
        self.row(f"CPU per job, {v}, us (schedstat, master + workers)",
                 f"{ds:.1f}", f"{lim:.1f}", f"{ds / lim:.3f} x",
                 "<= 1.05 x" if v == "json" else "within 10% of json")
        ds, lim = med[f"faults_{v}_ds"], med[f"faults_{v}_lim"]
        self.put(f"page_faults_per_job{sfx}", round(ds, 3))
        self.put(f"page_faults_per_job{sfx}_limit", round(lim, 3))
        self.row(f"page faults per job, {v} (minor, master + workers)",
                 f"{ds:.3f}", f"{lim:.3f}", "", "")

    # -- memory
    def uss(self):
        floor = statistics.median(self.uss_floor)
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
        self.row("USS per worker idle, KiB (floor: 3 copies beside them)", f"{idle:.0f}",
                 f"floor {floor:.0f}", f"{idle - floor:+.0f} KiB",
                 "<= floor + 32 KiB")
        self.row("USS per worker after load, KiB", f"{load:.0f}",
                 f"{statistics.median(self.uss_limit_load):.0f}",
                 f"floor {load - floor:+.0f} KiB", "<= floor + 32 KiB")

