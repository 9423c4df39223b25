"""ops_helpers.py: what the operators' kit tests share (test_ops_service.py,
test_ops_kit.py): a `make install DESTDIR=` tree of the binaries under test,
the service user the init script runs as, and contrib/endpoint/job.php
under php -S. Not a test module."""
import os
import subprocess

import harness


TEST_USER = "dsopstest"


def ensure_test_user(test, user=TEST_USER):
    """A system user for the service, as the package's would be; removed
    at the end when this test made it. A module whose masters run while
    test_ops_service kills every process of TEST_USER (its leftovers)
    takes a user of its own."""
    import pwd
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", user],
                       check=True)
        test.addCleanup(subprocess.run, ["userdel", user], check=False)
    return pwd.getpwnam(user).pw_uid


def install_tree(test, prefix="/usr", **env):
    """`make install PREFIX=prefix DESTDIR=tmp/root` of the binaries under
    test (env: more of install.sh's settings); returns the DESTDIR."""
    root = os.path.join(test.tmp, "root")
    env = dict(os.environ, PREFIX=prefix, DESTDIR=root, BUILD=harness.BUILD,
               VERSION="0.0-test", **env)
    subprocess.run(["sh", os.path.join(harness.TOP, "contrib", "install.sh")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return root


def owner(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def php_endpoint(test, workers=4, **env):
    """contrib/endpoint/job.php under `php -S` on a free port, in its own
    process group (PHP_CLI_SERVER_WORKERS forks) that cleanup kills; env:
    more of its environment."""
    port = harness.free_port()
    own = {k: v for k, v in os.environ.items() if k != "DRIVESHAFT_ENDPOINT_SECRET"}
    env = dict(own, PHP_CLI_SERVER_WORKERS=str(workers), **env)
    p = test.spawn(["php", "-S", f"127.0.0.1:{port}",
                    os.path.join(harness.TOP, "contrib", "endpoint", "job.php")],
                   "php.log", env=env, start_new_session=True)
    p.own_group = True
    harness.wait_for(lambda: harness.port_open(port) or p.poll() is not None, 10, "php -S")
    if p.poll() is not None:
        raise AssertionError(f"php -S exited: {test.log_of(p)}")
    return f"http://127.0.0.1:{port}/job.php"
