/* fuzz_text.c: libFuzzer harness for the byte-string helpers of
 * common/text.h: ds_base64_decode, ds_utf8_valid, ds_escape (and its
 * terminal form) and ds_logval.
 * The first input byte picks the function and the output buffer size; the
 * rest is the untrusted input. Results are checked against properties and,
 * for UTF-8, against a straightforward reference validator. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

/* Reference: Unicode table 3-7 of well-formed byte sequences, no NUL. */
static int
ref_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t n;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3;
		else
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (i + n >= len)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += n + 1;
	}
	return 1;
}

static void
check_base64(const char *in, size_t len)
{
	size_t n, n2, elen;
	char *out = ds_base64_decode(in, len, &n), *enc, *back;

	if (out != NULL) {
		size_t pad = 0;

		assert(len % 4 == 0);
		if (len >= 1 && in[len - 1] == '=')
			pad++;
		if (len >= 2 && in[len - 2] == '=')
			pad++;
		assert(n == len / 4 * 3 - pad);
		assert(out[n] == '\0');
		/* re-encoding gives the same text but for the unused bits
		 * of the last group */
		enc = ds_base64_encode(out, n, &elen);
		assert(enc != NULL && elen == len);
		assert(len < 4 || memcmp(enc, in, len - 4) == 0);
		back = ds_base64_decode(enc, elen, &n2);
		assert(back != NULL && n2 == n && memcmp(back, out, n) == 0);
		free(back);
		free(enc);
		free(out);
	}
	/* any bytes survive encode then decode */
	enc = ds_base64_encode(in, len, &elen);
	assert(enc != NULL && strlen(enc) == elen);
	back = ds_base64_decode(enc, elen, &n2);
	assert(back != NULL && n2 == len && memcmp(back, in, len) == 0);
	free(back);
	free(enc);
}

static void
check_escape(const char *in, size_t len, size_t dstsize)
{
	char *dst = malloc(dstsize ? dstsize : 1);	/* exact size */
	size_t n;

	assert(dst != NULL);
	n = ds_escape(dst, dstsize, in, len);
	if (dstsize == 0) {
		assert(n == 0);
	} else {
		assert(n < dstsize && dst[n] == '\0' && strlen(dst) == n);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)dst[i];

			assert(c >= 0x20 && c != 0x7F);
		}
	}
	free(dst);
}

/* For a terminal: no control byte but tab, CR and LF, no DEL, no UTF-8 C1
 * control; and with room for every escape, nothing is cut. */
static void
check_escape_terminal(const char *in, size_t len, size_t dstsize)
{
	char *dst = malloc(dstsize ? dstsize : 1);
	size_t n;

	assert(dst != NULL);
	n = ds_escape_terminal(dst, dstsize, in, len);
	if (dstsize == 0) {
		assert(n == 0);
		free(dst);
		return;
	}
	assert(n < dstsize && dst[n] == '\0');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dst[i];

		assert((c >= 0x20 || c == '\t' || c == '\r' || c == '\n') &&
		    c != 0x7F);
		assert(!(c == 0xC2 && i + 1 < n &&
		    (unsigned char)dst[i + 1] >= 0x80 &&
		    (unsigned char)dst[i + 1] <= 0x9F));
	}
	if (dstsize > len * 4)
		assert(n >= len);
	free(dst);
}

static void
check_logval(const char *in, size_t len, size_t dstsize)
{
	char *src = malloc(len + 1), *dst = malloc(dstsize ? dstsize : 1);
	const char *r;
	size_t n;

	assert(src != NULL && dst != NULL);
	memcpy(src, in, len);
	src[len] = '\0';
	r = ds_logval(dst, dstsize, src);
	assert(r == dst);
	if (dstsize > 0) {
		n = strnlen(dst, dstsize);
		assert(n < dstsize);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)dst[i];

			assert(c >= 0x20 && c != 0x7F);
		}
		if (n > 0 && dst[0] == '"') {
			/* quoted: closed, and no bare quote inside */
			assert(n >= 2 && dst[n - 1] == '"');
			for (size_t i = 1; i + 1 < n; i++)
				assert(dst[i] != '"' || dst[i - 1] == '\\');
		} else if (n > 0) {
			for (size_t i = 0; i < n; i++)
				assert(dst[i] != ' ' && dst[i] != '=');
		}
	}
	free(src);
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;
	size_t len, dstsize;
	int sel;

	if (size < 1)
		return 0;
	sel = data[0] & 3;
	dstsize = data[0] >> 2;		/* 0..63 */
	len = size - 1;
	in = malloc(len ? len : 1);	/* exact size, no NUL */
	assert(in != NULL);
	memcpy(in, data + 1, len);
	switch (sel) {
	case 0:
		check_base64(in, len);
		break;
	case 1:
		assert(!ds_utf8_valid(in, len) == !ref_utf8(
		    (const unsigned char *)in, len));
		break;
	case 2:
		check_escape(in, len, dstsize);
		check_escape(in, len, len * 4 + 1);
		check_escape_terminal(in, len, dstsize);
		check_escape_terminal(in, len, len * 4 + 1);
		break;
	case 3:
		check_logval(in, len, dstsize);
		check_logval(in, len, len * 4 + 3);
		break;
	}
	free(in);
	return 0;
}
