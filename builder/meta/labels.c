/*
 * OCI labels from the facts. Pure: no clock, no environment; .created
 * comes only from SOURCE_DATE_EPOCH or the commit time, so that a rebuild
 * of the same sources gives the same image ID.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meta/labels.h"
#include "meta/tagrules.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define OCI "org.opencontainers.image."

int meta_rfc3339(const char *epoch, char *out, size_t outsz)
{
	struct tm tm;
	char *end;
	long long v;
	time_t t;

	if (!epoch)
		return -1;
	errno = 0;
	v = strtoll(epoch, &end, 10);
	if (errno || end == epoch || *end || v < 0 || v > 253402300799LL)
		return -1;
	t = (time_t)v;
	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	return 0;
}

static int user_has(const struct strlist *user, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; user && i < user->n; i++) {
		const char *u = user->v[i];

		while (*u == ' ' || *u == '\t')
			u++;
		if (!strncmp(u, key, klen) &&
		    (u[klen] == '=' || u[klen] == '\0' || u[klen] == ' '))
			return 1;
	}
	return 0;
}

static void add(const struct strlist *user, struct strlist *out,
		struct strlist *from, const char *key, const char *value,
		const char *origin)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	if (!value || !*value || user_has(user, key))
		return;
	buf_addf(&b, "%s=%s", key, value);
	strlist_push(out, buf_str(&b));
	if (from)
		strlist_push(from, origin ? origin : "?");
	buf_release(&b);
}

void meta_labels(const struct meta_facts *f, const struct strlist *user,
		 struct strlist *out, struct strlist *from)
{
	struct meta_semver sv;
	struct buf v = BUF_INIT(BUF_TEXT_MAX);
	char created[32], *s = NULL;
	const char *vfrom = NULL;

	if (f->tag.value && meta_semver_parse(f->tag.value, &sv)) {
		buf_addf(&v, "%s.%s.%s%s%s", sv.major, sv.minor, sv.patch,
			 *sv.pre ? "-" : "", sv.pre);
		vfrom = f->tag.from;
	} else if (f->tag.value) {
		buf_addstr(&v, f->tag.value);
		vfrom = f->tag.from;
	} else if (f->event == META_EVENT_PR && f->pr.value) {
		buf_addf(&v, "pr-%s", f->pr.value);
		vfrom = f->pr.from;
	} else if (f->branch.value &&
		   meta_sanitize_tag(f->branch.value, &s) == 0) {
		buf_addstr(&v, s);
		vfrom = f->branch.from;
	}
	add(user, out, from, OCI "source", f->source.value, f->source.from);
	add(user, out, from, OCI "url", f->source.value, f->source.from);
	add(user, out, from, OCI "revision", f->sha.value, f->sha.from);
	add(user, out, from, OCI "version", buf_str(&v), vfrom);
	if (meta_rfc3339(f->created.value, created, sizeof(created)) == 0)
		add(user, out, from, OCI "created", created, f->created.from);
	add(user, out, from, OCI "title", f->title.value, f->title.from);
	add(user, out, from, OCI "licenses", f->licenses.value,
	    f->licenses.from);
	buf_release(&v);
	free(s);
}
