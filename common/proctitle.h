/* proctitle.h: what `ps` shows for a process, so an operator can tell the
 * master and each pool's workers apart. */
#ifndef DS_PROCTITLE_H
#define DS_PROCTITLE_H

/* Returns a malloc'd copy of argv (NULL-terminated) to parse instead of the
 * original, whose memory ds_setproctitle() then reuses; NULL when out of
 * memory. */
char **ds_proctitle_init(int argc, char **argv);

void ds_setproctitle(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
