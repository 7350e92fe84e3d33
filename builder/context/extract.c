/*
 * Safe tar extraction for the test results; see extract.h. One of the two
 * files that include <archive.h> (context.c writes tars, this one reads
 * them); libarchive parses, and every file system write is ours: openat()
 * and friends relative to directory descriptors opened with O_NOFOLLOW,
 * so no name in the archive and no link on disk can lead a write out of
 * the destination. archive_write_disk is not used: its checks are made on
 * path strings, ours are made by the kernel on each step.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "context/extract.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define READ_CHUNK (64u * 1024)
#define NAME_MAX_LEN 4096u
#define DEPTH_MAX 128u

struct extractor {
	int rootfd;
	extract_read_fn read;
	void *read_ctx;
	struct error *read_err; /* set by the read callback */
	int read_failed;
	char *chunk;
	struct extract_options lim;
	char *top; /* strip_top_dir: the directory stripped, "" for none */
	struct extract_result *res;
};

void extract_result_release(struct extract_result *res)
{
	if (!res)
		return;
	strlist_clear(&res->refused);
	strlist_clear(&res->written);
	res->refused_count = 0;
}

static void refuse(struct extractor *x, const char *name, const char *why)
{
	struct buf line = BUF_INIT(2 * NAME_MAX_LEN);

	x->res->refused_count++;
	if (x->res->refused.n >= EXTRACT_REFUSED_MAX)
		return;
	/* Names come from the container: keep them on one printable line. */
	for (const char *p = name; *p && line.len < 300; p++)
		buf_addch(&line, (*p < 0x20 || *p == 0x7f) ? '?' : *p);
	buf_addf(&line, ": %s", why);
	strlist_push(&x->res->refused, line.data);
	buf_release(&line);
}

/* Splits name into components in place; "." and empty ones dropped.
 * Returns the count, or 0 with *why set when the name is refused. */
