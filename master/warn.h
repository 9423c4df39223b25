/* warn.h: what the master warns about, at start and with --check, that is
 * not an error: running as root with no --user to drop to, and a jobs
 * config whose URIs carry credentials that every user may read. The
 * decisions are pure functions; main.c prints and logs them. */
#ifndef DS_WARN_H
#define DS_WARN_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

/* The warning for a master running with effective uid euid and --user
 * user (NULL: none given), or NULL when there is nothing to say. */
const char *ds_warn_root(uid_t euid, const char *user);

/* When the jobs config at path, of mode st_mode, lets every user read it
 * (S_IROTH) and a pool of cfg has user:password@ in its URI: writes the
 * warning (the file, its mode, those pools; never the credentials) to msg
 * and returns 1. Otherwise returns 0. */
int ds_warn_exposed_config(const char *path, mode_t st_mode,
    const struct ds_config *cfg, char *msg, size_t msglen);

#endif
