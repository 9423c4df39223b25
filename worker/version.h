/* version.h: the worker's version, as its slot page says it (version.c). */
#ifndef DS_WORKER_VERSION_H
#define DS_WORKER_VERSION_H

extern const char ds_worker_version[];

#endif
