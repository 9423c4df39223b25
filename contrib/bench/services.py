"""services.py: what make bench starts and measures (contrib/bench/bench.py):
gearmand (with an admin connection), nginx, a driveshaft master, the
limit programs and the start-up floor."""
import json
import os
import re
import signal
import socket
import subprocess
import time

from benchlib import (FLOOR, LIMIT, MASTER, NGINX, OK_BODY, SPAWNLOOP,
                      children, free_port, port_open, stop_proc, wait_for,
                      write_config)
import testlib  # noqa: E402  (benchlib puts t/ on the path)


class Gearmand(testlib.Gearmand):
    """t/testlib.py's gearmand, with an admin connection kept open: the
    bench polls the worker count often and a gearadmin run each time
    would cost more than the pools it watches."""

    def __init__(self, tmp):
        # a listen backlog of 32 (gearmand's default) drops some of the
        # load generator's 64 connections at once: each drop cost that
        # run a 1 s SYN retransmit (a run in six or so, either side)
        super().__init__(tmp, log_name="gearmand.log", error=RuntimeError,
                         extra=("--backlog", "1024", "--verbose=ERROR"))
        self.start()
        self.admin = socket.create_connection(("127.0.0.1", self.port))
        self.admin_buf = b""

    def workers(self, function):
        """How many connected workers can do `function` (admin `workers`)."""
        self.admin.sendall(b"workers\n")
        data = self.admin_buf
        while not (data.endswith(b"\n.\n") or data == b".\n"):
            chunk = self.admin.recv(1 << 20)
            if not chunk:
                raise RuntimeError("gearmand closed the admin connection")
            data += chunk
        self.admin_buf = b""
        n = 0
        for line in data.split(b"\n"):
            _, sep, funcs = line.partition(b" : ")
            if sep and function.encode() in funcs.split():
                n += 1
        return n

    def wait_workers(self, function, n, timeout=120, stall=20):
        """Waits until exactly n workers can do `function`; fails after
        `timeout` s, or once the count has not moved for `stall` s (a
        start-up that stops half way says so at once)."""
        # polling costs gearmand and us CPU: often only for small pools
        step = 0.001 if n < 10 else 0.02 if n < 1000 else 0.05
        deadline = time.monotonic() + timeout
        last, moved = None, time.monotonic()
        while True:
            have = self.workers(function)
            now = time.monotonic()
            if have == n:
                return
            if have != last:
                last, moved = have, now
            if now > deadline or now - moved > stall:
                raise RuntimeError(f"{function}: {have} of {n} workers "
                                   f"registered, no change for "
                                   f"{now - moved:.0f} s")
            time.sleep(step)

    def stop(self):
        self.admin.close()
        super().stop()


class Nginx:
    """nginx in its own prefix: /ok answers OK_BODY, /bin.json 64 KiB of
    bytes that are not UTF-8, base64-encoded (a static file: POST gets 405
    from the static module, which error_page turns into the file)."""

    def __init__(self, tmp, bin_result):
        self.port = free_port()
        d = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(d, "www"))
        import base64
        with open(os.path.join(d, "www", "bin.json"), "w") as f:
            json.dump({"gearman_ret": 0, "response_string":
                       base64.b64encode(bin_result).decode(),
                       "response_encoding": "base64"}, f)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid {d}/nginx.pid;
error_log {d}/error.log error;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_max_body_size 16m;
    client_body_buffer_size 256k;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        location = /ok {{
            default_type application/json;
            return 200 '{OK_BODY}';
        }}
        location = /bin.json {{
            root {d}/www;
            default_type application/json;
            error_page 405 =200 $uri;
        }}
    }}
}}
""")
        self.proc = subprocess.Popen([NGINX, "-p", d, "-c", conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "stderr"), "w"))
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 10, "nginx")
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: see {d}/stderr")

    def connections(self):
        """Established TCP connections to nginx: one a worker (driveshaft's
        and the limit's, 3 pools of each) when keep-alive works."""
        out = subprocess.run(["ss", "-Htn", "state", "established",
                              f"( sport = :{self.port} )"],
                             capture_output=True, text=True).stdout
        return len(out.splitlines())

    def uri(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        stop_proc(self.proc, signal.SIGQUIT)


class Master:
    def __init__(self, tmp, name, gm, pools, wrapper=(), binary=MASTER):
        self.tmp, self.gm, self.binary = tmp, gm, binary
        self.config = os.path.join(tmp, f"{name}.json")
        write_config(self.config, [gm.server], pools)
        self.status_port = free_port()
        self.log = open(os.path.join(tmp, f"{name}.log"), "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*wrapper, binary, "--jobsconfig", self.config,
             "--status_port", str(self.status_port)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        # In the bench's own session, as the limit programs are: with
        # sched_autogroup each session is one scheduling group, and workers
        # in a group of their own competed as a group against gearmand,
        # nginx and the load generator (2.4 x the limit's involuntary
        # context switches per job, and +9% CPU per job, from that alone).
        self.pid = self.proc.pid

    def reload(self, pools):
        write_config(self.config, [self.gm.server], pools)
        self.proc.send_signal(signal.SIGHUP)

    def query(self, cmd):
        with socket.create_connection(("127.0.0.1", self.status_port),
                                      timeout=30) as s:
            s.sendall(cmd.encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    return data.decode("utf-8", "replace")
                data += chunk

    def pids(self):
        return [self.pid, *children(self.pid)]

    def stop(self, timeout=120):
        kids = children(self.pid)
        stop_proc(self.proc, timeout=timeout)
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


class Limits:
    """n limit programs, exec'd directly with posix_spawn."""

    def __init__(self, gm, function, uri, n, form=False, extra=()):
        argv = [LIMIT, "--server", gm.server, "--function", function,
                "--uri", uri, *(["--form"] if form else []), *extra]
        self.t0 = time.monotonic()
        self.pids = [os.posix_spawn(LIMIT, argv, os.environ)
                     for _ in range(n)]

    def stop(self):
        for p in self.pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self.pids:
            os.waitpid(p, 0)
        self.pids = []


class FloorLoop:
    """The start-up floor: spawnloop.c starting n floor.c processes that
    register `function`, back to back from C."""

    def __init__(self, gm, function, n):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [SPAWNLOOP, str(n), FLOOR, "--server", gm.server, "--function",
             function], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            text=True)

    def pids(self):
        return [self.proc.pid, *children(self.proc.pid)]

    def stop(self):
        """Stops them all; returns the ms the loop took to spawn them."""
        stop_proc(self.proc)
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        m = re.search(r"spawned \d+ in (\d+) ms", out)
        return float(m.group(1)) if m else float("nan")


def children_by_pool(m, pool):
    rows = [ln.split("\t") for ln in m.query("threads").split("\r\n") if ln]
    return [int(r[0]) for r in rows if r[1] == pool and int(r[0])]
