#ifndef BUILDER_BASE64_H
#define BUILDER_BASE64_H

/*
 * Base64 (RFC 4648), both alphabets, always padded on output:
 *  - standard ("+/"): the `auth` field of config.json;
 *  - URL-safe ("-_"): X-Registry-Auth and X-Registry-Config, which the
 *    engine decodes with Go's base64.URLEncoding (padded).
 *
 * The char * variants allocate exactly once, so that encoding a secret
 * leaves no stray copies behind in freed memory; callers holding secrets
 * zero the result before freeing it.
 */

#include <stddef.h>

struct buf;

/* Appends the encoding of data to out; -1 when out's ceiling is reached. */
int base64_encode_buf(struct buf *out, const void *data, size_t len);
int base64url_encode_buf(struct buf *out, const void *data, size_t len);

/* Returns the encoding as an owned, NUL-terminated string. */
char *base64_encode(const void *data, size_t len);
char *base64url_encode(const void *data, size_t len);

/*
 * Decodes standard base64 from s (len bytes). Padding is optional; CR and LF
 * are skipped (as Go's decoder does); any other character outside the
 * alphabet, misplaced '=', or a length that cannot be base64 is rejected.
 * On success returns 0 and sets *out to an owned buffer of *out_len bytes
 * plus a terminating NUL (the data itself may contain NULs). On failure
 * returns -1 and sets *out to NULL.
 */
int base64_decode(const char *s, size_t len, char **out, size_t *out_len);

#endif
