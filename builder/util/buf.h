#ifndef BUILDER_BUF_H
#define BUILDER_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * struct buf: a growable byte buffer with a hard ceiling.
 *
 * Every buffer fed by something outside our control (the engine, a file, a
 * helper program) has a maximum size, set at init. Appending past it fails
 * with -1 and leaves the buffer as it was. The data is always NUL-terminated,
 * so b->data can be used as a C string when it holds text.
 *
 *	struct buf b = BUF_INIT;
 *	buf_init(&b, 64 * 1024);
 *	if (buf_add(&b, bytes, n) < 0)
 *		... too large ...
 *	buf_release(&b);
 *
 * A buffer initialized with BUF_INIT and never buf_init()ed has no ceiling
 * beyond BUF_DEFAULT_MAX.
 */

#define BUF_DEFAULT_MAX (16u * 1024 * 1024)

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

#define BUF_INIT              \
	{                     \
		NULL, 0, 0, 0 \
	}

/* Sets the ceiling; the buffer must be empty or freshly BUF_INIT. */
void buf_init(struct buf *b, size_t max);

/* Allocates room for n bytes at once, so that appending up to n bytes never
 * reallocates (for secrets: no stale copy is left in freed memory).
 * Returns -1 when n is above the ceiling. */
int buf_reserve(struct buf *b, size_t n);

/* Frees the memory; the buffer can be used again afterwards. NULL is fine. */
void buf_release(struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Appenders: 0 on success, -1 when the ceiling would be exceeded. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends s percent-encoded for a URL query value or path segment. */
int buf_add_urlencoded(struct buf *b, const char *s);

/* Returns the data as a string the caller owns; the buffer is left empty. */
char *buf_detach(struct buf *b);

/* Returns data for printing: "" when nothing was ever added. */
const char *buf_str(const struct buf *b);

#endif
