/*
 * FileSync.DiffCopy, the sending side: walk, STAT list, REQ/DATA, FIN; see
 * fsync.h. Packets are fsutil's (our builder/session/fsutil.proto, packed
 * by protobuf-c); the gRPC framing is added here, the HTTP/2 stream is the
 * session's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.pb-c.h"

#include "context/ignore.h"
#include "session/fsync.h"
#include "session/grpc.h"
#include "util/pballoc.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Go's os.FileMode bits. */
#define GO_DIR (1u << 31)
#define GO_SYMLINK (1u << 27)
#define GO_SETUID (1u << 23)
#define GO_SETGID (1u << 22)
#define GO_STICKY (1u << 20)

#define FSYNC_DEPTH_MAX 256

struct entry {
	char *path; /* relative, '/'-separated */
	uint32_t mode; /* Go FileMode */
	int64_t size;
	int64_t mtime_ns;
	char *linkname;
	int regular;
	int requested; /* a REQ came for it: fsutil asks once per file */
};

struct fsync {
	char *name;
	char *root;
	struct entry *entries;
	size_t n, alloc;
	size_t stats_sent; /* STATs produced; n + 1 once the end was sent */
	uint32_t *reqs; /* queued REQ IDs */
	size_t nreq, reqalloc, reqpos;
	int fd; /* file being sent, -1 */
	uint32_t cur; /* its ID */
	int64_t cur_left; /* bytes still to send of it */
	int fin_received, fin_sent;
	int stat_turn; /* 1: a STAT goes next when data waits too */
	size_t files_sent;
	unsigned long long bytes_sent;
	uint8_t *scratch; /* a packed packet */
	size_t scratch_len;

	/* hard links: (dev, ino) of a sent file with more than one link ->
	 * its entry, open addressing, at most half full */
	struct inode_slot {
		dev_t dev;
		ino_t ino;
		size_t entry; /* + 1; 0: a free slot */
	} * inodes;
	size_t inodes_cap, inodes_n;

	/* walk state */
	struct ignore *exclude;
	struct ignore *include;
	struct strlist include_literal; /* include patterns, for descending */
	struct {
		struct entry e;
		int emitted;
	} stack[FSYNC_DEPTH_MAX];
	size_t depth;
};

int fsync_decode(const uint8_t *msg, size_t len, struct fsync_packet *out,
		 struct error *err)
{
	Fsutil__Types__Packet *p;
	struct pballoc a;

	memset(out, 0, sizeof(*out));
	p = fsutil__types__packet__unpack(pballoc_init(&a, len), len, msg);
	if (!p)
		return err_set(err, EXIT_ENGINE,
			       "the engine sent a FileSync packet that is %s "
			       "(%zu bytes)",
			       pballoc_failure(&a),
			       len);
	if ((unsigned)p->type > FSYNC_ERR) {
		int type = (int)p->type;

		fsutil__types__packet__free_unpacked(p, &a.base);
		return err_set(err, EXIT_ENGINE,
			       "the engine sent a FileSync packet of unknown "
			       "type %d",
			       type);
	}
	out->type = (int)p->type;
	out->id = p->id;
	out->has_stat = p->stat != NULL;
	if (p->data.len) {
		out->data = xmalloc(p->data.len + 1);
		memcpy(out->data, p->data.data, p->data.len);
		out->data[p->data.len] = '\0';
		out->data_len = p->data.len;
	}
	fsutil__types__packet__free_unpacked(p, &a.base);
	return 0;
}

void fsync_packet_release(struct fsync_packet *p)
{
	free(p->data);
	p->data = NULL;
	p->data_len = 0;
}

/* --- the walk ------------------------------------------------------------ */

static uint32_t go_mode(mode_t m)
{
	uint32_t g = (uint32_t)(m & 0777);

	if (S_ISDIR(m))
		g |= GO_DIR;
	if (S_ISLNK(m))
		g |= GO_SYMLINK;
	if (m & S_ISUID)
		g |= GO_SETUID;
	if (m & S_ISGID)
		g |= GO_SETGID;
	if (m & S_ISVTX)
		g |= GO_STICKY;
	return g;
}

