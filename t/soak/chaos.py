"""chaos.py: the soak's chaos loop and each of its actions: worker kills
and freezes, HUP storms, failing and stalling endpoints, status-port floods,
gearmand restarts with background jobs queued, and a hung gearmand
(t/soak/soak.py)."""
import os
import signal
import socket
import subprocess
import time

from procs import proc_stat
from soaklib import (KILL_GRACE_S, MAX_RUNNING_S, SOAKCLIENT, SoakError, log,
                     status_query, wait_for, well_formed)

HANG_S = 20  # how long the hung_server event keeps gearmand stopped


class Chaos:
    """The chaos half of Soak: it runs on the Soak's state."""

    def run(self):
        t_end = time.monotonic() + self.seconds
        next_restart = time.monotonic() + min(15, self.seconds / 4)
        # a hung server once in a short run, then every few minutes
        next_hang = time.monotonic() + self.seconds * 0.45
        events = [(self.kill_workers, 4), (self.hup_storm, 2),
                  (self.endpoint_fail, 0.6), (self.endpoint_stall, 1),
                  (self.status_flood, 1), (self.freeze_busy, 0.5)]
        last_report = time.monotonic()
        while time.monotonic() < t_end:
            self.check_alive()
            self.run_due()
            if time.monotonic() >= next_hang and \
                    time.monotonic() + HANG_S < t_end:
                self.hung_server()
                next_hang = time.monotonic() + self.rng.uniform(120, 240)
            elif time.monotonic() >= next_restart:
                self.gearmand_restart()
                next_restart = time.monotonic() + self.rng.uniform(20, 35)
            else:
                fn = self.rng.choices([e[0] for e in events],
                                      [e[1] for e in events])[0]
                fn()
            time.sleep(self.rng.uniform(0.2, 1.2))
            if time.monotonic() - last_report > 30:
                sub, ans = self.load.counts()
                log(f"{sub} submitted, {ans} answered, chaos {dict(self.chaos)}")
                last_report = time.monotonic()
        self.run_due(everything=True)

    def check_alive(self):
        if self.master.poll() is not None:
            raise SoakError(f"the master died (exit {self.master.returncode})")
        if self.load.proc.poll() is not None:
            raise SoakError(f"soakclient died (exit {self.load.proc.returncode})")

    def run_due(self, everything=False):
        """Runs the restores and checks that are due; with everything,
        waits for each of them to fall due."""
        while self.later:
            self.later.sort(key=lambda x: x[0])
            when, fn = self.later[0]
            if when > time.monotonic():
                if not everything:
                    return
                time.sleep(min(0.2, when - time.monotonic()))
                continue
            self.later.pop(0)
            fn()

    def kill_workers(self):
        rows = self.threads()
        if not rows:
            return
        busy = self.rng.random() < 0.6
        # a frozen worker is left to the master
        cand = [r for r in rows if r[0] and r[0] not in self.frozen and
                (r[3].startswith("job_handle=") if busy else r[3] == "Waiting for work")]
        for r in self.rng.sample(cand, min(len(cand), self.rng.randint(1, 2))):
            st = proc_stat(r[0])
            if st is None or st[1] != self.master.pid:
                continue  # gone already, or not our child any more
            unique = r[3].split("job_unique=", 1)[1] if busy else None
            try:
                os.kill(r[0], signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.kills.append((time.monotonic(), r[0], r[1], unique))
            self.chaos["kill_busy" if busy else "kill_idle"] += 1

    def freeze_busy(self):
        """SIGSTOP a worker in the middle of a job: the master must kill
        it once the job is past max_running_time and its grace
        (docs/endpoint.md),
        and gearmand hands the job out again."""
        rows = self.threads()
        cand = [r for r in rows or [] if r[0] and r[0] not in self.frozen and
                r[3].startswith("job_handle=")]
        if not cand:
            return
        r = self.rng.choice(cand)
        st = proc_stat(r[0])
        if st is None or st[1] != self.master.pid:
            return
        os.kill(r[0], signal.SIGSTOP)
        time.sleep(0.3)
        # the snapshot may be stale: only a worker still busy with the
        # same job once frozen counts
        if not any(x[0] == r[0] and x[3] == r[3] for x in self.threads() or []):
            os.kill(r[0], signal.SIGCONT)
            return
        t = time.monotonic()
        self.frozen.add(r[0])
        self.freezes.append((t, r[0], r[1], r[3].split("job_unique=", 1)[1]))
        self.chaos["freeze_busy"] += 1
        self.later.append((t + MAX_RUNNING_S + KILL_GRACE_S + 3,
                           lambda pid=r[0]: self.check_frozen(pid)))

    def check_frozen(self, pid):
        """The master, and nobody else, killed the frozen worker in time."""
        self.frozen.discard(pid)
        self.master_log.flush()
        needle = f" pid={pid} ".encode()
        with open(self.master_log.name, "rb") as f:
            killed = any(b"event=child_kill" in ln and needle in ln for ln in f)
        st = proc_stat(pid)
        if killed and (st is None or st[1] != self.master.pid or st[0] == "Z"):
            self.chaos["freeze_killed_by_master"] += 1
            return
        self.problems.append(f"worker {pid}, frozen in the middle of a job, was "
                             f"not killed by the master within "
                             f"{MAX_RUNNING_S + KILL_GRACE_S + 3} s")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def random_counts(self, allow_zero):
        """New counts; now and then a fourth pool, delta (form requests,
        sharing soak_c with gamma), is added, to be removed again later."""
        lo = 0 if allow_zero else 1
        counts = {"alpha": self.rng.randint(lo, 5), "beta": self.rng.randint(lo, 4),
                  "gamma": self.rng.randint(1, 4)}
        if self.rng.random() < 0.3:
            counts["delta"] = self.rng.randint(lo, 2)
            self.chaos["with_pool_delta"] += 1
        return counts

    def hup_storm(self):
        """A few HUPs in quick succession with new counts and URIs; a
        broken config now and then (the master must keep the old one). The
        last config leaves every pool with at least one worker."""
        n = self.rng.randint(2, 6)
        for i in range(n):
            last = i == n - 1
            if not last and self.rng.random() < 0.1:
                self.write_config(text='{"gearman_servers_list": ["x"], "pools_list": ')
                self.chaos["hup_bad_config"] += 1
            else:
                self.counts = self.random_counts(allow_zero=not last)
                for name in self.uris:
                    if self.rng.random() < 0.4:
                        self.hup_generation += 1
                        self.uris[name] = self.uri(self.rng.randint(0, 1),
                                                   f"?g={self.hup_generation}")
                        self.chaos["uri_change"] += 1
                self.write_config()
            self.hup()
            time.sleep(self.rng.uniform(0.02, 0.3))
            if self.rng.random() < 0.25:
                self.kill_workers()
        self.chaos["hup_storm"] += 1

    def endpoint_fail(self):
        for ep in self.pick_endpoints():
            ep.soak_mode = ("fail500",)
            self.later.append((time.monotonic() + self.rng.uniform(0.5, 2.5),
                               lambda ep=ep: setattr(ep, "soak_mode", ("ok",))))
        self.chaos["endpoint_fail"] += 1

    def endpoint_stall(self):
        for ep in self.pick_endpoints():
            ep.soak_mode = ("stall", 200, MAX_RUNNING_S * 1000 + 1500)
            self.later.append((time.monotonic() + self.rng.uniform(1.5, 4),
                               lambda ep=ep: setattr(ep, "soak_mode", ("ok",))))
        self.chaos["endpoint_stall"] += 1

    def pick_endpoints(self):
        free = [e for e in self.endpoints if e.soak_mode == ("ok",)]
        return self.rng.sample(free, self.rng.randint(min(1, len(free)), len(free)))

    def status_flood(self):
        """Hundreds of idle connections, garbage without a newline, binary
        lines and an oversized line, held open while fresh `threads`
        queries are timed."""
        socks = []

        def conn(payload=None):
            try:
                s = socket.create_connection(("127.0.0.1", self.status_port),
                                             timeout=0.5)
            except OSError:
                return
            socks.append(s)
            s.setblocking(False)
            try:
                if payload:
                    s.send(payload)
            except OSError:
                pass
        try:
            for _ in range(self.rng.randint(200, 400)):
                conn()
            for _ in range(50):
                conn(bytes(self.rng.getrandbits(8) for _ in range(40)).replace(b"\n", b"."))
            for _ in range(20):
                conn(bytes(self.rng.getrandbits(8) for _ in range(30)) + b"\r\n")
            conn(b"t" * 200000 + b"\n")
            conn(b"threads")  # never finishes its line
            self.flood_most = max(self.flood_most, len(socks))
            end = time.monotonic() + self.rng.uniform(1, 3)
            while time.monotonic() < end:
                cmd = self.rng.choice(["threads", "threads", "pools", "metrics",
                                       "version"])
                t0 = time.monotonic()
                reply = status_query(self.status_port, cmd, timeout=5)
                ms = (time.monotonic() - t0) * 1000
                self.flood_queries += 1
                if reply is None:
                    self.flood_unanswered += 1
                elif not well_formed(cmd, reply):
                    self.problems.append(f"status reply to {cmd} malformed "
                                         f"under a flood: {reply[:200]!r}")
                self.flood_worst_ms = max(self.flood_worst_ms, ms)
                time.sleep(0.2)
        finally:
            for s in socks:
                s.close()
        self.chaos["status_flood"] += 1

    def hung_server(self):
        """gearmand stops answering for HANG_S seconds (SIGSTOP: the
        kernel still accepts connections) and a worker is killed meanwhile,
        so its replacement meets the hung server; then SIGCONT. Every job
        in flight must still get its one answer."""
        p = self.gearmand.proc
        log(f"chaos: gearmand hung (SIGSTOP) for {HANG_S} s")
        wall = time.time()
        p.send_signal(signal.SIGSTOP)
        try:
            end = time.monotonic() + HANG_S
            time.sleep(HANG_S / 2)
            self.check_alive()
            self.kill_workers()
            time.sleep(max(0, end - time.monotonic()))
        finally:
            p.send_signal(signal.SIGCONT)
            self.hangs.append((wall, time.time()))
        self.chaos["hung_server"] += 1

    def gearmand_restart(self):
        """Background jobs go into gearmand's sqlite queue while no worker
        can take them, gearmand is stopped (TERM or KILL) and started again
        on the same port, then the function gets its workers back: every
        one of those jobs must run after the restart."""
        cycle = len(self.restarts)
        self.bg_held = True
        self.write_config()
        self.hup()
        try:
            wait_for(lambda: self.gearmand.workers_for("soak_bg") == 0,
                     MAX_RUNNING_S * 3 + 10, "no worker left for soak_bg")
        except SoakError:
            log("workers for soak_bg did not go away: restart without "
                "background jobs this time")
            self.problems.append("a pool replaced on HUP kept its old "
                                 "workers registered (soak_bg)")
            uniques = []
        else:
            uniques = [f"bg-{cycle}-{i}" for i in range(20)]
            lines = ""
            for u in uniques:
                w = f"{cycle} {len(self.bg)} {self.rng.randint(0, 9999)}"
                self.bg[u] = w
                lines += f"soak_bg\t{u}\t{w}\n"
            p = subprocess.run([SOAKCLIENT, "-B", "-s", self.gearmand.server],
                               input=lines.encode(), capture_output=True,
                               timeout=30)
            if p.returncode != 0:
                raise SoakError(f"background submission failed: {p.stdout[-500:]}")
        before = self.gearmand.queued("soak_bg")
        sig = self.rng.choice([signal.SIGTERM, signal.SIGKILL])
        t_stop, wall_stop = time.monotonic(), time.time()
        self.gearmand.stop(sig)
        outage_end = time.monotonic() + self.rng.uniform(0.5, 3)
        if self.rng.random() < 0.5:  # workers in their backoff meet a HUP
            self.hup_storm()
        time.sleep(max(0, outage_end - time.monotonic()))
        self.gearmand.start()
        t_start = time.monotonic()
        after = self.gearmand.queued("soak_bg")
        self.restarts.append({"stop": t_stop, "start": t_start,
                              "wall": (wall_stop, time.time()),
                              "sig": signal.Signals(sig).name, "bg": uniques,
                              "queued_before": before, "queued_after": after})
        self.chaos["gearmand_restart"] += 1
        self.bg_held = False
        self.write_config()
        self.hup()
