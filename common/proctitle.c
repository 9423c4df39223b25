/* proctitle.c: rewrites the argv area read by ps(1) and /proc/PID/cmdline
 * (as nginx and OpenSSH do on Linux) and sets the thread name. Only argv is
 * reused, never environ, so no other code loses data. */
#include "common/proctitle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static char *title_area;
static size_t title_size;

/* -fanalyzer loses the strings once stored in copy[] and calls them
 * leaked; the caller frees them with copy. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
char **
ds_proctitle_init(int argc, char **argv)
{
	char **copy = calloc((size_t)argc + 1, sizeof(char *));

	if (copy == NULL)
		return NULL;
	for (int i = 0; i < argc; i++)
		if ((copy[i] = strdup(argv[i])) == NULL) {
			while (i-- > 0)
				free(copy[i]);
			free(copy);
			return NULL;
		}
	/* argv strings are laid out back to back; use them while they are */
	title_area = argv[0];
	title_size = strlen(argv[0]) + 1;
	for (int i = 1; i < argc && argv[i] == title_area + title_size; i++)
		title_size += strlen(argv[i]) + 1;
	for (int i = 1; i < argc; i++)
		argv[i] = NULL;
	return copy;
}
#pragma GCC diagnostic pop

void
ds_setproctitle(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	prctl(PR_SET_NAME, buf, 0, 0, 0);
	if (title_area == NULL || title_size < 2)
		return;
	memset(title_area, '\0', title_size);
	snprintf(title_area, title_size, "%s", buf);
}
