"""ops_helpers.py: what the operators' kit tests share (test_ops_service.py,
test_ops_kit.py): a `make install DESTDIR=` tree of the binaries under test,
and the service user the init script runs as. Not a test module."""
import os
import subprocess

import harness


TEST_USER = "dsopstest"


def ensure_test_user(test):
    """A system user for the service, as the package's would be; removed
    at the end when this test made it."""
    import pwd
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=True)
        test.addCleanup(subprocess.run, ["userdel", TEST_USER], check=False)
    return pwd.getpwnam(TEST_USER).pw_uid


def install_tree(test, prefix="/usr"):
    """`make install PREFIX=prefix DESTDIR=tmp/root` of the binaries under
    test; returns the DESTDIR."""
    root = os.path.join(test.tmp, "root")
    env = dict(os.environ, PREFIX=prefix, DESTDIR=root, BUILD=harness.BUILD,
               VERSION="0.0-test")
    subprocess.run(["sh", os.path.join(harness.TOP, "contrib", "install.sh")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return root


def owner(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None

