/*
 * TAGS rules: split, parsed and checked in full before any fact is used,
 * then applied to the facts. Templates are expanded into bounded buffers;
 * every tag made is checked against the reference grammar here, so a bad
 * one fails before the build with the rule and the input named. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meta/tagregex.h"
#include "meta/tagrules.h"
#include "registry/ref.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define TAG_MAX 128
#define RULES_MAX 64
#define RULE_MAX 2048
#define TEMPLATE_OUT_MAX 4096

#define TAG_GRAMMAR                                                         \
	"a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting " \
	"with '.' or '-'"

enum rule_kind {
	R_SEMVER,
	R_LATEST,
	R_BRANCH,
	R_TAG,
	R_DEFAULT_BRANCH,
	R_SHA,
	R_PR,
	R_TEMPLATE, /* raw:T and bare templates */
	R_REGEX,
};

/* Which template names a rule may use. */
enum scope { S_GLOBAL, S_SEMVER, S_REGEX };

struct rule {
	enum rule_kind kind;
	char *text; /* as written, for messages */
	char *tmpl; /* NULL: the kind's default */
	int latest; /* R_LATEST: 1 auto, 0 false */
	struct tagregex re;
};

struct rules {
	struct rule *v;
	size_t n, alloc;
};

static void rules_release(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].text);
		free(rs->v[i].tmpl);
		tagregex_release(&rs->v[i].re);
	}
	free(rs->v);
	rs->v = NULL;
	rs->n = rs->alloc = 0;
}

/*
 * Splits at spaces, commas and newlines outside brackets. Inside a
 * regexp class "[...]" no other bracket counts ("[(]" opens nothing).
 */
