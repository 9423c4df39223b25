/* parse.h: strict number parsing for command lines, shared by the master
 * and the worker. */
#ifndef DS_PARSE_H
#define DS_PARSE_H

#include <stdint.h>

/* Parses a decimal integer in [min, max]. Returns 0, or -1. */
int ds_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses seconds ("5", "1.5") into milliseconds; -1 unless > 0 and <= max_s. */
int64_t ds_parse_seconds_ms(const char *s, double max_s);

/* Milliseconds of CLOCK_MONOTONIC and of the wall clock. */
int64_t ds_now_ms(void);
int64_t ds_wall_ms(void);

#endif
