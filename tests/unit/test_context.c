/*
 * The build context: the tar members of a small tree, the path below the
 * context root, the Dockerfile's resolution, and the first error kept when
 * an upload stops half-way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "context/context.h"
#include "util/buf.h"
#include "unit.h"

static char scratch[] = "/tmp/builder-unit-context-XXXXXX";

static void put(const char *rel, const char *text)
{
	struct buf p = BUF_INIT(BUF_TEXT_MAX);
	FILE *f;

	buf_addf(&p, "%s/%s", scratch, rel);
	f = fopen(p.data, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	buf_release(&p);
}

static char *at(const char *rel)
{
	struct buf p = BUF_INIT(BUF_TEXT_MAX);

	buf_addf(&p, "%s/%s", scratch, rel);
	return buf_detach(&p);
}

/* Reads the whole archive of ctx into out, in 7000-byte reads. */
static int read_all(struct context *ctx, struct buf *out, struct error *err)
{
	char block[7000];
	long n;

	while ((n = context_read(block, sizeof(block), ctx, err)) > 0)
		buf_add(out, block, (size_t)n);
	return n < 0 ? -1 : 0;
}

/* The member names of a tar in memory, each followed by '\n'. */
static void members(const struct buf *tar, struct buf *names)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, tar->data, tar->len) == ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		buf_addf(names, "%s\n", archive_entry_pathname(e));
	archive_read_free(a);
}

static void test_members_of_small_tree(void)
{
	struct context *ctx = NULL;
	struct error err = ERROR_INIT;
	struct buf tar = BUF_INIT(BUF_TEXT_MAX), names = BUF_INIT(BUF_TEXT_MAX);
	char *dir = at("tree"), *sub = at("tree/sub");

	CHECK(mkdir(dir, 0755) == 0);
	put("tree/Dockerfile", "FROM scratch\n");
	put("tree/.dockerignore", "*.tmp\n");
	put("tree/x.tmp", "ignored\n");
	put("tree/b.txt", "b\n");
	CHECK(mkdir(sub, 0755) == 0);
	put("tree/sub/a.txt", "a\n");
	CHECK(context_open(&ctx, dir, NULL, &err) == 0);
	if (ctx) {
		CHECK_STR(context_dockerfile(ctx), "Dockerfile");
		CHECK(read_all(ctx, &tar, &err) == 0);
		members(&tar, &names);
		CHECK_STR(names.data, ".dockerignore\nDockerfile\nb.txt\nsub/\n"
				      "sub/a.txt\n");
		CHECK(context_files(ctx) == 5);
	}
	CHECK_STR(err.msg, "");
	context_close(ctx);
	buf_release(&tar);
	buf_release(&names);
	free(dir);
	free(sub);
}

/* context_open_path(): one directory or file under a new name, for
 * PUT /containers/{id}/archive?path=/ (compose binds on remote engines). */
static void test_one_path(void)
{
	struct context *ctx = NULL;
	struct error err = ERROR_INIT;
	struct buf tar = BUF_INIT(BUF_TEXT_MAX), names = BUF_INIT(BUF_TEXT_MAX);
	char *dir = at("one"), *sub = at("one/sub"), *file = at("one/b.txt");

	CHECK(mkdir(dir, 0755) == 0);
	put("one/.dockerignore", "*\n");
	put("one/b.txt", "b\n");
	CHECK(mkdir(sub, 0755) == 0);
	put("one/sub/a.txt", "a\n");
	CHECK(context_open_path(&ctx, dir, "/app/tests", &err) == 0);
	if (ctx) {
		CHECK(read_all(ctx, &tar, &err) == 0);
		members(&tar, &names);
		CHECK_STR(names.data, "app/tests/\napp/tests/.dockerignore\n"
				      "app/tests/b.txt\napp/tests/sub/\n"
				      "app/tests/sub/a.txt\n");
	}
	context_close(ctx);
	ctx = NULL;
	buf_reset(&tar);
	buf_reset(&names);
	CHECK(context_open_path(&ctx, file, "/etc/b.conf", &err) == 0);
	if (ctx) {
		CHECK(read_all(ctx, &tar, &err) == 0);
		members(&tar, &names);
		CHECK_STR(names.data, "etc/b.conf\n");
	}
	CHECK_STR(err.msg, "");
	context_close(ctx);
	ctx = NULL;
	CHECK(context_open_path(&ctx, "/nonexistent/x", "x", &err) < 0);
	CHECK(err.code == EXIT_USAGE);
	buf_release(&tar);
	buf_release(&names);
	free(dir);
	free(sub);
	free(file);
}

/* The engine goes away while a large file is half sent: the caller's error
 * (exit 3) must survive context_close(), which pads the rest of the entry. */
