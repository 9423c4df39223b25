/* parse.c: strict number parsing and clocks (parse.h). */
#include "common/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ds_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9') {
		if (*s != '-' || s[1] < '0' || s[1] > '9')
			return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int64_t
ds_parse_seconds_ms(const char *s, double max_s)
{
	char *end;
	double v;

	/* decimal only: strtod would also take "0x10" and "1e3" */
	if (*s == '\0' || s[strspn(s, "0123456789.")] != '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v <= 0 || v > max_s)
		return -1;
	/* v > 0: adding a half and truncating rounds, without libm, which
	 * every worker would then look symbols up in before libc */
	v = v * 1000.0 + 0.5;
	return v < 1 ? 1 : (int64_t)v;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ds_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
ds_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