static int split_rules(const char *s, struct strlist *out, struct error *err)
{
	const char *start = NULL, *cls = NULL;
	int depth = 0;

	for (const char *p = s;; p++) {
		int sep = !*p || (depth == 0 && strchr(" \t\r\n,", *p));

		if (sep && start) {
			if ((size_t)(p - start) > RULE_MAX)
				return err_set(err, EXIT_USAGE,
					       "TAGS has a rule longer than %d "
					       "bytes ('%.40s...')",
					       RULE_MAX, start);
			if (out->n >= RULES_MAX)
				return err_set(err, EXIT_USAGE,
					       "TAGS has more than %d rules",
					       RULES_MAX);
			char *r = xstrndup(start, (size_t)(p - start));

			strlist_push(out, r);
			free(r);
			start = cls = NULL;
			depth = 0;
		}
		if (!*p)
			break;
		if (sep)
			continue;
		if (!start)
			start = p;
		if (*p == '\\' && p[1]) {
			p++; /* "\(" or "\{" opens nothing */
		} else if (cls) {
			/* a ']' right after "[" or "[^" is a member */
			if (*p == ']' && p > cls + 1 &&
			    !(p == cls + 2 && cls[1] == '^')) {
				cls = NULL;
				depth--;
			}
		} else if (*p == '[') {
			cls = p;
			depth++;
		} else if (*p == '{' || *p == '(') {
			depth++;
		} else if ((*p == '}' || *p == ')') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

static int name_in(const char *name, size_t len, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return 1;
	return 0;
}

static const char *const global_names[] = { "branch",	"tag",	   "sha",
					    "sha_long", "version", "date",
					    "build",	"pr",	   NULL };
static const char *const semver_names[] = { "version", "major", "minor",
					    "patch",   "raw",	NULL };

/* Checks every "{{name}}" (and in regex scope "{\N}" and "{sourceref}")
 * of t. */
static int check_template(const struct rule *r, const char *t, enum scope scope,
			  int ngroups, struct error *err)
{
	for (const char *p = t; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			const char *e = strstr(p + 2, "}}"), *n = p + 2;
			size_t len;

			if (!e)
				return err_set(err, EXIT_USAGE,
					       "TAGS rule '%s' has a '{{' "
					       "without '}}'",
					       r->text);
			while (*n == ' ')
				n++;
			len = (size_t)(e - n);
			while (len && n[len - 1] == ' ')
				len--;
			if (!name_in(n, len, global_names) &&
			    !(scope == S_SEMVER &&
			      name_in(n, len, semver_names)))
				return err_set(
					err, EXIT_USAGE,
					"TAGS rule '%s' uses '{{%.*s}}', which "
					"is not known: use %s",
					r->text, (int)len, n,
					scope == S_SEMVER
						? "{{version}}, {{major}}, "
						  "{{minor}}, {{patch}}, "
						  "{{raw}} "
						  "or {{branch}}, {{sha}} ..."
						: "{{branch}}, {{tag}}, "
						  "{{sha}}, "
						  "{{sha_long}}, {{version}}, "
						  "{{date}}, {{build}} or "
						  "{{pr}}");
			p = e + 1;
		} else if (scope == S_REGEX && p[0] == '{' && p[1] == '\\') {
			if (!(p[2] >= '1' && p[2] <= '9') || p[3] != '}')
				return err_set(
					err, EXIT_USAGE,
					"TAGS rule '%s' has a '{\\' that "
					"is not a group from {\\1} to "
					"{\\9}",
					r->text);
			if (p[2] - '0' > ngroups)
				return err_set(err, EXIT_USAGE,
					       "TAGS rule '%s' uses {\\%c} but "
					       "its pattern has %d group(s)",
					       r->text, p[2], ngroups);
			p += 3;
		}
	}
	return 0;
}

static int parse_rule(const char *text, struct rule *r, struct error *err)
{
	const char *why;

	memset(r, 0, sizeof(*r));
	r->text = xstrdup(text);
	if (!strcmp(text, "semver")) {
		r->kind = R_SEMVER;
	} else if (!strncmp(text, "semver:", 7)) {
		r->kind = R_SEMVER;
		r->tmpl = xstrdup(text + 7);
		if (!*r->tmpl)
			goto empty;
		return check_template(r, r->tmpl, S_SEMVER, 0, err);
	} else if (!strcmp(text, "latest=auto") ||
		   !strcmp(text, "latest=false")) {
		r->kind = R_LATEST;
		r->latest = !strcmp(text, "latest=auto");
	} else if (!strcmp(text, "branch")) {
		r->kind = R_BRANCH;
	} else if (!strcmp(text, "tag")) {
		r->kind = R_TAG;
	} else if (!strcmp(text, "sha")) {
		r->kind = R_SHA;
	} else if (!strcmp(text, "pr")) {
		r->kind = R_PR;
	} else if (!strncmp(text, "default-branch:", 15)) {
		r->kind = R_DEFAULT_BRANCH;
		r->tmpl = xstrdup(text + 15);
		if (!*r->tmpl)
			goto empty;
		return check_template(r, r->tmpl, S_GLOBAL, 0, err);
	} else if (!strncmp(text, "raw:", 4)) {
		r->kind = R_TEMPLATE;
		r->tmpl = xstrdup(text + 4);
		if (!*r->tmpl)
			goto empty;
		return check_template(r, r->tmpl, S_GLOBAL, 0, err);
	} else if (!strncmp(text, "regex:", 6)) {
		const char *colon = strrchr(text + 6, ':');
		char *pat;
		size_t plen;
		int rc;

		r->kind = R_REGEX;
		if (!colon || colon == text + 6 || !colon[1])
			return err_set(err, EXIT_USAGE,
				       "TAGS rule '%s' is not "
				       "regex:PATTERN:TEMPLATE (example: "
				       "'regex:^v([0-9.]+)$:{\\1}')",
				       text);
		r->tmpl = xstrdup(colon + 1);
		plen = (size_t)(colon - (text + 6));
		pat = xstrndup(text + 6, plen);
		if (plen >= 2 && pat[0] == '/' && pat[plen - 1] == '/') {
			memmove(pat, pat + 1, plen - 2);
			pat[plen - 2] = '\0';
		}
		rc = tagregex_compile(&r->re, pat, &why);
		if (rc < 0)
			err_set(err, EXIT_USAGE,
				"TAGS rule '%s': the pattern '%s' %s", text,
				pat, why);
		free(pat);
		if (rc < 0)
			return -1;
		return check_template(r, r->tmpl, S_REGEX, r->re.ngroups, err);
	} else if (strstr(text, "{{")) {
		r->kind = R_TEMPLATE;
		r->tmpl = xstrdup(text);
		return check_template(r, r->tmpl, S_GLOBAL, 0, err);
	} else {
		return err_set(err, EXIT_USAGE,
			       "TAGS rule '%s' is not known: use semver, "
			       "branch, tag, sha, pr, default-branch:latest, "
			       "raw:VALUE, a {{template}} or "
			       "regex:PATTERN:TEMPLATE (a fixed tag is "
			       "raw:%s)",
			       text, text);
	}
	return 0;
empty:
	return err_set(
		err, EXIT_USAGE,
		"TAGS rule '%s' has nothing after ':' (example: %slatest)",
		text, text);
}

static int parse_rules(const char *s, struct rules *rs, struct error *err)
{
	struct strlist parts = STRLIST_INIT;
	int ret = -1;

	if (split_rules(s, &parts, err) < 0)
		goto out;
	for (size_t i = 0; i < parts.n; i++) {
		ALLOC_GROW(rs->v, rs->n + 1, rs->alloc);
		rs->n++;
		if (parse_rule(parts.v[i], &rs->v[rs->n - 1], err) < 0)
			goto out;
	}
	ret = 0;
out:
	strlist_clear(&parts);
	return ret;
}

int meta_tags_check(const char *rules, struct error *err)
{
	struct rules rs = { 0 };
	int ret = parse_rules(rules, &rs, err);

	rules_release(&rs);
	return ret;
}

/* --- semver ----------------------------------------------------------- */

/* A numeric identifier: digits, no leading zero. */
static size_t numeric(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (!n || n >= outsz || (n > 1 && s[0] == '0'))
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without a
 * leading zero when checknum. Returns the length used or 0. */
static size_t idents(const char *s, char *out, size_t outsz, int checknum)
{
	size_t n = 0, start = 0;

	for (;; n++) {
		char c = s[n];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-')
			continue;
		if (n == start)
			return 0; /* empty identifier */
		if (checknum) {
			int alldig = 1;

			for (size_t i = start; i < n; i++)
				if (s[i] < '0' || s[i] > '9')
					alldig = 0;
			if (alldig && n - start > 1 && s[start] == '0')
				return 0;
		}
		if (c != '.')
			break;
		start = n + 1;
	}
	if (n >= outsz)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

int meta_semver_parse(const char *s, struct meta_semver *v)
{
	size_t n;

	memset(v, 0, sizeof(*v));
	if (!s)
		return 0;
	if (*s == 'v' || *s == 'V')
		s++;
	if (!(n = numeric(s, v->major, sizeof(v->major))) || s[n] != '.')
		return 0;
	s += n + 1;
	if (!(n = numeric(s, v->minor, sizeof(v->minor))) || s[n] != '.')
		return 0;
	s += n + 1;
	if (!(n = numeric(s, v->patch, sizeof(v->patch))))
		return 0;
	s += n;
	if (*s == '-') {
		if (!(n = idents(s + 1, v->pre, sizeof(v->pre), 1)))
			return 0;
		s += n + 1;
	}
	if (*s == '+') {
		if (!(n = idents(s + 1, v->build, sizeof(v->build), 0)))
			return 0;
		s += n + 1;
	}
	return *s == '\0';
}

/* "1.2.3", "1.3.0-rc.1"; build metadata joins with '-' ('+' is not
 * allowed in a tag). */
static void semver_version(const struct meta_semver *v, struct buf *b)
{
	buf_addf(b, "%s.%s.%s", v->major, v->minor, v->patch);
	if (*v->pre)
		buf_addf(b, "-%s", v->pre);
	if (*v->build)
		buf_addf(b, "-%s", v->build);
}

/* --- sanitizing ------------------------------------------------------- */

int meta_sanitize_tag(const char *name, char **out)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	int dash = 0;

	*out = NULL;
	buf_init(&b, TAG_MAX + 8);
	for (const char *p = name; *p && b.len < TAG_MAX; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-') {
			if ((c == '.' || c == '-') && !b.len)
				continue; /* a tag starts with [a-z0-9_] */
			buf_addch(&b, c);
			dash = 0;
		} else if (!dash && b.len) {
			buf_addch(&b, '-');
			dash = 1;
		}
	}
	while (b.len && (b.data[b.len - 1] == '-' || b.data[b.len - 1] == '.'))
		b.data[--b.len] = '\0';
	if (!b.len) {
		buf_release(&b);
		return -1;
	}
	*out = buf_detach(&b);
	return 0;
}

/* --- applying --------------------------------------------------------- */

struct xctx {
	const struct rule *r;
	const struct meta_facts *f;
	const struct meta_semver *sv; /* S_SEMVER */
	const char *src; /* S_REGEX: the name matched */
	const size_t *m; /* S_REGEX: the groups */
	const char *missing; /* set when a needed fact is unknown */
};

static void describe(struct buf *b, const char *what,
		     const struct meta_fact *fact)
{
	buf_addf(b, "%s '%s' (%s)", what, fact->value,
		 fact->from ? fact->from : "?");
}

/* A sanitized fact; -1 with err when nothing valid is left. */
static int sanitized(const struct xctx *x, const char *what,
		     const struct meta_fact *fact, char **out,
		     struct error *err)
{
	struct buf d = BUF_INIT(BUF_TEXT_MAX);

	if (meta_sanitize_tag(fact->value, out) == 0)
		return 0;
	describe(&d, what, fact);
	err_set(err, EXIT_USAGE,
		"TAGS rule '%s': %s has nothing a tag can be made of: %s",
		x->r->text, buf_str(&d), TAG_GRAMMAR);
	buf_release(&d);
	return -1;
}

/* Appends the value of a {{name}}; 0 with x->missing set when its fact
 * is unknown. */
static int add_field(struct xctx *x, const char *n, size_t len, struct buf *b,
		     struct error *err)
{
	const struct meta_facts *f = x->f;
	char *s = NULL;
	struct meta_semver sv;

#define IS(lit) (len == sizeof(lit) - 1 && !memcmp(n, lit, len))
	if (x->sv && IS("version")) {
		semver_version(x->sv, b);
	} else if (x->sv && IS("major")) {
		buf_addstr(b, x->sv->major);
	} else if (x->sv && IS("minor")) {
		buf_addstr(b, x->sv->minor);
	} else if (x->sv && IS("patch")) {
		buf_addstr(b, x->sv->patch);
	} else if (x->sv && IS("raw")) {
		buf_addstr(b, f->tag.value);
	} else if (IS("branch") || IS("tag")) {
		const struct meta_fact *fact =
			IS("branch") ? &f->branch : &f->tag;

		if (!fact->value) {
			x->missing = IS("branch") ? "branch" : "git tag";
			return 0;
		}
		if (sanitized(x, IS("branch") ? "branch" : "tag", fact, &s,
			      err) < 0)
			return -1;
		buf_addstr(b, s);
		free(s);
	} else if (IS("sha") || IS("sha_long")) {
		if (!f->sha.value) {
			x->missing = "commit";
			return 0;
		}
		buf_addf(b, "%.*s", IS("sha") ? 7 : 64, f->sha.value);
	} else if (IS("version")) {
		if (f->tag.value && meta_semver_parse(f->tag.value, &sv)) {
			semver_version(&sv, b);
		} else if (f->tag.value) {
			if (sanitized(x, "tag", &f->tag, &s, err) < 0)
				return -1;
			buf_addstr(b, s);
			free(s);
		} else {
			x->missing = "git tag";
			return 0;
		}
	} else if (IS("date")) {
		char day[16];
		struct tm tm;
		time_t t;

		if (!f->created.value) {
			x->missing = "commit time or SOURCE_DATE_EPOCH";
			return 0;
		}
		t = (time_t)strtoll(f->created.value, NULL, 10);
		if (!gmtime_r(&t, &tm) ||
		    !strftime(day, sizeof(day), "%Y%m%d", &tm)) {
			x->missing = "date";
			return 0;
		}
		buf_addstr(b, day);
	} else if (IS("build") || IS("pr")) {
		const struct meta_fact *fact = IS("build") ? &f->build : &f->pr;

		if (!fact->value) {
			x->missing =
				IS("build") ? "build number" : "pull request";
			return 0;
		}
		buf_addstr(b, fact->value);
	}
#undef IS
	return 1;
}

/* Expands t into b: 1 done, 0 a fact is unknown, -1 error. */
static int expand(struct xctx *x, const char *t, struct buf *b,
		  struct error *err)
{
	buf_init(b, TEMPLATE_OUT_MAX);
	for (const char *p = t; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			const char *e = strstr(p + 2, "}}"), *n = p + 2;
			size_t len;
			int rc;

			while (*n == ' ')
				n++;
			len = (size_t)(e - n);
			while (len && n[len - 1] == ' ')
				len--;
			rc = add_field(x, n, len, b, err);
			if (rc <= 0)
				return rc;
			p = e + 1;
		} else if (x->m && p[0] == '{' && p[1] == '\\') {
			int g = p[2] - '0';

			if (x->m[2 * g] != (size_t)-1)
				buf_add(b, x->src + x->m[2 * g],
					x->m[2 * g + 1] - x->m[2 * g]);
			p += 3;
		} else if (x->m && !strncmp(p, "{sourceref}", 11)) {
			buf_addstr(b, x->src);
			p += 10;
		} else {
			buf_addch(b, *p);
		}
	}
	return 1;
}

static int push_tag(struct meta_tagset *out, const struct rule *r,
		    const char *tag, const char *input, struct error *err)
{
	struct buf from = BUF_INIT(BUF_TEXT_MAX);

	if (!ref_valid_tag(tag))
		return err_set(err, EXIT_USAGE,
			       "TAGS rule '%s' gives '%.200s'%s%s, which is "
			       "not a valid tag: %s",
			       r->text, tag, input ? " from " : "",
			       input ? input : "", TAG_GRAMMAR);
	if (strlist_has(&out->tags, tag))
		return 0;
	buf_addstr(&from, r->text);
	if (input)
		buf_addf(&from, " from %s", input);
	strlist_push(&out->tags, tag);
	strlist_push(&out->from, buf_str(&from));
	buf_release(&from);
	return 0;
}

static void skip(struct meta_tagset *out, const struct rule *r, const char *why)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_addf(&b, "%s: nothing, %s", r->text, why);
	strlist_push(&out->skipped, buf_str(&b));
	buf_release(&b);
}

