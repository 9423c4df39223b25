/* text.c: UTF-8 validation, base64 and escaping (see text.h). None of our
 * libraries exports these, so they live here once. */
#include "common/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *
ds_base64_encode(const void *in, size_t len, size_t *outlen)
{
	const unsigned char *s = in;
	size_t n = 4 * ((len + 2) / 3);
	char *out = malloc(n + 1);
	char *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	if (outlen)
		*outlen = n;
	return out;
}

/* A table, not a search per byte: a 64 KiB answer is 87,000 lookups. */
static int
b64val(unsigned char c)
{
	static signed char val[256];
	static int ready;

	if (!ready) {
		memset(val, -1, sizeof(val));
		for (int i = 0; i < 64; i++)
			val[(unsigned char)b64chars[i]] = (signed char)i;
		ready = 1;
	}
	return val[c];
}

char *
ds_base64_decode(const char *in, size_t len, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	char *out, *o;

	if (len % 4 != 0)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i += 4) {
		int last = i + 4 == len;
		int pad = 0;
		uint32_t v = 0;

		for (size_t k = 0; k < 4; k++) {
			int d = b64val(s[i + k]);

			if (s[i + k] == '=' && last && k >= 2 &&
			    (k == 3 || s[i + 3] == '=')) {
				pad++;
				d = 0;
			} else if (d < 0 || pad) {
				free(out);
				return NULL;
			}
			v = (v << 6) | (uint32_t)d;
		}
		*o++ = (char)(v >> 16);
		if (pad < 2)
			*o++ = (char)(v >> 8);
		if (pad < 1)
			*o++ = (char)v;
	}
	*o = '\0';
	if (outlen)
		*outlen = (size_t)(o - out);
	return out;
}

size_t
ds_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	size_t o = 0;

	if (dstsize == 0)
		return 0;
	for (size_t i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c < 0x20 || c == 0x7F || c == '\\') {
			if (o + 4 >= dstsize)
				break;
			snprintf(dst + o, 5, "\\x%02X", c);
			o += 4;
		} else {
			if (o + 1 >= dstsize)
				break;
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return o;
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

const char *
ds_uri_redact(char *dst, size_t dstsize, const char *uri)
{
	const char *auth = strstr(uri, "://"), *end, *at = NULL;

	if (dstsize == 0)
		return dst;
	if (auth == NULL || memchr(uri, '/', (size_t)(auth - uri)) != NULL) {
		snprintf(dst, dstsize, "%s", uri);
		return dst;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	/* the host follows the last @: a password may hold one unescaped */
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		snprintf(dst, dstsize, "%s", uri);
	else
		snprintf(dst, dstsize, "%.*s***%s", (int)(auth - uri), uri, at);
	return dst;
}