static size_t split_name(char *name, char **comp, const char **why)
{
	size_t n = 0;
	char *p = name, *slash;

	if (!*name) {
		*why = "empty name";
		return 0;
	}
	if (*name == '/') {
		*why = "absolute name";
		return 0;
	}
	if (strlen(name) > NAME_MAX_LEN) {
		*why = "name too long";
		return 0;
	}
	for (;;) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (!strcmp(p, "..")) {
			*why = "name with a '..' component";
			return 0;
		}
		if (*p && strcmp(p, ".")) {
			if (n == DEPTH_MAX) {
				*why = "too deep";
				return 0;
			}
			comp[n++] = p;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	if (!n)
		*why = "empty name";
	return n;
}

/* Opens the directory holding comp[n-1], creating comp[0..n-2] when
 * create is set, never following a link. Returns an fd, or -1 with errno
 * (ENOTDIR or ELOOP: something on the way is not a directory). */
static int open_parent(int rootfd, char **comp, size_t n, int create)
{
	int fd = dup(rootfd), next;

	if (fd < 0)
		return -1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (create && mkdirat(fd, comp[i], 0755) < 0 && errno != EEXIST)
			goto fail;
		next = openat(fd, comp[i],
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			goto fail;
		close(fd);
		fd = next;
	}
	return fd;
fail:
	next = errno;
	close(fd);
	errno = next;
	return -1;
}

/* Errors that mean "this entry cannot go there", not "the destination is
 * broken". */
static int refusable(int e)
{
	return e == ENOTDIR || e == ELOOP || e == EEXIST || e == EISDIR ||
	       e == ENAMETOOLONG || e == EPERM || e == EXDEV || e == EMLINK;
}

/* Makes room for a new entry at dirfd/name: an existing non-directory is
 * removed (so no write ever goes through an old link or a shared inode).
 * Returns 0, or -1 with errno (EISDIR when a directory is there). */
static int clear_slot(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	return unlinkat(dirfd, name, 0);
}

/* A symlink target is accepted when it is relative, made of leading ".."
 * components followed by none, and does not climb above the root from
 * depth (the link's directory). With ".." only in front, the kernel's
 * resolution is the lexical one: the link's directories are real ones
 * (reached without following links), and every link further on obeys
 * the same rule. */
static int symlink_inside(const char *target, size_t depth)
{
	const char *p = target;
	int seen_name = 0;
	size_t len;

	if (!*target || *target == '/')
		return 0;
	while (*p) {
		len = strcspn(p, "/");
		if (len == 2 && !strncmp(p, "..", 2)) {
			if (seen_name || depth == 0)
				return 0;
			depth--;
		} else if (len && !(len == 1 && *p == '.')) {
			seen_name = 1;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int write_file(struct extractor *x, struct archive *a, int dirfd,
		      const char *leaf, const char *name, mode_t mode,
		      long long size, struct error *err)
{
	const void *block;
	size_t len;
	la_int64_t off;
	int fd = -1, r, ret = -1;

	if (clear_slot(dirfd, leaf) < 0) {
		if (errno != EISDIR)
			goto syserr;
		refuse(x, name, "a directory is already there");
		return 0;
	}
	fd = openat(dirfd, leaf,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    mode & 0777);
	if (fd < 0) {
		if (refusable(errno)) {
			refuse(x, name, strerror(errno));
			return 0;
		}
		goto syserr;
	}
	while ((r = archive_read_data_block(a, &block, &len, &off)) ==
	       ARCHIVE_OK) {
		if (off < 0 ||
		    (unsigned long long)off + len > (unsigned long long)size ||
		    x->res->bytes + len > x->lim.max_bytes) {
			err_set(err, EXIT_ENGINE,
				"'%s' holds more data than its header says",
				name);
			goto out;
		}
		for (size_t done = 0; done < len;) {
			ssize_t w = pwrite(fd, (const char *)block + done,
					   len - done, off + (off_t)done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				goto syserr;
			}
			done += (size_t)w;
		}
		x->res->bytes += len;
	}
	if (r != ARCHIVE_EOF) {
		if (x->read_failed) {
			err_set(err, x->read_err->code, "%s", x->read_err->msg);
			goto out;
		}
		err_set(err, EXIT_ENGINE,
			"cannot read '%s' from the archive: %s", name,
			archive_error_string(a));
		goto out;
	}
	/* Sparse files: a hole at the end has no data block. */
	if (ftruncate(fd, size) < 0)
		goto syserr;
	if (close(fd) < 0) {
		fd = -1;
		goto syserr;
	}
	fd = -1;
	x->res->files++;
	ret = 0;
	goto out;
syserr:
	err_set(err, EXIT_ENGINE, "cannot write '%s': %s", name,
		strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static const char *kind_refused(mode_t type)
{
	switch (type) {
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "an unknown file type";
	}
}

/* One entry. Returns 0 (written, refused, or the extraction stopped at a
 * cap: x->res->stopped), or -1 on an error. */
static int do_entry(struct extractor *x, struct archive *a,
		    struct archive_entry *e, struct error *err)
{
	const char *raw = archive_entry_pathname(e);
	const char *hard = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	char *name = NULL, *tname = NULL;
	char *comp[DEPTH_MAX], *tcomp[DEPTH_MAX];
	const char *why = NULL;
	size_t n, tn = 0;
	int dirfd = -1, tdirfd = -1, ret = -1;
	long long size = archive_entry_size(e);

	if (!raw) {
		refuse(x, "(unreadable name)", "name not in a known encoding");
		return 0;
	}
	if (x->res->files + x->res->refused_count >= x->lim.max_files) {
		snprintf(x->res->stopped, sizeof(x->res->stopped),
			 "the results hold more than %zu entries (at '%.300s')",
			 x->lim.max_files, raw);
		return 0;
	}
	name = xstrdup(raw);
	n = split_name(name, comp, &why);
	if (!n) {
		refuse(x, raw, why);
		ret = 0;
		goto out;
	}
	if (x->lim.strip_top_dir) {
		if (!x->top) {
			if (type == AE_IFDIR && !hard && n == 1) {
				x->top = xstrdup(comp[0]);
				ret = 0;
				goto out;
			}
			x->top = xstrdup("");
		}
		if (*x->top) {
			if (strcmp(comp[0], x->top)) {
				refuse(x, raw, "outside the directory copied");
				ret = 0;
				goto out;
			}
			if (n == 1) {
				ret = 0;
				goto out;
			}
			memmove(comp, comp + 1, --n * sizeof(*comp));
		}
	}
	if (hard) {
		tname = xstrdup(hard);
		tn = split_name(tname, tcomp, &why);
		if (tn && x->top && *x->top) {
			if (tn > 1 && !strcmp(tcomp[0], x->top))
				memmove(tcomp, tcomp + 1,
					--tn * sizeof(*tcomp));
			else
				tn = 0;
		}
		if (!tn) {
			refuse(x, raw,
			       "hard link to a name outside the results");
			ret = 0;
			goto out;
		}
	} else if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
		refuse(x, raw, kind_refused(type));
		ret = 0;
		goto out;
	} else if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);

		if (!target || !symlink_inside(target, n - 1)) {
			refuse(x, raw,
			       "symbolic link pointing outside the results");
			ret = 0;
			goto out;
		}
	} else if (type == AE_IFREG && size > 0 &&
		   (unsigned long long)size >
			   x->lim.max_bytes - x->res->bytes) {
		snprintf(x->res->stopped, sizeof(x->res->stopped),
			 "the results exceed %llu bytes ('%.300s' alone has "
			 "%lld)",
			 x->lim.max_bytes, raw, size);
		ret = 0;
		goto out;
	}

	dirfd = open_parent(x->rootfd, comp, n, 1);
	if (dirfd < 0) {
		if (!refusable(errno))
			goto syserr;
		refuse(x, raw, "a directory on its way is not a directory");
		ret = 0;
		goto out;
	}

	if (hard) {
		tdirfd = open_parent(x->rootfd, tcomp, tn, 0);
		if (tdirfd < 0 || clear_slot(dirfd, comp[n - 1]) < 0 ||
		    linkat(tdirfd, tcomp[tn - 1], dirfd, comp[n - 1], 0) < 0) {
			if (errno != ENOENT && !refusable(errno))
				goto syserr;
			refuse(x, raw, "hard link to an entry not extracted");
		} else {
			x->res->files++;
		}
		ret = 0;
	} else if (type == AE_IFDIR) {
		struct stat st;

		if (mkdirat(dirfd, comp[n - 1],
			    (archive_entry_perm(e) & 0777) | 0700) < 0) {
			if (errno != EEXIST)
				goto syserr;
			if (fstatat(dirfd, comp[n - 1], &st,
				    AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode)) {
				refuse(x, raw,
				       "something else is already there");
				ret = 0;
				goto out;
			}
		}
		x->res->files++;
		ret = 0;
	} else if (type == AE_IFLNK) {
		if (clear_slot(dirfd, comp[n - 1]) < 0 ||
		    symlinkat(archive_entry_symlink(e), dirfd, comp[n - 1]) <
			    0) {
			if (!refusable(errno))
				goto syserr;
			refuse(x, raw, strerror(errno));
		} else {
			x->res->files++;
		}
		ret = 0;
	} else {
		size_t before = x->res->files;

		ret = write_file(x, a, dirfd, comp[n - 1], raw,
				 archive_entry_perm(e), size < 0 ? 0 : size,
				 err);
		if (!ret && x->res->files > before &&
		    x->res->written.n < EXTRACT_WRITTEN_MAX) {
			struct buf rel = BUF_INIT(BUF_PATH_MAX);

			for (size_t i = 0; i < n; i++)
				buf_addf(&rel, "%s%s", i ? "/" : "", comp[i]);
			strlist_push(&x->res->written, rel.data);
			buf_release(&rel);
		}
	}
	goto out;
syserr:
	err_set(err, EXIT_ENGINE, "cannot write '%s': %s", raw,
		strerror(errno));
out:
	if (dirfd >= 0)
		close(dirfd);
	if (tdirfd >= 0)
		close(tdirfd);
	free(name);
	free(tname);
	return ret;
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct extractor *x = ctx;
	long n;

	n = x->read(x->chunk, READ_CHUNK, x->read_ctx, x->read_err);
	if (n < 0) {
		x->read_failed = 1;
		archive_set_error(a, EIO, "%s", x->read_err->msg);
		return -1;
	}
	*buf = x->chunk;
	return n;
}

/* mkdir -p */
static int make_dirs(const char *dir, struct error *err)
{
	struct buf p = BUF_INIT(BUF_PATH_MAX);
	struct stat st;
	int ret = -1;

	buf_addstr(&p, dir);
	for (size_t i = 1; i <= p.len; i++) {
		if (p.data[i] != '/' && p.data[i] != '\0')
			continue;
		p.data[i] = '\0';
		if (mkdir(p.data, 0755) < 0 && errno != EEXIST) {
			err_set(err, EXIT_USAGE, "cannot create '%s': %s",
				p.data, strerror(errno));
			goto out;
		}
		if (i < p.len)
			p.data[i] = '/';
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, EXIT_USAGE, "'%s' is not a directory", dir);
		goto out;
	}
	ret = 0;
out:
	buf_release(&p);
	return ret;
}

int extract_tar(const char *dir, extract_read_fn read, void *ctx,
		const struct extract_options *opt, struct extract_result *res,
		struct error *err)
{
	struct extractor x = { .rootfd = -1 };
	struct archive *a = NULL;
	struct archive_entry *e;
	struct error read_err = ERROR_INIT;
	int r, ret = -1;

	x.read = read;
	x.read_ctx = ctx;
	x.read_err = &read_err;
	x.res = res;
	if (opt)
		x.lim = *opt;
	if (!x.lim.max_bytes)
		x.lim.max_bytes = EXTRACT_MAX_BYTES;
	if (!x.lim.max_files)
		x.lim.max_files = EXTRACT_MAX_FILES;
	if (make_dirs(dir, err) < 0)
		goto out;
	x.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.rootfd < 0) {
		err_set(err, EXIT_USAGE, "cannot open '%s': %s", dir,
			strerror(errno));
		goto out;
	}
	x.chunk = xmalloc(READ_CHUNK);
	a = archive_read_new();
	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK) {
		err_set(err, EXIT_ENGINE, "cannot set up libarchive");
		goto out;
	}
	if (archive_read_open(a, &x, NULL, read_cb, NULL) != ARCHIVE_OK)
		goto bad_stream;
	while (!res->stopped[0]) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			goto bad_stream;
		if (do_entry(&x, a, e, err) < 0)
			goto out;
	}
	ret = 0;
	goto out;