/* Expands r's template and pushes the result, or records the skip. */
static int template_tag(struct meta_tagset *out, struct xctx *x,
			const char *tmpl, const char *input, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX), w = BUF_INIT(BUF_TEXT_MAX);
	int rc = expand(x, tmpl, &b, err);

	if (rc == 0) {
		buf_addf(&w, "no %s known", x->missing);
		skip(out, x->r, buf_str(&w));
	} else if (rc > 0) {
		rc = push_tag(out, x->r, buf_str(&b), input, err);
	}
	buf_release(&b);
	buf_release(&w);
	return rc < 0 ? -1 : 0;
}

static int apply_semver(struct meta_tagset *out, struct xctx *x, int *stable,
			struct error *err)
{
	const struct meta_facts *f = x->f;
	struct meta_semver sv;
	struct buf from = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	if (!f->tag.value) {
		skip(out, x->r, "not a git tag");
		return 0;
	}
	if (!meta_semver_parse(f->tag.value, &sv)) {
		struct buf w = BUF_INIT(BUF_TEXT_MAX);

		buf_addf(&w, "git tag '%s' is not a version like v1.2.3",
			 f->tag.value);
		skip(out, x->r, buf_str(&w));
		buf_release(&w);
		return 0;
	}
	x->sv = &sv;
	describe(&from, "git tag", &f->tag);
	const char *t = x->r->tmpl;
	/* a pre-release gives only itself (or its {{raw}} name), as
	 * metadata-action does */
	int raw_only = t && strstr(t, "raw") && !strstr(t, "major") &&
		       !strstr(t, "minor") && !strstr(t, "patch");

