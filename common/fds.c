/* fds.c: closes what a caller left open (fds.h). A launcher's pipe kept by
 * a daemon makes the launcher wait for EOF forever, and a file inherited by
 * every worker is a file every endpoint bug can reach. */
#include "common/fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Without close_range (old kernels): walk /proc/self/fd. */
static void
close_by_listing(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self;

	if (d == NULL)
		return;
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != keep && fd != self)
			close(fd);
	}
	closedir(d);
}

void
ds_close_inherited(int keep)
{
	int rc;

	if (keep > 2) {
		rc = keep > 3 ? close_range(3, (unsigned)keep - 1, 0) : 0;
		if (rc == 0)
			rc = close_range((unsigned)keep + 1, ~0U, 0);
	} else {
		rc = close_range(3, ~0U, 0);
	}
	if (rc < 0)
		close_by_listing(keep);
}

void
ds_set_cloexec(const int *fds, size_t n, int on)
{
	for (size_t i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFD);

		if (fl >= 0)
			fcntl(fds[i], F_SETFD, on ? fl | FD_CLOEXEC :
			    fl & ~FD_CLOEXEC);
	}
}
