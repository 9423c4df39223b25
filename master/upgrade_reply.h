/* upgrade_reply.h: what `driveshaft --upgrade-check` answers
 * (upgrade_reply.c), a pure parser. */
#ifndef DS_UPGRADE_REPLY_H
#define DS_UPGRADE_REPLY_H

/* The check's output, whole, its last line
 * "upgrade-check ok version=V reads_state=LOW-HIGH" (lines before it are
 * warnings about the config). NULL when it says
 * the binary reads state version `want`; else what is wrong, with "state"
 * in it when only the version range refuses. */
const char *ds_upgrade_reply_check(const char *out, int want);

#endif
