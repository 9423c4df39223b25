/* text.c: UTF-8 validation, base64 and escaping (see text.h). None of our
 * libraries exports these, so they live here once. */
#include "common/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ds_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ds_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates and values past U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return 0;
		i += n + 1;
	}
	return 1;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
ds_base64_encode_to(char *dst, const void *in, size_t len)
{
	const unsigned char *s = in;
	size_t i = 0, o = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
		    s[i + 2];

		dst[o++] = b64chars[v >> 18];
		dst[o++] = b64chars[(v >> 12) & 63];
		dst[o++] = b64chars[(v >> 6) & 63];
		dst[o++] = b64chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		dst[o++] = b64chars[v >> 18];
		dst[o++] = b64chars[(v >> 12) & 63];
		dst[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

char *
ds_base64_encode(const void *in, size_t len, size_t *outlen)
{
	char *out = malloc(DS_BASE64_LEN(len) + 1);
	size_t n;

	if (out == NULL)
		return NULL;
	n = ds_base64_encode_to(out, in, len);
	if (outlen)
		*outlen = n;
	return out;
}

/* A table, not a search per byte: a 64 KiB answer is 87,000 lookups. */
static const signed char *
b64table(void)
{
	static signed char val[256];
	static int ready;

	if (!ready) {
		memset(val, -1, sizeof(val));
		for (int i = 0; i < 64; i++)
			val[(unsigned char)b64chars[i]] = (signed char)i;
		ready = 1;
	}
	return val;
}

long
ds_base64_decode_to(char *dst, const char *in, size_t len)
{
	const signed char *val = b64table();
	const unsigned char *s = (const unsigned char *)in;
	size_t full, o = 0;
	int pad = 0, a, b, c, d;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	full = pad ? len - 4 : len;
	/* each quad is read whole before its bytes are written, and they
	 * never reach past it: dst may be in */
	for (size_t i = 0; i < full; i += 4) {
		a = val[s[i]], b = val[s[i + 1]];
		c = val[s[i + 2]], d = val[s[i + 3]];
		if ((a | b | c | d) < 0)
			return -1;
		dst[o++] = (char)(a << 2 | b >> 4);
		dst[o++] = (char)((b & 15) << 4 | c >> 2);
		dst[o++] = (char)((c & 3) << 6 | d);
	}
	if (pad) {
		a = val[s[full]], b = val[s[full + 1]];
		c = pad == 1 ? val[s[full + 2]] : 0;
		if ((a | b | c) < 0)
			return -1;
		dst[o++] = (char)(a << 2 | b >> 4);
		if (pad == 1)
			dst[o++] = (char)((b & 15) << 4 | c >> 2);
	}
	return (long)o;
}

char *
ds_base64_decode(const char *in, size_t len, size_t *outlen)
{
	char *out;
	long n;

	if (len % 4 != 0 || (out = malloc(len / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((n = ds_base64_decode_to(out, in, len)) < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	if (outlen)
		*outlen = (size_t)n;
	return out;
}

/* How many bytes at s[i] are written as \xNN each: 0 when s[i] passes.
 * For a log line or the status port every control byte, DEL and the
 * backslash (so an escape stays unambiguous). For a terminal the control
 * bytes but tab, CR and LF, DEL, and a C1 control in UTF-8 (C2 80 to
 * C2 9F: U+009B is a CSI to terminals that decode UTF-8). */
static size_t
escape_len(const unsigned char *s, size_t i, size_t len, int terminal)
{
	unsigned char c = s[i];

	if (!terminal)
		return c < 0x20 || c == 0x7F || c == '\\';
	if (c == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
		return 2;
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F;
}

static size_t
escape(char *dst, size_t dstsize, const char *src, size_t srclen,
    int terminal)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, n;

	if (dstsize == 0)
		return 0;
	for (size_t i = 0; i < srclen; i += n) {
		if ((n = escape_len(s, i, srclen, terminal)) == 0) {
			if (o + 1 >= dstsize)
				break;
			dst[o++] = (char)s[i];
			n = 1;
			continue;
		}
		if (o + 4 * n >= dstsize)	/* cut at a whole escape */
			break;
		for (size_t k = 0; k < n; k++, o += 4)
			snprintf(dst + o, 5, "\\x%02X", s[i + k]);
	}
	dst[o] = '\0';
	return o;
}

size_t
ds_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	return escape(dst, dstsize, src, srclen, 0);
}

size_t
ds_escape_terminal(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	return escape(dst, dstsize, src, srclen, 1);
}

static int
is_bare(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == '"' || c == '\\' || c == '=' || c >= 0x7F)
			return 0;
	}
	return 1;
}

const char *
ds_logval(char *dst, size_t dstsize, const char *src)
{
	size_t o = 0;

	if (dstsize < 3) {
		if (dstsize)
			dst[0] = '\0';
		return dst;
	}
	if (src == NULL)
		src = "";
	if (is_bare(src)) {
		snprintf(dst, dstsize, "%s", src);
		return dst;
	}
	dst[o++] = '"';
	for (; *src && o + 2 < dstsize; src++) {
		size_t n;

		if (*src == '"') {
			if (o + 3 >= dstsize)
				break;
			dst[o++] = '\\';
			dst[o++] = '"';
			continue;
		}
		n = ds_escape(dst + o, dstsize - o - 1, src, 1);
		if (n == 0)	/* a cut escape ends the value */
			break;
		o += n;
		if (o + 2 >= dstsize)
			break;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return dst;
}

/* The @ that ends the userinfo of uri's authority, or NULL when it has
 * none; *auth is where the authority starts. */
static const char *
userinfo_end(const char *uri, const char **auth)
{
	const char *end, *at = NULL;

	*auth = strstr(uri, "://");
	if (*auth == NULL || memchr(uri, '/', (size_t)(*auth - uri)) != NULL)
		return NULL;
	*auth += 3;
	end = *auth + strcspn(*auth, "/?#");
	/* the host follows the last @: a password may hold one unescaped */
	for (const char *p = *auth; p < end; p++)
		if (*p == '@')
			at = p;
	return at;
}

int
ds_uri_has_userinfo(const char *uri)
{
	const char *auth;

	return userinfo_end(uri, &auth) != NULL;
}

const char *
ds_uri_redact(char *dst, size_t dstsize, const char *uri)
{
	const char *auth, *at;

	if (dstsize == 0)
		return dst;
	if ((at = userinfo_end(uri, &auth)) == NULL)
		snprintf(dst, dstsize, "%s", uri);
	else
		snprintf(dst, dstsize, "%.*s***%s", (int)(auth - uri), uri, at);
	return dst;
}
