/* test_qmon_options.c: the queue monitor's command line
 * (worker/qmon.h): what the master builds (ds_monitor_argv_build) the
 * monitor parses back to the same servers, functions and bounds, and a
 * bad --max_workers is refused naming the option. */
#include "worker/qmon.h"
#include "common/worker_args.h"

#include "unit.h"

#include <stdint.h>
#include <string.h>

static struct ds_qmon_opts o;
static char err[512];
static struct ds_args args;

static void
teardown(void)
{
	ds_args_free(&args);
}

static int
run_list(const char *const *list)
{
	ds_args_set_list(&args, "driveshaft-worker", list);
	memset(err, 0, sizeof(err));
	return ds_qmon_parse_args(args.argc, args.argv, &o, err,
	    sizeof(err));
}

START_TEST(built_argv_parses_back)
{
	static char *servers[] = {"gm1:4730", "[::1]:4731"};
	static const char *functions[] = {"Zeta", "Alpha"};
	struct ds_log_settings log;
	struct ds_monitor_spec spec = {.servers = servers, .nservers = 2,
	    .functions = functions, .nfunctions = 2, .interval_ms = 1500,
	    .max_workers = 68, .master_pid = 4242, .log = &log};
	struct ds_worker_argv a;

	ds_log_defaults(&log);
	log.to_stderr = 0;
	ck_assert_int_eq(ds_monitor_argv_build(&spec, &a), 0);
	ck_assert_int_eq(run_list((const char *const *)a.v + 1), 0);
	ck_assert_msg(err[0] == '\0', "%s", err);
	ck_assert_uint_eq(o.nservers, 2);
	ck_assert_str_eq(o.server_strs[0], "gm1:4730");
	ck_assert_str_eq(o.server_strs[1], "[::1]:4731");
	ck_assert_uint_eq(o.nfunctions, 2);
	ck_assert_str_eq(o.functions[0], "Alpha");	/* sorted */
	ck_assert_int_eq(o.interval_ms, 1500);
	ck_assert_uint_eq(o.max_workers, 68);
	ck_assert_int_eq(o.master_pid, 4242);
	ds_worker_argv_free(&a);
}
END_TEST

#define BASE "--monitor", "--server", "gm1", "--function", "F"

static const struct {
	const char *arg;	/* NULL: not given */
	int rc;
	size_t want;		/* when rc is 0 */
	const char *err;	/* when rc is -1 */
} max_workers_cases[] = {
	{NULL, 0, SIZE_MAX, NULL},
	{"--max_workers=0", 0, 0, NULL},
	{"--max_workers=68", 0, 68, NULL},
	{"--max_workers=2147483647", 0, 2147483647, NULL},
	{"--max_workers=-1", -1, 0,
	    "--max_workers: expected a number, got \"-1\""},
	{"--max_workers=2147483648", -1, 0,
	    "--max_workers: expected a number, got \"2147483648\""},
	{"--max_workers=x", -1, 0,
	    "--max_workers: expected a number, got \"x\""},
};

START_TEST(max_workers)
{
	const char *list[] = {BASE, max_workers_cases[_i].arg, NULL};
	int rc = run_list(list);

	ck_assert_msg(rc == max_workers_cases[_i].rc, "%s: rc %d (%s)",
	    max_workers_cases[_i].arg, rc, err);
	if (rc == 0)
		ck_assert_uint_eq(o.max_workers, max_workers_cases[_i].want);
	else
		ck_assert_str_eq(err, max_workers_cases[_i].err);
}
END_TEST

static Suite *
qmon_options_suite(void)
{
	Suite *s = suite_create("qmon_options");
	TCase *tc = ds_tcase(s, "parse", NULL, teardown);

	tcase_add_test(tc, built_argv_parses_back);
	tcase_add_loop_test(tc, max_workers, 0, NELEM(max_workers_cases));
	return s;
}

DS_CHECK_MAIN(qmon_options_suite)
