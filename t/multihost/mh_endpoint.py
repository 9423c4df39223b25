"""The endpoint of one Driveshaft host in the multi-host scenario: POST
/work/<ms> sleeps ms, answers the workload back, and appends one line per
run to the ledger file (host, workload, start and end times), so the
scenario can tell which host ran which job and how often.

    python3 mh_endpoint.py HOST PORT LEDGER
"""
import http.server
import json
import socketserver
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        req = json.loads(body)
        w = req.get("workload", "")
        t0 = time.time()
        time.sleep(int(self.path.rsplit("/", 1)[1]) / 1000.0)
        with self.server.lock, open(self.server.ledger, "a") as f:
            f.write(f"{self.server.host}\t{w}\t{t0:.3f}\t{time.time():.3f}\n")
        out = json.dumps({"gearman_ret": 0, "response_string": w}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", int(sys.argv[2])), Handler)
    srv.host, srv.ledger, srv.lock = sys.argv[1], sys.argv[3], threading.Lock()
    print("listening", flush=True)
    srv.serve_forever()
