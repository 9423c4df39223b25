"""Network namespaces for the multi-host scenario (multihost.py): each
"machine" is a namespace, each pair of machines that talk has its own veth
link with a /30 of 10.213.0.0/16, so one pair can be cut (link down)
without touching the others. Nothing is created in the root namespace:
links are made inside the namespaces, addresses exist only there, and
every name carries a tag of this run so that cleanup removes exactly what
this run made, also after a failure (call Net.cleanup() in a finally)."""
import os
import subprocess


def run(*argv, check=True):
    p = subprocess.run(argv, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.stderr.strip()}")
    return p


def available():
    """Why the scenario cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (ip netns)"
    if run("ip", "-V", check=False).returncode != 0:
        return "needs iproute2"
    probe = f"dsprobe{os.getpid()}"
    if run("ip", "netns", "add", probe, check=False).returncode != 0:
        return "cannot create network namespaces here"
    run("ip", "netns", "del", probe, check=False)
    return None


class Net:
    def __init__(self, tag=None):
        self.tag = tag or f"dsmh{os.getpid()}"
        self.ns = {}        # machine -> namespace name
        self.links = {}     # (a, b) -> (dev in a, dev in b, ip of a, ip of b)
        self.subnet = 0

    def machine(self, name):
        ns = f"{self.tag}-{name}"
        run("ip", "netns", "add", ns)
        self.ns[name] = ns
        run("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def link(self, a, b):
        """A point-to-point link a <-> b; returns (ip of a, ip of b)."""
        self.subnet += 1
        n = self.subnet
        da, db = f"v{n}{a[:5]}", f"v{n}{b[:5]}"
        ipa, ipb = f"10.213.{n}.1", f"10.213.{n}.2"
        run("ip", "-n", self.ns[a], "link", "add", da, "type", "veth",
            "peer", "name", db, "netns", self.ns[b])
        for m, dev, ip in ((a, da, ipa), (b, db, ipb)):
            run("ip", "-n", self.ns[m], "addr", "add", f"{ip}/30", "dev", dev)
            run("ip", "-n", self.ns[m], "link", "set", dev, "up")
        self.links[(a, b)] = (da, db, ipa, ipb)
        return ipa, ipb

    def set_link(self, a, b, up):
        da = self.links[(a, b)][0]
        run("ip", "-n", self.ns[a], "link", "set", da, "up" if up else "down")

    def argv(self, machine, *cmd):
        return ["ip", "netns", "exec", self.ns[machine], *cmd]

    def pids(self, machine):
        out = run("ip", "netns", "pids", self.ns[machine], check=False).stdout
        return [int(x) for x in out.split()]

    def cleanup(self):
        """Kills whatever still runs in our namespaces, then removes them
        (their links go with them)."""
        for name, ns in self.ns.items():
            for pid in self.pids(name):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        for ns in self.ns.values():
            run("ip", "netns", "del", ns, check=False)
        self.ns.clear()