bad_stream:
	if (x.read_failed) {
		err_set(err, read_err.code ? read_err.code : EXIT_ENGINE, "%s",
			read_err.msg);
	} else {
		err_set(err, EXIT_ENGINE,
			"the results are not a tar stream: %s",
			archive_error_string(a) ? archive_error_string(a)
						: "unknown error");
	}
out:
	if (a)
		archive_read_free(a);
	if (x.rootfd >= 0)
		close(x.rootfd);
	free(x.chunk);
	free(x.top);
	return ret;
}

/* --- push adapter: a thread pulls what extract_feed() pushes ----------- */

#define RING_SIZE (256u * 1024)

struct extract_job {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	char *ring;
	size_t head, len; /* unread bytes: ring[head..head+len) mod size */
	int eof; /* the stream ended (cleanly unless cut) */
	int cut; /* the transfer failed */
	int done; /* the extraction ended */
	int rc;
	char *dir;
	struct extract_options lim;
	char *top; /* strip_top_dir: the directory stripped, "" for none */
	struct extract_result *res;
	struct error err;
};

static long job_read(char *dst, size_t max, void *ctx, struct error *err)
{
	struct extract_job *j = ctx;
	size_t n = 0;

	pthread_mutex_lock(&j->mu);
	while (!j->len && !j->eof)
		pthread_cond_wait(&j->cond, &j->mu);
	if (!j->len && j->cut) {
		pthread_mutex_unlock(&j->mu);
		return err_set(err, EXIT_ENGINE,
			       "the archive stream was cut short");
	}
	while (n < max && j->len) {
		size_t run = RING_SIZE - j->head;

		if (run > j->len)
			run = j->len;
		if (run > max - n)
			run = max - n;
		memcpy(dst + n, j->ring + j->head, run);
		n += run;
		j->head = (j->head + run) % RING_SIZE;
		j->len -= run;
	}
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	return (long)n;
}

