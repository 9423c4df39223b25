/* test_text.c: UTF-8 validation, base64 and escaping (common/text.h). */
#include "common/text.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string literal and its length, NULs and all. */
#define S(s)	(s), sizeof(s) - 1

/* --- UTF-8 --- */

static const struct {
	const char *s;
	size_t len;
	int valid;
} utf8_cases[] = {
	{"", 0, 1},
	{S("hello, world"), 1},
	{S("\x01\x1f\x7f"), 1},
	{NULL, 0, 1},

	{S("\xC2\x80"), 1},		/* U+0080 */
	{S("\xC3\xA9t\xC3\xA9"), 1},	/* été */
	{S("\xDF\xBF"), 1},		/* U+07FF */
	{S("\xE0\xA0\x80"), 1},	/* U+0800 */
	{S("\xE2\x82\xAC"), 1},	/* euro sign */
	{S("\xED\x9F\xBF"), 1},	/* U+D7FF */
	{S("\xEE\x80\x80"), 1},	/* U+E000 */
	{S("\xEF\xBF\xBF"), 1},	/* U+FFFF */
	{S("\xF0\x90\x80\x80"), 1},	/* U+10000 */
	{S("\xF0\x9F\x98\x80"), 1},	/* emoji */
	{S("\xF4\x8F\xBF\xBF"), 1},	/* U+10FFFF */
	{S("a\xC3\xA9" "b\xE2\x82\xAC" "c\xF0\x9F\x98\x80"), 1},

	/* overlong */
	{S("\xC0\x80"), 0},		/* NUL */
	{S("\xC1\xBF"), 0},
	{S("\xE0\x80\x80"), 0},
	{S("\xE0\x9F\xBF"), 0},	/* U+07FF in 3 bytes */
	{S("\xF0\x80\x80\x80"), 0},
	{S("\xF0\x8F\xBF\xBF"), 0},	/* U+FFFF in 4 bytes */
	{S("\xC0\xAF"), 0},		/* '/' */

	/* surrogates and out of range */
	{S("\xED\xA0\x80"), 0},	/* U+D800 */
	{S("\xED\xAD\xBF"), 0},	/* U+DB7F */
	{S("\xED\xB0\x80"), 0},	/* U+DC00 */
	{S("\xED\xBF\xBF"), 0},	/* U+DFFF */
	{S("\xED\xA0\xBD\xED\xB8\x80"), 0},	/* CESU-8 pair */
	{S("\xF4\x90\x80\x80"), 0},	/* U+110000 */
	{S("\xF5\x80\x80\x80"), 0},
	{S("\xF7\xBF\xBF\xBF"), 0},
	{S("\xF8\x88\x80\x80\x80"), 0},	/* 5-byte form */
	{S("\xFC\x84\x80\x80\x80\x80"), 0},	/* 6-byte form */
	{S("\xFE"), 0},
	{S("\xFF"), 0},

	/* truncated and stray */
	{S("\xC3"), 0},
	{S("a\xC3"), 0},
	{S("\xE2\x82"), 0},
	{S("\xE2"), 0},
	{S("\xF0\x9F\x98"), 0},
	{S("\xF0\x9F"), 0},
	{S("\xF0"), 0},
	{S("\xC3" "a"), 0},		/* lead, then no continuation */
	{S("\xE2\x82" "a"), 0},
	{S("\xF0\x9F\x98" "a"), 0},
	{S("\x80"), 0},			/* lone continuation */
	{S("a\xBF" "b"), 0},
	{S("\xC3\xA9\xA9"), 0},	/* one continuation too many */
	/* the length given is what counts, not the C string */
	{"\xE2\x82\xAC", 2, 0},
	{"\xE2\x82\xAC" "\xFF", 3, 1},

	/* NUL */
	{"\0", 1, 0},
	{"a\0b", 3, 0},
	{"abc\0", 4, 0},
	{"\xC3\xA9\0", 3, 0},
};

START_TEST(utf8)
{
	ck_assert_msg(ds_utf8_valid(utf8_cases[_i].s, utf8_cases[_i].len) ==
	    utf8_cases[_i].valid, "case \"%s\": expected %s",
	    ds_show(utf8_cases[_i].s, utf8_cases[_i].len),
	    utf8_cases[_i].valid ? "valid" : "invalid");
}
END_TEST

