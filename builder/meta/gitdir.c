/*
 * .git read directly: HEAD, loose and packed refs, worktree "gitdir:"
 * files, remote.origin.url and the commit time of a loose commit object.
 * Only reads files; never runs git, never writes. Every file has a size
 * ceiling, ref names are checked before they become paths (a HEAD of
 * "ref: ../../etc/passwd" is refused) and symbolic refs are followed at
 * most a few levels.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "meta/gitdir.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define SMALL_FILE_MAX (64u * 1024) /* HEAD, a loose ref, gitdir, config */
#define PACKED_REFS_MAX (32u * 1024 * 1024)
#define OBJECT_MAX (4u * 1024 * 1024) /* compressed loose object */
#define OBJECT_HEAD_MAX (256u * 1024) /* what we inflate of it */
#define SYMREF_DEPTH 5
#define PARENT_DEPTH 64
#define TAG_DIR_DEPTH 8
#define TAG_FILES_MAX 10000

struct repo {
	char *gitdir; /* HEAD, per-worktree files */
	char *common; /* refs, packed-refs, objects, config */
	struct buf packed; /* packed-refs, read once */
	int packed_read;
};

int git_valid_sha(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 40 || n == 64;
}

int git_valid_refname(const char *name)
{
	size_t n;

	if (!name || strncmp(name, "refs/", 5) != 0)
		return 0;
	n = strlen(name);
	if (n > 1024 || name[n - 1] == '/' || name[n - 1] == '.' ||
	    (n >= 5 && !strcmp(name + n - 5, ".lock")))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return 0;
		if (c == '/' && (name[i + 1] == '/' || name[i + 1] == '.'))
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
		if (c == '@' && name[i + 1] == '{')
			return 0;
	}
	return 1;
}

/*
 * Reads path into b (reset first), at most max bytes. Returns 0, or -1
 * with errno set (ENOENT when missing, EFBIG when too large).
 */
static int read_file(const char *path, size_t max, struct buf *b)
{
	buf_release(b);
	return buf_read_file(b, path, max);
}

static char *path_join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_init(&b, PATH_MAX * 2);
	if (buf_addf(&b, "%s/%s", dir, name) < 0) {
		buf_release(&b);
		return xstrdup("/nonexistent");
	}
	return buf_detach(&b);
}

