"""ledger.py: the soak's ledger: every job accounted for, each failure and
re-run explained from the chaos and the master's log, printed in words and
as key=value lines (t/soak/soak.py)."""
import collections
import json
import os
import time

from soaklib import FUNCTIONS, MAX_RUNNING_S


class Ledger:
    """The ledger half of Soak: it reads the Soak's state at the end."""

    def ledger(self):
        runs = self.endpoint_runs()
        outages = [(r["stop"], r["start"]) for r in self.restarts]
        # every figure is printed, zeros included
        L = collections.Counter({k: 0 for k in (
            "submitted", "completed", "wrong", "failed", "exception",
            "server_gone", "not_accepted", "server_gone_unexplained", "lost",
            "lost_no_line", "twice", "reruns")})
        fail_why = collections.Counter()
        gone_why = collections.Counter()
        rerun_why = collections.Counter()
        examples = collections.defaultdict(list)

        def note(kind, u):
            if len(examples[kind]) < 5:
                examples[kind].append(u)

        with self.load.lock:
            jobs = dict(self.load.jobs)
        for u, j in jobs.items():
            L["submitted"] += 1
            finals = [a for a in j["answers"] if a[0] in "CFXGL"]
            if any(a[0] == "D" for a in j["answers"]) or len(finals) > 1:
                L["twice"] += 1
                note("twice", u)
            if not finals:
                L["lost"] += 1
                L["lost_no_line"] += 1
                note("lost", u)
                continue
            kind, data, ms, t = finals[0]
            if kind == "C":
                want = f"{u}:{sum(int(x) for x in j['workload'].split())}"
                got = bytes.fromhex(data).decode("utf-8", "replace") if data != "-" else ""
                if got == want:
                    L["completed"] += 1
                else:
                    L["wrong"] += 1
                    note("wrong", f"{u} got {got!r} want {want!r}")
            elif kind == "F":
                L["failed"] += 1
                why = self.fail_reason(runs.get(u, []))
                fail_why[why] += 1
                if why == "unexplained":
                    note("failed_unexplained", u)
            elif kind == "X":
                L["exception"] += 1
                note("exception", u)
            elif kind == "L":
                L["lost"] += 1
                note("lost", u)
            elif kind == "G":
                created = data.startswith("1:")
                key = "server_gone" if created else "not_accepted"
                L[key] += 1
                in_outage = any(a - 1 <= t and (j["t"] <= b + 3) for a, b in outages)
                gone_why[f"{key}: {'gearmand restart' if in_outage else 'no restart near it'}"] += 1
                if not in_outage:
                    note("server_gone_unexplained", u)
                    L["server_gone_unexplained"] += 1
        # endpoint re-runs of foreground and background jobs
        killed_busy = {k[3] for k in self.kills if k[3]}
        for u, rs in runs.items():
            for prev, cur in zip(rs, rs[1:]):
                L["reruns"] += 1
                why = self.rerun_reason(u, prev, cur, killed_busy)
                rerun_why[why] += 1
                note(f"re-run ({why})", u)
        L["endpoint_runs"] = sum(len(v) for v in runs.values())
        L["bg_submitted"] = len(self.bg)
        missing = self.bg_missing()
        L["bg_missing"] = len(missing)
        L["bg_ran"] = L["bg_submitted"] - L["bg_missing"]
        for u in missing[:5]:
            note("bg_missing", u)
        L["failed_unexplained"] = fail_why["unexplained"]
        L["failed_badworkload"] = fail_why["endpoint could not read the workload"]
        L["rerun_unexplained"] = rerun_why["unexplained"]
        L["strays"] = len(self.strays)
        self.read_master_log()
        L["unexpected_exits"] = len(self.crashes)
        L["answer_lost_logged"] = self.log_events["job_answer_lost"]
        L["outages_logged_while_up"] = self.log_events["gearman_down_outside_outages"]
        self.L, self.fail_why, self.gone_why = L, fail_why, gone_why
        self.rerun_why, self.examples = rerun_why, examples
        for key, what in (("lost", "jobs lost"), ("twice", "jobs answered twice"),
                          ("wrong", "wrong answers"), ("bg_missing",
                          "background jobs that never ran after the restart"),
                          ("exception", "WORK_EXCEPTION answers"),
                          ("failed_unexplained", "jobs failed although the "
                           "endpoint answered them well and in time"),
                          ("failed_badworkload", "workloads that reached the "
                           "endpoint damaged")):
            if L[key]:
                self.problems.append(f"{L[key]} {what}: {examples[key]}")
        accounted = sum(L[k] for k in ("completed", "wrong", "failed", "exception",
                                       "server_gone", "not_accepted", "lost"))
        if accounted != L["submitted"]:
            self.problems.append(f"ledger does not add up: {accounted} accounted "
                                 f"for, {L['submitted']} submitted")

    def read_master_log(self):
        """What the master and its workers logged: events by name, job
        failures by outcome, and the worker exits the soak did not cause
        (a crash, a sanitizer report, an unexpected exit status)."""
        self.master_log.flush()
        with open(self.master_log.name, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        killed = {k[1] for k in self.kills} | {f[1] for f in self.freezes}
        events, outcomes, crashes, spurious = (collections.Counter(),
                                               collections.Counter(), [], [])
        for line in text.splitlines():
            if "Sanitizer" in line or "runtime error:" in line:
                crashes.append(line.strip()[:200])
            f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            ev = f.get("event")
            if ev is None:
                continue
            events[ev] += 1
            if ev == "job_failed":
                outcomes[f.get("outcome", "?")] += 1
            if ev == "gearman_down" and not self.in_outage(line):
                events["gearman_down_outside_outages"] += 1
                spurious.append(line.strip()[:200])
            if ev == "child_exit" and f.get("status", "0") != "0":
                crashes.append(line.strip()[:200])
            if ev == "child_exit" and "signal" in f and \
                    int(f.get("pid", 0)) not in killed:
                crashes.append(line.strip()[:200])
        self.log_events, self.log_outcomes, self.crashes = events, outcomes, crashes
        if crashes:
            self.problems.append(f"{len(crashes)} worker exits or reports the "
                                 f"soak did not cause, first: {crashes[0]}")
        if spurious:
            self.problems.append(f"{len(spurious)} gearmand outages logged while "
                                 f"gearmand was up, first: {spurious[0]}")

    def in_outage(self, line):
        """Was this log line written while gearmand was down or hung (a
        hung server is an outage to the workers that drop it), or soon
        enough after for a worker busy with a stalled job to notice?"""
        try:
            t = time.mktime(time.strptime(line.split()[0][:19], "%Y-%m-%dT%H:%M:%S"))
        except (ValueError, IndexError):
            return True
        slack = MAX_RUNNING_S + 3
        return any(a - 1 <= t <= b + slack for a, b in
                   [r["wall"] for r in self.restarts] + self.hangs)

    @staticmethod
    def fail_reason(rs):
        if not rs:
            return "unexplained"
        last = rs[-1]
        if last["kind"] == "500":
            return "endpoint answered HTTP 500"
        # the endpoint's own overhead under load may add a little
        if last["kind"] == "stall" and last["stall_ms"] >= MAX_RUNNING_S * 1000 - 500:
            return "timed out (endpoint stalled past max_running_time)"
        if last["kind"] == "badworkload":
            return "endpoint could not read the workload"
        return "unexplained"

    def rerun_reason(self, u, prev, cur, killed_busy):
        pools = FUNCTIONS.get(prev["fn"], set())
        if u in killed_busy:
            return "worker killed -9 with the job in hand"
        if u in {f[3] for f in self.freezes}:
            return "worker frozen mid-job, killed by the master"
        end = prev.get("t1", cur["t0"])
        for t, _, kpool, _ in self.kills:
            if kpool in pools and prev["t0"] - 0.2 <= t <= end + 0.5:
                return "a worker of the pool was killed -9 during the run"
        for r in self.restarts:
            if prev["t0"] - 0.2 <= r["stop"] <= cur["t0"]:
                return "gearmand restarted between the runs"
        return "unexplained"

    def dump(self):
        """Every endpoint run, the kills and the restarts, for a post-mortem
        beside soakclient.out and master.log (times: time.monotonic())."""
        with open(os.path.join(self.tmp, "endpoint-runs.jsonl"), "w") as f:
            for u, rs in sorted(self.endpoint_runs().items()):
                for r in rs:
                    f.write(json.dumps(r) + "\n")
        with open(os.path.join(self.tmp, "chaos.json"), "w") as f:
            json.dump({"kills": self.kills, "freezes": self.freezes,
                       "restarts": self.restarts}, f, indent=1)

    def print_ledger(self):
        L = self.L
        out = []

        def row(label, value, indent=0):
            out.append(f"{'  ' * indent}{label:<{52 - 2 * indent}} {value:>8}")
        out.append("")
        out.append(f"==== soak ledger: {self.seconds} s of chaos, seed {self.seed} ====")
        row("foreground jobs submitted", L["submitted"])
        row("completed, answer checked correct", L["completed"], 1)
        row("completed, answer WRONG (must be 0)", L["wrong"], 1)
        row("failed (WORK_FAIL)", L["failed"], 1)
        for why, n in sorted(self.fail_why.items()):
            row(why, n, 2)
        row("told its server went away", L["server_gone"], 1)
        row("not accepted: gearmand down at submission", L["not_accepted"], 1)
        for why, n in sorted(self.gone_why.items()):
            row(why, n, 2)
        row("WORK_EXCEPTION (must be 0)", L["exception"], 1)
        row("lost: no answer (must be 0)", L["lost"], 1)
        row("answered twice (must be 0)", L["twice"])
        row("endpoint runs", L["endpoint_runs"])
        row("endpoint re-runs (counted, not failures)", L["reruns"])
        for why, n in sorted(self.rerun_why.items()):
            row(why, n, 1)
        row("background jobs queued before a gearmand restart", L["bg_submitted"])
        row("ran after the restart", L["bg_ran"], 1)
        row("never ran (must be 0)", L["bg_missing"], 1)
        out.append("chaos: " + ", ".join(f"{k} {v}" for k, v in sorted(self.chaos.items())))
        for r in self.restarts:
            out.append(f"  gearmand {r['sig']}: soak_bg queued {r['queued_before']} "
                       f"before, {r['queued_after']} after the restart")
        out.append(f"status floods: up to {self.flood_most} connections held; "
                   f"{self.flood_queries} fresh `threads` queries, slowest "
                   f"{self.flood_worst_ms:.0f} ms, {self.flood_unanswered} unanswered")
        out.append("master `pools` at the end: " +
                   " | ".join(self.master_pools.strip().split("\r\n")))
        tot = [0, 0, 0, 0]
        for line in self.master_pools.split("\r\n"):
            f = line.split("\t")
            if len(f) >= 8:
                tot = [a + int(b) for a, b in zip(tot, f[5:9] + ["0"])]
        out.append(f"  (its counters: completed {tot[0]}, failed {tot[1]}, timed "
                   f"out {tot[2]}, answer lost {tot[3]}; a removed pool takes its "
                   f"counts with it, an answer handed to a gearmand that then died "
                   f"counts as completed)")
        row("process table consistent at the end", "yes" if self.table_ok else "NO")
        row("master descriptors, start -> end", f"{self.master_fds[0]} -> {self.master_fds[1]}")
        row("master VmRSS kB, start -> end", f"{self.master_rss[0]} -> {self.master_rss[1]}")
        row("master exit status on SIGTERM", str(self.master_rc))
        row("worker exits the soak did not cause (must be 0)", L["unexpected_exits"])
        row("gearmand outages logged while it was up (must be 0)",
            L["outages_logged_while_up"])
        out.append("master log: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(self.log_events.items())))
        out.append("job failures logged by outcome: " + ", ".join(
            f"{k} {v}" for k, v in sorted(self.log_outcomes.items())))
        row("processes of ours left behind (must be 0)", L["strays"])
        for kind, us in sorted(self.examples.items()):
            out.append(f"examples of {kind}: {' '.join(us)}")
        for p in self.problems:
            out.append(f"PROBLEM: {p}")
        out.append(f"RESULT: {'FAIL' if self.problems else 'PASS'}")
        kv = dict(L)
        kv.update({"seconds": self.seconds, "seed": self.seed,
                   "table_consistent": int(self.table_ok),
                   "master_exit": self.master_rc,
                   "flood_worst_query_ms": int(self.flood_worst_ms),
                   "flood_unanswered": self.flood_unanswered,
                   "flood_connections": self.flood_most,
                   "master_fds_start": self.master_fds[0],
                   "master_fds_end": self.master_fds[1],
                   "master_rss_kb_start": self.master_rss[0],
                   "master_rss_kb_end": self.master_rss[1],
                   "result": "FAIL" if self.problems else "PASS"})
        for k, v in sorted(self.chaos.items()):
            kv[f"chaos_{k}"] = v
        for prefix, c in (("failed_", self.fail_why), ("rerun_", self.rerun_why)):
            for why, n in c.items():
                kv[prefix + "".join(ch if ch.isalnum() else "_" for ch in why)[:40]] = n
        for k in sorted(kv):
            out.append(f"soak_{k}={kv[k]}")
        print("\n".join(out), flush=True)
