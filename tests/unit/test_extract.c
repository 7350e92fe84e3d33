/*
 * Safe extraction of test results (builder/context/extract.c), with tar
 * streams crafted byte by byte here (ustar headers written by hand, so
 * that absolute names, '..', links out and devices can be put in), fed
 * both by pulls and, through the thread adapter, by pushes of every size.
 * After each case nothing may exist outside the destination but what the
 * test itself made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context/extract.h"
#include "unit.h"
#include "util/buf.h"

static char scratch[256]; /* per test: scratch/dest and scratch/outside */
static char dest[300], outside[300];

/* --- crafting tars ----------------------------------------------------- */

static void octal(char *field, size_t len, unsigned long long v)
{
	/* Right-aligned octal digits, then the NUL. */
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
	field[len - 1] = '\0';
}

/* Appends a ustar header (and data, padded) to t. */
static void tar_entry(struct buf *t, const char *name, char type, int mode,
		      const char *link, const char *data,
		      unsigned long long size)
{
	char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	octal(h + 100, 8, (unsigned)mode);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 0);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	buf_add(t, h, sizeof(h));
	if (data) {
		size_t pad = (512 - size % 512) % 512;

		buf_add(t, data, size);
		for (size_t i = 0; i < pad; i++)
			buf_addch(t, '\0');
	}
}

static void tar_file(struct buf *t, const char *name, const char *data)
{
	tar_entry(t, name, '0', 0644, NULL, data, strlen(data));
}

static void tar_end(struct buf *t)
{
	char z[1024];

	memset(z, 0, sizeof(z));
	buf_add(t, z, sizeof(z));
}

/* --- feeding ----------------------------------------------------------- */

struct mem {
	const char *data;
	size_t len, off, step;
};

static long mem_read(char *dst, size_t max, void *ctx, struct error *err)
{
	struct mem *m = ctx;
	size_t n = m->len - m->off;

	(void)err;
	if (n > max)
		n = max;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(dst, m->data + m->off, n);
	m->off += n;
	return (long)n;
}

static int run_pull(const struct buf *t, const struct extract_options *lim,
		    struct extract_result *res, struct error *err)
{
	struct mem m = { t->data, t->len, 0, 7 };

	return extract_tar(dest, mem_read, &m, lim, res, err);
}

/* Pushes t in pieces of step bytes, as engine_do() would. */
static int run_push(const struct buf *t, size_t step,
		    const struct extract_options *lim,
		    struct extract_result *res, struct error *err)
{
	struct extract_job *job = NULL;
	int rc = 0;

	if (extract_start(&job, dest, lim, res, err) < 0)
		return -1;
	for (size_t off = 0; off < t->len && !rc; off += step) {
		size_t n = t->len - off < step ? t->len - off : step;

		rc = extract_feed(t->data + off, n, job, err);
	}
	if (rc)
		err_clear(err);
	return extract_finish(job, rc, err);
}

/* --- checking ---------------------------------------------------------- */

static void setup(void)
{
	char cmd[600];

	snprintf(scratch, sizeof(scratch), "/tmp/test_extract.%d",
		 (int)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		abort();
	snprintf(dest, sizeof(dest), "%s/dest/results", scratch);
	snprintf(outside, sizeof(outside), "%s/outside", scratch);
	if (mkdir(scratch, 0700) < 0 || mkdir(outside, 0700) < 0)
		abort();
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		abort();
}

static int exists(const char *rel)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	return lstat(p, &st) == 0;
}