/* --- base64 --- */

/* Bytes and their base64, both ways. */
static const struct {
	const char *raw;
	size_t len;
	const char *b64;
} base64_pairs[] = {
	/* RFC 4648 */
	{S(""), ""}, {S("f"), "Zg=="}, {S("fo"), "Zm8="}, {S("foo"), "Zm9v"},
	{S("foob"), "Zm9vYg=="}, {S("fooba"), "Zm9vYmE="},
	{S("foobar"), "Zm9vYmFy"},
	/* binary */
	{S("\0\0\0"), "AAAA"}, {S("\0"), "AA=="}, {S("a\0b"), "YQBi"},
	{S("\xff\xfe\xfd"), "//79"}, {S("\xfb\xef"), "++8="},
};

START_TEST(base64_both_ways)
{
	const char *raw = base64_pairs[_i].raw, *b64 = base64_pairs[_i].b64;
	size_t len = base64_pairs[_i].len, n = 12345;
	const char *name = ds_show(raw, len);
	char *out = ds_base64_encode(raw, len, &n);

	ck_assert_msg(out != NULL && strcmp(out, b64) == 0 &&
	    n == strlen(b64), "case \"%s\": encoded \"%s\" (%zu), expected "
	    "\"%s\"", name, out ? out : "(null)", n, b64);
	free(out);
	n = 12345;
	out = ds_base64_decode(b64, strlen(b64), &n);
	ck_assert_msg(out != NULL && n == len && memcmp(out, raw, len) == 0 &&
	    out[n] == '\0', "case \"%s\": \"%s\" decoded to \"%s\"", name,
	    b64, out ? ds_show(out, n) : "(null)");
	free(out);
}
END_TEST

START_TEST(base64_outlen_optional)
{
	char *out = ds_base64_encode("foo", 3, NULL);

	ck_assert_str_eq(out, "Zm9v");
	free(out);
	out = ds_base64_decode("Zm9v", 4, NULL);
	ck_assert_str_eq(out, "foo");
	free(out);
}
END_TEST

START_TEST(base64_binary)
{
	unsigned char all[256];
	char *enc, *dec;
	size_t elen, dlen;

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	for (size_t len = 0; len <= sizeof(all); len++) {
		enc = ds_base64_encode(all, len, &elen);
		ck_assert_ptr_nonnull(enc);
		ck_assert_uint_eq(elen, strlen(enc));
		ck_assert_uint_eq(elen, (len + 2) / 3 * 4);
		dec = ds_base64_decode(enc, elen, &dlen);
		ck_assert_ptr_nonnull(dec);
		ck_assert_uint_eq(dlen, len);
		ck_assert(memcmp(dec, all, len) == 0);
		/* in place, as a worker decodes an answer in its body */
		ck_assert_int_eq(ds_base64_decode_to(enc, enc, elen),
		    (long)len);
		ck_assert(memcmp(enc, all, len) == 0);
		free(enc);
		free(dec);
	}
}
END_TEST

/* Not base64, by length, character or padding. */
static const struct {
	const char *s;
	size_t len;
} base64_bad[] = {
	{S("Z")}, {S("Zg")}, {S("Zg=")}, {S("Zm9")}, {S("Zm9vY")},
	{S("Zm9vYg")}, {S("Zm9vYg=")}, {S("Zm9vYg===")},
	/* the length given counts, not the C string */
	{"Zm9vYmFy", 7},

	{S("Zm9*")}, {S("Zm 9")}, {S("Zm9v\n")}, {S("Zm9v\nZm9v")},
	{S("Zm9-")},	/* base64url is not accepted */
	{S("Zm9_")}, {S("Zm9\xC3")}, {S("Zm\0v")}, {S("\0\0\0\0")},

	{S("Zg=a")}, {S("Z===")}, {S("====")}, {S("=Zm9")}, {S("Z=g=")},
	{S("Zm=v")},
	{S("Zg==Zm9v")},	/* '=' in the middle */
	{S("Zm8=Zm9v")}, {S("Zm9v====")}, {S("Zm9vZ===")},
};

