/* report.c: the worker's side of the slot page and the socketpair
 * (report.h). Writing to memory costs a job a few stores, where a message
 * cost it a send and the master a wake-up. */
#include "worker/report.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/slot.h"
#include "worker/version.h"

static int master_fd = -1;
static struct ds_slot_shm *slot;
static struct ds_slot_tail *tail;	/* NULL: a page made without one */
static const char *const *fnames;
static size_t nfnames;
static uint32_t job_fn;		/* the function of the job in hand */

static int
map_slot(int fd, size_t n, char *err, size_t errlen)
{
	struct stat st;
	enum ds_slot_parts parts;
	size_t len;
	void *p;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size < ds_slot_base_size(n)) {
		snprintf(err, errlen, "--shm_fd %d: not a slot page for %zu "
		    "functions", fd, n);
		return -1;
	}
	/* a master of another release makes the page with a shorter tail
	 * or none: the worker writes only what the page has room for */
	parts = ds_slot_tail_parts((size_t)st.st_size, n);
	len = parts == DS_SLOT_WITH_VERSION ? ds_slot_size(n) :
	    (size_t)st.st_size;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "--shm_fd %d: %s", fd, strerror(errno));
		return -1;
	}
	slot = p;
	if (slot->magic != DS_SLOT_MAGIC || slot->version != DS_SLOT_VERSION ||
	    slot->nfunctions != n) {
		snprintf(err, errlen, "--shm_fd %d: not a slot page of this "
		    "version for %zu functions", fd, n);
		munmap(p, len);
		slot = NULL;
		return -1;
	}
	if (parts != DS_SLOT_NO_TAIL)
		tail = ds_slot_tail(slot, n);
	/* before the first state change: a master that sees the worker
	 * idle finds its version there */
	if (parts == DS_SLOT_WITH_VERSION)
		ds_slot_write_version(tail, ds_worker_version);
	return 0;
}

int
ds_report_init(int mfd, int shm_fd, const char *const *functions,
    size_t nfunctions, char *err, size_t errlen)
{
	int rc = 0;

	master_fd = mfd;
	fnames = functions;
	nfnames = nfunctions;
	if (shm_fd >= 0) {
		rc = map_slot(shm_fd, nfunctions, err, errlen);
		close(shm_fd);	/* the mapping stays */
	}
	return rc;
}

void
ds_report_state(enum ds_slot_state state)
{
	if (slot == NULL || slot->state == (uint32_t)state)
		return;
	ds_slot_begin(slot);
	__atomic_store_n(&slot->state, (uint32_t)state, __ATOMIC_RELAXED);
	ds_slot_end(slot);
}

static uint32_t
function_index(const char *function)
{
	for (size_t i = 0; function != NULL && i < nfnames; i++)
		if (strcmp(fnames[i], function) == 0)
			return (uint32_t)i;
	return (uint32_t)nfnames;	/* counted nowhere: not ours */
}

/* A copy cut to size (a handle or unique is short: no snprintf per job). */
static void
put_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void
ds_report_busy(const char *handle, const char *unique, const char *function)
{
	if (slot == NULL)
		return;
	job_fn = function_index(function);
	ds_slot_begin(slot);
	slot->state = DS_SLOT_BUSY;
	slot->function = job_fn;
	slot->jobs_started++;
	slot->busy_since_ms = ds_now_ms();
	put_str(slot->handle, sizeof(slot->handle), handle);
	put_str(slot->unique, sizeof(slot->unique), unique);
	ds_slot_end(slot);
}

void
ds_report_done(int outcome, int http_status, int64_t duration_ms)
{
	if (slot == NULL)
		return;
	ds_slot_count(slot, job_fn, outcome, http_status, duration_ms < 0 ? 0 :
	    duration_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)duration_ms);
	ds_report_state(DS_SLOT_IDLE);
}

void
ds_report_servers(uint64_t up_mask)
{
	if (tail == NULL)
		return;
	__atomic_store_n(&tail->gearman_up, up_mask, __ATOMIC_RELAXED);
}

int
ds_report_master_gone(void)
{
	struct pollfd pfd = {master_fd, POLLIN, 0};
	char c;

	if (master_fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	/* the master never writes to us: readable means closed */
	return recv(master_fd, &c, 1, MSG_DONTWAIT) == 0 ||
	    (pfd.revents & (POLLHUP | POLLERR)) != 0;
}
