/* worker_env.h: what the master hands a worker outside its command line.
 * argv is readable by every local user (ps, /proc/PID/cmdline); the
 * environment only by the worker's own user and root, so a URI that may
 * carry user:password@ travels there. */
#ifndef DS_WORKER_ENV_H
#define DS_WORKER_ENV_H

#define DS_WORKER_URI_ENV "DRIVESHAFT_URI"

#endif