START_TEST(base64_rejects)
{
	size_t n = 12345;
	char *out = ds_base64_decode(base64_bad[_i].s, base64_bad[_i].len, &n);

	ck_assert_msg(out == NULL, "case \"%s\": decoded",
	    ds_show(base64_bad[_i].s, base64_bad[_i].len));
	free(out);
}
END_TEST

/* --- escaping --- */

/* Bytes, the size of the buffer they are escaped into, and the result. */
static const struct {
	const char *src;
	size_t len, size;
	const char *want;
} escape_cases[] = {
	{S(""), 16, ""},
	{S("plain text"), 64, "plain text"},
	{S("a\nb"), 64, "a\\x0Ab"},
	{S("\r\n\t"), 64, "\\x0D\\x0A\\x09"},
	{S("\x1b[31m"), 64, "\\x1B[31m"},
	{S("\x7f"), 64, "\\x7F"},
	{S("\x1f"), 64, "\\x1F"},
	{S("back\\slash"), 64, "back\\x5Cslash"},
	{S("a\0b"), 64, "a\\x00b"},
	/* quotes, '=' and bytes >= 0x80 are left alone */
	{S("\"k=v\" \xC3\xA9\xFF"), 64, "\"k=v\" \xC3\xA9\xFF"},

	/* cut to the size */
	{S("abc"), 0, ""},
	{S("abc"), 1, ""},
	{S("abc"), 2, "a"},
	{S("abc"), 3, "ab"},
	{S("abc"), 4, "abc"},
	{S("abc"), 5, "abc"},
	/* an escape is written whole or not at all */
	{S("\n"), 4, ""},
	{S("\n"), 5, "\\x0A"},
	{S("a\nb"), 5, "a"},
	{S("a\nb"), 6, "a\\x0A"},
	{S("a\nb"), 7, "a\\x0Ab"},
	{S("\\\\"), 8, "\\x5C"},
	{S("\\\\"), 9, "\\x5C\\x5C"},
	/* nothing after a cut escape sneaks in */
	{S("a\nbcdef"), 5, "a"},
	{S("ab\n"), 5, "ab"},
	/* the length given counts, not the C string */
	{"abcdef", 3, 64, "abc"},
};

/* Escapes src into a buffer of exactly size bytes (heap, so that ASan sees
 * any write past it) and compares; name is the case. */
static void
esc_is(const char *name, const char *src, size_t srclen, size_t size,
    const char *want)
{
	char *dst = malloc(size ? size : 1);
	size_t n;

	ck_assert_ptr_nonnull(dst);
	memset(dst, 'X', size ? size : 1);
	n = ds_escape(dst, size, src, srclen);
	if (size == 0)	/* nothing written */
		ck_assert_msg(n == 0 && dst[0] == 'X', "case %s: wrote %zu",
		    name, n);
	else
		ck_assert_msg(strcmp(dst, want) == 0 && n == strlen(want),
		    "case %s: \"%s\" (%zu), expected \"%s\"", name,
		    ds_show(dst, strlen(dst)), n, ds_show(want, strlen(want)));
	free(dst);
}

START_TEST(escape)
{
	char name[300];

	snprintf(name, sizeof(name), "\"%s\" in %zu bytes",
	    ds_show(escape_cases[_i].src, escape_cases[_i].len),
	    escape_cases[_i].size);
	esc_is(name, escape_cases[_i].src, escape_cases[_i].len,
	    escape_cases[_i].size, escape_cases[_i].want);
}
END_TEST

START_TEST(escape_every_control_byte)
{
	/* uppercase hex */
	for (int c = 0; c < 0x20; c++) {
		char src[1] = {(char)c}, want[8];

		snprintf(want, sizeof(want), "\\x%02X", c);
		esc_is(want, src, 1, 8, want);
	}
}
END_TEST

/* For a terminal (driveshaft --query): bytes in, buffer size, what is
 * written. Tab, CR, LF and the backslash pass; ESC, the other control
 * bytes, DEL and a UTF-8 C1 control do not. */