	if ((*sv.pre && !raw_only) || !t) {
		if (template_tag(out, x, "{{version}}", buf_str(&from), err) <
		    0)
			goto out;
		if (!*sv.pre && (template_tag(out, x, "{{major}}.{{minor}}",
					      buf_str(&from), err) < 0 ||
				 (strcmp(sv.major, "0") != 0 &&
				  template_tag(out, x, "{{major}}",
					       buf_str(&from), err) < 0)))
			goto out;
	} else {
		/* "{{major}}" of 0.x alone is not a useful tag */
		int major_only = strstr(t, "major") && !strstr(t, "minor") &&
				 !strstr(t, "patch") && !strstr(t, "version") &&
				 !strstr(t, "raw");

		if (major_only && !strcmp(sv.major, "0"))
			skip(out, x->r, "major version 0 alone");
		else if (template_tag(out, x, t, buf_str(&from), err) < 0)
			goto out;
	}
	if (!*sv.pre)
		*stable = 1;
	ret = 0;
out:
	x->sv = NULL;
	buf_release(&from);
	return ret;
}

static int apply_rule(struct meta_tagset *out, const struct rule *r,
		      const struct meta_facts *f, int *stable,
		      struct error *err)
{
	struct xctx x = { r, f, NULL, NULL, NULL, NULL };
	struct buf from = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	switch (r->kind) {
	case R_LATEST:
		ret = 0;
		break;
	case R_SEMVER:
		ret = apply_semver(out, &x, stable, err);
		break;
	case R_BRANCH:
		if (f->event != META_EVENT_BRANCH || !f->branch.value) {
			skip(out, r, "not a push to a branch");
			ret = 0;
			break;
		}
		describe(&from, "branch", &f->branch);
		ret = template_tag(out, &x, "{{branch}}", buf_str(&from), err);
		break;
	case R_TAG:
		if (!f->tag.value) {
			skip(out, r, "not a git tag");
			ret = 0;
			break;
		}
		describe(&from, "git tag", &f->tag);
		ret = template_tag(out, &x, "{{tag}}", buf_str(&from), err);
		break;
	case R_DEFAULT_BRANCH:
		if (f->event != META_EVENT_BRANCH || !f->branch.value ||
		    !f->default_branch.value ||
		    strcmp(f->branch.value, f->default_branch.value) != 0) {
			skip(out, r,
			     !f->default_branch.value
				     ? "the default branch is not known"
				     : "not a push to the default branch");
			ret = 0;
			break;
		}
		describe(&from, "default branch", &f->default_branch);
		ret = template_tag(out, &x, r->tmpl, buf_str(&from), err);
		break;
	case R_SHA:
		if (!f->sha.value || strlen(f->sha.value) < 7) {
			skip(out, r, "no commit known");
			ret = 0;
			break;
		}
		describe(&from, "commit", &f->sha);
		ret = template_tag(out, &x, "sha-{{sha}}", buf_str(&from), err);
		break;
	case R_PR:
		if (f->event != META_EVENT_PR || !f->pr.value) {
			skip(out, r, "not a pull request");
			ret = 0;
			break;
		}
		describe(&from, "pull request", &f->pr);
		ret = template_tag(out, &x, "pr-{{pr}}", buf_str(&from), err);
		break;
	case R_TEMPLATE:
		ret = template_tag(out, &x, r->tmpl, NULL, err);
		break;
	case R_REGEX: {
		const struct meta_fact *src = f->tag.value	? &f->tag
					      : f->branch.value ? &f->branch
								: NULL;
		size_t m[TAGREGEX_SLOTS];
		int rc;

		if (!src) {
			skip(out, r, "no git tag or branch known");
			ret = 0;
			break;
		}
		rc = tagregex_match(&r->re, src->value, strlen(src->value), m);
		if (rc <= 0) {
			struct buf w = BUF_INIT(BUF_TEXT_MAX);

			buf_addf(&w, "'%s' does not match", src->value);
			skip(out, r, buf_str(&w));
			buf_release(&w);
			ret = 0;
			break;
		}
		x.src = src->value;
		x.m = m;
		describe(&from, src == &f->tag ? "git tag" : "branch", src);
		ret = template_tag(out, &x, r->tmpl, buf_str(&from), err);
		break;
	}
	}
	buf_release(&from);
	return ret;
}

int meta_tags(const char *rules, const struct meta_facts *f,
	      struct meta_tagset *out, struct error *err)
{
	struct rules rs = { 0 };
	int ret = -1, stable = 0, latest = 1;

	if (parse_rules(rules, &rs, err) < 0)
		goto out;
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].kind == R_LATEST)
			latest = rs.v[i].latest;
	for (size_t i = 0; i < rs.n; i++)
		if (apply_rule(out, &rs.v[i], f, &stable, err) < 0)
			goto out;
	if (stable && latest && !strlist_has(&out->tags, "latest")) {
		strlist_push(&out->tags, "latest");
		strlist_push(&out->from,
			     "semver: a stable version (latest=auto)");
	}
	ret = 0;
out:
	rules_release(&rs);
	return ret;
}

void meta_tagset_release(struct meta_tagset *ts)
{
	if (!ts)
		return;
	strlist_clear(&ts->tags);
	strlist_clear(&ts->from);
	strlist_clear(&ts->skipped);
}
