"""The multi-host scenario, short (t/multihost/multihost.py): two gearmand
servers and two Driveshaft hosts in network namespaces, with a host lost,
a partition and a gearmand restart under foreground load; the ledger must
hold. `make multihost` runs it longer. Needs root and ip netns."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MH = os.path.join(os.path.dirname(HERE), "multihost")
sys.path.insert(0, MH)
import netns  # noqa: E402


class MultiHostTest(unittest.TestCase):

    def test_two_hosts_two_servers_with_chaos(self):
        why = netns.available()
        if why:
            self.skipTest(why)
        p = subprocess.run([sys.executable, os.path.join(MH, "multihost.py"),
                            "--seconds", os.environ.get("DS_MULTIHOST_SECONDS", "35")],
                           capture_output=True, text=True, timeout=300)
        print("\n" + p.stdout)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("multihost: ok", p.stdout)
        left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                              text=True).stdout
        self.assertNotIn("dsmh", left)
