/* json_syntax.h: a strict JSON syntax check that says where and why text is
 * not JSON. It builds nothing; a parser such as cJSON runs after it, once the
 * text is known to be good, since cJSON only says where it gave up and
 * accepts things JSON does not (01, raw control characters, \u0000). */
#ifndef DS_JSON_SYNTAX_H
#define DS_JSON_SYNTAX_H

#include <stddef.h>

/* Deepest nesting of arrays and objects accepted. Below cJSON's own limit
 * (1000), so cJSON never fails on text that passed. */
#define DS_JSON_MAX_DEPTH	512

struct ds_json_syntax_error {
	size_t	line;		/* 1-based */
	size_t	col;		/* 1-based, in characters, as editors count */
	char	reason[128];	/* e.g. "expected a value, got '}'" */
};

/* Returns 0 when text (len bytes, need not be NUL-terminated, may start
 * with a UTF-8 BOM) is exactly one well-formed JSON value with optional
 * whitespace around it. Otherwise returns -1 and fills err with the place
 * of the first problem. Reasons are written for someone editing a file:
 * blank text is "the file is empty". */
int ds_json_syntax_check(const char *text, size_t len,
    struct ds_json_syntax_error *err);

#endif
