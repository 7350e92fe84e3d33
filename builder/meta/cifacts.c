/*
 * The facts of a build from the CI's variables, read through the caller's
 * lookup function (cli/config.c is the only reader of the environment),
 * GitHub's event file (cJSON) and the context's .git (gitdir.c). Order:
 * explicit variables, then the CI's, then .git. URLs lose any user:password
 * before they become facts: facts are printed and become labels.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/facts.h"
#include "meta/gitdir.h"
#include "meta/tagrules.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define EVENT_FILE_MAX (32u * 1024 * 1024)
#define EPOCH_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

struct src {
	meta_lookup_fn lookup;
	void *ctx;
};

static const char *get(const struct src *s, const char *name)
{
	const char *v = s->lookup(name, s->ctx);

	return v && *v ? v : NULL;
}

void meta_fact_set(struct meta_fact *fact, const char *value, const char *from)
{
	free(fact->value);
	free(fact->from);
	fact->value = value ? xstrdup(value) : NULL;
	fact->from = value && from ? xstrdup(from) : NULL;
}

/* Sets the fact from variable name when the fact is still unknown. */
static void from_var(struct meta_fact *fact, const struct src *s,
		     const char *name)
{
	const char *v;

	if (!fact->value && (v = get(s, name)))
		meta_fact_set(fact, v, name);
}

static void set_if_unknown(struct meta_fact *fact, const char *value,
			   const char *from)
{
	if (!fact->value && value && *value)
		meta_fact_set(fact, value, from);
}

static int all_digits(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n > 0 && n <= max;
}

static int is_hex_sha(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f') ||
		      (s[n] >= 'A' && s[n] <= 'F')))
			return 0;
	return n >= 7 && n <= 64;
}

/*
 * "git@github.com:acme/app.git", "ssh://git@host/x", "https://u:p@host/x"
 * -> "https://github.com/acme/app"; NULL for anything else. Owned.
 */
static char *https_url(const char *url)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	const char *host, *path, *at, *colon;
	size_t hlen;

	buf_init(&b, 4096);
	if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7) ||
	    !strncmp(url, "ssh://", 6) || !strncmp(url, "git://", 6)) {
		host = strstr(url, "://") + 3;
		path = host + strcspn(host, "/");
		at = memchr(host, '@', (size_t)(path - host));
		if (at)
			host = at + 1;
		hlen = (size_t)(path - host);
		if (strncmp(url, "http", 4) != 0) {
			/* drop an ssh port: it is not the web one */
			colon = memchr(host, ':', hlen);
			if (colon)
				hlen = (size_t)(colon - host);
		}
		buf_addstr(&b,
			   strncmp(url, "http://", 7) ? "https://" : "http://");
		buf_add(&b, host, hlen);
	} else if (!strstr(url, "://") && (colon = strchr(url, ':')) &&
		   (!strchr(url, '/') || colon < strchr(url, '/'))) {
		/* scp-like: [user@]host:path */
		host = url;
		at = memchr(url, '@', (size_t)(colon - url));
		if (at)
			host = at + 1;
		buf_addstr(&b, "https://");
		buf_add(&b, host, (size_t)(colon - host));
		path = colon + 1;
		buf_addch(&b, '/');
	} else {
		buf_release(&b);
		return NULL;
	}
	buf_addstr(&b, path);
	while (b.len && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	if (b.len > 4 && !strcmp(b.data + b.len - 4, ".git"))
		b.data[b.len -= 4] = '\0';
	while (b.len && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] <= ' ' || b.data[i] == '"') {
			buf_release(&b);
			return NULL;
		}
	return buf_detach(&b);
}

static void set_url(struct meta_fact *fact, const char *url, const char *from)
{
	char *u;

	if (fact->value || !url || !(u = https_url(url)))
		return;
	meta_fact_set(fact, u, from);
	free(u);
}

