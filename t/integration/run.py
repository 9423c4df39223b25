"""Runs every t/integration/test_*.py and ends with one summary line:
`integration: N passed, N failed`.

The tests spend most of their time waiting on real daemons, not computing,
so modules run side by side (DS_TEST_JOBS at once, default 3), each in its
own process with its own gearmand; a module's output is printed whole when
it ends. Modules that measure time or load the machine past what the
others bear run alone, after the others, so that no neighbour skews them;
the longest of the rest go first."""
import os
import re
import subprocess
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
# heavy (2,000 workers) or timing-sensitive (flood query times, CPU ticks)
ALONE = ("test_scale", "test_spawn_latency", "test_status_flood", "test_hardening",
         "test_queue", "test_hostile_gearmand")
# the longest of the rest start first, so that no lane ends long after the
# others (test_multihost asserts a ledger, not a time: it runs beside them)
LONG = ("test_multihost", "test_master", "test_upgrade", "test_hung_server",
        "test_ops_kit", "test_status", "test_worker")


def modules(pattern):
    import fnmatch
    return sorted(f[:-3] for f in os.listdir(here)
                  if fnmatch.fnmatch(f, pattern) and f.endswith(".py"))


def run_module(name, out):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "unittest", "-v", name], cwd=here,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text = p.stdout
    ran = int(m.group(1)) if (m := re.search(r"^Ran (\d+) test", text, re.M)) else 0
    counts = {k: int(v) for k, v in re.findall(r"(failures|errors|skipped)=(\d+)", text)}
    if p.returncode != 0 and not counts.get("failures") and not counts.get("errors"):
        counts["errors"] = 1  # died before unittest could say why
    out[name] = (ran, counts, text, time.monotonic() - t0)
    print(f"==== {name} ({time.monotonic() - t0:.0f}s)\n{text}", flush=True)


def san_reports_begin():
    """With DS_SAN_REPORTS, every sanitizer report of every process also
    goes to a file there (a daemon's standard error is /dev/null): the
    directory starts empty."""
    d = os.environ.get("DS_SAN_REPORTS")
    if not d:
        return None
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        prev = os.environ.get(var, "")
        os.environ[var] = (prev + ":" if prev else "") + f"log_path={d}/report"
    return d


# what a report of an error says; a note alone (LeakSanitizer's "Unable to
# get registers from thread" when a process exits with a vfork child in
# flight) is not one
SAN_ERROR = re.compile(r"ERROR: \w+Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def san_reports_end(d):
    """The reports of errors written meanwhile, printed; how many."""
    if d is None:
        return 0
    found = 0
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), errors="replace") as fh:
            text = fh.read()
        if SAN_ERROR.search(text):
            found += 1
            print(f"==== sanitizer report {f}\n{text[:20000]}", flush=True)
    return found


def run_parallel(names, jobs, out):
    lock = threading.Lock()
    queue = list(names)

    def lane():
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop(0)
            run_module(name, out)
    threads = [threading.Thread(target=lane) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    jobs = int(os.environ.get("DS_TEST_JOBS", "3"))
    if "DS_BUILD" in os.environ:  # the modules run from this directory
        os.environ["DS_BUILD"] = os.path.abspath(os.environ["DS_BUILD"])
    names = modules(pattern)
    reports = san_reports_begin()
    out = {}
    rest = [n for n in names if n not in ALONE]
    rest.sort(key=lambda n: (n not in LONG, LONG.index(n) if n in LONG else 0, n))
    run_parallel(rest, jobs, out)
    for n in names:
        if n in ALONE:
            run_module(n, out)
    ran = sum(r for r, _, _, _ in out.values())
    failed = sum(c.get("failures", 0) + c.get("errors", 0) for _, c, _, _ in out.values())
    skipped = sum(c.get("skipped", 0) for _, c, _, _ in out.values())
    passed = ran - failed - skipped
    for name, (_, c, _, secs) in sorted(out.items()):
        if c.get("failures") or c.get("errors"):
            print(f"FAILED module: {name} ({secs:.0f}s)")
    nreports = san_reports_end(reports)
    print(f"integration: {passed} passed, {failed} failed"
          + (f", {skipped} skipped" if skipped else "")
          + (f", {nreports} sanitizer reports" if nreports else ""))
    sys.exit(1 if failed or ran == 0 or nreports else 0)


if __name__ == "__main__":
    main()
