/* fds.h: descriptor hygiene at start: a process inherits only what it was
 * meant to, whatever its caller left open. */
#ifndef DS_FDS_H
#define DS_FDS_H

/* Closes every descriptor above 2 except keep (-1: none). */
void ds_close_inherited(int keep);

#endif
