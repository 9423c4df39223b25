"""make bench: what Driveshaft costs next to the physical limit of its design.

Starts its own gearmand and nginx (a fixed answer, keep-alive) on free
loopback ports, a driveshaft master, and the limit programs (limit.c: a
libgearman grab loop and one reused curl handle per process, nothing else),
then measures both sides alternately (A/B/A/B) in the same run and prints
a table for people and one key=value line per figure. BENCH_QUICK=1 runs a
shorter version (fewer rounds and jobs). See README, "Benchmark".

Figures decided by what noise cannot move (instructions by callgrind,
context switches, bytes) are printed beside the timed ones.

BENCH_ONLY=step[,step] runs only those steps (ab, startup, hup, scale500,
scale2000, growth, syscalls, callgrind, php, upgrade).

This file holds the run (its steps, the table, main); fig_ab.py,
fig_scale.py, fig_cost.py, fig_php.py (PHP on php-fpm, through nginx
and over FastCGI) and fig_upgrade.py (USR2: exec, adoption, the status
port meanwhile, the roll) the figures of each step, services.py the
programs it starts, benchlib.py what they share."""
import os
import random
import sys
import tempfile
import time

from benchlib import (BENCH, FLOOR, FUNC, LIMIT, LOADGEN, MASTER, P, QUICK,
                      SPAWNLOOP, TOP, loadgen, log, raise_limits)
from services import Gearmand, Nginx
from fig_ab import ABFigures
from fig_cost import CostFigures
from fig_php import PhpFigures
from fig_scale import ScaleFigures
from fig_upgrade import UpgradeFigures


class Bench(ABFigures, ScaleFigures, CostFigures, PhpFigures, UpgradeFigures):
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
        # "aa": a second group of limit programs, the A/A control
        fn = FUNC[v] + {"ds": "", "lim": "L", "aa": "A"}[side]
        if v == "bin":
            return loadgen(self.gm, fn, jobs, conc, self.files["workload"],
                           self.files["result"])
        return loadgen(self.gm, fn, jobs, conc)

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
    for prog in (MASTER, LOADGEN, LIMIT, FLOOR, SPAWNLOOP):
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
                      ("callgrind", b.callgrind), ("php", b.php),
                      ("upgrade", b.upgrade)]
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
