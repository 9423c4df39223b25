/* unit.h: scaffolding shared by the Check unit tests in t/unit/, so each
 * test_*.c holds only its own cases:
 *
 *   DS_CHECK_MAIN(suite_fn)  the main() every test program ends with: run
 *                            suite_fn()'s suite, exit 1 if anything failed.
 *   struct ds_args           a writable, NULL-terminated argv for the
 *                            command-line option tests (getopt_long permutes
 *                            its argv, so string literals will not do).
 *
 * Header-only: the functions are static inline so that a test using only
 * part of this still builds under -Wall -Wextra -Werror. */
#ifndef DS_T_UNIT_H
#define DS_T_UNIT_H

#include <check.h>

#include <stdarg.h>
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

#define DS_CHECK_MAIN(suite_fn)						\
int									\
main(void)								\
{									\
	return ds_check_run(suite_fn());				\
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

#endif