/* Strips trailing newlines and carriage returns in place. */
static void chomp(struct buf *b)
{
	while (b->len &&
	       (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path relative to base unless absolute. Owned. */
static char *resolve(const char *base, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : path_join(base, p);
}

/*
 * Finds the .git of dir or a parent: sets r->gitdir and r->common.
 * Returns 1 when found, 0 when not, -1 with err on a broken gitdir file.
 */
static int find_repo(const char *dir, struct repo *r, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *cur = realpath(dir, NULL), *dotgit = NULL, *p;
	int ret = 0;

	if (!cur)
		return 0;
	for (int depth = 0; depth < PARENT_DEPTH; depth++) {
		dotgit = path_join(cur, ".git");
		if (is_dir(dotgit)) {
			r->gitdir = dotgit;
			dotgit = NULL;
			break;
		}
		if (is_file(dotgit)) {
			if (read_file(dotgit, SMALL_FILE_MAX, &b) < 0) {
				ret = err_set(err, EXIT_USAGE,
					      "cannot read '%s': %s", dotgit,
					      strerror(errno));
				goto out;
			}
			chomp(&b);
			if (strncmp(buf_str(&b), "gitdir: ", 8) != 0 ||
			    !b.data[8] || memchr(b.data, '\0', b.len)) {
				ret = err_set(err, EXIT_USAGE,
					      "'%s' is not a 'gitdir: PATH' "
					      "file: fix or remove it",
					      dotgit);
				goto out;
			}
			r->gitdir = resolve(cur, b.data + 8);
			if (!is_dir(r->gitdir)) {
				ret = err_set(err, EXIT_USAGE,
					      "'%s' points to '%s', which is "
					      "not a directory: a moved or "
					      "removed worktree? run 'git "
					      "worktree repair'",
					      dotgit, r->gitdir);
				goto out;
			}
			break;
		}
		free(dotgit);
		dotgit = NULL;
		p = strrchr(cur, '/');
		if (!p || p == cur)
			break;
		*p = '\0';
	}
	if (!r->gitdir)
		goto out;
	/* A worktree's gitdir names the shared one in "commondir". */
	p = path_join(r->gitdir, "commondir");
	if (read_file(p, SMALL_FILE_MAX, &b) == 0) {
		chomp(&b);
		if (b.len && !memchr(b.data, '\0', b.len)) {
			char *c = resolve(r->gitdir, b.data);

			/* "worktrees/x/../.." reads badly in `builder tags` */
			r->common = realpath(c, NULL);
			if (!r->common)
				r->common = c;
			else
				free(c);
		}
	}
	free(p);
	if (!r->common)
		r->common = xstrdup(r->gitdir);
	ret = 1;
out:
	buf_release(&b);
	free(cur);
	free(dotgit);
	return ret;
}

static void load_packed(struct repo *r)
{
	char *p;

	if (r->packed_read)
		return;
	r->packed_read = 1;
	p = path_join(r->common, "packed-refs");
	if (read_file(p, PACKED_REFS_MAX, &r->packed) < 0)
		buf_reset(&r->packed);
	free(p);
}

/* In packed-refs text, the value of refname and its peeled value. */
static int packed_lookup(struct repo *r, const char *refname, char **sha,
			 char **peeled)
{
	const char *line, *end;
	size_t nlen = strlen(refname);

	*sha = NULL;
	if (peeled)
		*peeled = NULL;
	load_packed(r);
	for (line = buf_str(&r->packed); *line; line = end + (*end != 0)) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (*sha) {
			if (peeled && *line == '^' && end - line - 1 >= 40)
				*peeled = xstrndup(line + 1,
						   (size_t)(end - line - 1));
			return 0;
		}
		if (*line == '#' || *line == '^')
			continue;
		const char *sp = memchr(line, ' ', (size_t)(end - line));

		if (!sp || (size_t)(end - sp - 1) != nlen ||
		    memcmp(sp + 1, refname, nlen) != 0)
			continue;
		*sha = xstrndup(line, (size_t)(sp - line));
	}
	return *sha ? 0 : -1;
}

/*
 * Resolves refname to a commit: loose first, then packed-refs, following
 * symbolic refs. *sha is NULL when the ref does not exist (an unborn
 * branch). Returns -1 with err when the ref is corrupt.
 */
static int resolve_ref(struct repo *r, const char *refname, char **sha,
		       char **from, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *name = xstrdup(refname), *p = NULL;
	int ret = -1;

	*sha = NULL;
	for (int depth = 0;; depth++) {
		if (depth >= SYMREF_DEPTH) {
			err_set(err, EXIT_USAGE,
				"ref '%s' in '%s' is a chain of more than %d "
				"symbolic refs",
				refname, r->common, SYMREF_DEPTH);
			goto out;
		}
		if (!git_valid_refname(name)) {
			err_set(err, EXIT_USAGE,
				"'%s' in '%s' is not a valid ref name", name,
				r->common);
			goto out;
		}
		free(p);
		p = path_join(r->common, name);
		if (read_file(p, SMALL_FILE_MAX, &b) < 0) {
			if (errno != ENOENT && errno != ENOTDIR &&
			    errno != EISDIR) {
				err_set(err, EXIT_USAGE, "cannot read '%s': %s",
					p, strerror(errno));
				goto out;
			}
			if (packed_lookup(r, name, sha, NULL) == 0) {
				if (!git_valid_sha(*sha)) {
					err_set(err, EXIT_USAGE,
						"'%s' in '%s/packed-refs' is "
						"not a commit id",
						name, r->common);
					free(*sha);
					*sha = NULL;
					goto out;
				}
				free(*from);
				*from = path_join(r->common, "packed-refs");
			}
			ret = 0;
			goto out;
		}
		chomp(&b);
		if (!strncmp(buf_str(&b), "ref: ", 5)) {
			free(name);
			name = xstrdup(b.data + 5);
			continue;
		}
		if (!git_valid_sha(buf_str(&b))) {
			err_set(err, EXIT_USAGE,
				"'%s' is neither a commit id nor 'ref: "
				"refs/...': the repository is corrupt",
				p);
			goto out;
		}
		*sha = buf_detach(&b);
		free(*from);
		*from = p;
		p = NULL;
		ret = 0;
		goto out;
	}
out:
	buf_release(&b);
	free(name);
	free(p);
	return ret;
}

/*
 * Inflates the start of loose object sha into out (at most
 * OBJECT_HEAD_MAX bytes: enough for a commit's or a tag's headers).
 * Returns -1 when it is not loose or not readable.
 */
static int read_object(struct repo *r, const char *sha, struct buf *out)
{
	struct buf z = BUF_INIT(BUF_TEXT_MAX);
	char rel[80], *p = NULL;
	unsigned char chunk[16384];
	z_stream zs;
	int ret = -1, zret;

	if (!git_valid_sha(sha))
		return -1;
	snprintf(rel, sizeof(rel), "objects/%.2s/%s", sha, sha + 2);
	p = path_join(r->common, rel);
	if (read_file(p, OBJECT_MAX, &z) < 0)
		goto out;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		goto out;
	zs.next_in = (unsigned char *)z.data;
	zs.avail_in = (uInt)z.len;
	buf_reset(out);
	buf_init(out, OBJECT_HEAD_MAX + sizeof(chunk));
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zret = inflate(&zs, Z_NO_FLUSH);
		if (zret != Z_OK && zret != Z_STREAM_END)
			break;
		if (buf_add(out, chunk, sizeof(chunk) - zs.avail_out) < 0)
			break;
	} while (zret == Z_OK && out->len < OBJECT_HEAD_MAX &&
		 (zs.avail_in || !zs.avail_out));
	inflateEnd(&zs);
	if (zret == Z_OK || zret == Z_STREAM_END)
		ret = out->len ? 0 : -1;
out:
	buf_release(&z);
	free(p);
	return ret;
}

/* The header block of an object ("commit 123\0tree ...\n\n") or NULL;
 * *type is set to the object's type word. */
static const char *object_body(const struct buf *obj, const char **type)
{
	const char *nul = memchr(obj->data, '\0', obj->len);

	*type = obj->data;
	return nul ? nul + 1 : NULL;
}

/* Finds "\nkey " in the headers of an object body (before the blank
 * line); returns the value's start or NULL. */
static const char *header(const char *body, const char *end, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = body; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));

		if (!nl || nl == l)
			return NULL; /* blank line: the message starts */
		if ((size_t)(nl - l) > klen && !memcmp(l, key, klen) &&
		    l[klen] == ' ')
			return l + klen + 1;
		l = nl + 1;
	}
	return NULL;
}

