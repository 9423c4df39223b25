/* text.h: byte-string helpers shared by the worker and the master: UTF-8
 * validation, base64, and escaping of control characters so that one value
 * always stays on one line of a log or the status port. */
#ifndef DS_TEXT_H
#define DS_TEXT_H

#include <stddef.h>

/* The value of one hex digit (either case), or -1. */
int ds_hex_digit(char c);

/* True when buf[0..len) is well-formed UTF-8 with no NUL byte (what a C string
 * inside a JSON document can carry). */
int ds_utf8_valid(const char *buf, size_t len);

/* The length of the base64 text of len bytes. */
#define DS_BASE64_LEN(len)	(((len) + 2) / 3 * 4)

/* Returns a malloc'd NUL-terminated encoding; NULL on allocation failure. */
char *ds_base64_encode(const void *in, size_t len, size_t *outlen);

/* Writes the encoding and a NUL to dst, which has room for
 * DS_BASE64_LEN(len) + 1 bytes; returns the encoding's length. */
size_t ds_base64_encode_to(char *dst, const void *in, size_t len);

/* Decodes standard base64 (padding required, no whitespace). Returns a
 * malloc'd buffer (NUL-terminated for convenience) or NULL when the input is
 * not valid base64 or memory ran out. */
char *ds_base64_decode(const char *in, size_t len, size_t *outlen);

/* Decodes as ds_base64_decode() into dst (len / 4 * 3 bytes of room; dst
 * may be in itself, for a decode in place). Returns the decoded length, or
 * -1 when in is not valid base64. Writes no NUL. */
long ds_base64_decode_to(char *dst, const char *in, size_t len);

/* Copies src to dst, writing control bytes, DEL and backslash as \xNN.
 * Always NUL-terminates when dstsize > 0; truncates at a whole escape.
 * Returns the length written. */
size_t ds_escape(char *dst, size_t dstsize, const char *src, size_t srclen);

/* As ds_escape(), for text shown on a terminal (driveshaft --query): tab,
 * CR and LF pass, so lines and columns stay; the backslash passes too, so
 * Prometheus label escapes read as sent. Every other control byte, DEL
 * and a C1 control encoded in UTF-8 (an ESC or CSI starting a sequence
 * that retitles or reprograms the terminal) is written as \xNN. */
size_t ds_escape_terminal(char *dst, size_t dstsize, const char *src,
    size_t srclen);

/* Formats a value for a key=value log line: bare when it is made only of
 * safe characters, otherwise double-quoted with " and control bytes escaped. */
const char *ds_logval(char *dst, size_t dstsize, const char *src);

/* Room for any value of up to DS_LOGVAL_IN bytes (a gearman function name,
 * handle or unique, a reason) with every byte escaped, quotes and NUL:
 * one buffer type, so no call site cuts a long handle short. */
#define DS_LOGVAL_IN 512
struct ds_lv {
	char s[4 * DS_LOGVAL_IN + 3];
};
#define DS_LV(buf, src) ds_logval((buf).s, sizeof((buf).s), (src))

/* Copies uri to dst with any user:password@ of its authority shown as
 * ***@, so that credentials reach no log, title or status line. Always
 * NUL-terminates when dstsize > 0. Returns dst. */
const char *ds_uri_redact(char *dst, size_t dstsize, const char *uri);

/* True when uri's authority carries a user:password@ (what
 * ds_uri_redact() hides). */
int ds_uri_has_userinfo(const char *uri);

#endif
