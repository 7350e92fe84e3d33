/*
 * The build context: walk, filter and tar, on demand; see context.h. The
 * only file that includes <archive.h>.
 *
 * libarchive pushes bytes into a write callback while libcurl pulls them
 * through a read callback. Rather than a thread and a pipe between the two,
 * context_read() advances the walk one step at a time (one header, or one
 * chunk of one file) until libarchive has produced something to hand out.
 * One step produces at most a header or CHUNK bytes, so the pending buffer
 * stays small.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "util/buf.h"
#include "context/context.h"
#include "context/ignore.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define CHUNK (256u * 1024)
#define PENDING_MAX (4u * 1024 * 1024)

struct context {
	char *root; /* absolute context directory */
	char *prefix; /* context_open_path(): the name of root in the archive;
			 NULL for a build context */
	char *dockerfile; /* path inside the archive */
	char *dockerfile_path; /* absolute path on disk */
	int inject_dockerfile; /* the Dockerfile lives outside the context */
	struct buf dockerignore; /* its text, when we must rewrite it */
	int has_dockerignore;
	struct ignore *ig;
	unsigned char *hits; /* per walk level, ignore_count() bytes each */
	size_t hits_levels;

	FTS *fts;
	struct archive *ar;
	struct archive_entry_linkresolver *links;
	struct buf pending; /* tar bytes not yet handed to libcurl */
	size_t pending_off;
	struct error *err; /* where the write callback reports */

	int fd; /* the file whose data is being written */
	char *fd_name;
	long long fd_left;
	char *chunk;

	int walked; /* the tree is done; extra entries next */
	int closed; /* archive_write_close() was called */
	size_t files;
	unsigned long long bytes;
};

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *path_join(const char *a, const char *b)
{
	struct buf p = BUF_INIT(BUF_TEXT_MAX);
	size_t n = strlen(a);

	buf_addf(&p, "%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b);
	return buf_detach(&p);
}

const char *context_relpath(const char *root, const char *path)
{
	size_t n = strlen(root);

	while (n && root[n - 1] == '/')
		n--; /* "/" and "dir/" */
	if (strncmp(path, root, n) || path[n] != '/' || !path[n + 1])
		return NULL;
	return path + n + 1;
}

/* Why candidate cannot be the Dockerfile: NULL when it is a file (after
 * symlinks), else "missing", "a directory" or "not a regular file". */
static const char *not_a_dockerfile(const char *candidate)
{
	struct stat st;

	if (stat(candidate, &st) < 0)
		return "missing";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	return NULL;
}

static int resolve_dockerfile(struct context *ctx, const char *dockerfile,
			      struct error *err)
{
	char *given = NULL;
	const char *why, *rel;
	int ret = -1;

	if (!dockerfile) {
		given = path_join(ctx->root, "Dockerfile");
		if (not_a_dockerfile(given)) {
			char *lower = path_join(ctx->root, "dockerfile");

			if (!not_a_dockerfile(lower)) {
				free(given);
				given = lower;
			} else {
				free(lower);
			}
		}
		why = not_a_dockerfile(given);
		if (why && !strcmp(why, "missing")) {
			err_set(err, EXIT_USAGE,
				"no Dockerfile: '%s' does not exist; add one "
				"to the context or set DOCKERFILE (or -f) to "
				"its path",
				given);
			goto out;
		}
		if (why) {
			err_set(err, EXIT_USAGE,
				"no Dockerfile: '%s' is %s; set DOCKERFILE "
				"(or -f) to the Dockerfile's path",
				given, why);
			goto out;
		}
	} else {
		/* Like `docker build -f`: relative to the current directory;
		 * failing that, relative to the context. */
		given = xstrdup(dockerfile);
		why = not_a_dockerfile(given);
		if (why && !strcmp(why, "missing") && dockerfile[0] != '/') {
			free(given);
			given = path_join(ctx->root, dockerfile);
			why = not_a_dockerfile(given);
		}
		if (why && !strcmp(why, "missing")) {
			err_set(err, EXIT_USAGE,
				"DOCKERFILE '%s' does not exist, neither in "
				"the current directory nor in the context "
				"'%s'",
				dockerfile, ctx->root);
			goto out;
		}
		if (why) {
			err_set(err, EXIT_USAGE,
				"DOCKERFILE '%s' is %s; set DOCKERFILE (or "
				"-f) to the Dockerfile's path",
				given, why);
			goto out;
		}
	}
	/* Symlinks followed to the end, as the CLI's EvalSymlinks: a link
	 * to a file elsewhere in the context names that file, a link out
	 * of the context is sent as an injected Dockerfile. */
	ctx->dockerfile_path = realpath(given, NULL);
	if (!ctx->dockerfile_path) {
		err_set(err, EXIT_USAGE,
			"cannot resolve the Dockerfile '%s': %s", given,
			strerror(errno));
		goto out;
	}
	rel = context_relpath(ctx->root, ctx->dockerfile_path);
	if (rel) {
		ctx->dockerfile = xstrdup(rel);
	} else {
		unsigned char r[10];
		struct buf name = BUF_INIT(BUF_PATH_MAX);

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			memset(r, 0x5a, sizeof(r));
		buf_addstr(&name, ".dockerfile.");
		for (size_t i = 0; i < sizeof(r); i++)
			buf_addf(&name, "%02x", r[i]);
		ctx->dockerfile = buf_detach(&name);
		ctx->inject_dockerfile = 1;
	}
	ret = 0;
out:
	free(given);
	return ret;
}

static int load_dockerignore(struct context *ctx, struct error *err)
{
	char *path = path_join(ctx->root, ".dockerignore");
	int ret = -1;

	if (ignore_load(&ctx->ig, path, err) < 0)
		goto out;
	ctx->has_dockerignore = file_exists(path);
	if (ctx->inject_dockerfile) {
		/* The CLI lists the injected Dockerfile in .dockerignore so
		 * that the builder drops it from the context: keep the text to
		 * rewrite the file in the archive. */
		FILE *f = ctx->has_dockerignore ? fopen(path, "r") : NULL;
		char block[4096];
		size_t n;

		/* Room for the file and the lines added below. */
		buf_init(&ctx->dockerignore, IGNORE_FILE_MAX + 4096);
		while (f && (n = fread(block, 1, sizeof(block), f)) > 0)
			if (buf_add(&ctx->dockerignore, block, n) < 0) {
				fclose(f);
				err_set(err, EXIT_USAGE,
					"'%s' is larger than %u MiB; shorten "
					"it",
					path, IGNORE_FILE_MAX >> 20);
				goto out;
			}
		if (f)
			fclose(f);
		if (ctx->dockerignore.len &&
		    ctx->dockerignore.data[ctx->dockerignore.len - 1] != '\n')
			buf_addch(&ctx->dockerignore, '\n');
		buf_addf(&ctx->dockerignore, "%s\n", ctx->dockerfile);
		if (!ctx->has_dockerignore)
			buf_addstr(&ctx->dockerignore, ".dockerignore\n");
	}
	if (ignore_excluded(ctx->ig, ".dockerignore"))
		ignore_add_exception(ctx->ig, ".dockerignore");
	if (!ctx->inject_dockerfile &&
	    ignore_excluded(ctx->ig, ctx->dockerfile))
		ignore_add_exception(ctx->ig, ctx->dockerfile);
	ret = 0;
out:
	free(path);
	return ret;
}

static la_ssize_t on_archive_write(struct archive *a, void *client,
				   const void *data, size_t len)
{
	struct context *ctx = client;

	(void)a;
	/* Closed early (context_close() after a failure): libarchive pads
	 * the short entry and ends the archive; nobody reads that, and the
	 * caller's error already says what went wrong. */
	if (!ctx->err)
		return -1;
	if (buf_add(&ctx->pending, data, len) < 0) {
		err_set(ctx->err, EXIT_BUILD,
			"internal error: a tar record larger than %u bytes",
			PENDING_MAX);
		return -1;
	}
	return (la_ssize_t)len;
}

static int by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static int bad_context(const char *dir, const char *why, struct error *err)
{
	return err_set(err, EXIT_USAGE,
		       "CONTEXT '%s' cannot be used: %s; set CONTEXT (or the "
		       "positional argument) to the directory to build",
		       dir, why);
}

static int start_archive(struct context *ctx, struct error *err);

int context_open(struct context **out, const char *dir, const char *dockerfile,
		 struct error *err)
{
	struct context *ctx = xcalloc(1, sizeof(*ctx));
	struct stat st;

	*out = NULL;
	ctx->fd = -1;
	buf_init(&ctx->pending, PENDING_MAX);
	ctx->root = realpath(dir, NULL);
	if (!ctx->root || stat(ctx->root, &st) < 0) {
		bad_context(dir, strerror(errno), err);
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		bad_context(dir, "not a directory", err);
		goto fail;
	}
	if (resolve_dockerfile(ctx, dockerfile, err) < 0 ||
	    load_dockerignore(ctx, err) < 0 || start_archive(ctx, err) < 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	context_close(ctx);
	return -1;
}

int context_open_path(struct context **out, const char *path, const char *name,
		      struct error *err)
{
	struct context *ctx = xcalloc(1, sizeof(*ctx));

	*out = NULL;
	ctx->fd = -1;
	buf_init(&ctx->pending, PENDING_MAX);
	while (*name == '/')
		name++;
	ctx->prefix = xstrdup(*name ? name : ".");
	ctx->root = realpath(path, NULL);
	if (!ctx->root) {
		err_set(err, EXIT_USAGE, "cannot copy '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	if (start_archive(ctx, err) < 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	context_close(ctx);
	return -1;
}

static int start_archive(struct context *ctx, struct error *err)
{
	ctx->ar = archive_write_new();
	ctx->links = archive_entry_linkresolver_new();
	archive_write_set_format_pax_restricted(ctx->ar);
	archive_entry_linkresolver_set_strategy(ctx->links,
						archive_format(ctx->ar));
	/* No blocking: every record goes straight to the pending buffer. */
	archive_write_set_bytes_per_block(ctx->ar, 0);
	ctx->err = err;
	if (archive_write_open2(ctx->ar, ctx, NULL, on_archive_write, NULL,
				NULL) != ARCHIVE_OK) {
		return err_set(err, EXIT_BUILD,
			       "cannot start the context archive: %s",
			       archive_error_string(ctx->ar));
	}
	ctx->chunk = xmalloc(CHUNK);
	return 0;
}

const char *context_dockerfile(const struct context *ctx)
{
	return ctx->dockerfile;
}

const char *context_dockerfile_path(const struct context *ctx)
{
	return ctx->dockerfile_path;
}

size_t context_files(const struct context *ctx)
{
	return ctx->files;
}

unsigned long long context_bytes(const struct context *ctx)
{
	return ctx->bytes;
}

static int archive_failed(struct context *ctx, const char *what,
			  const char *name, struct error *err)
{
	if (err->code)
		return -1; /* the write callback said why */
	return err_set(err, EXIT_BUILD,
		       "cannot add '%s' to the context (%s): %s", name, what,
		       archive_error_string(ctx->ar));
}

/* Writes a header for a regular file whose data comes from memory. */
static int add_memory_file(struct context *ctx, const char *name,
			   const char *data, size_t len, mode_t mode,
			   struct error *err)
{
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(ctx->ar, e) < ARCHIVE_WARN ||
	    (len && archive_write_data(ctx->ar, data, len) < 0))
		ret = archive_failed(ctx, "header", name, err);
	archive_entry_free(e);
	ctx->files++;
	ctx->bytes += len;
	return ret;
}

static int open_file(struct context *ctx, const char *path, const char *rel,
		     long long size, struct error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_set(err, EXIT_BUILD,
			       "cannot read '%s' in the context: %s; fix its "
			       "permissions or list it in .dockerignore",
			       rel, strerror(errno));
	ctx->fd = fd;
	ctx->fd_left = size;
	free(ctx->fd_name);
	ctx->fd_name = xstrdup(rel);
	return 0;
}

/* Writes the next chunk of the open file. */
static int write_chunk(struct context *ctx, struct error *err)
{
	size_t want =
		ctx->fd_left < (long long)CHUNK ? (size_t)ctx->fd_left : CHUNK;
	ssize_t n = read(ctx->fd, ctx->chunk, want);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return err_set(err, EXIT_BUILD,
			       "cannot read '%s' in the context: %s",
			       ctx->fd_name, strerror(errno));
	if (n == 0)
		return err_set(err, EXIT_BUILD,
			       "'%s' in the context shrank while it was being "
			       "sent; do not change the context during a build",
			       ctx->fd_name);
	if (archive_write_data(ctx->ar, ctx->chunk, (size_t)n) < 0)
		return archive_failed(ctx, "data", ctx->fd_name, err);
	ctx->fd_left -= n;
	ctx->bytes += (unsigned long long)n;
	if (!ctx->fd_left) {
		close(ctx->fd);
		ctx->fd = -1;
	}
	return 0;
}

static int write_entry(struct context *ctx, FTSENT *f, const char *rel,
		       struct error *err)
{
	struct archive_entry *e = archive_entry_new();
	struct archive_entry *spare = NULL;
	const struct stat *st = f->fts_statp;
	char target[PATH_MAX + 1];
	int ret = -1;

	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, rel);
	/* As the docker CLI: owner root, no names, whole-second mtime. */
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n =
			readlink(f->fts_accpath, target, sizeof(target) - 1);

		if (n < 0) {
			err_set(err, EXIT_BUILD,
				"cannot read the symlink '%s' in the context: "
				"%s",
				rel, strerror(errno));
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
	}
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(e, 0);
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		archive_entry_linkify(ctx->links, &e, &spare);
		/* For pax the resolver never defers: the first copy keeps its
		 * data, later ones become hard links of size 0. */
	}
	if (S_ISREG(st->st_mode) && archive_entry_size(e) > 0 &&
	    open_file(ctx, f->fts_accpath, rel, (long long)st->st_size, err) <
		    0)
		goto out;
	if (archive_write_header(ctx->ar, e) < ARCHIVE_WARN) {
		archive_failed(ctx, "header", rel, err);
		goto out;
	}
	ctx->files++;
	ret = 0;
out:
	archive_entry_free(e);
	archive_entry_free(spare);
	return ret;
}

/* Matches rel the way the CLI's tar walk does: each pattern's verdict on
 * the parent directory carries down to its entries. */
static int excluded_in_walk(struct context *ctx, short level, const char *rel)
{
	size_t n = ignore_count(ctx->ig);
	size_t l = (size_t)level;

	if (!n)
		return 0;
	if (l >= ctx->hits_levels) {
		ctx->hits = xrealloc(ctx->hits, (l + 8) * n);
		ctx->hits_levels = l + 8;
	}
	return ignore_excluded_walk(ctx->ig, rel,
				    l > 1 ? ctx->hits + (l - 1) * n : NULL,
				    ctx->hits + l * n);
}

static int write_entry(struct context *ctx, FTSENT *f, const char *rel,
		       struct error *err);

/* context_open_path(): every entry, root included, under the prefix; no
 * .dockerignore. FTS_DP entries are skipped by returning 0 with nothing
 * written (produce() is simply called again). */
static int path_step(struct context *ctx, FTSENT *f, struct error *err)
{
	const char *rel;
	struct buf name = BUF_INIT(BUF_PATH_MAX);
	int ret;

	if (f->fts_info == FTS_DP)
		return 0;
	if (f->fts_info == FTS_DNR || f->fts_info == FTS_ERR ||
	    f->fts_info == FTS_NS)
		return err_set(err, EXIT_USAGE, "cannot read '%s': %s",
			       f->fts_path, strerror(f->fts_errno));
	if (S_ISSOCK(f->fts_statp->st_mode) ||
	    S_ISFIFO(f->fts_statp->st_mode) || S_ISCHR(f->fts_statp->st_mode) ||
	    S_ISBLK(f->fts_statp->st_mode))
		return 0;
	rel = f->fts_level == 0 ? NULL
				: context_relpath(ctx->root, f->fts_path);
	if (rel)
		buf_addf(&name, "%s/%s", ctx->prefix, rel);
	else
		buf_addstr(&name, ctx->prefix);
	ret = write_entry(ctx, f, name.data, err);
	buf_release(&name);
	return ret;
}

/* One step of the walk: at most one header. */
static int walk_step(struct context *ctx, struct error *err)
{
	FTSENT *f;

	/* Opened on the first step: glibc's fts_close() before any
	 * fts_read() leaks the root entries. */
	if (!ctx->fts) {
		char *paths[2] = { ctx->root, NULL };

		ctx->fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, by_name);
		if (!ctx->fts)
			return err_set(err, EXIT_BUILD,
				       "cannot walk the context '%s': %s",
				       ctx->root, strerror(errno));
	}
	for (;;) {
		const char *rel;
		int excluded;

		errno = 0;
		f = fts_read(ctx->fts);
		if (!f) {
			if (errno)
				return err_set(
					err, EXIT_BUILD,
					"cannot walk the context '%s': %s",
					ctx->root, strerror(errno));
			ctx->walked = 1;
			return 0;
		}
		if (ctx->prefix)
			return path_step(ctx, f, err);
		if (f->fts_level == 0 || f->fts_info == FTS_DP)
			continue;
		rel = context_relpath(ctx->root, f->fts_path);
		if (!rel)
			return err_set(err, EXIT_BUILD,
				       "internal error: '%s' is not inside the "
				       "context '%s'",
				       f->fts_path, ctx->root);
		if (f->fts_info == FTS_DNR || f->fts_info == FTS_ERR ||
		    f->fts_info == FTS_NS)
			return err_set(err, EXIT_BUILD,
				       "cannot read '%s' in the context: %s; "
				       "fix its permissions or list it in "
				       ".dockerignore",
				       rel, strerror(f->fts_errno));
		excluded = excluded_in_walk(ctx, f->fts_level, rel);
		if (f->fts_info == FTS_D) {
			if (!excluded)
				return write_entry(ctx, f, rel, err);
			/* Walk into an excluded directory only where an
			 * exception could re-include something, and even
			 * then do not send the directory itself. */
			if (!ignore_walk_excluded_dir(ctx->ig, rel))
				fts_set(ctx->fts, f, FTS_SKIP);
			continue;
		}
		if (excluded)
			continue;
		if (S_ISSOCK(f->fts_statp->st_mode) ||
		    S_ISFIFO(f->fts_statp->st_mode) ||
		    S_ISCHR(f->fts_statp->st_mode) ||
		    S_ISBLK(f->fts_statp->st_mode)) {
			log_warn("skipping '%s' in the context: sockets, FIFOs "
				 "and devices are not sent",
				 rel);
			continue;
		}
		if (ctx->inject_dockerfile && !strcmp(rel, ".dockerignore"))
			return add_memory_file(ctx, rel, ctx->dockerignore.data,
					       ctx->dockerignore.len,
					       f->fts_statp->st_mode & 07777,
					       err);
		return write_entry(ctx, f, rel, err);
	}
}

