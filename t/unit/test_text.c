/* test_text.c: UTF-8 validation, base64 and escaping (common/text.h). */
#include "common/text.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UTF8(s)	ds_utf8_valid((s), sizeof(s) - 1)

START_TEST(utf8_ascii)
{
	ck_assert(ds_utf8_valid("", 0));
	ck_assert(UTF8("hello, world"));
	ck_assert(UTF8("\x01\x1f\x7f"));
	ck_assert(ds_utf8_valid(NULL, 0));
}
END_TEST

START_TEST(utf8_multibyte)
{
	ck_assert(UTF8("\xC2\x80"));		/* U+0080 */
	ck_assert(UTF8("\xC3\xA9t\xC3\xA9"));	/* été */
	ck_assert(UTF8("\xDF\xBF"));		/* U+07FF */
	ck_assert(UTF8("\xE0\xA0\x80"));	/* U+0800 */
	ck_assert(UTF8("\xE2\x82\xAC"));	/* euro sign */
	ck_assert(UTF8("\xED\x9F\xBF"));	/* U+D7FF */
	ck_assert(UTF8("\xEE\x80\x80"));	/* U+E000 */
	ck_assert(UTF8("\xEF\xBF\xBF"));	/* U+FFFF */
	ck_assert(UTF8("\xF0\x90\x80\x80"));	/* U+10000 */
	ck_assert(UTF8("\xF0\x9F\x98\x80"));	/* emoji */
	ck_assert(UTF8("\xF4\x8F\xBF\xBF"));	/* U+10FFFF */
	ck_assert(UTF8("a\xC3\xA9" "b\xE2\x82\xAC" "c\xF0\x9F\x98\x80"));
}
END_TEST

START_TEST(utf8_overlong)
{
	ck_assert(!UTF8("\xC0\x80"));		/* NUL */
	ck_assert(!UTF8("\xC1\xBF"));
	ck_assert(!UTF8("\xE0\x80\x80"));
	ck_assert(!UTF8("\xE0\x9F\xBF"));	/* U+07FF in 3 bytes */
	ck_assert(!UTF8("\xF0\x80\x80\x80"));
	ck_assert(!UTF8("\xF0\x8F\xBF\xBF"));	/* U+FFFF in 4 bytes */
	ck_assert(!UTF8("\xC0\xAF"));		/* '/' */
}
END_TEST

START_TEST(utf8_surrogates_and_range)
{
	ck_assert(!UTF8("\xED\xA0\x80"));	/* U+D800 */
	ck_assert(!UTF8("\xED\xAD\xBF"));	/* U+DB7F */
	ck_assert(!UTF8("\xED\xB0\x80"));	/* U+DC00 */
	ck_assert(!UTF8("\xED\xBF\xBF"));	/* U+DFFF */
	ck_assert(!UTF8("\xED\xA0\xBD\xED\xB8\x80"));	/* CESU-8 pair */
	ck_assert(!UTF8("\xF4\x90\x80\x80"));	/* U+110000 */
	ck_assert(!UTF8("\xF5\x80\x80\x80"));
	ck_assert(!UTF8("\xF7\xBF\xBF\xBF"));
	ck_assert(!UTF8("\xF8\x88\x80\x80\x80"));	/* 5-byte form */
	ck_assert(!UTF8("\xFC\x84\x80\x80\x80\x80"));	/* 6-byte form */
	ck_assert(!UTF8("\xFE"));
	ck_assert(!UTF8("\xFF"));
}
END_TEST

