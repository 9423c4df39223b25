/* test_warn.c: the warnings that do not stop a start (master/warn.h): a
 * root master with no --user, and a config whose URIs carry credentials
 * that every user may read. */
#include "master/warn.h"

#include "unit.h"

#include <string.h>
#include <sys/stat.h>

static const struct {
	uid_t euid;
	const char *user;
	int warned;
} root_cases[] = {
	{0, NULL, 1},
	{0, "driveshaft", 0},
	{0, "root", 0},		/* asked for: said on the command line */
	{1000, NULL, 0},
	{1000, "driveshaft", 0},
};

START_TEST(root_without_user)
{
	const char *w = ds_warn_root(root_cases[_i].euid, root_cases[_i].user);

	ck_assert_msg((w != NULL) == root_cases[_i].warned, "case %d", _i);
	if (w)
		ck_assert_ptr_nonnull(strstr(w, "--user"));
}
END_TEST

/* One pool without credentials, two with. */
static struct ds_pool pools[] = {
	{.name = "Plain", .uri = "http://127.0.0.1/job.php"},
	{.name = "Auth", .uri = "http://alice:s3cret@127.0.0.1/job.php"},
	{.name = "Token", .uri = "https://t0ken@h/x?u=a@b"},
};

static const struct {
	mode_t mode;
	size_t first, npools;
	const char *want;	/* NULL: no warning */
} exposed_cases[] = {
	{S_IFREG | 0644, 0, 3, "/etc/j.json: mode 0644 lets every user read "
	    "the credentials in it; make it 0640 with the group of the --user "
	    "(chmod o-r); URIs with credentials: pools Auth, Token"},
	{S_IFREG | 0604, 1, 1, "/etc/j.json: mode 0604 lets every user read "
	    "the credentials in it; make it 0640 with the group of the --user "
	    "(chmod o-r); URIs with credentials: pool Auth"},
	{S_IFREG | 0666, 2, 1, "/etc/j.json: mode 0666 lets every user read "
	    "the credentials in it; make it 0640 with the group of the --user "
	    "(chmod o-r); URIs with credentials: pool Token"},
	{S_IFREG | 0640, 0, 3, NULL},	/* the service user's group only */
	{S_IFREG | 0600, 0, 3, NULL},
	{S_IFREG | 0642, 0, 3, NULL},	/* writable is not readable */
	{S_IFREG | 0644, 0, 1, NULL},	/* no credentials to read */
};

START_TEST(exposed_config)
{
	struct ds_config cfg = {.pools = pools + exposed_cases[_i].first,
	    .npools = exposed_cases[_i].npools};
	char msg[1024] = "unset";
	int r = ds_warn_exposed_config("/etc/j.json", exposed_cases[_i].mode,
	    &cfg, msg, sizeof(msg));

	if (exposed_cases[_i].want == NULL) {
		ck_assert_msg(r == 0, "case %d: warned %s", _i, msg);
		return;
	}
	ck_assert_int_eq(r, 1);
	ck_assert_str_eq(msg, exposed_cases[_i].want);
	ck_assert_ptr_null(strstr(msg, "s3cret"));
	ck_assert_ptr_null(strstr(msg, "alice"));
}
END_TEST

/* Many pools with credentials: the list is cut, the message still says
 * the file and the mode, and nothing is written past the buffer. */
START_TEST(exposed_config_many_pools)
{
	static struct ds_pool many[200];
	static char names[200][16];
	struct ds_config cfg = {.pools = many, .npools = 200};
	char msg[300];

	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "Pool%03d", i);
		many[i].name = names[i];
		many[i].uri = "http://u:p@h/";
	}
	ck_assert_int_eq(ds_warn_exposed_config("/etc/j.json", 0644, &cfg, msg,
	    sizeof(msg)), 1);
	ck_assert_ptr_nonnull(strstr(msg, "/etc/j.json: mode 0644"));
	ck_assert_ptr_nonnull(strstr(msg, "(chmod o-r); URIs with credentials: "
	    "pools Pool000, Pool001"));
	ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
	ck_assert_str_eq(msg + sizeof(msg) - 4, "...");
}
END_TEST

static Suite *
warn_suite(void)
{
	Suite *s = suite_create("warn");
	TCase *tc = ds_tcase(s, "warn", NULL, NULL);

	tcase_add_loop_test(tc, root_without_user, 0, NELEM(root_cases));
	tcase_add_loop_test(tc, exposed_config, 0, NELEM(exposed_cases));
	tcase_add_test(tc, exposed_config_many_pools);
	return s;
}

DS_CHECK_MAIN(warn_suite)
