"""Test HTTP endpoints for Driveshaft workers: a computing one and ones that
misbehave on purpose. Runs in a thread inside a test (so the test can read
its counters) or standalone: python3 t/endpoint.py PORT. UnixServer(path)
serves the same paths on a unix socket.

Paths:
  /sum            workload is numbers separated by spaces or commas; answers
                  their sum (JSON or form requests alike)
  /echo           answers the workload back (decoding base64 if it came so)
  /fail500        HTTP 500
  /notjson        200 with a body that is not JSON
  /array          200 with a JSON array
  /missing        200 with gearman_ret but no response_string
  /ret/<raw>      200 with "gearman_ret": <raw> (raw JSON text)
  /notstring      200 with response_string a number
  /big/<n>        200 with a body of n bytes
  /slow/<ms>      sleeps ms, then answers like /sum
  /slow/<ms>/P    sleeps ms, then answers like /P (as in /slow/900/big/9000)
  /nul            response_string "a\\u0000b"
  /b64            response_string base64 of bytes ff 00 fe
  /badb64         response_encoding base64 with bad base64
  /retfail        gearman_ret 1
  /hostile/<kind>/<n>
                  200 with a body of about n bytes built to cost a parser
                  much (hostile_body() says what each kind is)
  /mux            a workload "!CMD" behaves as path /CMD (":" for "/"), as
                  in "!fail500" or "!slow:3000"; any other workload is /sum,
                  so one worker can be sent bad and good jobs in turn
  /soak           the soak's endpoint (t/soak/soak.py): answers
                  "<unique>:<sum of the workload>" so every answer can be
                  checked, after the server's soak_delay_ms; the server's
                  soak_mode makes it answer HTTP 500 ("fail500") or sleep a
                  random time in a range first ("stall", lo_ms, hi_ms); every
                  run is appended to the server's soak_runs; soak_wrong_every
                  N > 0 makes every Nth answer wrong (to prove the soak sees it)
"""
import random
import base64
import email.parser
import email.policy
import http.server
import json
import socketserver
import sys
import threading
import time


def parse_request(handler, body):
    ctype = handler.headers.get("Content-Type", "")
    if ctype.startswith("multipart/form-data"):
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        fields = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = part.get_payload(decode=True)
        return {k: v.decode("utf-8", "surrogateescape") if k != "workload" else v
                for k, v in fields.items()}, "form"
    req = json.loads(body)
    w = req.get("workload", "")
    if req.get("workload_encoding") == "base64":
        req["workload"] = base64.b64decode(w)
    else:
        req["workload"] = w.encode("utf-8")
    return req, "json"


NONCHARS = "".join(f"\\u{cp:04X}" for cp in range(0xFDD0, 0xFDEF)).encode()