/* Writes the header of the Dockerfile that lives outside the context, under
 * its injected name; its data follows through write_chunk(). */
static int add_injected_dockerfile(struct context *ctx, struct error *err)
{
	struct archive_entry *e = NULL;
	struct stat st;
	int ret = -1;

	if (open_file(ctx, ctx->dockerfile_path, ctx->dockerfile, 0, err) < 0)
		return -1;
	if (fstat(ctx->fd, &st) < 0) {
		err_set(err, EXIT_BUILD, "cannot read the Dockerfile '%s': %s",
			ctx->dockerfile_path, strerror(errno));
		goto out;
	}
	ctx->fd_left = st.st_size;
	e = archive_entry_new();
	archive_entry_set_pathname(e, ctx->dockerfile);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	if (archive_write_header(ctx->ar, e) < ARCHIVE_WARN) {
		archive_failed(ctx, "header", ctx->dockerfile, err);
		goto out;
	}
	ctx->files++;
	ret = 0;
out:
	archive_entry_free(e);
	if (ctx->fd >= 0 && (ret < 0 || !ctx->fd_left)) {
		close(ctx->fd);
		ctx->fd = -1;
	}
	return ret;
}

/* After the tree: the injected Dockerfile (and a .dockerignore listing it,
 * when the context has none), then the end of the archive. */