static void *job_main(void *arg)
{
	struct extract_job *j = arg;
	int rc;

	rc = extract_tar(j->dir, job_read, j, &j->lim, j->res, &j->err);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->done = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int extract_start(struct extract_job **out, const char *dir,
		  const struct extract_options *opt, struct extract_result *res,
		  struct error *err)
{
	struct extract_job *j = xcalloc(1, sizeof(*j));

	*out = NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->ring = xmalloc(RING_SIZE);
	j->dir = xstrdup(dir);
	if (opt)
		j->lim = *opt;
	j->res = res;
	if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cond);
		free(j->ring);
		free(j->dir);
		free(j);
		return err_set(err, EXIT_ENGINE,
			       "cannot start the extraction thread");
	}
	*out = j;
	return 0;
}

int extract_feed(const char *data, size_t len, void *job, struct error *err)
{
	struct extract_job *j = job;

	pthread_mutex_lock(&j->mu);
	while (len) {
		size_t tail, run;

		while (j->len == RING_SIZE && !j->done)
			pthread_cond_wait(&j->cond, &j->mu);
		if (j->done) {
			pthread_mutex_unlock(&j->mu);
			return err_set(err, EXIT_ENGINE,
				       "the extraction of the results stopped");
		}
		tail = (j->head + j->len) % RING_SIZE;
		run = RING_SIZE - tail;
		if (run > RING_SIZE - j->len)
			run = RING_SIZE - j->len;
		if (run > len)
			run = len;
		memcpy(j->ring + tail, data, run);
		j->len += run;
		data += run;
		len -= run;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int extract_finish(struct extract_job *j, int transfer_rc, struct error *err)
{
	int rc;

	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	j->eof = 1;
	j->cut = transfer_rc != 0;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	rc = j->rc;
	if (rc < 0)
		err_set(err, j->err.code, "%s", j->err.msg);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cond);
	free(j->ring);
	free(j->dir);
	free(j);
	return rc;
}
