/* fds.h: descriptor hygiene at start: a process inherits only what it was
 * meant to, whatever its caller left open. */
#ifndef DS_FDS_H
#define DS_FDS_H

#include <stddef.h>

/* Closes every descriptor above 2 except keep (-1: none). */
void ds_close_inherited(int keep);

/* Sets (on) or clears close-on-exec on each of fds: an upgrade hands
 * exactly these across its exec, and the new image closes them to its
 * own children again. */
void ds_set_cloexec(const int *fds, size_t n, int on);

#endif
