/* report.h: what the worker tells its master. Its state, the job in hand
 * and its counters go to the slot page shared with the master (common/
 * slot.h), which the master reads when it needs to: no message, no
 * wake-up per job. The socketpair tells the worker when the master is
 * gone. */
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/slot.h"

/* Maps the slot page (shm_fd < 0: none; every report is then a no-op) and
 * closes shm_fd. functions are the worker's, in the master's order.
 * Returns 0, or -1 with err when the page is not a slot of n functions. */
int ds_report_init(int master_fd, int shm_fd, const char *const *functions,
    size_t nfunctions, char *err, size_t errlen);
void ds_report_state(enum ds_slot_state state);
void ds_report_busy(const char *handle, const char *unique,
    const char *function);
void ds_report_done(int outcome, int http_status, int64_t duration_ms);
/* Bit i set: the worker's --server i answers (gm_sched.c). */
void ds_report_servers(uint64_t up_mask);

/* True once the master's end is closed (the master is gone). */
int ds_report_master_gone(void);

#endif
