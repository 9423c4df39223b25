/* config_unit.h: what test_config.c (the file, its syntax and top level) and
 * test_config_pool.c (the pool keys) share: the config text macros, the
 * README's example, and parsing with the exact errors checked.
 *
 *   fails(text, errors)      the load fails with exactly these errors
 *                            (joined by newlines) and leaves no config
 *   loads(text)              the load succeeds without errors
 *   struct doc_case, DOC()   a table row: a whole document and its errors,
 *                            run by doc_fails(), named by its text */
#ifndef DS_T_CONFIG_UNIT_H
#define DS_T_CONFIG_UNIT_H

#include "config/config.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVERS	"\"gearman_servers_list\": [\"localhost\"]"
#define GOOD	"\"worker_count\": 1, \"jobs_list\": [\"j\"], " \
		"\"job_processing_uri\": \"http://h/job\""
/* A whole config with one pool P whose body is b. */
#define POOL(b)	"{" SERVERS ", \"pools_list\": {\"P\": {" b "}}}"

static const char readme[] =
"{\n"
"    \"gearman_servers_list\":\n"
"    [\n"
"        \"localhost\"\n"
"    ],\n"
"    \"pools_list\":\n"
"    {\n"
"        \"ShopStats\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"ShopStats\"\n"
"            ]\n"
"        },\n"
"        \"Newsfeed\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"Newsfeed\"\n"
"            ]\n"
"        },\n"
"        \"Regular\":\n"
"        {\n"
"            \"job_processing_uri\": \"http://localhost/job.php\",\n"
"            \"worker_count\": 0,\n"
"            \"jobs_list\":\n"
"            [\n"
"                \"Sum3\",\n"
"                \"Sum\",\n"
"                \"Sum2\"\n"
"            ]\n"
"        }\n"
"    }\n"
"}\n";

static struct ds_config cfg;
static struct ds_diag diag;
static char joined[8192];

static inline void
teardown(void)
{
	ds_config_free(&cfg);
	ds_diag_free(&diag);
}

static inline const char *
join(char **list, size_t n)
{
	size_t o = 0;

	joined[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s",
		    i ? "\n" : "", list[i]);
	return joined;
}

/* Parses len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end (the text need not be NUL-terminated). */
static inline int
parse_len(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	teardown();
	rc = ds_config_parse(copy, len, "jobs.json", &cfg, &diag);
	free(copy);
	return rc;
}

static inline int
parse(const char *text)
{
	return parse_len(text, strlen(text));
}

static inline int
cfg_is_empty(void)
{
	static const struct ds_config zero;

	return memcmp(&cfg, &zero, sizeof(cfg)) == 0;
}

static inline void
assert_empty_cfg(void)
{
	ck_assert(cfg_is_empty());
}

/* The case called name (len bytes of text) fails with exactly errors. */
static inline void
fails_as(const char *name, const char *text, size_t len, const char *errors)
{
	int rc = parse_len(text, len);
	const char *got = join(diag.errors, diag.nerrors);

	ck_assert_msg(rc == -1, "case %s: loaded, expected\n%s", name, errors);
	ck_assert_msg(strcmp(got, errors) == 0,
	    "case %s: errors\n%s\nexpected\n%s", name, got, errors);
	ck_assert_msg(cfg_is_empty(), "case %s: a failed load kept a config",
	    name);
}

static inline void
fails(const char *text, const char *errors)
{
	fails_as(ds_show(text, strlen(text)), text, strlen(text), errors);
}

static inline void
loads_as(const char *name, const char *text)
{
	int rc = parse(text);

	ck_assert_msg(rc == 0 && diag.nerrors == 0,
	    "case %s: unexpected errors: %s", name,
	    join(diag.errors, diag.nerrors));
}

static inline void
loads(const char *text)
{
	loads_as(ds_show(text, strlen(text)), text);
}

/* A whole document (len bytes, NULs allowed) and the errors it fails with. */
struct doc_case {
	const char *text;
	size_t len;
	const char *errors;
};

#define DOC(s)	(s), sizeof(s) - 1

static inline void
doc_fails(const struct doc_case *c)
{
	fails_as(ds_show(c->text, c->len), c->text, c->len, c->errors);
}

#endif
