/* warn.c: warnings that do not stop a start (warn.h). */
#include "master/warn.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/text.h"

const char *
ds_warn_root(uid_t euid, const char *user)
{
	if (euid != 0 || user != NULL)
		return NULL;
	/* the workers parse bytes from gearmand and the endpoints: a bug
	 * there should cost an unprivileged user, not the machine */
	return "no --user: the master and every worker run as root, and the "
	    "workers parse what gearmand and the endpoints send; give --user "
	    "NAME (RUN_AS in /etc/default/driveshaft)";
}

/* Appends the names of cfg's pools whose URI carries credentials to msg
 * (", "-separated, cut with "..." when msg is full). Returns how many. */
static size_t
list_pools_with_credentials(const struct ds_config *cfg, char *msg,
    size_t msglen)
{
	size_t n = 0, used = strlen(msg);

	for (size_t i = 0; i < cfg->npools; i++) {
		const char *name = cfg->pools[i].name;
		int w;

		if (!ds_uri_has_userinfo(cfg->pools[i].uri))
			continue;
		w = snprintf(msg + used, msglen - used, "%s%s", n ? ", " : "",
		    name);
		n++;
		if (w < 0 || (size_t)w >= msglen - used) {
			if (msglen - used > 4)
				snprintf(msg + msglen - 4, 4, "...");
			return n;
		}
		used += (size_t)w;
	}
	return n;
}

int
ds_warn_exposed_config(const char *path, mode_t st_mode,
    const struct ds_config *cfg, char *msg, size_t msglen)
{
	char pools[512] = "";
	size_t n;
	int w;

	if (!(st_mode & S_IROTH))
		return 0;
	if ((n = list_pools_with_credentials(cfg, pools, sizeof(pools))) == 0)
		return 0;
	/* the pools last: a long list is what gets cut */
	w = snprintf(msg, msglen, "%s: mode %04o lets every user read the "
	    "credentials in it; make it 0640 with the group of the --user "
	    "(chmod o-r); URIs with credentials: pool%s %s", path,
	    (unsigned)(st_mode & 07777), n > 1 ? "s" : "", pools);
	if (w >= 0 && (size_t)w >= msglen && msglen > 4)
		snprintf(msg + msglen - 4, 4, "...");
	return 1;
}