/* The last path component of a URL, for the title. */
static void title_from_url(struct meta_facts *f)
{
	const char *slash;

	if (f->title.value || !f->source.value)
		return;
	slash = strrchr(f->source.value, '/');
	if (slash && slash[1] && !strstr(slash, "://"))
		meta_fact_set(&f->title, slash + 1, f->source.from);
}

/* --- GitHub Actions --------------------------------------------------- */

static const char *json_str(const cJSON *o, const char *a, const char *b,
			    const char *c)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, a);

	if (j && b)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	if (j && c)
		j = cJSON_GetObjectItemCaseSensitive(j, c);
	return cJSON_IsString(j) && j->valuestring && *j->valuestring
		       ? j->valuestring
		       : NULL;
}

static int read_event(const char *path, cJSON **out, struct error *err)
{
	struct buf b = BUF_INIT(EVENT_FILE_MAX);
	int ret = -1;

	*out = NULL;
	if (buf_read_file(&b, path, EVENT_FILE_MAX) < 0) {
		if (errno == EFBIG)
			err_set(err, EXIT_USAGE,
				"GITHUB_EVENT_PATH '%s' is larger than %u MiB",
				path, EVENT_FILE_MAX >> 20);
		else
			err_set(err, EXIT_USAGE,
				"cannot read GITHUB_EVENT_PATH '%s': %s", path,
				strerror(errno));
		goto out;
	}
	*out = cJSON_ParseWithLength(buf_str(&b), b.len);
	if (!*out || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		err_set(err, EXIT_USAGE,
			"GITHUB_EVENT_PATH '%s' is not a JSON object", path);
		goto out;
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

static int github(const struct src *s, struct meta_facts *f, int *ref_known,
		  struct error *err)
{
	const char *ref = get(s, "GITHUB_REF"),
		   *type = get(s, "GITHUB_REF_TYPE");
	const char *name = get(s, "GITHUB_REF_NAME"), *v, *path;
	const char *head = get(s, "GITHUB_HEAD_REF");
	cJSON *ev = NULL;
	const cJSON *num;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *pr = NULL;

	if ((path = get(s, "GITHUB_EVENT_PATH")) &&
	    read_event(path, &ev, err) < 0)
		return -1;
	if (head || (ref && !strncmp(ref, "refs/pull/", 10))) {
		*ref_known = 1;
		set_if_unknown(&f->branch, head, "GITHUB_HEAD_REF");
		num = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(ev, "pull_request"),
			"number");
		if (cJSON_IsNumber(num) && num->valuedouble >= 0 &&
		    num->valuedouble < 1e12) {
			buf_addf(&b, "%lld", (long long)num->valuedouble);
			set_if_unknown(&f->pr, buf_str(&b),
				       "event file pull_request.number");
		} else if (ref && !strncmp(ref, "refs/pull/", 10)) {
			pr = xstrndup(ref + 10, strcspn(ref + 10, "/"));
			set_if_unknown(&f->pr, pr, "GITHUB_REF");
		}
		set_if_unknown(&f->sha,
			       json_str(ev, "pull_request", "head", "sha"),
			       "event file pull_request.head.sha");
	} else if ((type && !strcmp(type, "tag")) ||
		   (ref && !strncmp(ref, "refs/tags/", 10))) {
		*ref_known = 1;
		if (name)
			set_if_unknown(&f->tag, name, "GITHUB_REF_NAME");
		else if (ref && !strncmp(ref, "refs/tags/", 10))
			set_if_unknown(&f->tag, ref + 10, "GITHUB_REF");
	} else if ((type && !strcmp(type, "branch")) ||
		   (ref && !strncmp(ref, "refs/heads/", 11))) {
		*ref_known = 1;
		if (name)
			set_if_unknown(&f->branch, name, "GITHUB_REF_NAME");
		else if (ref && !strncmp(ref, "refs/heads/", 11))
			set_if_unknown(&f->branch, ref + 11, "GITHUB_REF");
	}
	from_var(&f->sha, s, "GITHUB_SHA");
	set_if_unknown(&f->default_branch,
		       json_str(ev, "repository", "default_branch", NULL),
		       "event file repository.default_branch");
	if ((v = json_str(ev, "repository", "license", "spdx_id")) &&
	    strcmp(v, "NOASSERTION") != 0)
		set_if_unknown(&f->licenses, v,
			       "event file repository.license.spdx_id");
	from_var(&f->build, s, "GITHUB_RUN_NUMBER");
	if ((v = get(s, "GITHUB_REPOSITORY"))) {
		const char *server = get(s, "GITHUB_SERVER_URL");

		buf_reset(&b);
		buf_addf(&b, "%s/%s", server ? server : "https://github.com",
			 v);
		set_url(&f->source, buf_str(&b),
			"GITHUB_SERVER_URL/GITHUB_REPOSITORY");
		if (strchr(v, '/') && strchr(v, '/')[1])
			set_if_unknown(&f->title, strchr(v, '/') + 1,
				       "GITHUB_REPOSITORY");
	}
	cJSON_Delete(ev);
	buf_release(&b);
	free(pr);
	return 0;
}

/* --- the others ------------------------------------------------------- */

static void gitlab(const struct src *s, struct meta_facts *f, int *ref_known)
{
	if (get(s, "CI_COMMIT_TAG")) {
		*ref_known = 1;
		from_var(&f->tag, s, "CI_COMMIT_TAG");
	} else if (get(s, "CI_MERGE_REQUEST_IID")) {
		*ref_known = 1;
		from_var(&f->pr, s, "CI_MERGE_REQUEST_IID");
		from_var(&f->branch, s, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME");
		/* merged-results pipelines build a merge commit; this is the
		 * merge request's own head */
		from_var(&f->sha, s, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA");
	} else if (get(s, "CI_COMMIT_BRANCH")) {
		*ref_known = 1;
		from_var(&f->branch, s, "CI_COMMIT_BRANCH");
	}
	from_var(&f->sha, s, "CI_COMMIT_SHA");
	from_var(&f->default_branch, s, "CI_DEFAULT_BRANCH");
	from_var(&f->build, s, "CI_PIPELINE_IID");
	set_url(&f->source, get(s, "CI_PROJECT_URL"), "CI_PROJECT_URL");
	from_var(&f->title, s, "CI_PROJECT_NAME");
}

static void circleci(const struct src *s, struct meta_facts *f, int *ref_known)
{
	if (get(s, "CIRCLE_TAG")) {
		*ref_known = 1;
		from_var(&f->tag, s, "CIRCLE_TAG");
	} else if (get(s, "CIRCLE_PR_NUMBER")) {
		*ref_known = 1;
		from_var(&f->pr, s, "CIRCLE_PR_NUMBER");
		from_var(&f->branch, s, "CIRCLE_BRANCH");
	} else if (get(s, "CIRCLE_BRANCH")) {
		*ref_known = 1;
		from_var(&f->branch, s, "CIRCLE_BRANCH");
	}
	from_var(&f->sha, s, "CIRCLE_SHA1");
	from_var(&f->build, s, "CIRCLE_BUILD_NUM");
	set_url(&f->source, get(s, "CIRCLE_REPOSITORY_URL"),
		"CIRCLE_REPOSITORY_URL");
	from_var(&f->title, s, "CIRCLE_PROJECT_REPONAME");
}

static void bamboo(const struct src *s, struct meta_facts *f, int *ref_known)
{
	if (get(s, "bamboo_repository_pr_key")) {
		*ref_known = 1;
		from_var(&f->pr, s, "bamboo_repository_pr_key");
		from_var(&f->branch, s, "bamboo_repository_pr_sourceBranch");
	} else if (get(s, "bamboo_planRepository_branchName")) {
		*ref_known = 1;
		from_var(&f->branch, s, "bamboo_planRepository_branchName");
	}
	from_var(&f->sha, s, "bamboo_planRepository_revision");
	from_var(&f->build, s, "bamboo_buildNumber");
	set_url(&f->source, get(s, "bamboo_planRepository_repositoryUrl"),
		"bamboo_planRepository_repositoryUrl");
}

/* Docker Hub autobuild: SOURCE_BRANCH is a branch or a tag name; .git
 * says which, else a version-like name is taken as a tag. */
static void autobuild(const struct src *s, struct meta_facts *f,
		      const struct git_info *gi, int *ref_known)
{
	const char *name = get(s, "SOURCE_BRANCH");
	struct meta_semver sv;

	if (name) {
		int is_tag = strlist_has(&gi->tags, name) ||
			     (!(gi->branch && !strcmp(gi->branch, name)) &&
			      meta_semver_parse(name, &sv));

		*ref_known = 1;
		if (is_tag)
			set_if_unknown(&f->tag, name, "SOURCE_BRANCH");
		else
			set_if_unknown(&f->branch, name, "SOURCE_BRANCH");
	}
	from_var(&f->sha, s, "SOURCE_COMMIT");
}

static int check_facts(struct meta_facts *f, struct error *err)
{
	if (f->pr.value && !all_digits(f->pr.value, 12))
		return err_set(err, EXIT_USAGE,
			       "%s '%s' is not a pull request number "
			       "(example: 42)",
			       f->pr.from, f->pr.value);
	if (f->sha.value && !is_hex_sha(f->sha.value))
		return err_set(err, EXIT_USAGE,
			       "%s '%s' is not a commit id: use 7 to 64 hex "
			       "digits",
			       f->sha.from, f->sha.value);
	if (f->sha.value)
		for (char *p = f->sha.value; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
	if (f->build.value && !all_digits(f->build.value, 18))
		meta_fact_set(&f->build, NULL, NULL); /* not ours to police */
	return 0;
}

static const char *detect(const struct src *s)
{
	const char *v;

	if ((v = get(s, "GITHUB_ACTIONS")) && !strcmp(v, "true"))
		return "github";
	if (get(s, "GITLAB_CI"))
		return "gitlab";
	if (get(s, "CIRCLECI"))
		return "circleci";
	if (get(s, "bamboo_planRepository_revision") ||
	    get(s, "bamboo_buildKey"))
		return "bamboo";
	if (get(s, "SOURCE_BRANCH") || get(s, "SOURCE_COMMIT"))
		return "autobuild";
	return NULL;
}

int meta_facts_from_env(meta_lookup_fn lookup, void *ctx,
			const char *context_dir, struct meta_facts *f,
			struct error *err)
{
	struct src s = { lookup, ctx };
	struct git_info gi = GIT_INFO_INIT;
	struct error gerr = ERROR_INIT;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	const char *v;
	int ref_known = 0, ret = -1;

	if (context_dir && git_read(context_dir, &gi, &gerr) < 0)
		f->warning = xstrdup(gerr.msg);

	/* explicit variables */
	from_var(&f->tag, &s, "GIT_TAG");
	from_var(&f->pr, &s, "PR_NUMBER");
	from_var(&f->branch, &s, "BRANCH");
	from_var(&f->sha, &s, "COMMIT_SHA");
	from_var(&f->default_branch, &s, "DEFAULT_BRANCH");
	ref_known = f->tag.value || f->pr.value || f->branch.value;

	/* the CI's */
	f->ci = detect(&s);
	if (f->ci && !strcmp(f->ci, "github")) {
		if (github(&s, f, &ref_known, err) < 0)
			goto out;
	} else if (f->ci && !strcmp(f->ci, "gitlab")) {
		gitlab(&s, f, &ref_known);
	} else if (f->ci && !strcmp(f->ci, "circleci")) {
		circleci(&s, f, &ref_known);
	} else if (f->ci && !strcmp(f->ci, "bamboo")) {
		bamboo(&s, f, &ref_known);
	} else if (f->ci) {
		autobuild(&s, f, &gi, &ref_known);
	}
	from_var(&f->build, &s, "BUILD_NUMBER");

	/* .git */
	if (gi.found) {
		struct buf from = BUF_INIT(BUF_TEXT_MAX);

		if (!ref_known && gi.branch) {
			buf_addf(&from, "%s/HEAD", gi.gitdir);
			set_if_unknown(&f->branch, gi.branch, buf_str(&from));
		} else if (!ref_known && gi.sha && gi.tags.n) {
			/* a detached HEAD on a tag: prefer a version */
			const char *tag = gi.tags.v[0];
			struct meta_semver sv;

			for (size_t i = 0; i < gi.tags.n; i++)
				if (meta_semver_parse(gi.tags.v[i], &sv)) {
					tag = gi.tags.v[i];
					break;
				}
			buf_addf(&from, "%s refs/tags", gi.gitdir);
			set_if_unknown(&f->tag, tag, buf_str(&from));
		}
		set_if_unknown(&f->sha, gi.sha, gi.head_from);
		buf_reset(&from);
		buf_addf(&from, "%s/refs/remotes/origin/HEAD", gi.gitdir);
		set_if_unknown(&f->default_branch, gi.default_branch,
			       buf_str(&from));
		buf_reset(&from);
		buf_addf(&from, "%s/config remote.origin.url", gi.gitdir);
		set_url(&f->source, gi.origin_url, buf_str(&from));
		buf_release(&from);
	}
	title_from_url(f);
	if (check_facts(f, err) < 0)
		goto out;

	if ((v = get(&s, "SOURCE_DATE_EPOCH"))) {
		char *end;
		long long t;

		errno = 0;
		t = strtoll(v, &end, 10);
		if (errno || end == v || *end || t < 0 || t > EPOCH_MAX ||
		    !all_digits(v, 12)) {
			err_set(err, EXIT_USAGE,
				"SOURCE_DATE_EPOCH '%s' is not a time in "
				"seconds since 1970 (example: "
				"SOURCE_DATE_EPOCH=$(git log -1 "
				"--format=%%ct))",
				v);
			goto out;
		}
		meta_fact_set(&f->created, v, "SOURCE_DATE_EPOCH");
	} else if (gi.commit_time >= 0 && f->sha.value && gi.sha &&
		   !strncmp(gi.sha, f->sha.value, strlen(f->sha.value))) {
		/* only the time of the very commit the facts name */
		buf_addf(&b, "%lld", gi.commit_time);
		meta_fact_set(&f->created, buf_str(&b),
			      "the commit's committer time in .git");
	}

	if (f->tag.value)
		f->event = META_EVENT_TAG;
	else if (f->pr.value)
		f->event = META_EVENT_PR;
	else if (f->branch.value)
		f->event = META_EVENT_BRANCH;
	else if (f->sha.value)
		f->event = META_EVENT_DETACHED;
	ret = 0;
out:
	git_info_release(&gi);
	buf_release(&b);
	return ret;
}

void meta_facts_release(struct meta_facts *f)
{
	if (!f)
		return;
	struct meta_fact *all[] = {
		&f->branch,	    &f->tag,	&f->sha,    &f->pr,
		&f->default_branch, &f->build,	&f->source, &f->title,
		&f->licenses,	    &f->created
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		meta_fact_set(all[i], NULL, NULL);
	free(f->warning);
	*f = (struct meta_facts)META_FACTS_INIT;
}

const char *meta_event_name(enum meta_event e)
{
	switch (e) {
	case META_EVENT_BRANCH:
		return "branch";
	case META_EVENT_TAG:
		return "tag";
	case META_EVENT_PR:
		return "pull request";
	case META_EVENT_DETACHED:
		return "detached";
	case META_EVENT_NONE:
		break;
	}
	return "none";
}
