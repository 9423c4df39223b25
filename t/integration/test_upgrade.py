"""Upgrade in place (issue 19) with a real gearmand, real endpoints and
real processes: the master is started from a directory of its own, the
test replaces the binaries there by rename with a second build that
differs only in its version, and sends USR2.

- 20 upgrades in a row, alternating the builds, under steady foreground
  and background load (jobs answered between each two), then a 21st once
  the workers have rolled: no job lost, answered twice or failed; the same
  master pid; a poller of `pools` every 50 ms never refused nor failed and
  never saw a counter go back; worker pids kept across each exec (a worker
  gone has left cleanly, retired by the roll); every worker rolls to the
  last version, and after the 21st none of the old ones is left; the
  master's descriptors are as many as before.
- Refused upgrades (binary missing, not executable, a check that exits 1,
  a check that claims a state version nobody writes) change nothing.
- USR2 right after HUP, during a stop, and during an upgrade.
- A state the new image cannot read (the writer's test hook)."""
import os
import re
import signal
import tempfile
import unittest

from harness import (SANITIZED, Background, MasterTestCase, alive, free_port,
                     port_open, scaled, status, submit, threads, wait_for,
                     write_config)
from upgrade_kit import UPGRADE_RE, Builds, Load, Poller, own_fds, settled_fds

_kit = None
_kit_dir = None


def setUpModule():
    global _kit, _kit_dir
    _kit_dir = tempfile.TemporaryDirectory(prefix="ds-upgrade-builds-")
    _kit = Builds(_kit_dir.name)


def tearDownModule():
    if _kit_dir is not None:
        _kit_dir.cleanup()


def sum_jobs(fn, n, base=0):
    jobs = [(fn, f"{i + base} 1") for i in range(n)]
    return jobs, [("OK", str(i + base + 1).encode()) for i in range(n)]


def procs_running(arg):
    """Pids of processes whose command line has arg."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if arg.encode() in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


class UpgradeCase(MasterTestCase):
    """A master started from self.bin, which the test's upgrades rewrite."""

    def start(self, pools, *extra, loop_timeout="1", env=None):
        self.kit = _kit
        self.bin = os.path.join(self.tmp, "bin")
        self.kit.install(self.kit.a, self.bin)
        self.config = os.path.join(self.tmp, "jobs.json")
        self.pools = pools
        write_config(self.config, [self.gearmand.server], pools)
        self.status_port = free_port()
        argv = [os.path.join(self.bin, "driveshaft"), "--jobsconfig", self.config,
                "--loop_timeout", loop_timeout, "--status_port",
                str(self.status_port), *extra]
        self.master = self.spawn(argv, "master.log", start_new_session=True, env=env)
        self.master.own_group = False
        wait_for(lambda: port_open(self.status_port) or self.master.poll() is not None,
                 scaled(10), "status port")
        want = sum(p["worker_count"] for p in pools.values())
        wait_for(lambda: self.ready_workers() == want, scaled(15),
                 f"{want} workers waiting for work")
        self.total = want
        return self.master

    def sum_pool(self, ep, count=2):
        return {"S": {"worker_count": count, "jobs_list": ["UpSum"],
                      "uri": f"http://127.0.0.1:{ep.port}/mux"}}

    def upgrades(self):
        return UPGRADE_RE.findall(self.master_log())

    def events(self, name):
        """The lines of event=name (exactly that event)."""
        return [ln for ln in self.master_log().splitlines()
                if re.search(rf"\bevent={name}(\s|$)", ln)]

    def usr2(self):
        os.kill(self.master.pid, signal.SIGUSR2)

    def upgrade_to(self, version, deadline=10):
        """Installs version, sends USR2, returns its event=upgrade fields."""
        n = len(self.upgrades())
        self.kit.install(version, self.bin)
        self.usr2()
        try:
            wait_for(lambda: len(self.upgrades()) > n or self.master.poll() is not None,
                     scaled(deadline), f"event=upgrade to={version}")
        except AssertionError as e:  # what the master said meanwhile
            raise AssertionError(f"{e}; the log's last upgrade and roll lines: "
                                 f"{self.events('upgrade[a-z_]*|roll[a-z_]*')[-6:]}")
        self.assertIsNone(self.master.poll(), "the master exited on USR2")
        return self.upgrades()[n]

    def worker_pids(self):
        return {r[0] for r in threads(self.status_port) if r[0]}

    def version_reply(self):
        return status(self.status_port, "version").split("\r\n")

    def workers_by_version(self):
        out = {}
        for ln in self.version_reply():
            f = ln.split()
            if len(f) == 3 and f[0] == "workers":
                out[f[1]] = int(f[2])
        return out

    def rolled_to(self, version):
        """Every worker runs version, and only `total` of them are left."""
        return self.workers_by_version() == {version: self.total} and \
            len(self.worker_pids()) == self.total

    def left_cleanly(self, pids):
        """Pids without an event=child_exit ... status=0 line: a worker
        that vanished across an exec without the roll retiring it."""
        log = self.master_log()
        return sorted(p for p in pids if not re.search(
            rf"event=child_exit \S+ \S+ pid={p} status=0 ", log))

    def stop_clean(self):
        """TERM: the upgraded image stops with status 0, and nothing of
        ours (the master, its workers) reported a memory error or, under
        ASan, a leak at exit."""
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(scaled(30)), 0)
        self.assertNotRegex(self.master_log(), r"Sanitizer|runtime error:")

    def jobs_ok(self, n=10, base=0):
        jobs, want = sum_jobs("UpSum", n, base)
        self.assertEqual(submit(self.gearmand.server, jobs), want)


