/* report.h: the worker's side of the socketpair to the master. */
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <stdint.h>

#include "common/msg.h"

/* fd < 0 (run by hand): every call is a no-op. */
void ds_report_init(int fd);
void ds_report_state(int type);
void ds_report_busy(const char *handle, const char *unique,
    const char *function, int64_t start_ms);
void ds_report_done(int outcome, int http_status, int64_t duration_ms);

/* True once the master's end is closed (the master is gone). */
int ds_report_master_gone(void);

#endif