static int finish_step(struct context *ctx, struct error *err)
{
	if (ctx->inject_dockerfile) {
		ctx->inject_dockerfile = 0;
		if (!ctx->has_dockerignore &&
		    add_memory_file(ctx, ".dockerignore",
				    ctx->dockerignore.data,
				    ctx->dockerignore.len, 0644, err) < 0)
			return -1;
		return add_injected_dockerfile(ctx, err);
	}
	if (archive_write_close(ctx->ar) != ARCHIVE_OK)
		return archive_failed(ctx, "end", "archive", err);
	ctx->closed = 1;
	return 0;
}

/* Advances the walk by one step; 1 once the archive is complete. */
static int produce(struct context *ctx, struct error *err)
{
	buf_reset(&ctx->pending);
	ctx->pending_off = 0;
	if (signals_pending())
		return signals_error(err);
	if (ctx->fd >= 0)
		return write_chunk(ctx, err);
	if (!ctx->walked)
		return walk_step(ctx, err);
	if (!ctx->closed)
		return finish_step(ctx, err);
	return 1;
}

long context_read(char *dst, size_t max, void *opaque, struct error *err)
{
	struct context *ctx = opaque;
	size_t done = 0;

	ctx->err = err;
	/* Fill libcurl's whole buffer: one chunk per small file header
	 * would cost a write and a chunk frame for each. */
	while (done < max) {
		size_t avail = ctx->pending.len - ctx->pending_off;
		size_t take = avail < max - done ? avail : max - done;
		int r;

		if (take) {
			memcpy(dst + done, ctx->pending.data + ctx->pending_off,
			       take);
			ctx->pending_off += take;
			done += take;
			continue;
		}
		r = produce(ctx, err);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	return (long)done;
}

void context_close(struct context *ctx)
{
	if (!ctx)
		return;
	if (ctx->fd >= 0)
		close(ctx->fd);
	free(ctx->prefix);
	/* archive_write_free() of an unfinished archive writes the rest of
	 * the current entry and the end: it must not touch the caller's
	 * error, which may be gone or hold the real cause. */
	ctx->err = NULL;
	if (ctx->ar)
		archive_write_free(ctx->ar);
	if (ctx->links)
		archive_entry_linkresolver_free(ctx->links);
	if (ctx->fts) {
		/* glibc's fts_close() leaks the root entries of a walk that
		 * never started (a BuildKit session build reads no tar). */
		if (!ctx->files && !ctx->walked)
			(void)fts_read(ctx->fts);
		fts_close(ctx->fts);
	}
	ignore_free(ctx->ig);
	free(ctx->hits);
	buf_release(&ctx->pending);
	buf_release(&ctx->dockerignore);
	free(ctx->chunk);
	free(ctx->fd_name);
	free(ctx->root);
	free(ctx->dockerfile);
	free(ctx->dockerfile_path);
	free(ctx);
}
