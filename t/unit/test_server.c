/* test_server.c: gearmand server strings of the jobs config and the worker's
 * command line (config/server.h). */
#include "config/server.h"

#include "unit.h"

#include <string.h>

static struct ds_server sv;
static char err[512];

static void
ok(const char *s, const char *host, int port)
{
	ck_assert_msg(ds_server_parse(s, &sv, err, sizeof(err)) == 0,
	    "%s: %s", s, err);
	ck_assert_str_eq(sv.host, host);
	ck_assert_int_eq(sv.port, port);
}

static void
bad(const char *s, const char *msg)
{
	ck_assert_int_eq(ds_server_parse(s, &sv, err, sizeof(err)), -1);
	ck_assert_str_eq(err, msg);
}

START_TEST(valid)
{
	ok("localhost", "localhost", DS_DEFAULT_GEARMAN_PORT);
	ok("localhost", "localhost", 4730);
	ok("gm.example.com:4731", "gm.example.com", 4731);
	ok("10.0.0.1:1", "10.0.0.1", 1);
	ok("h:65535", "h", 65535);
	ok("[::1]:4732", "::1", 4732);
	ok("[::1]", "::1", 4730);
	ok("[fe80::1%eth0]:80", "fe80::1%eth0", 80);
}
END_TEST

START_TEST(bad_ports)
{
	bad("h:0", "\"h:0\": port must be 1 to 65535");
	bad("h:65536", "\"h:65536\": port must be 1 to 65535");
	bad("h:abc", "\"h:abc\": port must be 1 to 65535");
	bad("h:", "\"h:\": port must be 1 to 65535");
	bad("h:-1", "\"h:-1\": port must be 1 to 65535");
	bad("h:80x", "\"h:80x\": port must be 1 to 65535");
	bad("h: 80", "\"h: 80\": port must be 1 to 65535");
	bad("h:99999999999999999999", "\"h:99999999999999999999\": port must "
	    "be 1 to 65535");
	bad("[::1]:0", "\"[::1]:0\": port must be 1 to 65535");
}
END_TEST

START_TEST(bad_hosts)
{
	bad("::1", "\"::1\": an IPv6 address needs brackets, as in [::1]:4730");
	bad("fe80::1:4730", "\"fe80::1:4730\": an IPv6 address needs "
	    "brackets, as in [::1]:4730");
	bad("[::1", "\"[::1\": missing ']' after IPv6 address");
	bad("[::1]4730", "\"[::1]4730\": expected ':port' after ']'");
	bad("[]:4730", "\"[]:4730\": expected a host name or address");
	bad("", "\"\": expected a host name or address");
	bad(":4730", "\":4730\": expected a host name or address");
	bad("a b", "\"a b\": bad character in host");
	bad("a/b:1", "\"a/b:1\": bad character in host");
	bad("a]b", "\"a]b\": bad character in host");
}
END_TEST

START_TEST(host_length)
{
	char s[300];

	memset(s, 'a', 255);
	s[255] = '\0';
	ok(s, s, 4730);
	memset(s, 'a', 256);
	s[256] = '\0';
	ck_assert_int_eq(ds_server_parse(s, &sv, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected a host name or address"));
}
END_TEST

static Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, valid);
	tcase_add_test(tc, bad_ports);
	tcase_add_test(tc, bad_hosts);
	tcase_add_test(tc, host_length);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(server_suite)
