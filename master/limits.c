/* limits.c: descriptor budget and retry backoff (limits.h). */
#include "master/limits.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "master/status.h"

_Static_assert(DS_FD_RESERVE >= DS_STATUS_MAX_CLIENTS + 16,
    "the reserve must cover every status client");
#include <sys/resource.h>

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

uint64_t
ds_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

/* Descriptors cfg needs, and its workers in *workers. */
static uint64_t
fds_needed(const struct ds_config *cfg, uint64_t *workers)
{
	uint64_t spares = 0;

	*workers = 0;
	for (size_t i = 0; i < cfg->npools; i++) {
		/* a queue-sized pool may grow to its max_workers */
		uint64_t n = (uint64_t)(cfg->pools[i].max_workers >
		    cfg->pools[i].worker_count ? cfg->pools[i].max_workers :
		    cfg->pools[i].worker_count);

		*workers += n;
		spares += n > 0;	/* the roll's replacement (roll.c) */
	}
	return DS_FDS_PER_WORKER * (*workers + spares) + DS_FD_RESERVE;
}

int
ds_config_fits(const struct ds_config *cfg, uint64_t nofile, char *err,
    size_t errlen)
{
	uint64_t workers, need = fds_needed(cfg, &workers);

	if (need <= nofile)
		return 0;
	snprintf(err, errlen, "%llu workers need %llu descriptors (%d each, "
	    "one more worker a pool while an upgrade rolls them, and %d for "
	    "the master), but RLIMIT_NOFILE is %llu: lower worker_count or "
	    "raise the limit (ulimit -n, LimitNOFILE=)",
	    (unsigned long long)workers, (unsigned long long)need,
	    DS_FDS_PER_WORKER, DS_FD_RESERVE, (unsigned long long)nofile);
	return -1;
}

void
ds_fd_table_reserve(const struct ds_config *cfg, uint64_t nofile)
{
	uint64_t workers, need = fds_needed(cfg, &workers);
	int fd;

	if (need > nofile)
		need = nofile;
	if (need > INT_MAX || need < 2)
		return;
	/* any open descriptor will do to dup; the copy at need - 1 makes the
	 * table that large, and it stays so once the copy is closed */
	for (int from = 0; from < 3; from++)
		if ((fd = fcntl(from, F_DUPFD_CLOEXEC, (int)need - 1)) >= 0) {
			close(fd);
			return;
		}
}

int64_t
ds_backoff_ms(int step)
{
	int64_t ms = BACKOFF_FIRST_MS;

	if (step <= 0)
		return 0;
	for (int i = 1; i < step && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}
