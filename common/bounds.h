/* bounds.h: the limits of the settings that both the config loader
 * (config/) and the worker's command line (common/worker_args.h) check,
 * in one place below both, so that neither includes the other for them. */
#ifndef DS_BOUNDS_H
#define DS_BOUNDS_H

/* One day: the longest time any setting may name. */
#define DS_MAX_SECONDS 86400
#define DS_MAX_RUNNING_SECONDS DS_MAX_SECONDS	/* max_running_time */
#define DS_MAX_QUEUE_SECONDS DS_MAX_SECONDS	/* stuck_after, scale_down_after */
#define DS_MAX_LOOP_TIMEOUT_SECONDS 3600
#define DS_MAX_FUNCTION_LEN 512		/* libgearman's limit */
#define DS_MAX_RESPONSE_BYTES_CAP 1073741824	/* 1 GiB */

/* A limit above as text, for messages: DS_XSTR(DS_MAX_SECONDS). */
#define DS_XSTR(x) DS_STR_(x)
#define DS_STR_(x) #x

#endif
