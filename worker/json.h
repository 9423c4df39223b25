/* json.h: a strict JSON (RFC 8259) checker that finds members of the
 * top-level object without building a tree, and a decoder of the strings it
 * checked. An endpoint's answer (worker/response.c) is read with them: a
 * tree of many small values costs about 40 bytes of memory per byte of text,
 * these allocate nothing. What is accepted: worker/json.c. */
#ifndef DS_JSON_H
#define DS_JSON_H

#include <stddef.h>

#define DS_JSON_MAX_DEPTH	1000	/* arrays and objects nested */

/* A member of the top-level object to look for. ds_json_scan() sets the
 * rest: the value as written (a string's quotes included) and how many
 * members have this name (the value is the first one's). */
struct ds_json_want {
	const char	*name;
	const char	*value;
	size_t		 valuelen;
	unsigned	 count;
};

enum ds_json_shape {
	DS_JSON_OBJECT,		/* an object: want[] is filled in */
	DS_JSON_OTHER,		/* valid, but an array, a string, ... */
	DS_JSON_INVALID		/* not one valid JSON text */
};

/* Checks that text is one JSON value with nothing but white space around
 * it and, when it is an object, fills in want[0..nwant) from its members
 * (keys compared once decoded). Linear time; reads each byte once, and the
 * keys that might match a wanted name twice. */
enum ds_json_shape ds_json_scan(const char *text, size_t len,
    struct ds_json_want *want, size_t nwant);

/* Decodes the inside of a string ds_json_scan() accepted (the bytes
 * between its quotes) into out, which may be in itself: a decoded string
 * is never longer than its text. \u0000 becomes a NUL byte. Returns the
 * decoded length; writes no terminating NUL. */
size_t ds_json_unescape(char *out, const char *in, size_t len);

#endif