START_TEST(utf8_truncated_and_stray)
{
	ck_assert(!UTF8("\xC3"));
	ck_assert(!UTF8("a\xC3"));
	ck_assert(!UTF8("\xE2\x82"));
	ck_assert(!UTF8("\xE2"));
	ck_assert(!UTF8("\xF0\x9F\x98"));
	ck_assert(!UTF8("\xF0\x9F"));
	ck_assert(!UTF8("\xF0"));
	ck_assert(!UTF8("\xC3" "a"));		/* lead, then no continuation */
	ck_assert(!UTF8("\xE2\x82" "a"));
	ck_assert(!UTF8("\xF0\x9F\x98" "a"));
	ck_assert(!UTF8("\x80"));		/* lone continuation */
	ck_assert(!UTF8("a\xBF" "b"));
	ck_assert(!UTF8("\xC3\xA9\xA9"));	/* one continuation too many */
	/* the length given is what counts, not the C string */
	ck_assert(!ds_utf8_valid("\xE2\x82\xAC", 2));
	ck_assert(ds_utf8_valid("\xE2\x82\xAC" "\xFF", 3));
}
END_TEST

START_TEST(utf8_nul)
{
	ck_assert(!ds_utf8_valid("\0", 1));
	ck_assert(!ds_utf8_valid("a\0b", 3));
	ck_assert(!ds_utf8_valid("abc\0", 4));
	ck_assert(!ds_utf8_valid("\xC3\xA9\0", 3));
}
END_TEST

static void
enc_is(const char *in, size_t len, const char *want)
{
	size_t n = 12345;
	char *out = ds_base64_encode(in, len, &n);

	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
	free(out);
}

static void
dec_is(const char *in, const char *want, size_t wantlen)
{
	size_t n = 12345;
	char *out = ds_base64_decode(in, strlen(in), &n);

	ck_assert_msg(out != NULL, "decode of \"%s\" failed", in);
	ck_assert_uint_eq(n, wantlen);
	ck_assert(memcmp(out, want, wantlen) == 0);
	ck_assert_int_eq(out[n], '\0');
	free(out);
}

static void
dec_bad(const char *in, size_t len)
{
	size_t n = 12345;
	char *out = ds_base64_decode(in, len, &n);

	ck_assert_msg(out == NULL, "\"%.*s\" decoded", (int)len, in);
	free(out);
}

#define DEC_BAD(s)	dec_bad((s), sizeof(s) - 1)

static const char *const rfc4648[][2] = {
	{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

START_TEST(base64_rfc4648)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		enc_is(rfc4648[i][0], strlen(rfc4648[i][0]), rfc4648[i][1]);
		dec_is(rfc4648[i][1], rfc4648[i][0], strlen(rfc4648[i][0]));
	}
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
		free(enc);
		free(dec);
	}
	enc_is("\0\0\0", 3, "AAAA");
	enc_is("a\0b", 3, "YQBi");
	enc_is("\xff\xfe\xfd", 3, "//79");
	enc_is("\xfb\xef", 2, "++8=");
	dec_is("AAAA", "\0\0\0", 3);
	dec_is("AA==", "\0", 1);
	dec_is("YQBi", "a\0b", 3);
	dec_is("++8=", "\xfb\xef", 2);
}
END_TEST

START_TEST(base64_bad_length)
{
	DEC_BAD("Z");
	DEC_BAD("Zg");
	DEC_BAD("Zg=");
	DEC_BAD("Zm9");
	DEC_BAD("Zm9vY");
	DEC_BAD("Zm9vYg");
	DEC_BAD("Zm9vYg=");
	DEC_BAD("Zm9vYg===");
	/* the length given counts, not the C string */
	dec_bad("Zm9vYmFy", 7);
}
END_TEST

START_TEST(base64_bad_chars)
{
	DEC_BAD("Zm9*");
	DEC_BAD("Zm 9");
	DEC_BAD("Zm9v\n");
	DEC_BAD("Zm9v\nZm9v");
	DEC_BAD("Zm9-");	/* base64url is not accepted */
	DEC_BAD("Zm9_");
	DEC_BAD("Zm9\xC3");
	DEC_BAD("Zm\0v");
	DEC_BAD("\0\0\0\0");
}
END_TEST