def hostile_body(kind, n):
    """A body of about n bytes for /hostile/<kind>/<n>, and the answer a
    worker must give for it: ("OK", bytes) or ("FAIL", None)."""
    head = b'{"gearman_ret":0,"response_string":"ok",'
    if kind == "array":  # millions of tiny values in one member
        k = max(1, (n - len(head) - 8) // 2)
        return head + b'"x":[' + b"0," * (k - 1) + b"0]}", ("OK", b"ok")
    if kind == "members":  # millions of top-level members, the real last
        k = max(0, (n - 40) // 6)
        return (b"{" + b'"a":0,' * k + b'"gearman_ret":0,"response_string":"ok"}',
                ("OK", b"ok"))
    if kind == "nests":  # many arrays nested 900 deep
        one = b"[" * 900 + b"]" * 900
        k = max(1, (n - len(head)) // (len(one) + 1))
        return head + b'"x":[' + b",".join([one] * k) + b"]}", ("OK", b"ok")
    if kind == "deep":  # nested past cJSON's limit of 1000: not JSON to it
        return head + b'"x":' + b"[" * max(1001, n - len(head) - 4), ("FAIL", None)
    if kind in ("string", "failstring"):  # one huge response_string
        k = max(0, n - 40)
        ret = kind == "failstring"
        return (b'{"gearman_ret":%d,"response_string":"' % ret + b"x" * k + b'"}',
                ("FAIL", None) if ret else ("OK", b"x" * k))
    if kind == "failbase64":  # decoded from base64 (and checked) as well
        k = max(0, (n - 80) // 4 * 4)
        return (b'{"gearman_ret":1,"response_encoding":"base64","response_string":"'
                + b"AAAA" * (k // 4) + b'"}', ("FAIL", None))
    if kind == "nul":  # NUL escapes, then all noncharacters but the last:
        k = max(0, (n - 40 - len(NONCHARS)) // 6)  # the marker search's worst case
        want = b"\0" * k + "".join(chr(c) for c in range(0xFDD0, 0xFDEF)).encode()
        return (b'{"gearman_ret":0,"response_string":"' + b"\\u0000" * k + NONCHARS + b'"}',
                ("OK", want))
    raise ValueError(kind)


def answer(ret, string):
    return json.dumps({"gearman_ret": ret, "response_string": string}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def send(self, code, body, ctype="application/json"):
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        srv = self.server
        try:
            req, fmt = parse_request(self, body)
        except Exception as e:  # noqa: BLE001 - any bad request is a 400
            self.send(400, str(e).encode(), "text/plain")
            return
        if self.path.split("?")[0] == "/soak":  # recorded in soak_runs
            self.soak(req, fmt)
            return
        with srv.lock:
            srv.requests.append({"path": self.path, "format": fmt, "req": req,
                                 "user_agent": self.headers.get("User-Agent"),
                                 "authorization": self.headers.get("Authorization")})
        self.route(req)

    def route(self, req):
        p = path = self.path.split("?")[0]
        w = req.get("workload", b"")
        if p == "/mux":
            p = "/" + w[1:].decode().replace(":", "/") if w.startswith(b"!") else "/sum"
        if p.startswith("/slow/"):
            parts = p.split("/")
            time.sleep(int(parts[2]) / 1000.0)
            if path == "/mux":
                self.send(200, answer(0, "slept"))
                return
            p = "/" + "/".join(parts[3:]) if len(parts) > 3 else "/sum"
        if p == "/sum":
            nums = w.decode().replace(",", " ").split()
            self.send(200, answer(0, str(sum(int(x) for x in nums))))
        elif p == "/echo":
            if isinstance(w, bytes) and w.decode("utf-8", "replace").encode() == w:
                self.send(200, answer(0, w.decode()))
            else:
                self.send(200, json.dumps({"gearman_ret": 0, "response_encoding": "base64",
                          "response_string": base64.b64encode(w).decode()}).encode())
        elif p == "/fail500":
            self.send(500, b"internal error", "text/plain")
        elif p == "/notjson":
            self.send(200, b"<html>oops</html>", "text/html")
        elif p == "/array":
            self.send(200, b'[0, "x"]')
        elif p == "/missing":
            self.send(200, b'{"gearman_ret": 0}')
        elif p.startswith("/ret/"):
            raw = p[len("/ret/"):]
            self.send(200, b'{"gearman_ret": ' + raw.encode() + b', "response_string": "x"}')
        elif p == "/empty":
            self.send(200, b"")
        elif p == "/notstring":
            self.send(200, b'{"gearman_ret": 0, "response_string": 42}')
        elif p.startswith("/big/"):
            size = int(p.split("/")[2])
            pad = b"x" * max(0, size - 40)
            self.send(200, b'{"gearman_ret": 0, "response_string": "' + pad + b'"}')
        elif p == "/nul":
            self.send(200, b'{"gearman_ret": 0, "response_string": "a\\u0000b\\u0000"}')
        elif p == "/b64":
            self.send(200, b'{"gearman_ret": 0, "response_encoding": "base64", '
                           b'"response_string": "/wD+"}')
        elif p == "/badb64":
            self.send(200, b'{"gearman_ret": 0, "response_encoding": "base64", '
                           b'"response_string": "!!!"}')
        elif p.startswith("/hostile/"):
            _, _, kind, n = p.split("/")
            self.send(200, hostile_body(kind, int(n))[0])
        elif p == "/retfail":
            self.send(200, answer(1, "nope"))
        else:
            self.send(404, b"no such endpoint", "text/plain")


    def soak(self, req, fmt):
        srv = self.server
        run = {"u": req.get("unique", ""), "fn": req.get("function_name", ""),
               "fmt": fmt, "path": self.path, "t0": time.monotonic(),
               "kind": "ok", "stall_ms": 0, "port": srv.port}
        mode = srv.soak_mode
        lo, hi = srv.soak_delay_ms
        delay = random.uniform(lo, hi) if hi > 0 else 0
        if mode[0] == "stall":
            run["kind"] = "stall"
            run["stall_ms"] = delay = random.uniform(mode[1], mode[2])
        elif mode[0] == "fail500":
            run["kind"] = "500"
        with srv.lock:
            srv.soak_runs.append(run)
        time.sleep(delay / 1000.0)
        if run["kind"] == "500":
            run["sent"] = self.send(500, b"soak: failing on purpose", "text/plain")
        else:
            try:
                nums = req["workload"].decode().split()
                total = sum(int(x) for x in nums)
                with srv.lock:
                    srv.soak_answers += 1
                    if srv.soak_wrong_every and srv.soak_answers % srv.soak_wrong_every == 0:
                        total += 1
                body = answer(0, f"{run['u']}:{total}")
            except (ValueError, UnicodeDecodeError):
                body = answer(1, "bad workload")
                run["kind"] = "badworkload"
            run["sent"] = self.send(200, body)
        run["t1"] = time.monotonic()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port=0):
        super().__init__(("127.0.0.1", port), Handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = []
        self.soak_mode = ("ok",)
        self.soak_delay_ms = (0, 0)
        self.soak_runs = []
        self.soak_answers = 0
        self.soak_wrong_every = 0

    def handle_error(self, request, client_address):
        # a worker killed in the middle of a request is no error here
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


class UnixHandler(Handler):
    disable_nagle_algorithm = False  # TCP_NODELAY is for TCP only


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The same endpoints on a unix socket (pool key unix_socket); counts
    connections like Server."""
    daemon_threads = True

    def __init__(self, path):
        super().__init__(path, UnixHandler)
        self.path = path
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = []

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


if __name__ == "__main__":
    srv = Server(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print(f"endpoint listening on 127.0.0.1:{srv.port}", flush=True)
    srv.serve_forever()
