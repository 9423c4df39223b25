"""A real php-fpm for the FastCGI tests: started by the test with its own
config in the test's temp dir, pm = static, one pool on a unix socket and
one on a TCP port, both serving contrib/endpoint/job.php (or any script
under the repository), run as root with -R when the tests run as root."""
import os
import signal
import subprocess

import harness
from harness import wait_for

PHP_FPM = next((p for p in ("/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm")
                if os.path.exists(p)), None)
if PHP_FPM is None:
    import glob
    PHP_FPM = next(iter(sorted(glob.glob("/usr/sbin/php-fpm*"))), "php-fpm")

JOB_PHP = os.path.join(harness.TOP, "contrib", "endpoint", "job.php")
COUNT_PHP = os.path.join(harness.TOP, "t", "integration", "fpm_count.php")

POOL = """
[{name}]
listen = {listen}
listen.backlog = 511
pm = static
pm.max_children = {children}
pm.max_requests = {max_requests}
catch_workers_output = yes
decorate_workers_output = no
clear_env = yes
"""


class Fpm:
    """php-fpm with a pool "unix" on tmp/fpm.sock and a pool "tcp" on a free
    loopback port, children each, recycled after max_requests (0: never)."""

    def __init__(self, test, children=2, max_requests=0):
        self.test = test
        self.dir = os.path.join(test.tmp, "fpm")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "fpm.sock")
        self.port = harness.free_port()
        self.conf = os.path.join(self.dir, "php-fpm.conf")
        self.children = children
        self.max_requests = max_requests
        self.proc = None

    def write_conf(self):
        root = os.geteuid() == 0
        user = "user = root\ngroup = root\n" if root else ""
        with open(self.conf, "w") as f:
            f.write(f"[global]\npid = {self.dir}/fpm.pid\n"
                    f"error_log = {self.dir}/fpm-error.log\n"
                    "daemonize = no\nlog_level = notice\n")
            for name, listen in (("unix", self.sock),
                                 ("tcp", f"127.0.0.1:{self.port}")):
                f.write(POOL.format(name=name, listen=listen,
                                    children=self.children,
                                    max_requests=self.max_requests) + user)

    def start(self):
        self.write_conf()
        argv = [PHP_FPM, "-F", "-y", self.conf, "-d", "display_errors=0",
                "-d", "log_errors=1"]
        if os.geteuid() == 0:
            argv.append("-R")
        self.proc = self.test.spawn(argv, "php-fpm.log", start_new_session=True)
        self.proc.own_group = True
        wait_for(lambda: (os.path.exists(self.sock) and harness.port_open(self.port))
                 or self.proc.poll() is not None, 20, "php-fpm listening")
        if self.proc.poll() is not None:
            raise AssertionError(f"php-fpm exited: {self.test.log_of(self.proc)}")
        return self

    def kill(self):
        """SIGKILL to php-fpm's whole process group: master and children."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for p in (self.sock,):
            if os.path.exists(p):
                os.unlink(p)

    def uri_tcp(self, script=JOB_PHP, query=""):
        return f"fastcgi://127.0.0.1:{self.port}{script}{query}"

    def uri_unix(self, script=JOB_PHP, query=""):
        return f"fastcgi://{script}{query}"  # fastcgi:///abs/script.php

    def children_pids(self):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return sorted(int(x) for x in out.split())
