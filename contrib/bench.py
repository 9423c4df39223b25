"""make bench: throughput and memory of driveshaft on this machine.

Starts a real gearmand, the test endpoint and a master with one pool of W
workers, pushes N jobs through it with gmclient, and prints jobs per second,
the master's and one worker's resident memory, and the endpoint's TCP
connections (1 per worker when keep-alive works)."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "t",
                                "integration"))
import harness  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    jobs = int(os.environ.get("BENCH_JOBS", "20000"))
    workers = int(os.environ.get("BENCH_WORKERS", "8"))
    with tempfile.TemporaryDirectory() as tmp:
        gm = harness.Gearmand(tmp).start()
        ep = harness.endpoint.Server().start()
        cfg = os.path.join(tmp, "jobs.json")
        harness.write_config(cfg, [gm.server], {"Bench": {
            "worker_count": workers, "jobs_list": ["Sum"],
            "uri": f"http://127.0.0.1:{ep.port}/sum"}})
        port = harness.free_port()
        m = subprocess.Popen([harness.MASTER, "--jobsconfig", cfg, "--status_port",
                              str(port), "--loop_timeout", "1"],
                             stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            harness.wait_for(lambda: harness.port_open(port), 10, "status port")
            harness.wait_for(lambda: sum(1 for r in harness.threads(port)
                                         if r[3] == "Waiting for work") == workers,
                             10, "workers")
            lines = "".join(f"Sum\thex:{f'{i} 1'.encode().hex()}\n" for i in range(jobs))
            t0 = time.monotonic()
            p = subprocess.run([harness.GMCLIENT, "-s", gm.server, "-t", "300"],
                               input=lines, capture_output=True, text=True)
            took = time.monotonic() - t0
            ok = sum(1 for ln in p.stdout.splitlines() if "\tOK\t" in ln)
            kid = harness.children_of(m.pid)[0]
            print(f"jobs: {jobs} through {workers} workers, {ok} answered OK")
            print(f"throughput: {jobs / took:.0f} jobs/s ({took:.2f} s)")
            print(f"master RSS: {rss_kib(m.pid)} KiB, one worker RSS: {rss_kib(kid)} KiB")
            print(f"endpoint TCP connections: {ep.connections}")
        finally:
            m.send_signal(signal.SIGTERM)
            m.wait(30)
            ep.stop()
            gm.stop()
    return 0 if ok == jobs else 1


if __name__ == "__main__":
    sys.exit(main())
