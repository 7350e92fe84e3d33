#ifndef BUILDER_BUF_H
#define BUILDER_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * struct buf: a growable byte buffer with a hard ceiling.
 *
 * Every buffer has a maximum size, always explicit: given to BUF_INIT()
 * or buf_init(). Appending past it fails with -1 and leaves the buffer as it
 * was. A buffer whose ceiling was never set (zeroed memory) refuses to grow:
 * there is no implicit default. The data is always NUL-terminated, so
 * b->data can be used as a C string when it holds text.
 *
 *	struct buf b = BUF_INIT(64 * 1024);
 *	if (buf_add(&b, bytes, n) < 0)
 *		... too large ...
 *	buf_release(&b);
 *
 * The named ceilings below cover most uses; a buffer with a ceiling of its
 * own (a secret, a log line, a protocol frame) names it where it is used.
 */

/* Engine and registry request paths, URLs, object and image names, scopes,
 * file paths: built from short values (ids, references, names). */
#define BUF_PATH_MAX (64u * 1024)
/* Everything else: engine answers, JSON bodies, a build query with many
 * build args and labels, messages, files and text that users can make
 * big. */
#define BUF_TEXT_MAX (16u * 1024 * 1024)

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

#define BUF_INIT(max)             \
	{                         \
		NULL, 0, 0, (max) \
	}

/* Sets the ceiling; the buffer must be empty or freshly BUF_INIT(). */
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

/*
 * Reads the whole file at path into b, which must be empty (BUF_INIT() or
 * released); the ceiling becomes the size reserved. max is the largest size
 *accepted and must not be 0: there is no implicit ceiling here.
 *
 * The memory is reserved once, before the first read, and never grows, so
 * that a secret read this way leaves no stale copy behind in freed memory:
 *
 *  - a regular file gets room for its size (st_size); a file larger than
 *    max is refused before anything is read;
 *  - anything else (a FIFO, /dev/stdin, a character device) and a regular
 *    file that reports size 0 (as /proc files do) get room for max.
 *
 * It reads until end of file; more data than was reserved (a file that grew
 * while it was read, a FIFO that sends more than max) fails with EFBIG.
 * Nothing is copied through the stack: the bytes go straight into b.
 *
 * Returns 0, or -1 with errno set: EINVAL when max is 0 or b is not
 * empty, EFBIG when the file is too large, EINTR when a signal interrupted
 * open() or read() (a FIFO with no writer blocks until one comes), or what
 * open() and read() said.
 * On failure b may hold part of the file: release it as usual (zeroing it
 * first when it may hold a secret).
 *
 *	struct buf pw = BUF_INIT(64 * 1024);
 *	if (buf_read_file(&pw, path, 64 * 1024) < 0)
 *		return error("cannot read '%s': %s", path, strerror(errno));
 */
int buf_read_file(struct buf *b, const char *path, size_t max);

/* Returns the data as a string the caller owns; the buffer is left empty. */
char *buf_detach(struct buf *b);

/* Returns data for printing: "" when nothing was ever added. */
const char *buf_str(const struct buf *b);

#endif