static const struct {
	const char *src;
	size_t len, size;
	const char *want;
} term_cases[] = {
	{S("\x1b]2;owned\x07"), 64, "\\x1B]2;owned\\x07"},
	{S("a\tb\rc\nd"), 64, "a\tb\rc\nd"},
	{S("c:\\dir \\n"), 64, "c:\\dir \\n"},
	{S("\0\x01\x1f\x7f"), 64, "\\x00\\x01\\x1F\\x7F"},
	{S("\xc2\x9b" "1m\xc2\x80\xc2\x9f"), 64,
	    "\\xC2\\x9B1m\\xC2\\x80\\xC2\\x9F"},
	/* not C1: passes */
	{S("\xc2\xa0\xc3\xa9\xe2\x82\xac \x9b"), 64,
	    "\xc2\xa0\xc3\xa9\xe2\x82\xac \x9b"},
	{S("a\xc2"), 64, "a\xc2"},
	/* cut at a whole escape, both bytes of a C1 one together */
	{S("ab\x1b"), 6, "ab"},
	{S("ab\x1b"), 7, "ab\\x1B"},
	{S("a\xc2\x9b"), 9, "a"},
	{S("a\xc2\x9b"), 10, "a\\xC2\\x9B"},
};

START_TEST(escape_terminal)
{
	size_t size = term_cases[_i].size;
	char *dst = malloc(size);
	size_t n;

	ck_assert_ptr_nonnull(dst);
	n = ds_escape_terminal(dst, size, term_cases[_i].src,
	    term_cases[_i].len);
	ck_assert_msg(strcmp(dst, term_cases[_i].want) == 0 &&
	    n == strlen(term_cases[_i].want), "case %zu: \"%s\" (%zu), "
	    "expected \"%s\"", (size_t)_i, ds_show(dst, strlen(dst)), n,
	    ds_show(term_cases[_i].want, strlen(term_cases[_i].want)));
	free(dst);
}
END_TEST

/* A value, the size of the buffer it goes into, and the result. */
static const struct {
	const char *src;
	size_t size;
	const char *want;
} logval_cases[] = {
	/* bare */
	{"abc", 64, "abc"},
	{"pool-1_x.y/z:4730", 64, "pool-1_x.y/z:4730"},
	{"H:host:42", 64, "H:host:42"},
	{"it's", 64, "it's"},

	/* quoted */
	{"", 64, "\"\""},
	{NULL, 64, "\"\""},
	{"two words", 64, "\"two words\""},
	{"a=b", 64, "\"a=b\""},
	{"say \"hi\"", 64, "\"say \\\"hi\\\"\""},
	{"\"", 64, "\"\\\"\""},
	{"a\tb", 64, "\"a\\x09b\""},
	{"line\nbreak", 64, "\"line\\x0Abreak\""},
	{"c:\\dir", 64, "\"c:\\x5Cdir\""},
	{"\x7f", 64, "\"\\x7F\""},
	{"\xC3\xA9t\xC3\xA9", 64, "\"\xC3\xA9t\xC3\xA9\""},

	/* cut to the size */
	{"abc", 0, ""},
	{"abc", 1, ""},
	{"abc", 2, ""},
	{"abc", 3, "ab"},
	{"abc", 4, "abc"},
	{"", 3, "\"\""},
	{"a b", 3, "\"\""},
	{"a b", 4, "\"a\""},
	{"a b", 5, "\"a \""},
	{"a b", 6, "\"a b\""},
	/* an escaped quote is cut whole */
	{"a \"", 5, "\"a \""},
	{"a \"", 6, "\"a \""},
	{"a \"", 7, "\"a \\\"\""},
	/* so is a \xNN escape, and nothing after it sneaks in */
	{"a\nb", 4, "\"a\""},
	{"a\nb", 7, "\"a\""},
	{"a\nb", 8, "\"a\\x0A\""},
	{"a\nb", 9, "\"a\\x0Ab\""},
	{"a\nbcdefgh", 7, "\"a\""},
	{"a\n\"bcdefgh", 7, "\"a\""},
};

START_TEST(logval)
{
	const char *src = logval_cases[_i].src, *want = logval_cases[_i].want;
	size_t size = logval_cases[_i].size;
	char *dst = malloc(size ? size : 1);
	const char *r;

	ck_assert_ptr_nonnull(dst);
	memset(dst, 'X', size ? size : 1);
	r = ds_logval(dst, size, src);
	ck_assert_ptr_eq(r, dst);
	/* size 0: nothing written */
	ck_assert_msg(size == 0 ? dst[0] == 'X' : strcmp(dst, want) == 0,
	    "case \"%s\" in %zu bytes: \"%s\", expected \"%s\"",
	    src ? ds_show(src, strlen(src)) : "(null)", size,
	    size ? ds_show(dst, strlen(dst)) : "", ds_show(want, strlen(want)));
	free(dst);
}
END_TEST