static long long commit_time(struct repo *r, const char *sha)
{
	struct buf obj = BUF_INIT(BUF_TEXT_MAX);
	const char *type, *body, *v, *end, *gt;
	long long t = -1;

	if (read_object(r, sha, &obj) < 0)
		goto out;
	body = object_body(&obj, &type);
	if (!body || strncmp(type, "commit ", 7) != 0)
		goto out;
	end = obj.data + obj.len;
	v = header(body, end, "committer");
	if (!v)
		goto out;
	/* "Name <email> 1700000000 +0000": the time follows the last '>'. */
	const char *nl = memchr(v, '\n', (size_t)(end - v));

	if (!nl)
		nl = end;
	gt = NULL;
	for (const char *q = v; q < nl; q++)
		if (*q == '>')
			gt = q;
	if (!gt || gt[1] != ' ')
		goto out;
	char *e;
	errno = 0;
	long long val = strtoll(gt + 2, &e, 10);
	if (!errno && e != gt + 2 && *e == ' ' && val >= 0 &&
	    val < 253402300800LL) /* before year 10000 */
		t = val;
out:
	buf_release(&obj);
	return t;
}

/* The commit a loose tag object points to, or NULL. Owned. */
static char *peel_loose_tag(struct repo *r, const char *sha)
{
	struct buf obj = BUF_INIT(BUF_TEXT_MAX);
	const char *type, *body, *v;
	char *ret = NULL;

	if (read_object(r, sha, &obj) < 0)
		goto out;
	body = object_body(&obj, &type);
	if (!body || strncmp(type, "tag ", 4) != 0)
		goto out;
	v = header(body, obj.data + obj.len, "object");
	if (v && obj.data + obj.len - v > 40) {
		const char *nl = strchr(v, '\n');

		if (nl) {
			ret = xstrndup(v, (size_t)(nl - v));
			if (!git_valid_sha(ret)) {
				free(ret);
				ret = NULL;
			}
		}
	}
out:
	buf_release(&obj);
	return ret;
}

