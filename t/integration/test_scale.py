"""What a job costs the master, and a master with many workers (issue 9):
workers keep their state in shared slot pages, so the master wakes for a
status query, a deadline or a signal, not for each job; threads still
shows each job in hand."""
import os

from harness import MasterTestCase, status, submit, threads, wait_for
from test_master import Background


def switches(pid):
    with open(f"/proc/{pid}/status") as f:
        return sum(int(ln.split()[1]) for ln in f if "ctxt_switches" in ln)


class ScaleTest(MasterTestCase):

    def test_master_sleeps_through_jobs_and_still_shows_them(self):
        ep = self.endpoint()
        pools = {"P": {"worker_count": 4, "jobs_list": ["Mux"],
                       "uri": f"http://127.0.0.1:{ep.port}/mux"}}
        m = self.start_master(pools)
        before = switches(m.pid)
        n = 1000
        jobs = [("Mux", f"{i} 1") for i in range(n)]
        self.assertEqual(submit(self.gearmand.server, jobs),
                         [("OK", str(i + 1).encode()) for i in range(n)])
        per_job = (switches(m.pid) - before) / n
        print(f"\n  master context switches per job: {per_job:.3f}", end=" ")
        self.assertLessEqual(per_job, 0.1)
        # the counters are all there when asked for
        row = status(self.status_port, "pools").split("\t")
        self.assertEqual(row[5], str(n))
        self.assertIn(f'driveshaft_jobs_completed_total{{pool="P",function="Mux"}} {n}',
                      status(self.status_port, "metrics"))
        # and a job in hand shows, with no message sent for it
        bg = Background(self, [("Mux", "!slow:1500")])
        rows = wait_for(lambda: [r for r in threads(self.status_port)
                                 if r[3].startswith("job_handle=H:")], 5,
                        "the slow job in threads")
        self.assertEqual(len(rows), 1)
        self.assertEqual(bg.results(), (0, [["OK", b"slept".hex()]]))
        wait_for(lambda: all(r[3] == "Waiting for work" for r in threads(self.status_port)),
                 5, "all idle again")