static void add_entry(struct fsync *f, const struct entry *e)
{
	ALLOC_GROW(f->entries, f->n + 1, f->alloc);
	f->entries[f->n].path = xstrdup(e->path);
	f->entries[f->n].mode = e->mode;
	f->entries[f->n].size = e->size;
	f->entries[f->n].mtime_ns = e->mtime_ns;
	f->entries[f->n].linkname = e->linkname ? xstrdup(e->linkname) : NULL;
	f->entries[f->n].regular = e->regular;
	f->entries[f->n].requested = 0;
	f->n++;
}

static size_t inode_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15u ^ (uint64_t)dev;

	return (size_t)(h ^ h >> 29) & (cap - 1);
}

/* The slot for (dev, ino): its entry, or the free slot where it goes. */
static struct inode_slot *inode_slot(struct fsync *f, dev_t dev, ino_t ino)
{
	size_t i = inode_hash(dev, ino, f->inodes_cap);

	while (f->inodes[i].entry &&
	       (f->inodes[i].dev != dev || f->inodes[i].ino != ino))
		i = (i + 1) & (f->inodes_cap - 1);
	return &f->inodes[i];
}

static void inode_grow(struct fsync *f)
{
	struct inode_slot *old = f->inodes;
	size_t old_cap = f->inodes_cap;

	f->inodes_cap = old_cap ? old_cap * 2 : 64;
	f->inodes = xcalloc(f->inodes_cap, sizeof(*f->inodes));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].entry)
			*inode_slot(f, old[i].dev, old[i].ino) = old[i];
	free(old);
}

/* The slot of a file with more links than one: holding the entry already
 * sent for its inode, or free for the entry about to be sent. */
static struct inode_slot *hard_link(struct fsync *f, const struct stat *st)
{
	if (2 * (f->inodes_n + 1) > f->inodes_cap)
		inode_grow(f);
	return inode_slot(f, st->st_dev, st->st_ino);
}

/* Sends the directories above the entry that are still held back. */
static void emit(struct fsync *f, const struct entry *e)
{
	for (size_t i = 0; i < f->depth; i++) {
		if (!f->stack[i].emitted) {
			add_entry(f, &f->stack[i].e);
			f->stack[i].emitted = 1;
		}
	}
	add_entry(f, e);
}

/* 1 when some include pattern may match below the directory rel: its
 * literal part (up to the first wildcard) agrees with "rel/". */