/* Collects loose tags under refs/tags/<prefix> pointing at sha. */
static void loose_tags(struct repo *r, const char *prefix, const char *sha,
		       int depth, int *budget, struct strlist *seen,
		       struct strlist *tags)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *dirpath, *rel;
	struct dirent *de;
	DIR *d;

	rel = path_join("refs/tags", prefix);
	if (!*prefix)
		rel[strlen(rel) - 1] = '\0';
	dirpath = path_join(r->common, rel);
	d = opendir(dirpath);
	if (!d)
		goto out;
	while ((de = readdir(d)) && (*budget)-- > 0) {
		char *name, *full, *peeled;

		if (de->d_name[0] == '.')
			continue;
		name = *prefix ? path_join(prefix, de->d_name)
			       : xstrdup(de->d_name);
		full = path_join(dirpath, de->d_name);
		if (is_dir(full)) {
			if (depth < TAG_DIR_DEPTH)
				loose_tags(r, name, sha, depth + 1, budget,
					   seen, tags);
		} else if (read_file(full, SMALL_FILE_MAX, &b) == 0) {
			chomp(&b);
			strlist_push(seen, name);
			if (!strcmp(buf_str(&b), sha)) {
				strlist_push(tags, name);
			} else if ((peeled = peel_loose_tag(r, b.data))) {
				if (!strcmp(peeled, sha))
					strlist_push(tags, name);
				free(peeled);
			}
		}
		free(name);
		free(full);
	}
	closedir(d);
out:
	buf_release(&b);
	free(rel);
	free(dirpath);
}

/* Collects packed tags pointing at sha (directly or peeled), except the
 * names a loose ref overrides. */
static void packed_tags(struct repo *r, const char *sha,
			const struct strlist *seen, struct strlist *tags)
{
	const char *line, *end;
	char *name = NULL;
	int hit = 0;

	load_packed(r);
	for (line = buf_str(&r->packed); *line; line = end + (*end != 0)) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (*line == '^') {
			if (name && !hit &&
			    (size_t)(end - line - 1) == strlen(sha) &&
			    !memcmp(line + 1, sha, strlen(sha)))
				hit = 1;
			continue;
		}
		if (name && hit && !strlist_has(seen, name) &&
		    !strlist_has(tags, name))
			strlist_push(tags, name);
		free(name);
		name = NULL;
		hit = 0;
		if (*line == '#')
			continue;
		const char *sp = memchr(line, ' ', (size_t)(end - line));

		if (!sp || (size_t)(end - sp - 1) <= 10 ||
		    strncmp(sp + 1, "refs/tags/", 10) != 0)
			continue;
		name = xstrndup(sp + 11, (size_t)(end - sp - 11));
		hit = (size_t)(sp - line) == strlen(sha) &&
		      !memcmp(line, sha, strlen(sha));
	}
	if (name && hit && !strlist_has(seen, name) && !strlist_has(tags, name))
		strlist_push(tags, name);
	free(name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* remote.origin.url from config, or NULL. Owned. */
static char *origin_url(struct repo *r)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *p = path_join(r->common, "config"), *ret = NULL;
	const char *line, *end;
	int in_origin = 0;

	if (read_file(p, SMALL_FILE_MAX, &b) < 0)
		goto out;
	for (line = buf_str(&b); *line; line = end + (*end != 0)) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		if (*line == '[') {
			in_origin = !strncmp(line, "[remote \"origin\"]", 17);
			continue;
		}
		if (!in_origin || strncmp(line, "url", 3) != 0)
			continue;
		const char *v = line + 3;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || *v != '=')
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		const char *e = end;

		while (e > v &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > v) {
			free(ret);
			ret = xstrndup(v, (size_t)(e - v));
			break;
		}
	}
