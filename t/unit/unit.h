/* unit.h: scaffolding shared by the Check unit tests in t/unit/, so each
 * test_*.c holds only its own cases:
 *
 *   DS_CHECK_MAIN(suite_fn)  the main() every test program ends with: run
 *                            suite_fn()'s suite, exit 1 if anything failed.
 *   ds_tcase(s, name, setup, teardown)
 *                            a test case added to s, with that fixture
 *                            (either may be NULL) around each test.
 *   struct ds_args           a writable, NULL-terminated argv for the
 *                            command-line option tests (getopt_long permutes
 *                            its argv, so string literals will not do).
 *   ds_show(s, len)          bytes made printable, to name a table's case
 *                            in a failure message.
 *   ds_show_argv(v)          a NULL-terminated argument list, likewise.
 *   struct ds_name_case      a row of a table of names: a value and the
 *                            name a function gives it, run by ds_check_name.
 *
 * A table of same-shape cases runs as tcase_add_loop_test(tc, fn, 0,
 * NELEM(table)): each row is one check (_i is its index), and a failing row
 * says which it is.
 *
 * Header-only: the functions are static inline so that a test using only
 * part of this still builds under -Wall -Wextra -Werror. */
#ifndef DS_T_UNIT_H
#define DS_T_UNIT_H

#include <check.h>

#include "common/nelem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs the suite (CK_NORMAL output) and returns main's exit status. */
static inline int
ds_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

static inline TCase *
ds_tcase(Suite *s, const char *name, SFun setup, SFun teardown)
{
	TCase *tc = tcase_create(name);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

#define DS_CHECK_MAIN(suite_fn)						\
int									\
main(void)								\
{									\
	return ds_check_run(suite_fn());				\
}

/* s[0 .. len-1] with '"', '\\' and bytes outside printable ASCII as C
 * escapes, cut after about 200 bytes. The result lives in one of four static
 * buffers, so up to four may be used in one message. */
static inline const char *
ds_show(const char *s, size_t len)
{
	static char bufs[4][256];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t i, o = 0;

	for (i = 0; i < len && o < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			b[o++] = '\\';
			b[o++] = (char)c;
		} else if (c == '\n') {
			b[o++] = '\\';
			b[o++] = 'n';
		} else if (c >= 0x20 && c < 0x7f) {
			b[o++] = (char)c;
		} else {
			o += (size_t)snprintf(b + o, 5, "\\x%02X", c);
		}
	}
	snprintf(b + o, 4, "%s", i < len ? "..." : "");
	return b;
}

/* The NULL-terminated list v, each word shown (as above) and quoted. */
static inline const char *
ds_show_argv(const char *const *v)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (; *v != NULL && o < sizeof(buf) - 260; v++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"%s\"",
		    o ? " " : "", ds_show(*v, strlen(*v)));
	return buf;
}

/* A value and the name the function name gives it; what says which name. */
struct ds_name_case {
	const char *what;
	const char *(*name)(int);
	int value;
	const char *want;
};

static inline void
ds_check_name(const struct ds_name_case *c)
{
	const char *got = c->name(c->value);

	ck_assert_msg(got != NULL && strcmp(got, c->want) == 0,
	    "case %s %d: \"%s\", expected \"%s\"", c->what, c->value,
	    got ? got : "(null)", c->want);
}

#define DS_ARGS_MAX 64

/* argv[0 .. argc-1] are malloc'd copies; argv[argc] is NULL. A zeroed
 * (static) struct is an empty one. */
struct ds_args {
	int argc;
	char *argv[DS_ARGS_MAX + 1];
};

/* getopt keeps a pointer into the argv it last parsed: after an unknown
 * short option ("-x") it points at the end of that string, and resetting
 * optind to 1 does not clear it; only optind = 0 does. Clear it before the
 * strings are freed, or the next parse reads freed memory. */
static inline void
ds_reset_getopt(void)
{
	char *none[] = {"reset", NULL};

	optind = 0;
	ck_assert_int_eq(getopt(1, none, ""), -1);
}

/* Frees the copies (after clearing getopt's pointer into them). */
static inline void
ds_args_free(struct ds_args *a)
{
	ds_reset_getopt();
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
	a->argv[0] = NULL;
}

/* Replaces a's contents with copies of prog followed by first and the rest
 * of ap, up to a NULL. The copies stay alive until the next call or
 * ds_args_free, so parsed options may point into them. */
static inline void
ds_args_vset(struct ds_args *a, const char *prog, const char *first,
    va_list ap)
{
	ds_args_free(a);
	a->argv[a->argc++] = strdup(prog);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		ck_assert_int_lt(a->argc, DS_ARGS_MAX);
		a->argv[a->argc++] = strdup(s);
	}
	a->argv[a->argc] = NULL;
}

/* Replaces a's contents with copies of prog followed by the NULL-terminated
 * list, as ds_args_vset does. */
static inline void
ds_args_set_list(struct ds_args *a, const char *prog, const char *const *list)
{
	ds_args_free(a);
	a->argv[a->argc++] = strdup(prog);
	for (; *list != NULL; list++) {
		ck_assert_int_lt(a->argc, DS_ARGS_MAX);
		a->argv[a->argc++] = strdup(*list);
	}
	a->argv[a->argc] = NULL;
}

#endif