static int include_below(const struct fsync *f, const char *rel)
{
	size_t rl = strlen(rel);

	for (size_t i = 0; i < f->include_literal.n; i++) {
		const char *p = f->include_literal.v[i];
		size_t lit = strcspn(p, "*?[\\");

		if (lit <= rl) {
			/* A wildcard before the end of rel: maybe. */
			if (!strncmp(p, rel, lit))
				return 1;
		} else if (!strncmp(p, rel, rl) && p[rl] == '/') {
			return 1;
		}
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct fsync *f, const char *abs, const char *rel,
		    int included, struct error *err);

static int walk_entry(struct fsync *f, const char *abs, const char *rel,
		      int parent_included, struct error *err)
{
	struct stat st;
	struct entry e = { 0 };
	char link[PATH_MAX];
	int excluded, included = parent_included, ret = 0;

	if (lstat(abs, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* gone during the walk */
		return err_set(err, EXIT_BUILD, "cannot stat '%s': %s", abs,
			       strerror(errno));
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !S_ISLNK(st.st_mode))
		return 0;
	excluded = f->exclude && ignore_excluded(f->exclude, rel);
	if (!included && f->include)
		included = ignore_excluded(f->include, rel);
	if (!f->include)
		included = 1;

	e.path = (char *)rel;
	e.mode = go_mode(st.st_mode);
	e.size = S_ISDIR(st.st_mode) ? 0 : (int64_t)st.st_size;
	e.mtime_ns =
		(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	e.regular = S_ISREG(st.st_mode);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(abs, link, sizeof(link) - 1);

		if (n < 0)
			return err_set(err, EXIT_BUILD,
				       "cannot read the link '%s': %s", abs,
				       strerror(errno));
		link[n] = '\0';
		e.linkname = link;
	}

	if (!S_ISDIR(st.st_mode)) {
		if (excluded || !included)
			return 0;
		/* A second path of a file goes as a link to the first, as
		 * fsutil sends it: size 0, never asked for. */
		if (e.regular && st.st_nlink > 1) {
			struct inode_slot *slot = hard_link(f, &st);

			if (slot->entry) {
				e.linkname = f->entries[slot->entry - 1].path;
				e.size = 0;
				e.regular = 0;
			} else {
				emit(f, &e);
				*slot = (struct inode_slot){ st.st_dev,
							     st.st_ino, f->n };
				f->inodes_n++;
				return 0;
			}
		}
		emit(f, &e);
		return 0;
	}
	/* A directory: descend when something below may be sent; send it
	 * now when it is itself sent, else only once something below is. */
	if (excluded && !ignore_walk_excluded_dir(f->exclude, rel))
		return 0;
	if (!included && !include_below(f, rel))
		return 0;
	if (f->depth == FSYNC_DEPTH_MAX)
		return err_set(err, EXIT_BUILD,
			       "'%s' is nested deeper than %d directories", abs,
			       FSYNC_DEPTH_MAX);
	if (!excluded && included)
		emit(f, &e);
	f->stack[f->depth].e = e;
	f->stack[f->depth].e.path = xstrdup(rel);
	f->stack[f->depth].e.linkname = NULL;
	f->stack[f->depth].emitted = !excluded && included;
	f->depth++;
	ret = walk_dir(f, abs, rel, included && !excluded, err);
	f->depth--;
	free(f->stack[f->depth].e.path);
	return ret;
}

static int walk_dir(struct fsync *f, const char *abs, const char *rel,
		    int included, struct error *err)
{
	DIR *d = opendir(abs);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	struct buf ca = BUF_INIT(BUF_TEXT_MAX), cr = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	if (!d)
		return err_set(err, EXIT_BUILD,
			       "cannot read the directory '%s': %s", abs,
			       strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	buf_init(&ca, PATH_MAX);
	buf_init(&cr, PATH_MAX);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&ca);
		buf_reset(&cr);
		if (buf_addf(&ca, "%s/%s", abs, names[i]) < 0 ||
		    buf_addf(&cr, "%s%s%s", rel, *rel ? "/" : "", names[i]) <
			    0) {
			err_set(err, EXIT_BUILD, "the path '%s/%s' is too long",
				abs, names[i]);
			goto out;
		}
		if (walk_entry(f, ca.data, cr.data, included, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&ca);
	buf_release(&cr);
	return ret;
}

/* Compiles patterns with the .dockerignore matcher. */
static int compile(struct ignore **out, const struct strlist *a,
		   const struct strlist *b, const char *what, struct error *err)
{
	struct buf text = BUF_INIT(BUF_TEXT_MAX);
	int ret;

	*out = NULL;
	if (!(a && a->n) && !(b && b->n))
		return 0;
	for (size_t i = 0; a && i < a->n; i++)
		buf_addf(&text, "%s\n", a->v[i]);
	for (size_t i = 0; b && i < b->n; i++)
		buf_addf(&text, "%s\n", b->v[i]);
	ret = ignore_parse(out, buf_str(&text), text.len, what, err);
	buf_release(&text);
	return ret;
}

int fsync_open(struct fsync **out, const char *name, const char *root,
	       const struct strlist *include, const struct strlist *exclude,
	       const struct strlist *follow, struct error *err)
{
	struct fsync *f = xcalloc(1, sizeof(*f));
	struct stat st;

	*out = NULL;
	f->fd = -1;
	f->name = xstrdup(name);
	f->root = xstrdup(root);
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, EXIT_USAGE,
			"the directory '%s' for '%s' is not there", root, name);
		goto fail;
	}
	if (compile(&f->exclude, exclude, NULL, "exclude-patterns", err) < 0 ||
	    compile(&f->include, include, follow, "include-patterns", err) <
		    0) {
		err_wrap(err,
			 "the engine asked for '%s' with patterns "
			 "builder cannot read",
			 name);
		goto fail;
	}
	for (size_t i = 0; include && i < include->n; i++)
		strlist_push(&f->include_literal, include->v[i]);
	for (size_t i = 0; follow && i < follow->n; i++)
		strlist_push(&f->include_literal, follow->v[i]);
	if (walk_dir(f, root, "", 0, err) < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	fsync_free(f);
	return -1;
}

/* --- packets out ---------------------------------------------------------- */

static int add_packet(struct fsync *f, struct buf *out,
		      const Fsutil__Types__Packet *p, struct error *err)
{
	size_t len = fsutil__types__packet__get_packed_size(p);
	uint8_t head[GRPC_HEADER_LEN];

	if (len > f->scratch_len) {
		free(f->scratch);
		f->scratch = xmalloc(len);
		f->scratch_len = len;
	}
	fsutil__types__packet__pack(p, f->scratch);
	grpc_frame_header(head, (uint32_t)len);
	if (buf_add(out, head, sizeof(head)) < 0 ||
	    buf_add(out, f->scratch, len) < 0)
		return err_set(err, EXIT_BUILD,
			       "out of room sending '%s' to the engine",
			       f->name);
	return 0;
}

static int add_stat(struct fsync *f, struct buf *out, struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;
	Fsutil__Types__Stat st = FSUTIL__TYPES__STAT__INIT;

	p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_STAT;
	if (f->stats_sent < f->n) {
		const struct entry *e = &f->entries[f->stats_sent];

		st.path = e->path;
		st.mode = e->mode;
		st.size = e->size;
		st.modtime = e->mtime_ns;
		if (e->linkname)
			st.linkname = e->linkname;
		p.stat = &st;
	}
	f->stats_sent++;
	return add_packet(f, out, &p, err);
}

static int add_data(struct fsync *f, struct buf *out, uint32_t id,
		    const void *data, size_t len, struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;

	p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA;
	p.id = id;
	p.data.data = (uint8_t *)data;
	p.data.len = len;
	return add_packet(f, out, &p, err);
}

/* One step of the current file: a chunk, or its end. */
static int file_step(struct fsync *f, struct buf *out, struct error *err)
{
	const struct entry *e = &f->entries[f->cur];
	char chunk[FSYNC_CHUNK];
	size_t want;
	ssize_t n;

	if (f->fd < 0) {
		struct buf path = BUF_INIT(BUF_PATH_MAX);

		buf_addf(&path, "%s/%s", f->root, e->path);
		f->fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (f->fd < 0) {
			err_set(err, EXIT_BUILD,
				"cannot read '%s' to send it to the engine: "
				"%s (did it change during the build?)",
				path.data, strerror(errno));
			buf_release(&path);
			return -1;
		}
		buf_release(&path);
		f->cur_left = e->size;
	}
	if (!f->cur_left) {
		close(f->fd);
		f->fd = -1;
		f->files_sent++;
		return add_data(f, out, f->cur, NULL, 0, err);
	}
	want = f->cur_left < (int64_t)sizeof(chunk) ? (size_t)f->cur_left
						    : sizeof(chunk);
	do
		n = read(f->fd, chunk, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return err_set(err, EXIT_BUILD,
			       "cannot read '%s/%s' to send it to the engine: "
			       "%s",
			       f->root, e->path,
			       n < 0 ? strerror(errno)
				     : "it shrank since the build started");
	f->cur_left -= n;
	f->bytes_sent += (unsigned long long)n;
	return add_data(f, out, f->cur, chunk, (size_t)n, err);
}

/* STATs still to send (the empty one that ends them included). */
static int stats_left(const struct fsync *f)
{
	return f->stats_sent <= f->n;
}

/* A file being sent, or requested and not begun. */
static int data_left(const struct fsync *f)
{
	return f->fd >= 0 || f->reqpos < f->nreq;
}

/*
 * STATs and file data alternate, one packet each, while both are waiting.
 * The daemon reads the stream in order on one goroutine and stops reading
 * while its file-creating walk is 128 STATs behind, so a stream of every
 * STAT first would hold each file's data back until nearly all files were
 * created: the two would run one after the other instead of together.
 */
int fsync_produce(struct fsync *f, struct buf *out, size_t want,
		  struct error *err)
{
	while (out->len < want) {
		if (stats_left(f) && (!data_left(f) || f->stat_turn)) {
			if (add_stat(f, out, err) < 0)
				return -1;
			f->stat_turn = 0;
		} else if (data_left(f)) {
			if (f->fd < 0)
				f->cur = f->reqs[f->reqpos++];
			if (file_step(f, out, err) < 0)
				return -1;
			f->stat_turn = 1;
		} else if (f->fin_received && !f->fin_sent) {
			Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;

			p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN;
			if (add_packet(f, out, &p, err) < 0)
				return -1;
			f->fin_sent = 1;
		} else {
			break;
		}
	}
	return 0;
}

int fsync_receive(struct fsync *f, const uint8_t *msg, size_t len,
		  struct error *err)
{
	struct fsync_packet p;
	int ret = -1;

	if (fsync_decode(msg, len, &p, err) < 0)
		return -1;
	switch (p.type) {
	case FSYNC_REQ:
		if (p.id >= f->n || !f->entries[p.id].regular) {
			err_set(err, EXIT_ENGINE,
				"the engine asked for file ID %u of '%s', "
				"which is not a file builder sent (%zu "
				"entries)",
				p.id, f->name, f->n);
			goto out;
		}
		if (f->entries[p.id].requested) {
			/* Also what bounds the queue: at most one per file. */
			err_set(err, EXIT_ENGINE,
				"the engine asked twice for file ID %u of "
				"'%s' ('%s')",
				p.id, f->name, f->entries[p.id].path);
			goto out;
		}
		f->entries[p.id].requested = 1;
		ALLOC_GROW(f->reqs, f->nreq + 1, f->reqalloc);
		f->reqs[f->nreq++] = p.id;
		break;
	case FSYNC_FIN:
		f->fin_received = 1;
		break;
	case FSYNC_ERR:
		err_set(err, EXIT_BUILD,
			"the engine stopped receiving '%s': %.*s", f->name,
			(int)(p.data_len > 512 ? 512 : p.data_len),
			p.data ? p.data : "no reason given");
		goto out;
	default:
		err_set(err, EXIT_ENGINE,
			"the engine sent a FileSync packet of type %d while "
			"receiving '%s'; builder expects REQ, FIN or ERR",
			p.type, f->name);
		goto out;
	}
	ret = 0;
out:
	fsync_packet_release(&p);
	return ret;
}

int fsync_pending(const struct fsync *f)
{
	return stats_left(f) || data_left(f) ||
	       (f->fin_received && !f->fin_sent);
}

int fsync_done(const struct fsync *f)
{
	return f->fin_sent;
}

size_t fsync_entries(const struct fsync *f)
{
	return f->n;
}

size_t fsync_files_sent(const struct fsync *f)
{
	return f->files_sent;
}

unsigned long long fsync_bytes_sent(const struct fsync *f)
{
	return f->bytes_sent;
}

void fsync_free(struct fsync *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->entries[i].path);
		free(f->entries[i].linkname);
	}
	for (size_t i = 0; i < f->depth; i++)
		free(f->stack[i].e.path);
	free(f->entries);
	free(f->inodes);
	free(f->reqs);
	if (f->fd >= 0)
		close(f->fd);
	free(f->scratch);
	ignore_free(f->exclude);
	ignore_free(f->include);
	strlist_clear(&f->include_literal);
	free(f->name);
	free(f->root);
	free(f);
}
