/*
 * FileSend.DiffCopy, the receiving side: the build's outputs written
 * below DEST (see fsend.h for the protocol and the rules on paths).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.pb-c.h"
#include "sshforward.pb-c.h"

#include "session/fsend.h"
#include "session/grpc.h"
#include "util/log.h"
#include "util/pballoc.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Go os.FileMode type bits (fsutil Stat.mode). */
#define GO_DIR (1u << 31)
#define GO_SYMLINK (1u << 27)
#define GO_TYPE                                                       \
	(GO_DIR | GO_SYMLINK | (1u << 26) | (1u << 25) | (1u << 24) | \
	 (1u << 21) | (1u << 19))
#define GO_STICKY (1u << 20)

#define PATH_LEN_MAX 4096
#define TMP_PREFIX ".builder-output-"

/* A regular file to ask for, or being received. */
struct file {
	uint32_t id;
	char *path;
	uint32_t mode;
	int64_t mtime;
	int fd; /* while receiving, else -1 */
	int dirfd; /* its directory, while receiving */
	char tmp[64];
};

/* A directory or hard link, applied at the end. */
struct later {
	char *path;
	char *target; /* hard links: the file linked to */
	uint32_t mode;
	int64_t mtime;
};

struct fsend {
	enum fsend_kind kind;
	char *dest;
	int root; /* DEST, local */
	/* tar */
	int tar_fd;
	char *tar_tmp;
	/* local */
	uint32_t next_id; /* index of the next STAT */
	int stats_done;
	struct file *files; /* to ask for, in STAT order */
	size_t nfiles, files_cap, next_req;
	size_t active[FSEND_WINDOW]; /* indexes into files */
	size_t nactive;
	struct later *later; /* directories and hard links */
	size_t nlater, later_cap;
	int fin_sent, fin_recv, failed;
	/* counts */
	size_t files_done;
	unsigned long long bytes;
	/* the directory of the last entry, kept open */
	char *cur_dir;
	int cur_fd;
};

/* --- paths ------------------------------------------------------------ */

/* 1 when p is "a/b/c": relative, no empty, "." or ".." component. */
static int clean_path(const char *p)
{
	size_t n = strlen(p);

	if (!n || n > PATH_LEN_MAX || p[0] == '/')
		return 0;
	for (const char *c = p; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);

		if (!l || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!e)
			break;
		c = e + 1;
		if (!*c)
			return 0; /* trailing '/' */
	}
	return 1;
}

