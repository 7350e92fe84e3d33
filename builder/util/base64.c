/*
 * Base64 encoding (standard and URL-safe, padded) and standard decoding;
 * see base64.h. Hand-written because it is thirty lines and the two users
 * (credentials and auth headers) care where secret bytes end up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

static const char std_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

/* Writes encoded_len(len) bytes to dst. */
static void encode(char *dst, const unsigned char *src, size_t len,
		   const char *alphabet)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 |
			     (uint32_t)src[i + 1] << 8 | src[i + 2];

		*dst++ = alphabet[v >> 18 & 63];
		*dst++ = alphabet[v >> 12 & 63];
		*dst++ = alphabet[v >> 6 & 63];
		*dst++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)src[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)src[i + 1] << 8;
		*dst++ = alphabet[v >> 18 & 63];
		*dst++ = alphabet[v >> 12 & 63];
		*dst++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*dst++ = '=';
	}
}

static char *encode_str(const void *data, size_t len, const char *alphabet)
{
	size_t n = encoded_len(len);
	char *s = xmalloc(n + 1);

	encode(s, data, len, alphabet);
	s[n] = '\0';
	return s;
}

char *base64_encode(const void *data, size_t len)
{
	return encode_str(data, len, std_alphabet);
}

char *base64url_encode(const void *data, size_t len)
{
	return encode_str(data, len, url_alphabet);
}

static int encode_buf(struct buf *out, const void *data, size_t len,
		      const char *alphabet)
{
	const unsigned char *p = data;
	char chunk[4 * 256];

	/* whole groups of 3 bytes per chunk, so padding only at the end */
	while (len) {
		size_t n = len > 3 * 256 ? 3 * 256 : len;

		encode(chunk, p, n, alphabet);
		if (buf_add(out, chunk, encoded_len(n)) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int base64_encode_buf(struct buf *out, const void *data, size_t len)
{
	return encode_buf(out, data, len, std_alphabet);
}

int base64url_encode_buf(struct buf *out, const void *data, size_t len)
{
	return encode_buf(out, data, len, url_alphabet);
}

static int decode_char(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t len, char **out, size_t *out_len)
{
	char *dst = xmalloc(len / 4 * 3 + 3 + 1);
	size_t n = 0, i, pad = 0;
	uint32_t acc = 0;
	int bits = 0, quad = 0; /* symbols in the current group of 4 */

	*out = NULL;
	*out_len = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = decode_char(c)) < 0)
			goto fail; /* data after padding, or not base64 */
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		quad = (quad + 1) % 4;
		if (bits >= 8) {
			bits -= 8;
			dst[n++] = (char)(acc >> bits & 0xff);
		}
	}
	/* A final group of one symbol carries no whole byte; padding, when
	 * present, must complete the group exactly. */
	if (quad == 1 || (pad && (quad == 0 || quad + pad != 4)))
		goto fail;
	dst[n] = '\0';
	*out = dst;
	*out_len = n;
	return 0;
fail:
	explicit_bzero(dst, len / 4 * 3 + 3 + 1);
	free(dst);
	return -1;
}