static char *slurp(const char *rel)
{
	static char data[256];
	char p[600];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	fd = open(p, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	data[n < 0 ? 0 : n] = '\0';
	return data;
}

/* Entries under outside/: only what the test put there. */
static int outside_count(void)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 | wc -l", outside);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static int refused_has(const struct extract_result *res, const char *line)
{
	return strlist_has(&res->refused, line);
}

/* --- tests ------------------------------------------------------------- */

static void test_plain(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;

	setup();
	tar_entry(&t, "out/", '5', 0755, NULL, NULL, 0);
	tar_file(&t, "out/junit.xml", "<testsuite/>");
	tar_file(&t, "./out/sub/cov.txt", "covered");
	tar_entry(&t, "out/run.sh", '0', 04755, NULL, "x", 1);
	tar_entry(&t, "out/link", '2', 0777, "sub/cov.txt", NULL, 0);
	tar_entry(&t, "out/hard", '1', 0644, "out/junit.xml", NULL, 0);
	tar_end(&t);
	CHECK(run_pull(&t, NULL, &res, &err) == 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(slurp("dest/results/out/junit.xml"), "<testsuite/>");
	CHECK_STR(slurp("dest/results/out/sub/cov.txt"), "covered");
	CHECK_STR(slurp("dest/results/out/hard"), "<testsuite/>");
	{
		char p[600], target[64] = "";
		struct stat st;

		snprintf(p, sizeof(p), "%s/out/link", dest);
		CHECK(readlink(p, target, sizeof(target) - 1) > 0);
		CHECK_STR(target, "sub/cov.txt");
		snprintf(p, sizeof(p), "%s/out/run.sh", dest);
		CHECK(stat(p, &st) == 0 && !(st.st_mode & 07000) &&
		      (st.st_mode & 0100));
	}
	CHECK(res.files == 6);
	CHECK(res.bytes == strlen("<testsuite/>") + strlen("covered") + 1);
	CHECK(res.refused_count == 0);
	CHECK_STR(res.stopped, "");
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

/* Every way out a hostile archive has, in one stream: each entry refused
 * and named, the harmless ones around them extracted. */
static void hostile(int push, size_t step)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	char abs_name[400], line[500];
	int rc;

	setup();
	snprintf(abs_name, sizeof(abs_name), "%s/abs", outside);
	tar_file(&t, "ok-before", "1");
	tar_file(&t, abs_name, "pwned");
	tar_file(&t, "../../outside/dotdot", "pwned");
	tar_file(&t, "a/../../../outside/dotdot2", "pwned");
	tar_entry(&t, "root", '2', 0777, "/", NULL, 0);
	tar_file(&t, "root/etc-file", "inside, as a file under a new dir");
	tar_entry(&t, "up", '2', 0777, "../../outside", NULL, 0);
	tar_entry(&t, "d/e/L", '2', 0777, "../..", NULL, 0); /* inside */
	tar_entry(&t, "M", '2', 0777, "d/e/L/..", NULL, 0); /* escapes */
	tar_entry(&t, "M2", '2', 0777, "d/../..", NULL, 0);
	/* Lexically inside, but L is a link to the root: out by two. */
	tar_entry(&t, "d/e/M3", '2', 0777, "L/../..", NULL, 0);
	tar_entry(&t, "h-abs", '1', 0644, "/etc/passwd", NULL, 0);
	tar_entry(&t, "h-up", '1', 0644, "../outside/victim", NULL, 0);
	tar_entry(&t, "fifo", '6', 0644, NULL, NULL, 0);
	tar_entry(&t, "null", '3', 0666, NULL, NULL, 0);
	tar_entry(&t, "disk", '4', 0666, NULL, NULL, 0);
	tar_file(&t, "ok-after", "2");
	tar_end(&t);
	rc = push ? run_push(&t, step, NULL, &res, &err)
		  : run_pull(&t, NULL, &res, &err);
	CHECK(rc == 0);
	CHECK_STR(err.msg, "");
	CHECK(outside_count() == 0);
	CHECK_STR(slurp("dest/results/ok-before"), "1");
	CHECK_STR(slurp("dest/results/ok-after"), "2");
	CHECK_STR(slurp("dest/results/root/etc-file"),
		  "inside, as a file under a new dir");
	CHECK(exists("dest/results/d/e/L"));
	CHECK(!exists("dest/results/M") && !exists("dest/results/M2"));
	CHECK(!exists("dest/results/fifo") && !exists("dest/results/null"));
	snprintf(line, sizeof(line), "%s: absolute name", abs_name);
	CHECK(refused_has(&res, line));
	CHECK(refused_has(&res,
			  "../../outside/dotdot: name with a '..' component"));
	CHECK(refused_has(
		&res,
		"a/../../../outside/dotdot2: name with a '..' component"));
	CHECK(refused_has(&res,
			  "root: symbolic link pointing outside the results"));
	CHECK(refused_has(&res,
			  "up: symbolic link pointing outside the results"));
	CHECK(refused_has(&res,
			  "M: symbolic link pointing outside the results"));
	CHECK(refused_has(&res,
			  "M2: symbolic link pointing outside the results"));
	CHECK(refused_has(&res,
			  "h-abs: hard link to a name outside the results"));
	CHECK(refused_has(&res,
			  "h-up: hard link to a name outside the results"));
	CHECK(refused_has(&res, "fifo: a FIFO"));
	CHECK(refused_has(&res, "null: a character device"));
	CHECK(refused_has(&res, "disk: a block device"));
	CHECK(refused_has(
		&res, "d/e/M3: symbolic link pointing outside the results"));
	CHECK(res.refused_count == 13);
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_hostile_pull(void)
{
	hostile(0, 0);
}

static void test_hostile_push(void)
{
	static const size_t steps[] = { 1, 511, 512, 513, 4096, 1 << 20 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		hostile(1, steps[i]);
}

/* What is already on disk is not followed either: a link to outside and a
 * hard link to an outside file sitting in the destination. */
static void test_existing_links(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	char p[600], q[600];
	int fd;

	setup();
	snprintf(p, sizeof(p), "%s/dest", scratch);
	CHECK(mkdir(p, 0755) == 0 && mkdir(dest, 0755) == 0);
	snprintf(p, sizeof(p), "%s/pre", dest);
	CHECK(symlink(outside, p) == 0);
	snprintf(q, sizeof(q), "%s/victim", outside);
	fd = open(q, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && write(fd, "safe", 4) == 4);
	close(fd);
	snprintf(p, sizeof(p), "%s/shared", dest);
	CHECK(link(q, p) == 0);
	snprintf(p, sizeof(p), "%s/flink", dest);
	CHECK(symlink(q, p) == 0);

	tar_file(&t, "pre/pwn", "pwned");
	tar_file(&t, "shared", "new");
	tar_file(&t, "flink", "new too");
	tar_end(&t);
	CHECK(run_pull(&t, NULL, &res, &err) == 0);
	CHECK_STR(slurp("outside/victim"), "safe");
	CHECK(!exists("outside/pwn"));
	CHECK_STR(slurp("dest/results/shared"), "new");
	CHECK_STR(slurp("dest/results/flink"), "new too");
	CHECK(refused_has(
		&res, "pre/pwn: a directory on its way is not a directory"));
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_byte_cap(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	struct extract_options lim = { .max_bytes = 10 };

	setup();
	tar_file(&t, "a", "12345");
	/* 2 GB claimed, no data: refused on its header alone. */
	tar_entry(&t, "sparse.bin", '0', 0644, NULL, NULL, 2ull << 30);
	tar_end(&t);
	CHECK(run_pull(&t, &lim, &res, &err) == 0);
	CHECK_STR(slurp("dest/results/a"), "12345");
	CHECK(!exists("dest/results/sparse.bin"));
	CHECK_STR(res.stopped, "the results exceed 10 bytes ('sparse.bin' "
			       "alone has 2147483648)");
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

/* Stopped by the cap with data still coming: the feed is refused (the
 * transfer is cut) and the verdict is still a success. */
static void test_byte_cap_push(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	struct extract_options lim = { .max_bytes = 1000 };
	static char big[600 * 1024];

	setup();
	memset(big, 'z', sizeof(big));
	tar_file(&t, "a", "12345");
	tar_entry(&t, "big", '0', 0644, NULL, big, sizeof(big));
	tar_end(&t);
	CHECK(run_push(&t, 4096, &lim, &res, &err) == 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(slurp("dest/results/a"), "12345");
	CHECK(!exists("dest/results/big"));
	CHECK(strstr(res.stopped, "exceed 1000 bytes") != NULL);
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_file_cap(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	struct extract_options lim = { .max_files = 3 };

	setup();
	tar_file(&t, "1", "a");
	tar_entry(&t, "fifo", '6', 0644, NULL, NULL, 0);
	tar_file(&t, "2", "b");
	tar_file(&t, "3", "c");
	tar_end(&t);
	CHECK(run_pull(&t, &lim, &res, &err) == 0);
	CHECK(exists("dest/results/2") && !exists("dest/results/3"));
	CHECK_STR(res.stopped, "the results hold more than 3 entries (at '3')");
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_sparse_hole_and_replace(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;

	setup();
	tar_file(&t, "f", "first version, longer");
	tar_file(&t, "f", "second");
	tar_entry(&t, "d", '5', 0755, NULL, NULL, 0);
	tar_file(&t, "d", "a file where a directory is");
	tar_end(&t);
	CHECK(run_pull(&t, NULL, &res, &err) == 0);
	CHECK_STR(slurp("dest/results/f"), "second");
	CHECK(refused_has(&res, "d: a directory is already there"));
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_not_tar(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;

	setup();
	buf_addstr(&t, "{\"message\":\"this is json, not a tar\"}");
	for (int i = 0; i < 600; i++)
		buf_addch(&t, 'x');
	CHECK(run_pull(&t, NULL, &res, &err) < 0);
	CHECK(strstr(err.msg, "the results are not a tar stream") == err.msg);
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

/* A transfer cut in the middle of a file: an error, said as such. */
static void test_cut(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	struct extract_job *job = NULL;
	static char big[8192];

	setup();
	tar_entry(&t, "big", '0', 0644, NULL, big, sizeof(big));
	CHECK(extract_start(&job, dest, NULL, &res, &err) == 0);
	CHECK(extract_feed(t.data, 2000, job, &err) == 0);
	CHECK(extract_finish(job, -1, &err) < 0);
	CHECK(strstr(err.msg, "cut short") != NULL);
	if (!strstr(err.msg, "cut short"))
		fprintf(stderr, "got: %s\n", err.msg);
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

/* The archive of a directory: its contents go into the destination; an
 * entry beside it is refused; links are taken relative to it. The archive
 * of a file keeps the file's name. */
static void test_strip_top_dir(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	struct extract_options opt = { .strip_top_dir = 1 };

	setup();
	tar_entry(&t, "out/", '5', 0755, NULL, NULL, 0);
	tar_file(&t, "out/junit.xml", "<testsuite/>");
	tar_entry(&t, "out/sub", '5', 0755, NULL, NULL, 0);
	tar_file(&t, "out/sub/b.xml", "b");
	tar_entry(&t, "out/hard", '1', 0644, "out/junit.xml", NULL, 0);
	tar_entry(&t, "out/hard2", '1', 0644, "junit.xml", NULL, 0);
	tar_entry(&t, "out/up", '2', 0777, "..", NULL, 0);
	tar_file(&t, "beside", "x");
	tar_end(&t);
	CHECK(run_pull(&t, &opt, &res, &err) == 0);
	CHECK_STR(slurp("dest/results/junit.xml"), "<testsuite/>");
	CHECK_STR(slurp("dest/results/sub/b.xml"), "b");
	CHECK_STR(slurp("dest/results/hard"), "<testsuite/>");
	CHECK(!exists("dest/results/out") && !exists("dest/results/beside"));
	CHECK(refused_has(&res, "beside: outside the directory copied"));
	CHECK(refused_has(
		&res, "out/hard2: hard link to a name outside the results"));
	CHECK(refused_has(
		&res, "out/up: symbolic link pointing outside the results"));
	CHECK(res.written.n == 2);
	CHECK(strlist_has(&res.written, "junit.xml"));
	CHECK(strlist_has(&res.written, "sub/b.xml"));
	extract_result_release(&res);
	buf_release(&t);

	tar_file(&t, "junit.xml", "<testsuite/>");
	tar_end(&t);
	memset(&res, 0, sizeof(res));
	CHECK(run_pull(&t, &opt, &res, &err) == 0);
	CHECK_STR(slurp("dest/results/junit.xml"), "<testsuite/>");
	CHECK(res.written.n == 1 && !strcmp(res.written.v[0], "junit.xml"));
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

static void test_unwritable_dest(void)
{
	struct buf t = BUF_INIT(BUF_TEXT_MAX);
	struct extract_result res = { 0 };
	struct error err = ERROR_INIT;
	char p[600];
	int fd;

	setup();
	snprintf(p, sizeof(p), "%s/dest", scratch);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	tar_end(&t);
	CHECK(run_pull(&t, NULL, &res, &err) < 0);
	CHECK(strstr(err.msg, "cannot create") != NULL);
	extract_result_release(&res);
	buf_release(&t);
	teardown();
}

int main(void)
{
	RUN(test_plain);
	RUN(test_hostile_pull);
	RUN(test_hostile_push);
	RUN(test_existing_links);
	RUN(test_byte_cap);
	RUN(test_byte_cap_push);
	RUN(test_file_cap);
	RUN(test_sparse_hole_and_replace);
	RUN(test_not_tar);
	RUN(test_cut);
	RUN(test_strip_top_dir);
	RUN(test_unwritable_dest);
	return unit_summary();
}
