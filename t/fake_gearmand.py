#!/usr/bin/env python3
"""A hostile gearmand for the tests (issue 16): it answers the admin text
protocol the queue monitor speaks (worker/qmon_io.c sends "status" then
"workers" on one connection) with a flood. Every `status` reply holds
--rows rows: half duplicates of the --function rows (the values change
from row to row; the last row of each is TOTAL 7, RUNNING 3, AVAILABLE 2,
so a reader that keeps the last row shows those), half functions nobody
asked about.
`workers` lists --workers lines that look like ours (POOL:SLOT:PID, able
to do the first --function) and are no process of ours, `version` answers as gearmand does, and the
extra command `rounds` says how many `status` replies it has sent, so a
test can put a figure per round on what it measures.

A worker connecting with the binary protocol (its first byte is NUL) is
held open and never answered: it waits as it would on an idle server.

usage: fake_gearmand.py --port PORT --function NAME [--function NAME]
                        [--rows N] [--workers N] [--pool NAME]
"""
import argparse
import socket
import socketserver
import sys
import threading

LAST = (7, 3, 2)


def status_reply(functions, rows):
    """The flood, built once: rows // 2 duplicates of ours, in one block a
    function (a reader that looks each row up in a list of the last round
    scans the whole first block for every row of the second), unknown
    names between them, then the last row of each of ours."""
    ours = rows // 2
    unknown = rows - ours - len(functions)
    out = []
    for j in range(ours):
        fn = functions[j * len(functions) // ours]
        out.append(f"{fn}\t{j % 1000}\t{j % 7}\t{j % 5}\n")
        if j < unknown:
            out.append(f"unknown_{j}\t1\t0\t0\n")
    out.extend(f"unknown_{j}\t1\t0\t0\n" for j in range(ours, unknown))
    out.extend(f"{fn}\t{LAST[0]}\t{LAST[1]}\t{LAST[2]}\n" for fn in functions)
    out.append(".\n")
    return "".join(out).encode()


def workers_reply(pool, function, n):
    return "".join(f"{30 + i} 127.0.0.1 {pool}:{i % 4}:{100000 + i} : "
                   f"{function}\n" for i in range(n)).encode() + b".\n"


class Handler(socketserver.StreamRequestHandler):

    def handle(self):
        srv = self.server
        first = self.rfile.peek(1)[:1]
        if first in (b"", b"\0"):  # binary protocol: hold it, say nothing
            while self.rfile.read1(65536):
                pass
            return
        for line in self.rfile:
            cmd = line.strip().decode("ascii", "replace")
            if cmd == "status":
                with srv.lock:
                    srv.rounds += 1
                reply = srv.status
            elif cmd == "workers":
                reply = srv.workers
            elif cmd == "version":
                reply = b"OK 1.1.19.1\n"
            elif cmd == "rounds":
                with srv.lock:
                    reply = f"OK {srv.rounds}\n".encode()
            else:
                reply = b"ERR UNKNOWN_COMMAND Unknown+server+command\n"
            try:
                self.wfile.write(reply)
                self.wfile.flush()
            except OSError:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--function", action="append", required=True)
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--pool", default="Q")
    a = ap.parse_args()
    if a.rows < 2 * len(a.function) + 2:
        sys.exit(f"fake_gearmand.py: --rows {a.rows}: at least "
                 f"{2 * len(a.function) + 2} (two a function and two more)")
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.status = status_reply(a.function, a.rows)
    srv.workers = workers_reply(a.pool, a.function[0], a.workers)
    srv.rounds = 0
    srv.lock = threading.Lock()
    print(f"listening on 127.0.0.1:{a.port}, {a.rows} rows "
          f"({len(srv.status)} bytes) a status", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    main()