def close_on_exec(pid, fd):
    """Whether pid's fd has O_CLOEXEC (/proc/PID/fdinfo flags, octal);
    True for one gone meanwhile."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            flags = next(ln for ln in f if ln.startswith("flags:"))
    except (OSError, StopIteration):
        return True
    return bool(int(flags.split()[1], 8) & 0o2000000)


class UpgradeLedgerTest(UpgradeCase):

    def test_twenty_upgrades_under_load_lose_nothing(self):
        ep = self.endpoint()
        ep.soak_delay_ms = (8, 16)  # paces the closed loop: ~500 jobs/s
        soak = f"http://127.0.0.1:{ep.port}/soak"
        self.start({"Fg": {"worker_count": 8, "jobs_list": ["up_fg"], "uri": soak},
                    "Bg": {"worker_count": 2, "jobs_list": ["up_bg"], "uri": soak}})
        pid = self.master.pid
        fds_before = settled_fds(pid, self.status_port)
        poller = Poller(self.status_port, 0.05)
        poller.start()
        self.addCleanup(poller.stop)
        threads_, bg_rate = (1, 15) if SANITIZED else (2, 50)
        load = Load(self, "up_fg", "up_bg", threads_, 4, bg_rate)
        wait_for(lambda: load.counts()[0] >= 100, scaled(15), "100 jobs under way")
        cur, gone, exec_ms = self.kit.a, set(), []
        for _ in range(20):
            nxt = self.kit.other(cur)
            before = self.worker_pids()
            frm, to, _, ms = self.upgrade_to(nxt)
            gone |= before - self.worker_pids()
            self.assertEqual((frm, to), (cur, nxt))
            self.assertEqual(self.version_reply()[0], f"driveshaft {nxt}")
            exec_ms.append(int(ms))
            cur = nxt
            # the next one once jobs have flowed: load between the execs
            n = load.answered()
            wait_for(lambda: load.answered() >= n + 40, scaled(10),
                     f"jobs answered after upgrade {len(exec_ms)}")
        self.assertEqual(self.master.pid, pid)
        wait_for(lambda: self.rolled_to(cur), scaled(30), f"every worker on {cur}")
        # one more, waited for: every worker is then replaced by the roll
        old = self.worker_pids()
        nxt = self.kit.other(cur)
        self.upgrade_to(nxt)
        wait_for(lambda: self.rolled_to(nxt), scaled(30), f"every worker on {nxt}")
        self.assertFalse(old & self.worker_pids(), "the roll replaced every worker")
        secs = load.stop(scaled(60))
        wait_for(lambda: load.bg_done(ep), scaled(20), "every background job ran")
        poller.pause()
        L, examples = load.ledger(ep)
        rate = (L["submitted"] + L["bg_submitted"]) / secs
        print(f"\n  ledger of {len(exec_ms) + 1} upgrades ({secs:.1f} s, "
              f"{rate:.0f} jobs/s): "
              + " ".join(f"{k}={v}" for k, v in sorted(L.items()))
              + f"\n  exec+adoption ms (event=upgrade ms=): max {max(exec_ms)} "
              f"median {sorted(exec_ms)[10]}\n  poller: {poller.queries} queries, "
              f"{poller.refused} refused, {poller.errors} errors, max "
              f"{poller.max_ms:.0f} ms {poller.first_errors}\n  workers the roll "
              f"replaced: {len(self.events('roll_replace'))}", flush=True)
        self.assertEqual((L["lost"], L["twice"], L["failed"], L["timed_out"]),
                         (0, 0, 0, 0), examples)
        self.assertEqual((L["bg_lost"], L["bg_twice"], L["bg_refused"]), (0, 0, 0),
                         examples)
        self.assertEqual(L["answered"], L["submitted"])
        self.assertGreater(L["submitted"], 100)
        self.assertEqual((poller.refused, poller.errors, poller.counter_drops),
                         (0, 0, 0), poller.first_errors)
        self.assertGreater(len(self.events("roll_replace")), 0, "the roll ran")
        self.assertEqual(self.left_cleanly(gone | old), [],
                         "workers that vanished across an exec")
        self.assertEqual(self.master.pid, pid)
        self.assertIsNone(self.master.poll())

        def fds():
            return own_fds(pid, self.status_port)
        wait_for(lambda: len(fds()) == len(fds_before), scaled(5),
                 f"the master's {len(fds_before)} descriptors, now "
                 f"{sorted(fds().values())}, were "
                 f"{sorted(fds_before.values())}")
        # what the last exec handed over is close-on-exec again: no child
        # of the new image inherits another worker's socket or page
        inherit = [fd for fd in own_fds(pid, self.status_port) if fd > 2 and
                   not close_on_exec(pid, fd)]
        self.assertEqual(inherit, [], "descriptors a child would inherit")
        self.stop_clean()


class UpgradeRefusedTest(UpgradeCase):

    def test_refused_upgrades_change_nothing(self):
        ep = self.endpoint()
        self.start(self.sum_pool(ep))
        pid, pids = self.master.pid, self.worker_pids()
        b = self.kit.dirs[self.kit.b]
        cases = [
            ("binary missing", lambda: os.unlink(os.path.join(self.bin, "driveshaft")),
             ("check_exec", "check_exit")),
            ("not executable", lambda: self.kit.put(
                self.bin, "driveshaft", src=os.path.join(b, "driveshaft"), mode=0o644),
             ("check_exec", "check_exit")),
            ("check exits 1", lambda: self.kit.put(
                self.bin, "driveshaft", "#!/bin/sh\necho 'config invalid' >&2\nexit 1\n"),
             ("check_exit",)),
            ("unknown state version", lambda: self.kit.put(
                self.bin, "driveshaft",
                "#!/bin/sh\necho 'upgrade-check ok version=9 reads_state=9-9'\n"),
             ("state_version",)),
        ]
        for k, (what, make, reasons) in enumerate(cases, 1):
            self.jobs_ok(5, 100 * k)
            bg = Background(self, [("UpSum", "!slow:300")])
            make()
            self.usr2()
            wait_for(lambda: len(self.events("upgrade_failed")) >= k,
                     scaled(15), f"event=upgrade_failed ({what})")
            line = self.events("upgrade_failed")[-1]
            reason = re.search(r"reason=(\S+)", line)
            self.assertIn(reason and reason.group(1), reasons, line)
            self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))
            self.jobs_ok(5, 100 * k + 50)
            self.assertEqual(self.version_reply()[0], f"driveshaft {self.kit.a}")
            self.assertIn(f"upgrades 0 failed {k}", self.version_reply())
            self.assertEqual(self.worker_pids(), pids)
            self.assertEqual(self.master.pid, pid)
            self.assertIsNone(self.master.poll())
        self.assertEqual(len(self.events("upgrade_failed")), len(cases))
        self.assertEqual(self.upgrades(), [])


class UpgradeSignalsTest(UpgradeCase):

    def test_usr2_right_after_hup_reloads_then_upgrades(self):
        ep = self.endpoint()
        self.start(self.sum_pool(ep, 2))
        self.pools["S"]["worker_count"] = 3
        write_config(self.config, [self.gearmand.server], self.pools)
        self.kit.install(self.kit.b, self.bin)
        os.kill(self.master.pid, signal.SIGHUP)
        self.usr2()
        wait_for(lambda: self.upgrades(), scaled(15), "event=upgrade")
        self.total = 3
        wait_for(lambda: self.rolled_to(self.kit.b), scaled(30), "3 workers on B")
        log = self.master_log()
        self.assertLess(log.index("event=reload "), log.index("event=upgrade from="))
        self.assertEqual(len(self.upgrades()), 1)
        self.assertEqual(self.events("upgrade_failed") + self.events("upgrade_busy"), [])
        self.assertEqual(self.version_reply()[0], f"driveshaft {self.kit.b}")
        self.jobs_ok(10)
        self.stop_clean()

    def test_usr2_while_stopping_is_refused(self):
        ep = self.endpoint()
        self.start(self.sum_pool(ep), loop_timeout="2")
        self.kit.install(self.kit.b, self.bin)
        bg = Background(self, [("UpSum", "!slow:1000")])
        wait_for(lambda: any(r[3].startswith("job_handle") for r in
                             threads(self.status_port)), scaled(10), "a job in hand")
        self.master.send_signal(signal.SIGTERM)
        wait_for(lambda: self.events("stopping"), scaled(5), "event=stopping")
        self.usr2()
        wait_for(lambda: self.events("upgrade_failed"), scaled(5),
                 "event=upgrade_failed")
        self.assertIn("reason=stopping", self.events("upgrade_failed")[0])
        self.assertEqual(self.master.wait(scaled(15)), 0)
        self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))
        self.assertEqual(len(self.events("upgrade_failed")), 1)
        self.assertEqual(self.upgrades(), [])

    def test_second_usr2_during_an_upgrade_is_busy(self):
        ep = self.endpoint()
        self.start(self.sum_pool(ep))
        self.kit.install(self.kit.b, self.bin)
        real = os.path.join(self.kit.dirs[self.kit.b], "driveshaft")
        # a check that takes a second, then the real binary of B
        self.kit.put(self.bin, "driveshaft",
                     '#!/bin/sh\ncase " $* " in *" --upgrade-check "*) sleep 1 ;; esac\n'
                     f'exec {real} "$@"\n')
        self.usr2()
        wait_for(lambda: procs_running("--upgrade-check"), scaled(5), "the check running")
        self.usr2()
        wait_for(lambda: self.upgrades(), scaled(15), "event=upgrade")
        self.assertEqual(len(self.events("upgrade_busy")), 1)
        self.assertEqual(len(self.upgrades()), 1)
        self.assertEqual(self.events("upgrade_failed"), [])
        self.assertEqual(self.version_reply()[0], f"driveshaft {self.kit.b}")
        self.jobs_ok(10)
        self.stop_clean()


HOOK = "DS_TEST_CORRUPT_STATE"  # the state writer spoils what it writes


class UpgradeUnreadableStateTest(UpgradeCase):

    def test_unreadable_state_stops_old_workers_gracefully(self):
        ep = self.endpoint()
        self.start(self.sum_pool(ep, 2), env=dict(os.environ, **{HOOK: "1"}))
        pid, old = self.master.pid, self.worker_pids()
        bg = Background(self, [("UpSum", "!slow:1000")])
        wait_for(lambda: any(r[3].startswith("job_handle") for r in
                             threads(self.status_port)), scaled(10), "a job in hand")
        self.kit.install(self.kit.b, self.bin)
        self.usr2()
        wait_for(lambda: self.events("upgrade_state_unreadable"), scaled(15),
                 "event=upgrade_state_unreadable")
        self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))
        wait_for(lambda: self.ready_workers() == 2 and not old & self.worker_pids(),
                 scaled(15), "two new workers")
        wait_for(lambda: not any(alive(p) for p in old), scaled(10), "old workers gone")
        self.assertNotIn("signal=", " ".join(ln for ln in self.events("child_exit")
                                             if any(f"pid={p} " in ln for p in old)))
        self.assertEqual(self.master.pid, pid)
        self.assertEqual(self.version_reply()[0], f"driveshaft {self.kit.b}")
        self.jobs_ok(10)
        self.stop_clean()


if __name__ == "__main__":
    unittest.main()