START_TEST(base64_bad_padding)
{
	DEC_BAD("Zg=a");
	DEC_BAD("Z===");
	DEC_BAD("====");
	DEC_BAD("=Zm9");
	DEC_BAD("Z=g=");
	DEC_BAD("Zm=v");
	DEC_BAD("Zg==Zm9v");	/* '=' in the middle */
	DEC_BAD("Zm8=Zm9v");
	DEC_BAD("Zm9v====");
	DEC_BAD("Zm9vZ===");
}
END_TEST

/* Escapes src into a buffer of exactly size bytes (heap, so that ASan sees
 * any write past it) and compares. */
static void
esc_is(const char *src, size_t srclen, size_t size, const char *want)
{
	char *dst = malloc(size ? size : 1);
	size_t n;

	ck_assert_ptr_nonnull(dst);
	memset(dst, 'X', size ? size : 1);
	n = ds_escape(dst, size, src, srclen);
	if (size == 0) {
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(dst[0], 'X');	/* nothing written */
	} else {
		ck_assert_str_eq(dst, want);
		ck_assert_uint_eq(n, strlen(want));
	}
	free(dst);
}

#define ESC(s, size, want)	esc_is((s), sizeof(s) - 1, (size), (want))

START_TEST(escape_basic)
{
	ESC("", 16, "");
	ESC("plain text", 64, "plain text");
	ESC("a\nb", 64, "a\\x0Ab");
	ESC("\r\n\t", 64, "\\x0D\\x0A\\x09");
	ESC("\x1b[31m", 64, "\\x1B[31m");
	ESC("\x7f", 64, "\\x7F");
	ESC("\x1f", 64, "\\x1F");
	ESC("back\\slash", 64, "back\\x5Cslash");
	ESC("a\0b", 64, "a\\x00b");
	/* quotes, '=' and bytes >= 0x80 are left alone */
	ESC("\"k=v\" \xC3\xA9\xFF", 64, "\"k=v\" \xC3\xA9\xFF");
	/* every control byte, with uppercase hex */
	for (int c = 0; c < 0x20; c++) {
		char src[1] = {(char)c}, want[8];

		snprintf(want, sizeof(want), "\\x%02X", c);
		esc_is(src, 1, 8, want);
	}
}
END_TEST

START_TEST(escape_truncation)
{
	ESC("abc", 0, "");
	ESC("abc", 1, "");
	ESC("abc", 2, "a");
	ESC("abc", 3, "ab");
	ESC("abc", 4, "abc");
	ESC("abc", 5, "abc");
	/* an escape is written whole or not at all */
	ESC("\n", 4, "");
	ESC("\n", 5, "\\x0A");
	ESC("a\nb", 5, "a");
	ESC("a\nb", 6, "a\\x0A");
	ESC("a\nb", 7, "a\\x0Ab");
	ESC("\\\\", 8, "\\x5C");
	ESC("\\\\", 9, "\\x5C\\x5C");
	/* nothing after a cut escape sneaks in */
	ESC("a\nbcdef", 5, "a");
	ESC("ab\n", 5, "ab");
	/* the length given counts, not the C string */
	esc_is("abcdef", 3, 64, "abc");
}
END_TEST

static void
logval_is(const char *src, size_t size, const char *want)
{
	char *dst = malloc(size ? size : 1);
	const char *r;

	ck_assert_ptr_nonnull(dst);
	memset(dst, 'X', size ? size : 1);
	r = ds_logval(dst, size, src);
	ck_assert_ptr_eq(r, dst);
	if (size == 0)
		ck_assert_int_eq(dst[0], 'X');
	else
		ck_assert_str_eq(dst, want);
	free(dst);
}

START_TEST(logval_bare)
{
	logval_is("abc", 64, "abc");
	logval_is("pool-1_x.y/z:4730", 64, "pool-1_x.y/z:4730");
	logval_is("H:host:42", 64, "H:host:42");
	logval_is("it's", 64, "it's");
}
END_TEST

