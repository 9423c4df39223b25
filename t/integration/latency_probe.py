"""The status-port client of test_spawn_latency, run as a process of its
own: python3 latency_probe.py PORT READY DEADLINE_S. It asks `threads`,
`pools` and `metrics` in turn, 50 ms apart, until `threads` shows READY
workers waiting for work or DEADLINE_S pass, and prints one JSON object:
the ms each reply took, by command, and how many were ready at the end.

A process of its own, in a session of its own (its own scheduling group
under the kernel's autogroup), so that what it measures is the master's
latency, not the test runner's: a scraper usually runs on another host,
and the runner's session may hold anything else the machine runs."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import status  # noqa: E402

COMMANDS = ("threads", "pools", "metrics")


def main():
    port, ready_want, deadline = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    try:  # at the master loop's priority where allowed (root)
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) - 10)
    except OSError:
        pass
    times = {c: [] for c in COMMANDS}
    end = time.monotonic() + deadline
    ready = 0
    while ready < ready_want and time.monotonic() < end:
        for cmd in COMMANDS:
            t = time.monotonic()
            reply = status(port, cmd)
            times[cmd].append((time.monotonic() - t) * 1000)
            if cmd == "threads":
                ready = reply.count("\tWaiting for work\r\n")
        time.sleep(0.05)
    print(json.dumps({"times": times, "ready": ready}))


if __name__ == "__main__":
    main()
