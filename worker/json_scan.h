/* json_scan.h: walks an endpoint's body the way cJSON's parser would, without
 * building a tree, and hands over each member of the top-level object as the
 * text it was written as. cJSON then parses only the few values that matter.
 * A tree of many small values costs about 40 bytes of memory per byte of
 * text (a 16 MiB array of zeros took 657 MB); this walk allocates nothing. */
#ifndef DS_JSON_SCAN_H
#define DS_JSON_SCAN_H

#include <stddef.h>

/* One member of the top-level object, as written in the body. */
struct ds_json_member {
	const char	*key;		/* the key, quotes included */
	size_t		 keylen;
	const char	*value;		/* the value: its first byte says its type */
	size_t		 valuelen;
};

/* Called for each member of the top-level object, in order, as soon as its
 * value has been read (the rest of the body is not checked yet). Returns 0
 * to go on; anything else stops the walk. */
typedef int (*ds_json_member_fn)(const struct ds_json_member *m, void *ctx);

enum ds_json_shape {
	DS_JSON_OBJECT,		/* an object: every member was handed over */
	DS_JSON_OTHER,		/* well formed, but an array, string, ... */
	DS_JSON_INVALID,	/* cJSON would not parse it, or bytes other than
				 * white space follow the value */
	DS_JSON_STOPPED		/* fn asked to stop */
};

/* Accepts exactly what cJSON_ParseWithLengthOpts() accepts as one value,
 * followed by nothing but space, tab, CR and LF. */
enum ds_json_shape ds_json_scan(const char *body, size_t len,
    ds_json_member_fn fn, void *ctx);

#endif