out:
	buf_release(&b);
	free(p);
	return ret;
}

int git_read(const char *dir, struct git_info *out, struct error *err)
{
	struct repo r = { NULL, NULL, BUF_INIT(BUF_TEXT_MAX), 0 };
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	struct strlist seen = STRLIST_INIT;
	char *p = NULL;
	int ret = -1, found;

	found = find_repo(dir, &r, err);
	if (found <= 0) {
		ret = found;
		goto out;
	}
	out->found = 1;
	out->gitdir = xstrdup(r.gitdir);
	p = path_join(r.gitdir, "HEAD");
	if (read_file(p, SMALL_FILE_MAX, &b) < 0) {
		err_set(err, EXIT_USAGE,
			"cannot read '%s': %s: the repository is corrupt", p,
			strerror(errno));
		goto out;
	}
	chomp(&b);
	if (!strncmp(buf_str(&b), "ref: ", 5)) {
		const char *ref = b.data + 5;

		if (!git_valid_refname(ref)) {
			err_set(err, EXIT_USAGE,
				"'%s' names '%.200s', which is not a valid "
				"ref: the repository is corrupt",
				p, ref);
			goto out;
		}
		if (!strncmp(ref, "refs/heads/", 11))
			out->branch = xstrdup(ref + 11);
		if (resolve_ref(&r, ref, &out->sha, &out->head_from, err) < 0)
			goto out;
	} else if (git_valid_sha(buf_str(&b))) {
		out->sha = xstrdup(b.data);
		out->head_from = xstrdup(p);
	} else {
		err_set(err, EXIT_USAGE,
			"'%s' is neither 'ref: refs/...' nor a commit id: the "
			"repository is corrupt",
			p);
		goto out;
	}
	if (out->sha) {
		int budget = TAG_FILES_MAX;

		loose_tags(&r, "", out->sha, 0, &budget, &seen, &out->tags);
		packed_tags(&r, out->sha, &seen, &out->tags);
		if (out->tags.n > 1)
			qsort(out->tags.v, out->tags.n, sizeof(char *),
			      cmp_str);
		out->commit_time = commit_time(&r, out->sha);
	}
	/* The default branch as the clone saw it: a missing or odd
	 * origin/HEAD only leaves it unknown. */
	free(p);
	p = path_join(r.common, "refs/remotes/origin/HEAD");
	if (read_file(p, SMALL_FILE_MAX, &b) == 0) {
		chomp(&b);
		if (!strncmp(buf_str(&b), "ref: refs/remotes/origin/", 25) &&
		    git_valid_refname(b.data + 5) && b.data[25])
			out->default_branch = xstrdup(b.data + 25);
	}
	out->origin_url = origin_url(&r);
	ret = 0;
out:
	free(p);
	buf_release(&b);
	buf_release(&r.packed);
	strlist_clear(&seen);
	free(r.gitdir);
	free(r.common);
	return ret;
}

void git_info_release(struct git_info *gi)
{
	if (!gi)
		return;
	free(gi->gitdir);
	free(gi->branch);
	free(gi->sha);
	free(gi->head_from);
	strlist_clear(&gi->tags);
	free(gi->default_branch);
	free(gi->origin_url);
	*gi = (struct git_info)GIT_INFO_INIT;
}
