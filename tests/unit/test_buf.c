/*
 * buf.c: buf_read_file()'s explicit ceiling and its one reservation, for
 * regular files and for FIFOs fed by a writer child in small pieces (the
 * case of REGISTRY_PASSWORD_FILE=/dev/stdin), where st_size says nothing;
 * and no implicit ceiling for any buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "unit.h"

static char scratch[] = "/tmp/builder-test-buf-XXXXXX";

static void path_in(char *dst, size_t n, const char *name)
{
	snprintf(dst, n, "%s/%s", scratch, name);
}

/* Starts a child that opens the FIFO at path and writes len bytes of 'x'
 * in pieces of piece bytes, pausing between them. */
static pid_t fifo_writer(const char *path, size_t len, size_t piece)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char block[8192];
		struct timespec pause = { 0, 2000000 };
		int fd = open(path, O_WRONLY);
		size_t done = 0;

		signal(SIGPIPE, SIG_DFL);
		memset(block, 'x', sizeof(block));
		if (fd < 0)
			_exit(2);
		while (done < len) {
			size_t n = len - done < piece ? len - done : piece;

			if (n > sizeof(block))
				n = sizeof(block);
			if (write(fd, block, n) != (ssize_t)n)
				_exit(3);
			done += n;
			nanosleep(&pause, NULL);
		}
		_exit(0);
	}
	return pid;
}

static int all_x(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->data[i] != 'x')
			return 0;
	return 1;
}

static void test_read_fifo(void)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char fifo[512];
	int status = -1;
	pid_t pid;

	path_in(fifo, sizeof(fifo), "fifo");
	CHECK(mkfifo(fifo, 0600) == 0);

	/* 3000 bytes in 7-byte pieces, max 64 KiB: one reservation of max,
	 * never grown (growth would double the allocation) */
	pid = fifo_writer(fifo, 3000, 7);
	CHECK(buf_read_file(&b, fifo, 64 * 1024) == 0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(b.len == 3000);
	CHECK(all_x(&b));
	CHECK(b.data && b.data[b.len] == '\0');
	CHECK(b.alloc == 64 * 1024 + 1);
	CHECK(b.max == 64 * 1024);
	buf_release(&b);

	/* exactly max bytes is fine */
	pid = fifo_writer(fifo, 4096, 1000);
	CHECK(buf_read_file(&b, fifo, 4096) == 0);
	waitpid(pid, &status, 0);
	CHECK(b.len == 4096 && all_x(&b));
	CHECK(b.alloc == 4096 + 1);
	buf_release(&b);

	/* more than max: EFBIG, without growing */
	pid = fifo_writer(fifo, 70000, 4096);
	errno = 0;
	CHECK(buf_read_file(&b, fifo, 64 * 1024) == -1);
	CHECK(errno == EFBIG);
	CHECK(b.alloc == 64 * 1024 + 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	buf_release(&b);
	unlink(fifo);
}

static void test_read_regular(void)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char p[512];
	FILE *f;

	path_in(p, sizeof(p), "regular");
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("hello\n", f);
	fclose(f);

	/* room for the file's size, not for max */
	CHECK(buf_read_file(&b, p, 1024 * 1024) == 0);
	CHECK_STR(b.data, "hello\n");
	CHECK(b.alloc == 7);
	CHECK(buf_add(&b, "x", 1) == -1); /* the ceiling is the size */
	buf_release(&b);

	/* larger than max: refused before reading */
	errno = 0;
	CHECK(buf_read_file(&b, p, 5) == -1);
	CHECK(errno == EFBIG);
	CHECK(b.len == 0);
	buf_release(&b);

	/* no implicit ceiling: max 0 is refused */
	errno = 0;
	CHECK(buf_read_file(&b, p, 0) == -1);
	CHECK(errno == EINVAL);

	/* a buffer that is not empty */
	buf_init(&b, 100);
	buf_addstr(&b, "a");
	errno = 0;
	CHECK(buf_read_file(&b, p, 100) == -1);
	CHECK(errno == EINVAL);
	buf_release(&b);

	/* missing file */
	path_in(p, sizeof(p), "missing");
	errno = 0;
	CHECK(buf_read_file(&b, p, 100) == -1);
	CHECK(errno == ENOENT);
	buf_release(&b);

	/* an empty regular file: "" */
	path_in(p, sizeof(p), "empty");
	f = fopen(p, "w");
	if (f)
		fclose(f);
	CHECK(buf_read_file(&b, p, 100) == 0);
	CHECK(b.len == 0 && b.data && !*b.data);
	buf_release(&b);

	/* a /proc file reports size 0 but has content: read up to max */
	CHECK(buf_read_file(&b, "/proc/self/stat", 64 * 1024) == 0);
	CHECK(b.len > 0);
	buf_release(&b);
}

/* The ceiling is always explicit: a buffer whose ceiling was never set
 * (zeroed memory) refuses to grow; BUF_INIT(max) holds exactly max. */
static void test_ceiling_explicit(void)
{
	struct buf zero, b = BUF_INIT(8);

	memset(&zero, 0, sizeof(zero));
	CHECK(buf_addch(&zero, 'x') < 0);
	CHECK(zero.len == 0 && zero.data == NULL);
	CHECK(buf_reserve(&zero, 1) < 0);
	CHECK(buf_addstr(&b, "12345678") == 0);
	CHECK(buf_addch(&b, '9') < 0);
	CHECK(b.len == 8 && !strcmp(b.data, "12345678"));
	buf_release(&b);
	CHECK(b.max == 8); /* released, the ceiling stays */
	CHECK(BUF_PATH_MAX >= 4096 && BUF_TEXT_MAX >= 16u * 1024 * 1024);
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_read_fifo);
	RUN(test_read_regular);
	RUN(test_ceiling_explicit);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", scratch);
	return unit_summary();
}