START_TEST(logval_always_closed)
{
	/* always closed and terminated, whatever the size */
	for (size_t size = 3; size < 40; size++) {
		char dst[40];
		size_t n;

		ds_logval(dst, size, "x \"\n\\\x01 y \"\" \x7f z");
		n = strlen(dst);
		ck_assert_uint_lt(n, size);
		ck_assert_uint_ge(n, 2);
		ck_assert_int_eq(dst[0], '"');
		ck_assert_int_eq(dst[n - 1], '"');
	}
}
END_TEST

/* Credentials never reach a log line, title or status output. A URI, the
 * size of the buffer (0: 128 bytes) and what is written. */
static const struct {
	const char *in;
	size_t size;
	const char *want;
} redact_cases[] = {
	{"http://user:pass@host/x", 0, "http://***@host/x"},
	{"https://u@h:8080/p?q=1", 0, "https://***@h:8080/p?q=1"},
	{"http://a:b@c@host/", 0, "http://***@host/"},
	{"http://host/path@x", 0, "http://host/path@x"},
	{"http://host/?u=a@b", 0, "http://host/?u=a@b"},
	{"http://host#f@x", 0, "http://host#f@x"},
	{"http://@host/", 0, "http://***@host/"},
	{"http://host", 0, "http://host"},
	{"not a uri", 0, "not a uri"},
	{"ftp://u:p@h/", 0, "ftp://***@h/"},
	{"a/b://u:p@h", 0, "a/b://u:p@h"},
	{"", 0, ""},
	{"http://user:pass@host/x", 12, "http://***@"},
};

START_TEST(uri_redact)
{
	char out[128];
	size_t size = redact_cases[_i].size ? redact_cases[_i].size :
	    sizeof(out);

	ds_uri_redact(out, size, redact_cases[_i].in);
	ck_assert_msg(strcmp(out, redact_cases[_i].want) == 0,
	    "case \"%s\" in %zu bytes: \"%s\", expected \"%s\"",
	    redact_cases[_i].in, size, out, redact_cases[_i].want);
	/* credentials, seen by the same reading: what redaction hides */
	if (redact_cases[_i].size == 0)
		ck_assert_int_eq(ds_uri_has_userinfo(redact_cases[_i].in),
		    strcmp(out, redact_cases[_i].in) != 0);
}
END_TEST

/* --- hex digits --- */

START_TEST(hex_digit_every_byte)
{
	for (int c = -128; c < 128; c++) {
		const char *d = "0123456789abcdef", *u = "0123456789ABCDEF";
		int want = -1;

		for (int i = 0; i < 16; i++)
			if (c != 0 && (c == d[i] || c == u[i]))
				want = i;
		ck_assert_msg(ds_hex_digit((char)c) == want, "byte %d", c);
	}
}
END_TEST

static Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = ds_tcase(s, "utf8", NULL, NULL);
	tcase_add_loop_test(tc, utf8, 0, NELEM(utf8_cases));

	tc = ds_tcase(s, "base64", NULL, NULL);
	tcase_add_loop_test(tc, base64_both_ways, 0, NELEM(base64_pairs));
	tcase_add_test(tc, base64_outlen_optional);
	tcase_add_test(tc, base64_binary);
	tcase_add_loop_test(tc, base64_rejects, 0, NELEM(base64_bad));

	tc = ds_tcase(s, "escape", NULL, NULL);
	tcase_add_loop_test(tc, escape, 0, NELEM(escape_cases));
	tcase_add_test(tc, escape_every_control_byte);
	tcase_add_loop_test(tc, escape_terminal, 0, NELEM(term_cases));
	tcase_add_loop_test(tc, logval, 0, NELEM(logval_cases));
	tcase_add_test(tc, logval_always_closed);
	tcase_add_loop_test(tc, uri_redact, 0, NELEM(redact_cases));
	tcase_add_test(tc, hex_digit_every_byte);
	return s;
}

DS_CHECK_MAIN(text_suite)
