/* upgrade_reply.c: reads the one line of `driveshaft --upgrade-check`
 * (upgrade_reply.h). The binary on disk may be anything the operator put
 * there, so its answer is parsed as strictly as any peer's. */
#include "master/upgrade_reply.h"

#include <stdio.h>
#include <string.h>

#include "common/parse.h"

#define PREFIX "upgrade-check ok version="

const char *
ds_upgrade_reply_check(const char *out, int want)
{
	const char *p = out, *sp, *nl;
	char lo_s[16], hi_s[16];
	int64_t lo, hi;
	size_t n, len = strlen(out);

	/* warnings about the config may come first; the answer is last */
	if (len >= 2)
		for (p = out + len - 2; p > out && p[-1] != '\n'; p--)
			;
	if (strncmp(p, PREFIX, sizeof(PREFIX) - 1) != 0)
		return "the check did not answer \"upgrade-check ok\"";
	p += sizeof(PREFIX) - 1;
	if ((sp = strchr(p, ' ')) == NULL || sp == p || sp - p > 31)
		return "the check gave no version";
	p = sp + 1;
	if (strncmp(p, "reads_state=", 12) != 0)
		return "the check gave no reads_state";
	p += 12;
	nl = strchr(p, '\n');
	if (nl == NULL || nl[1] != '\0')
		return "the check's answer is not one line";
	n = (size_t)(nl - p);
	if ((sp = memchr(p, '-', n)) == NULL || (size_t)(sp - p) >= sizeof(lo_s)
	    || n - (size_t)(sp - p) - 1 >= sizeof(hi_s))
		return "the check's reads_state is not LOW-HIGH";
	memcpy(lo_s, p, (size_t)(sp - p));
	lo_s[sp - p] = '\0';
	memcpy(hi_s, sp + 1, n - (size_t)(sp - p) - 1);
	hi_s[n - (size_t)(sp - p) - 1] = '\0';
	if (ds_parse_int64(lo_s, 1, 65535, &lo) < 0 ||
	    ds_parse_int64(hi_s, 1, 65535, &hi) < 0 || lo > hi)
		return "the check's reads_state is not LOW-HIGH";
	if (want < lo || want > hi)
		return "the new binary cannot read this master's state version";
	return NULL;
}
