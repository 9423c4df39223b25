"""A hostile FastCGI server for the worker's FastCGI client: it reads each
request as php-fpm would (BEGIN_REQUEST, PARAMS, STDIN up to the empty
record) and answers as the job's workload (the JSON body's "workload") asks,
on a kept connection when it can. Runs in a thread inside a test (Server) or
standalone: python3 t/fcgi_hostile.py PORT.

Workloads:
  ok                 a good answer: Status 200, {"gearman_ret": 0,
                     "response_string": "ok"}
  other-id           a STDOUT record for request id 2
  endless-stderr     STDERR records without end, until the client closes
  huge-stdout        the CGI headers, then 100 MB of STDOUT
  bad-version        a record of version 2
  close-mid-header   4 bytes of a record header, then the connection closes
  close-mid-record   a STDOUT record cut short, then the connection closes
  bad-status         "Status: abc"
  app-status         END_REQUEST with appStatus 3
  overloaded         END_REQUEST with protocolStatus 2 (OVERLOADED)
  stall              the CGI headers, then nothing until the client closes

Server(max_requests=N, late_close=S) closes every connection after N
answers, as php-fpm does after pm.max_requests: the first one with its last
answer (in the same TCP segment, so that no scheduling delay here can make
it late), each later one S seconds after its last answer (a slow machine),
reading and dropping whatever the client sends meanwhile (counted in
.dropped).
"""
import json
import socket
import struct
import sys
import threading
import time

STDOUT, STDERR, END = 6, 7, 3
GOOD = b'Status: 200 OK\r\nContent-Type: application/json\r\n\r\n' \
       b'{"gearman_ret": 0, "response_string": "ok"}'


def record(rtype, content=b"", rid=1, version=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", version, rtype, rid, len(content), pad) + \
        content + b"\0" * pad


def end(app=0, proto=0):
    return record(END, struct.pack(">IB3x", app, proto))


def read_exact(conn, n):
    b = b""
    while len(b) < n:
        chunk = conn.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def read_request(conn):
    """The request's STDIN, or None when the connection closed."""
    stdin = b""
    while True:
        h = read_exact(conn, 8)
        if h is None:
            return None
        _, rtype, _, clen, pad = struct.unpack(">BBHHBx", h)
        body = read_exact(conn, clen + pad)
        if body is None:
            return None
        if rtype == 5:
            if clen == 0:
                return stdin
            stdin += body[:clen]


def stream(conn, rtype, total):
    """total bytes of rtype records (forever when total is None)."""
    chunk = record(rtype, b"x" * 65528)
    sent = 0
    while total is None or sent < total:
        conn.sendall(chunk)
        sent += 65528


def answer(conn, kind):
    """Answers one request; False when the connection is done."""
    if kind == "ok":
        conn.sendall(record(STDOUT, GOOD) + record(STDOUT) + end())
        return True
    if kind == "other-id":
        conn.sendall(record(STDOUT, GOOD, rid=2) + end())
    elif kind == "endless-stderr":
        stream(conn, STDERR, None)
    elif kind == "huge-stdout":
        conn.sendall(record(STDOUT, b"Content-Type: text/plain\r\n\r\n"))
        stream(conn, STDOUT, 100 * 1000 * 1000)
    elif kind == "bad-version":
        conn.sendall(record(STDOUT, GOOD, version=2) + end())
    elif kind == "close-mid-header":
        conn.sendall(record(STDOUT, GOOD)[:4])
    elif kind == "close-mid-record":
        conn.sendall(record(STDOUT, GOOD)[:30])
    elif kind == "bad-status":
        conn.sendall(record(STDOUT, b"Status: abc\r\n\r\n{}") + end())
        return True
    elif kind == "app-status":
        conn.sendall(record(STDOUT, GOOD) + end(app=3))
        return True
    elif kind == "overloaded":
        conn.sendall(end(proto=2))
    elif kind == "stall":
        conn.sendall(record(STDOUT, b"Content-Type: text/plain\r\n\r\n"))
        conn.recv(1)  # returns when the client closes
    return False


def workload(stdin):
    try:
        return json.loads(stdin).get("workload", "ok")
    except ValueError:
        return "ok"


class Server:
    def __init__(self, port=0, max_requests=0, late_close=0.0):
        self.max_requests = max_requests
        self.late_close = late_close
        self.dropped = 0  # requests read and dropped by a closing connection
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests = []  # the workloads, in order
        self.connections = 0

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with self.lock:
            first = self.connections == 1
        served = 0
        try:
            while True:
                stdin = read_request(conn)
                if stdin is None:
                    break
                kind = workload(stdin)
                with self.lock:
                    self.requests.append(kind)
                last = served + 1 == self.max_requests
                if last and first:  # the answer and the close in one segment
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                if not answer(conn, kind):
                    break
                served += 1
                if last:
                    self._recycle(conn, 0 if first else self.late_close)
                    break
        except OSError:
            pass  # the client closed on us: what a hostile answer earns
        conn.close()

    def _recycle(self, conn, delay):
        """php-fpm's close after pm.max_requests: at the end of its request
        shutdown, delay after the answer; what came meanwhile is dropped."""
        time.sleep(delay)
        conn.shutdown(socket.SHUT_WR)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        conn.settimeout(1.0)
        try:
            if conn.recv(65536):
                with self.lock:
                    self.dropped += 1
        except OSError:
            pass

    def stop(self):
        self.sock.close()


if __name__ == "__main__":
    s = Server(int(sys.argv[1])).start()
    print(f"fcgi_hostile on 127.0.0.1:{s.port}", flush=True)
    threading.Event().wait()