static void test_close_keeps_first_error(void)
{
	struct context *ctx = NULL;
	struct error err = ERROR_INIT;
	char *dir = at("big"), *file = at("big/big.bin");
	char block[65536];
	int fd;

	CHECK(mkdir(dir, 0755) == 0);
	put("big/Dockerfile", "FROM scratch\n");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 64L << 20) == 0);
	close(fd);
	CHECK(context_open(&ctx, dir, NULL, &err) == 0);
	for (int i = 0; ctx && i < 40; i++)
		CHECK(context_read(block, sizeof(block), ctx, &err) > 0);
	err_set(&err, EXIT_ENGINE, "lost the connection to the engine");
	context_close(ctx);
	CHECK(err.code == EXIT_ENGINE);
	CHECK_STR(err.msg, "lost the connection to the engine");
	free(dir);
	free(file);
}

/* A file that shrinks by far more than the pending buffer while it is
 * read: the error names it, and closing keeps that error. */
static void test_shrinking_file_named(void)
{
	struct context *ctx = NULL;
	struct error err = ERROR_INIT;
	char *dir = at("shrink"), *file = at("shrink/big.bin");
	char block[65536];
	long n = 0;
	int fd;

	CHECK(mkdir(dir, 0755) == 0);
	put("shrink/Dockerfile", "FROM scratch\n");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 64L << 20) == 0);
	CHECK(context_open(&ctx, dir, NULL, &err) == 0);
	for (int i = 0; ctx && i < 40; i++)
		CHECK(context_read(block, sizeof(block), ctx, &err) > 0);
	CHECK(ftruncate(fd, 1L << 20) == 0);
	close(fd);
	while (ctx && (n = context_read(block, sizeof(block), ctx, &err)) > 0)
		;
	CHECK(n < 0);
	context_close(ctx);
	CHECK(err.code == EXIT_BUILD);
	CHECK(strstr(err.msg, "'big.bin' in the context shrank") != NULL);
	free(dir);
	free(file);
}

static void test_relpath(void)
{
	CHECK_STR(context_relpath("/", "/dev"), "dev");
	CHECK_STR(context_relpath("/", "/var/run/docker.sock"),
		  "var/run/docker.sock");
	CHECK_STR(context_relpath("/srv/app", "/srv/app/a/b"), "a/b");
	CHECK_STR(context_relpath("/srv/app/", "/srv/app/a"), "a");
	CHECK(context_relpath("/srv/app", "/srv/apple") == NULL);
	CHECK(context_relpath("/srv/app", "/srv/app") == NULL);
	CHECK(context_relpath("/srv/app", "/srv/app/") == NULL);
	CHECK(context_relpath("/srv/app", "/srv") == NULL);
	CHECK(context_relpath("/", "/") == NULL);
}

static void test_dockerfile_resolution(void)
{
	struct context *ctx = NULL;
	struct error err = ERROR_INIT;
	char *dir = at("df"), *outside = at("outside.Dockerfile");
	char *link = at("df/Dockerfile"), *sub = at("df/dir");

	CHECK(mkdir(dir, 0755) == 0);
	put("outside.Dockerfile", "FROM scratch\n");
	/* A Dockerfile that is a link out of the context: injected. */
	CHECK(symlink(outside, link) == 0);
	CHECK(context_open(&ctx, dir, NULL, &err) == 0);
	if (ctx) {
		CHECK(!strncmp(context_dockerfile(ctx), ".dockerfile.", 12));
		CHECK_STR(context_dockerfile_path(ctx), outside);
	}
	context_close(ctx);
	ctx = NULL;
	/* A link inside the context names its target, as the CLI does. */
	CHECK(unlink(link) == 0);
	put("df/real.Dockerfile", "FROM scratch\n");
	CHECK(symlink("real.Dockerfile", link) == 0);
	CHECK(context_open(&ctx, dir, NULL, &err) == 0);
	if (ctx)
		CHECK_STR(context_dockerfile(ctx), "real.Dockerfile");
	context_close(ctx);
	ctx = NULL;
	/* A directory is said to be one. */
	CHECK(mkdir(sub, 0755) == 0);
	CHECK(context_open(&ctx, dir, "dir", &err) < 0);
	CHECK(err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "is a directory") != NULL);
	context_close(ctx);
	free(dir);
	free(outside);
	free(link);
	free(sub);
}

int main(void)
{
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_relpath);
	RUN(test_members_of_small_tree);
	RUN(test_one_path);
	RUN(test_close_keeps_first_error);
	RUN(test_shrinking_file_named);
	RUN(test_dockerfile_resolution);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", scratch);
	}
	return unit_summary();
}
