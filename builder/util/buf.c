/*
 * The one buffer type. See buf.h for the contract; the ceiling is what keeps
 * a misbehaving daemon from growing our memory without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static size_t ceiling(const struct buf *b)
{
	return b->max; /* 0: never set, so nothing fits */
}

static int grow(struct buf *b, size_t extra)
{
	size_t want;

	if (extra > ceiling(b) || b->len > ceiling(b) - extra)
		return -1;
	want = b->len + extra + 1;
	if (want > b->alloc) {
		size_t n = b->alloc ? b->alloc : 64;

		while (n < want)
			n *= 2;
		b->data = xrealloc(b->data, n);
		b->alloc = n;
	}
	return 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	if (n > ceiling(b))
		return -1;
	if (n + 1 > b->alloc) {
		b->data = xrealloc(b->data, n + 1);
		b->alloc = n + 1;
		b->data[b->len] = '\0';
	}
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return ret;
}

int buf_add_urlencoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			if (buf_addch(b, (char)c) < 0)
				return -1;
		} else {
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (buf_add(b, enc, 3) < 0)
				return -1;
		}
	}
	return 0;
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
	struct stat st;
	size_t room;
	char probe = 0;
	ssize_t n;
	int fd = -1, ret = -1, saved;

	if (!max || b->len) {
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	room = max;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((unsigned long long)st.st_size > max) {
			errno = EFBIG;
			goto out;
		}
		room = (size_t)st.st_size;
	}
	buf_init(b, room);
	if (buf_reserve(b, room) < 0) {
		errno = EFBIG;
		goto out;
	}
	for (;;) {
		/* Read into the reserved room; once it is full, one byte more
		 * tells end of file from a file that is too large. */
		if (b->len < room)
			n = read(fd, b->data + b->len, room - b->len);
		else
			n = read(fd, &probe, 1);
		if (n < 0)
			goto out; /* EINTR included: let the caller see signals
				   */
		if (n == 0)
			break;
		if (b->len == room) {
			errno = EFBIG;
			goto out;
		}
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	ret = 0;
out:
	saved = errno;
	if (b->data)
		b->data[b->len] = '\0';
	explicit_bzero(&probe, sizeof(probe));
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ret;
}

char *buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->alloc = 0;
	return s;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