/* 1 when a symlink at path to target stays below DEST. */
static int link_inside(const char *path, const char *target)
{
	long depth = 0;

	if (!*target || target[0] == '/')
		return 0;
	for (const char *c = path; (c = strchr(c, '/')); c++)
		depth++;
	for (const char *c = target; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);

		if (l == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (l && !(l == 1 && c[0] == '.')) {
			depth++;
		}
		if (!e)
			break;
		c = e + 1;
	}
	return 1;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Opens the directory holding path below DEST, never following a link;
 * the descriptor stays owned by f (the last one is cached). */
static int open_parent(struct fsend *f, const char *path, struct error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;
	char *dir = xstrndup(path, dl);
	int fd;

	if (f->cur_dir && !strcmp(f->cur_dir, dir)) {
		free(dir);
		return f->cur_fd;
	}
	fd = dup(f->root);
	for (char *c = dir; fd >= 0 && *c;) {
		char *e = strchr(c, '/');
		int next;

		if (e)
			*e = '\0';
		next = openat(fd, c,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (e)
			*e = '/';
		if (!e)
			break;
		c = e + 1;
	}
	if (fd < 0) {
		int en = errno;

		free(dir);
		if (en == ELOOP || en == ENOTDIR || en == ENOENT)
			return err_set(err, EXIT_ENGINE,
				       "build output: the engine sent '%.300s' "
				       "but its directory was not sent as a "
				       "directory before it; refused",
				       path);
		return err_set(err, EXIT_BUILD,
			       "build output: cannot open the directory of "
			       "'%.300s' in '%s': %s",
			       path, f->dest, strerror(en));
	}
	if (f->cur_fd >= 0)
		close(f->cur_fd);
	free(f->cur_dir);
	f->cur_dir = dir;
	f->cur_fd = fd;
	return fd;
}

static int write_error(struct fsend *f, const char *path, int en,
		       struct error *err)
{
	return err_set(err, EXIT_BUILD,
		       "build output: cannot write '%.300s' in '%s': %s; check "
		       "the space and permissions there",
		       path, f->dest, strerror(en));
}

static void to_times(struct timespec ts[2], int64_t ns)
{
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(ns / 1000000000);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(ns % 1000000000);
}

static void set_times(int dirfd, const char *name, int64_t ns, int flags)
{
	struct timespec ts[2];

	if (ns < 0)
		return;
	to_times(ts, ns);
	(void)utimensat(dirfd, name, ts, flags);
}

static void set_fd_times(int fd, int64_t ns)
{
	struct timespec ts[2];

	if (ns < 0)
		return;
	to_times(ts, ns);
	(void)futimens(fd, ts);
}

static mode_t perm(uint32_t go)
{
	return (mode_t)((go & 0777) | (go & GO_STICKY ? S_ISVTX : 0));
}

/* Puts tmp in place of name in dirfd (a file or symlink). */
static int replace(struct fsend *f, int dirfd, const char *tmp,
		   const char *path, struct error *err)
{
	if (renameat(dirfd, tmp, dirfd, base_name(path)) < 0) {
		int en = errno;

		unlinkat(dirfd, tmp, 0);
		return write_error(f, path, en, err);
	}
	return 0;
}

/* --- entries ---------------------------------------------------------- */

static void tmp_name(char out[64], uint32_t id)
{
	snprintf(out, 64, TMP_PREFIX "%ld-%u", (long)getpid(), id);
}

static int add_dir(struct fsend *f, const Fsutil__Types__Stat *st,
		   struct error *err)
{
	int dirfd = open_parent(f, st->path, err);
	const char *name = base_name(st->path);
	struct stat sb;

	if (dirfd < 0)
		return -1;
	if (mkdirat(dirfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return write_error(f, st->path, errno, err);
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return write_error(f, st->path, errno, err);
		if (!S_ISDIR(sb.st_mode) && (unlinkat(dirfd, name, 0) < 0 ||
					     mkdirat(dirfd, name, 0700) < 0))
			return write_error(f, st->path, errno, err);
	}
	if (f->nlater == f->later_cap) {
		f->later_cap = f->later_cap ? 2 * f->later_cap : 64;
		f->later = xrealloc(f->later, f->later_cap * sizeof(*f->later));
	}
	f->later[f->nlater++] = (struct later){ xstrdup(st->path), NULL,
						st->mode, st->modtime };
	return 0;
}

static int add_symlink(struct fsend *f, const Fsutil__Types__Stat *st,
		       struct error *err)
{
	const char *target = st->linkname ? st->linkname : "";
	char tmp[64];
	int dirfd;

	if (!link_inside(st->path, target))
		return err_set(err, EXIT_ENGINE,
			       "build output: '%.300s' is a symlink to "
			       "'%.300s', outside '%s'; refused (make the "
			       "link relative inside the output)",
			       st->path, target, f->dest);
	dirfd = open_parent(f, st->path, err);
	if (dirfd < 0)
		return -1;
	tmp_name(tmp, f->next_id);
	if (symlinkat(target, dirfd, tmp) < 0)
		return write_error(f, st->path, errno, err);
	set_times(dirfd, tmp, st->modtime, AT_SYMLINK_NOFOLLOW);
	return replace(f, dirfd, tmp, st->path, err);
}

static int add_file(struct fsend *f, const Fsutil__Types__Stat *st,
		    struct error *err)
{
	const char *link = st->linkname ? st->linkname : "";

	if (*link) {
		/* A hard link: to a file received before it. */
		int known = 0;

		for (size_t i = 0; i < f->nfiles && !known; i++)
			known = !strcmp(f->files[i].path, link);
		if (!clean_path(link) || !known)
			return err_set(err, EXIT_ENGINE,
				       "build output: '%.300s' is a hard link "
				       "to '%.300s', which is not a file sent "
				       "before it; refused",
				       st->path, link);
		if (f->nlater == f->later_cap) {
			f->later_cap = f->later_cap ? 2 * f->later_cap : 64;
			f->later = xrealloc(f->later,
					    f->later_cap * sizeof(*f->later));
		}
		f->later[f->nlater++] = (struct later){ xstrdup(st->path),
							xstrdup(link), 0, 0 };
		return 0;
	}
	if (open_parent(f, st->path, err) < 0)
		return -1;
	if (f->nfiles == f->files_cap) {
		f->files_cap = f->files_cap ? 2 * f->files_cap : 64;
		f->files = xrealloc(f->files, f->files_cap * sizeof(*f->files));
	}
	f->files[f->nfiles++] = (struct file){
		f->next_id, xstrdup(st->path), st->mode, st->modtime, -1, -1, ""
	};
	return 0;
}

static int on_stat(struct fsend *f, const Fsutil__Types__Stat *st,
		   struct error *err)
{
	const char *path = st->path ? st->path : "";
	int ret = 0;

	if (f->stats_done)
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine sent a STAT after "
			       "the end of the list");
	if (!clean_path(path) ||
	    !strncmp(base_name(path), TMP_PREFIX, sizeof(TMP_PREFIX) - 1))
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine sent the path "
			       "'%.300s', which is not a clean relative path "
			       "inside '%s'; refused",
			       path, f->dest);
	if (st->mode & GO_DIR)
		ret = add_dir(f, st, err);
	else if (st->mode & GO_SYMLINK)
		ret = add_symlink(f, st, err);
	else if (!(st->mode & GO_TYPE))
		ret = add_file(f, st, err);
	else
		log_debug("build output: skipping '%s' (not a file, directory "
			  "or link)",
			  path);
	f->next_id++;
	return ret;
}

/* A file's data is complete: put it in place. */
static int file_done(struct fsend *f, size_t slot, struct error *err)
{
	struct file *fl = &f->files[f->active[slot]];
	int ret = 0;

	if (fchmod(fl->fd, perm(fl->mode)) < 0)
		ret = write_error(f, fl->path, errno, err);
	set_fd_times(fl->fd, fl->mtime);
	if (close(fl->fd) < 0 && !ret)
		ret = write_error(f, fl->path, errno, err);
	fl->fd = -1;
	if (!ret)
		ret = replace(f, fl->dirfd, fl->tmp, fl->path, err);
	else
		unlinkat(fl->dirfd, fl->tmp, 0);
	close(fl->dirfd);
	fl->dirfd = -1;
	fl->tmp[0] = '\0';
	f->active[slot] = f->active[--f->nactive];
	f->files_done++;
	return ret;
}

static int on_data(struct fsend *f, uint32_t id, const uint8_t *data,
		   size_t len, struct error *err)
{
	size_t slot;

	for (slot = 0; slot < f->nactive; slot++)
		if (f->files[f->active[slot]].id == id)
			break;
	if (slot == f->nactive)
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine sent data for file "
			       "ID %u, which was not asked for",
			       id);
	if (!len)
		return file_done(f, slot, err);
	for (size_t off = 0; off < len;) {
		struct file *fl = &f->files[f->active[slot]];
		ssize_t n = write(fl->fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return write_error(f, fl->path, errno, err);
		off += (size_t)n;
	}
	f->bytes += len;
	return 0;
}

/* The end: hard links, then directory modes and times, deepest first. */
static int finish_local(struct fsend *f, struct error *err)
{
	for (size_t i = 0; i < f->nlater; i++) {
		struct later *l = &f->later[i];
		char tmp[64];
		int from, to;
		struct stat sb;

		if (!l->target)
			continue;
		from = open_parent(f, l->target, err);
		if (from < 0)
			return -1;
		from = dup(from);
		if (fstatat(from, base_name(l->target), &sb,
			    AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode)) {
			close(from);
			return err_set(err, EXIT_ENGINE,
				       "build output: '%.300s' is a hard link "
				       "to '%.300s', which is not a regular "
				       "file; refused",
				       l->path, l->target);
		}
		to = open_parent(f, l->path, err);
		if (to < 0) {
			close(from);
			return -1;
		}
		tmp_name(tmp, (uint32_t)i);
		if (linkat(from, base_name(l->target), to, tmp, 0) < 0) {
			int en = errno;

			close(from);
			return write_error(f, l->path, en, err);
		}
		close(from);
		if (replace(f, to, tmp, l->path, err) < 0)
			return -1;
	}
	for (size_t i = f->nlater; i-- > 0;) {
		struct later *l = &f->later[i];
		int dirfd;

		if (l->target)
			continue;
		dirfd = open_parent(f, l->path, err);
		if (dirfd < 0)
			return -1;
		if (fchmodat(dirfd, base_name(l->path), perm(l->mode), 0) < 0)
			return write_error(f, l->path, errno, err);
		set_times(dirfd, base_name(l->path), l->mtime,
			  AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

/* --- the interface ------------------------------------------------------ */

static int mkdir_parents(const char *path)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			ret = -1;
		*c = '/';
	}
	if (!ret && mkdir(p, 0755) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

int fsend_open(struct fsend **out, enum fsend_kind kind, const char *dest,
	       struct error *err)
{
	struct fsend *f = xcalloc(1, sizeof(*f));

	*out = NULL;
	f->kind = kind;
	f->dest = xstrdup(dest);
	f->root = f->tar_fd = f->cur_fd = -1;
	if (kind == FSEND_LOCAL) {
		if (mkdir_parents(dest) < 0 ||
		    (f->root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
			    0) {
			err_set(err, EXIT_BUILD,
				"build output: cannot create the directory "
				"'%s': %s",
				dest, strerror(errno));
			fsend_free(f);
			return -1;
		}
	} else {
		struct buf b = BUF_INIT(BUF_PATH_MAX);

		buf_addf(&b, "%s" TMP_PREFIX "%ld", dest, (long)getpid());
		f->tar_tmp = buf_detach(&b);
		f->tar_fd = open(f->tar_tmp,
				 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
					 O_CLOEXEC,
				 0644);
		if (f->tar_fd < 0) {
			err_set(err, EXIT_BUILD,
				"build output: cannot create '%s': %s", dest,
				strerror(errno));
			free(f->tar_tmp);
			f->tar_tmp = NULL;
			fsend_free(f);
			return -1;
		}
	}
	*out = f;
	return 0;
}

static int receive_tar(struct fsend *f, const uint8_t *msg, size_t len,
		       struct error *err)
{
	Moby__Sshforward__V1__BytesMessage *m;
	struct pballoc a;
	int ret = 0;

	m = moby__sshforward__v1__bytes_message__unpack(pballoc_init(&a, len),
							len, msg);
	if (!m)
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine sent a message that "
			       "is %s (%zu bytes)",
			       pballoc_failure(&a),
			       len);
	for (size_t off = 0; off < m->data.len;) {
		ssize_t n =
			write(f->tar_fd, m->data.data + off, m->data.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = write_error(f, base_name(f->dest), errno, err);
			break;
		}
		off += (size_t)n;
	}
	f->bytes += m->data.len;
	moby__sshforward__v1__bytes_message__free_unpacked(m, &a.base);
	return ret;
}

int fsend_receive(struct fsend *f, const uint8_t *msg, size_t len,
		  struct error *err)
{
	Fsutil__Types__Packet *p;
	struct pballoc a;
	int ret = 0;

	if (f->failed)
		return -1;
	if (f->kind == FSEND_TAR) {
		ret = receive_tar(f, msg, len, err);
		f->failed = ret < 0;
		return ret;
	}
	p = fsutil__types__packet__unpack(pballoc_init(&a, len), len, msg);
	if (!p) {
		f->failed = 1;
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine sent a packet that is "
			       "%s (%zu bytes)",
			       pballoc_failure(&a),
			       len);
	}
	switch ((int)p->type) {
	case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_STAT:
		if (p->stat)
			ret = on_stat(f, p->stat, err);
		else
			f->stats_done = 1;
		break;
	case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA:
		ret = on_data(f, p->id, p->data.data, p->data.len, err);
		break;
	case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN:
		if (!f->fin_sent)
			ret = err_set(err, EXIT_ENGINE,
				      "build output: the engine ended the "
				      "transfer before every file was sent");
		f->fin_recv = 1;
		break;
	case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_ERR:
		ret = err_set(err, EXIT_BUILD,
			      "build output: the engine failed sending it: "
			      "%.*s",
			      (int)(p->data.len < 400 ? p->data.len : 400),
			      p->data.len ? (const char *)p->data.data : "");
		break;
	default:
		ret = err_set(err, EXIT_ENGINE,
			      "build output: the engine sent a packet of "
			      "unexpected type %d",
			      (int)p->type);
	}
	fsutil__types__packet__free_unpacked(p, &a.base);
	f->failed = ret < 0;
	return ret;
}

static int add_packet(struct buf *out, const Fsutil__Types__Packet *p,
		      struct error *err)
{
	size_t len = fsutil__types__packet__get_packed_size(p);
	uint8_t head[GRPC_HEADER_LEN], tmp[64];

	if (len > sizeof(tmp))
		return err_set(err, EXIT_BUILD, "build output: packet too big");
	fsutil__types__packet__pack(p, tmp);
	grpc_frame_header(head, (uint32_t)len);
	if (buf_add(out, head, sizeof(head)) < 0 || buf_add(out, tmp, len) < 0)
		return err_set(err, EXIT_BUILD,
			       "build output: out of room for a request");
	return 0;
}

int fsend_pending(const struct fsend *f)
{
	if (f->kind != FSEND_LOCAL || f->failed || f->fin_sent)
		return 0;
	if (f->next_req < f->nfiles && f->nactive < FSEND_WINDOW)
		return 1;
	return f->stats_done && f->next_req == f->nfiles && !f->nactive;
}

int fsend_produce(struct fsend *f, struct buf *out, struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;

	while (fsend_pending(f)) {
		if (f->next_req < f->nfiles) {
			struct file *fl = &f->files[f->next_req];
			int dirfd = open_parent(f, fl->path, err);

			if (dirfd < 0)
				goto fail;
			fl->dirfd = dup(dirfd);
			tmp_name(fl->tmp, fl->id);
			fl->fd = openat(dirfd, fl->tmp,
					O_WRONLY | O_CREAT | O_TRUNC |
						O_NOFOLLOW | O_CLOEXEC,
					0600);
			if (fl->fd < 0 || fl->dirfd < 0) {
				write_error(f, fl->path, errno, err);
				if (fl->fd >= 0)
					close(fl->fd);
				if (fl->dirfd >= 0)
					close(fl->dirfd);
				fl->fd = fl->dirfd = -1;
				fl->tmp[0] = '\0';
				goto fail;
			}
			f->active[f->nactive++] = f->next_req;
			f->next_req++;
			p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
			p.id = fl->id;
			if (add_packet(out, &p, err) < 0)
				goto fail;
			continue;
		}
		if (finish_local(f, err) < 0)
			goto fail;
		p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN;
		p.id = 0;
		if (add_packet(out, &p, err) < 0)
			goto fail;
		f->fin_sent = 1;
	}
	return 0;
fail:
	f->failed = 1;
	return -1;
}

int fsend_end(struct fsend *f, struct error *err)
{
	if (f->failed)
		return -1;
	if (f->kind == FSEND_TAR) {
		int fd = f->tar_fd;

		f->tar_fd = -1;
		if (close(fd) < 0 || rename(f->tar_tmp, f->dest) < 0) {
			f->failed = 1;
			return write_error(f, base_name(f->dest), errno, err);
		}
		free(f->tar_tmp);
		f->tar_tmp = NULL;
		f->fin_recv = f->fin_sent = 1;
		return 0;
	}
	if (!fsend_done(f)) {
		f->failed = 1;
		return err_set(err, EXIT_ENGINE,
			       "build output: the engine closed the transfer "
			       "after %zu of the files it listed; '%s' is "
			       "incomplete",
			       f->files_done, f->dest);
	}
	return 0;
}

int fsend_done(const struct fsend *f)
{
	return f->fin_sent && f->fin_recv && !f->failed;
}

size_t fsend_files(const struct fsend *f)
{
	return f->kind == FSEND_TAR ? (f->tar_tmp ? 0 : 1) : f->files_done;
}

unsigned long long fsend_bytes(const struct fsend *f)
{
	return f->bytes;
}

void fsend_free(struct fsend *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nactive; i++) {
		struct file *fl = &f->files[f->active[i]];

		close(fl->fd);
		if (fl->tmp[0])
			unlinkat(fl->dirfd, fl->tmp, 0);
		close(fl->dirfd);
	}
	for (size_t i = 0; i < f->nfiles; i++)
		free(f->files[i].path);
	for (size_t i = 0; i < f->nlater; i++) {
		free(f->later[i].path);
		free(f->later[i].target);
	}
	free(f->files);
	free(f->later);
	if (f->tar_fd >= 0)
		close(f->tar_fd);
	if (f->tar_tmp)
		unlink(f->tar_tmp);
	free(f->tar_tmp);
	if (f->cur_fd >= 0)
		close(f->cur_fd);
	if (f->root >= 0)
		close(f->root);
	free(f->cur_dir);
	free(f->dest);
	free(f);
}