START_TEST(logval_quoted)
{
	logval_is("", 64, "\"\"");
	logval_is(NULL, 64, "\"\"");
	logval_is("two words", 64, "\"two words\"");
	logval_is("a=b", 64, "\"a=b\"");
	logval_is("say \"hi\"", 64, "\"say \\\"hi\\\"\"");
	logval_is("\"", 64, "\"\\\"\"");
	logval_is("a\tb", 64, "\"a\\x09b\"");
	logval_is("line\nbreak", 64, "\"line\\x0Abreak\"");
	logval_is("c:\\dir", 64, "\"c:\\x5Cdir\"");
	logval_is("\x7f", 64, "\"\\x7F\"");
	logval_is("\xC3\xA9t\xC3\xA9", 64, "\"\xC3\xA9t\xC3\xA9\"");
}
END_TEST

START_TEST(logval_truncation)
{
	logval_is("abc", 0, "");
	logval_is("abc", 1, "");
	logval_is("abc", 2, "");
	logval_is("abc", 3, "ab");
	logval_is("abc", 4, "abc");
	logval_is("", 3, "\"\"");
	logval_is("a b", 3, "\"\"");
	logval_is("a b", 4, "\"a\"");
	logval_is("a b", 5, "\"a \"");
	logval_is("a b", 6, "\"a b\"");
	/* an escaped quote is cut whole */
	logval_is("a \"", 5, "\"a \"");
	logval_is("a \"", 6, "\"a \"");
	logval_is("a \"", 7, "\"a \\\"\"");
	/* so is a \xNN escape, and nothing after it sneaks in */
	logval_is("a\nb", 4, "\"a\"");
	logval_is("a\nb", 7, "\"a\"");
	logval_is("a\nb", 8, "\"a\\x0A\"");
	logval_is("a\nb", 9, "\"a\\x0Ab\"");
	logval_is("a\nbcdefgh", 7, "\"a\"");
	logval_is("a\n\"bcdefgh", 7, "\"a\"");
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

/* Credentials never reach a log line, title or status output. */
START_TEST(uri_redact)
{
	static const struct { const char *in, *want; } cases[] = {
		{"http://user:pass@host/x", "http://***@host/x"},
		{"https://u@h:8080/p?q=1", "https://***@h:8080/p?q=1"},
		{"http://a:b@c@host/", "http://***@host/"},
		{"http://host/path@x", "http://host/path@x"},
		{"http://host/?u=a@b", "http://host/?u=a@b"},
		{"http://host#f@x", "http://host#f@x"},
		{"http://@host/", "http://***@host/"},
		{"http://host", "http://host"},
		{"not a uri", "not a uri"},
		{"ftp://u:p@h/", "ftp://***@h/"},
		{"a/b://u:p@h", "a/b://u:p@h"},
		{"", ""},
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(ds_uri_redact(out, sizeof(out), cases[i].in),
		    cases[i].want);
	ds_uri_redact(out, 12, "http://user:pass@host/x");
	ck_assert_str_eq(out, "http://***@");
}
END_TEST

static Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = tcase_create("utf8");
	tcase_add_test(tc, utf8_ascii);
	tcase_add_test(tc, utf8_multibyte);
	tcase_add_test(tc, utf8_overlong);
	tcase_add_test(tc, utf8_surrogates_and_range);
	tcase_add_test(tc, utf8_truncated_and_stray);
	tcase_add_test(tc, utf8_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_test(tc, base64_rfc4648);
	tcase_add_test(tc, base64_outlen_optional);
	tcase_add_test(tc, base64_binary);
	tcase_add_test(tc, base64_bad_length);
	tcase_add_test(tc, base64_bad_chars);
	tcase_add_test(tc, base64_bad_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_test(tc, escape_basic);
	tcase_add_test(tc, escape_truncation);
	tcase_add_test(tc, logval_bare);
	tcase_add_test(tc, logval_quoted);
	tcase_add_test(tc, logval_truncation);
	tcase_add_test(tc, uri_redact);
	suite_add_tcase(s, tc);
	return s;
}

DS_CHECK_MAIN(text_suite)
