/*
 * The facts of every CI system (cifacts.c), table-driven: each case is a
 * set of variables as the CI sets them, the facts expected, and the tags
 * the usual rules give, so that every CI system meets every rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "meta/describe.h"
#include "meta/facts.h"
#include "meta/labels.h"
#include "meta/tagrules.h"
#include "util/buf.h"
#include "unit.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define HEAD "fedcba9876543210fedcba9876543210fedcba98"
#define MERGE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RULES "semver branch sha pr default-branch:latest {{build}}"

static char event_file[64], bad_event_file[64];

static const char *lookup(const char *name, void *ctx)
{
	const char *const *env = ctx;
	size_t n = strlen(name);

	for (; *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

struct ci_case {
	const char *name;
	const char *env[24];
	const char *ci, *event;
	const char *branch, *tag, *sha, *sha_from, *pr, *def, *source;
	const char *tags; /* RULES applied */
	const char *error; /* instead of all the above */
};

#define GH                                                   \
	"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=acme/app", \
		"GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_NUMBER=12"

static const struct ci_case cases[] = {
	/* GitHub Actions */
	{ "github tag push",
	  { GH, "GITHUB_REF=refs/tags/v2.3.4", "GITHUB_REF_TYPE=tag",
	    "GITHUB_REF_NAME=v2.3.4", "GITHUB_SHA=" SHA },
	  "github",
	  "tag",
	  NULL,
	  "v2.3.4",
	  SHA,
	  "GITHUB_SHA",
	  NULL,
	  NULL,
	  "https://github.com/acme/app",
	  "2.3.4 2.3 2 sha-0123456 12 latest",
	  NULL },
	{ "github branch push",
	  { GH, "GITHUB_REF=refs/heads/feature/Login", "GITHUB_REF_TYPE=branch",
	    "GITHUB_REF_NAME=feature/Login", "GITHUB_SHA=" SHA },
	  "github",
	  "branch",
	  "feature/Login",
	  NULL,
	  SHA,
	  "GITHUB_SHA",
	  NULL,
	  NULL,
	  "https://github.com/acme/app",
	  "feature-login sha-0123456 12",
	  NULL },
	{ "github pull request, event file",
	  { GH, "GITHUB_REF=refs/pull/42/merge", "GITHUB_REF_NAME=42/merge",
	    "GITHUB_HEAD_REF=feature/x", "GITHUB_BASE_REF=main",
	    "GITHUB_SHA=" MERGE, "GITHUB_EVENT_NAME=pull_request",
	    "GITHUB_EVENT_PATH=@event" },
	  "github",
	  "pull request",
	  "feature/x",
	  NULL,
	  HEAD,
	  "event file pull_request.head.sha",
	  "42",
	  "main",
	  "https://github.com/acme/app",
	  "sha-fedcba9 pr-42 12",
	  NULL },
	{ "github pull request, no event file",
	  { GH, "GITHUB_REF=refs/pull/7/merge", "GITHUB_HEAD_REF=fix",
	    "GITHUB_SHA=" MERGE },
	  "github",
	  "pull request",
	  "fix",
	  NULL,
	  MERGE,
	  "GITHUB_SHA",
	  "7",
	  NULL,
	  "https://github.com/acme/app",
	  "sha-aaaaaaa pr-7 12",
	  NULL },
	{ "github default branch from event file",
	  { GH, "GITHUB_REF=refs/heads/main", "GITHUB_REF_NAME=main",
	    "GITHUB_SHA=" SHA, "GITHUB_EVENT_PATH=@event" },
	  "github",
	  "branch",
	  "main",
	  NULL,
	  SHA,
	  "GITHUB_SHA",
	  NULL,
	  "main",
	  "https://github.com/acme/app",
	  "main sha-0123456 latest 12",
	  NULL },
	{ "github ref type without ref or name",
	  { GH, "GITHUB_REF_TYPE=tag", "GITHUB_SHA=" SHA },
	  "github",
	  "detached",
	  NULL,
	  NULL,
	  SHA,
	  "GITHUB_SHA",
	  NULL,
	  NULL,
	  "https://github.com/acme/app",
	  "sha-0123456 12",
	  NULL },
	{ "github branch ref type without ref or name",
	  { GH, "GITHUB_REF_TYPE=branch", "GITHUB_SHA=" SHA },
	  "github",
	  "detached",
	  NULL,
	  NULL,
	  SHA,
	  "GITHUB_SHA",
	  NULL,
	  NULL,
	  "https://github.com/acme/app",
	  "sha-0123456 12",
	  NULL },
	{ "github unreadable event file",
	  { GH, "GITHUB_REF=refs/heads/main",
	    "GITHUB_EVENT_PATH=/nonexistent" },
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "cannot read GITHUB_EVENT_PATH '/nonexistent'" },
	{ "github event file not JSON",
	  { GH, "GITHUB_REF=refs/heads/main", "GITHUB_EVENT_PATH=@bad" },
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "is not a JSON object" },
	/* GitLab CI */
	{ "gitlab tag",
	  { "GITLAB_CI=true", "CI_COMMIT_TAG=v1.3.0-rc.1",
	    "CI_COMMIT_REF_NAME=v1.3.0-rc.1", "CI_COMMIT_SHA=" SHA,
	    "CI_DEFAULT_BRANCH=main", "CI_PIPELINE_IID=5",
	    "CI_PROJECT_URL=https://gitlab.com/acme/app",
	    "CI_PROJECT_NAME=app" },
	  "gitlab",
	  "tag",
	  NULL,
	  "v1.3.0-rc.1",
	  SHA,
	  "CI_COMMIT_SHA",
	  NULL,
	  "main",
	  "https://gitlab.com/acme/app",
	  "1.3.0-rc.1 sha-0123456 5",
	  NULL },
	{ "gitlab merge request",
	  { "GITLAB_CI=true", "CI_MERGE_REQUEST_IID=17",
	    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=topic",
	    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=" HEAD,
	    "CI_COMMIT_REF_NAME=topic", "CI_COMMIT_SHA=" MERGE,
	    "CI_DEFAULT_BRANCH=main", "CI_PIPELINE_IID=6" },
	  "gitlab",
	  "pull request",
	  "topic",
	  NULL,
	  HEAD,
	  "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
	  "17",
	  "main",
	  NULL,
	  "sha-fedcba9 pr-17 6",
	  NULL },
	{ "gitlab merge request, not merged results",
	  { "GITLAB_CI=true", "CI_MERGE_REQUEST_IID=18",
	    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=topic",
	    "CI_COMMIT_SHA=" HEAD },
	  "gitlab",
	  "pull request",
	  "topic",
	  NULL,
	  HEAD,
	  "CI_COMMIT_SHA",
	  "18",
	  NULL,
	  NULL,
	  "sha-fedcba9 pr-18",
	  NULL },
	{ "gitlab default branch",
	  { "GITLAB_CI=true", "CI_COMMIT_BRANCH=main", "CI_COMMIT_SHA=" SHA,
	    "CI_DEFAULT_BRANCH=main",
	    "CI_PROJECT_URL=https://gitlab-ci-token:s3cr3t@gitlab.example.com/"
	    "g/app" },
	  "gitlab",
	  "branch",
	  "main",
	  NULL,
	  SHA,
	  "CI_COMMIT_SHA",
	  NULL,
	  "main",
	  "https://gitlab.example.com/g/app",
	  "main sha-0123456 latest",
	  NULL },
	/* CircleCI */
	{ "circleci tag",
	  { "CIRCLECI=true", "CIRCLE_TAG=v0.4.0", "CIRCLE_SHA1=" SHA,
	    "CIRCLE_BUILD_NUM=99",
	    "CIRCLE_REPOSITORY_URL=git@github.com:acme/app.git" },
	  "circleci",
	  "tag",
	  NULL,
	  "v0.4.0",
	  SHA,
	  "CIRCLE_SHA1",
	  NULL,
	  NULL,
	  "https://github.com/acme/app",
	  "0.4.0 0.4 sha-0123456 99 latest",
	  NULL },
	{ "circleci branch",
	  { "CIRCLECI=true", "CIRCLE_BRANCH=dev", "CIRCLE_SHA1=" SHA },
	  "circleci",
	  "branch",
	  "dev",
	  NULL,
	  SHA,
	  "CIRCLE_SHA1",
	  NULL,
	  NULL,
	  NULL,
	  "dev sha-0123456",
	  NULL },
	{ "circleci forked pull request",
	  { "CIRCLECI=true", "CIRCLE_BRANCH=pull/3", "CIRCLE_PR_NUMBER=3",
	    "CIRCLE_SHA1=" HEAD },
	  "circleci",
	  "pull request",
	  "pull/3",
	  NULL,
	  HEAD,
	  "CIRCLE_SHA1",
	  "3",
	  NULL,
	  NULL,
	  "sha-fedcba9 pr-3",
	  NULL },
	/* Bamboo */
	{ "bamboo branch",
	  { "bamboo_planRepository_branchName=release/1.x",
	    "bamboo_planRepository_revision=" SHA, "bamboo_buildNumber=31",
	    "bamboo_planRepository_repositoryUrl=ssh://"
	    "git@bitbucket.example.com:7999/p/app.git" },
	  "bamboo",
	  "branch",
	  "release/1.x",
	  NULL,
	  SHA,
	  "bamboo_planRepository_revision",
	  NULL,
	  NULL,
	  "https://bitbucket.example.com/p/app",
	  "release-1.x sha-0123456 31",
	  NULL },
	/* Docker Hub autobuild */
	{ "autobuild tag",
	  { "SOURCE_BRANCH=v3.0.1", "SOURCE_COMMIT=" SHA,
	    "DOCKER_REPO=index.docker.io/acme/app" },
	  "autobuild",
	  "tag",
	  NULL,
	  "v3.0.1",
	  SHA,
	  "SOURCE_COMMIT",
	  NULL,
	  NULL,
	  NULL,
	  "3.0.1 3.0 3 sha-0123456 latest",
	  NULL },
	{ "autobuild branch",
	  { "SOURCE_BRANCH=master", "SOURCE_COMMIT=" SHA },
	  "autobuild",
	  "branch",
	  "master",
	  NULL,
	  SHA,
	  "SOURCE_COMMIT",
	  NULL,
	  NULL,
	  NULL,
	  "master sha-0123456",
	  NULL },
	/* explicit variables win */
	{ "explicit over CI",
	  { "GIT_TAG=v9.9.9", "COMMIT_SHA=" HEAD, "CIRCLECI=true",
	    "CIRCLE_BRANCH=dev", "CIRCLE_SHA1=" SHA, "BUILD_NUMBER=4" },
	  "circleci",
	  "tag",
	  "dev",
	  "v9.9.9",
	  HEAD,
	  "COMMIT_SHA",
	  NULL,
	  NULL,
	  NULL,
	  "9.9.9 9.9 9 sha-fedcba9 4 latest",
	  NULL },
	{ "explicit only",
	  { "BRANCH=main", "DEFAULT_BRANCH=main", "COMMIT_SHA=ABCDEF1" },
	  NULL,
	  "branch",
	  "main",
	  NULL,
	  "abcdef1",
	  "COMMIT_SHA",
	  NULL,
	  "main",
	  NULL,
	  "main sha-abcdef1 latest",
	  NULL },
	{ "nothing known",
	  { "HOME=/root" },
	  NULL,
	  "none",
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "",
	  NULL },
	/* bad values name the variable */
	{ "bad pr number",
	  { "PR_NUMBER=abc" },
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "PR_NUMBER 'abc' is not a pull request number" },
	{ "bad commit",
	  { "GITLAB_CI=true", "CI_COMMIT_SHA=not-hex" },
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "CI_COMMIT_SHA 'not-hex' is not a commit id" },
	{ "bad SOURCE_DATE_EPOCH",
	  { "SOURCE_DATE_EPOCH=yesterday" },
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  NULL,
	  "SOURCE_DATE_EPOCH 'yesterday' is not a time" },
};

static void write_file(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(s, fp) < 0 || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void test_ci_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ci_case *c = &cases[i];
		const char *env[32];
		char evbuf[128], badbuf[128];
		struct meta_facts f = META_FACTS_INIT;
		struct meta_tagset ts = META_TAGSET_INIT;
		struct error err = ERROR_INIT;
		struct buf got = BUF_INIT(BUF_TEXT_MAX);
		size_t n = 0;
		int rc;

		for (; c->env[n]; n++) {
			env[n] = c->env[n];
			if (!strcmp(env[n], "GITHUB_EVENT_PATH=@event")) {
				snprintf(evbuf, sizeof(evbuf),
					 "GITHUB_EVENT_PATH=%s", event_file);
				env[n] = evbuf;
			} else if (!strcmp(env[n], "GITHUB_EVENT_PATH=@bad")) {
				snprintf(badbuf, sizeof(badbuf),
					 "GITHUB_EVENT_PATH=%s",
					 bad_event_file);
				env[n] = badbuf;
			}
		}
		env[n] = NULL;
		rc = meta_facts_from_env(lookup, env, NULL, &f, &err);
		if (c->error) {
			if (rc != -1 || !strstr(err.msg, c->error))
				fprintf(stderr, "case '%s': rc %d '%s'\n",
					c->name, rc, err.msg);
			CHECK(rc == -1);
			CHECK(err.code == EXIT_USAGE);
			CHECK(strstr(err.msg, c->error) != NULL);
			meta_facts_release(&f);
			continue;
		}
		if (rc != 0)
			fprintf(stderr, "case '%s': %s\n", c->name, err.msg);
		CHECK(rc == 0);
		if (!c->event || strcmp(meta_event_name(f.event), c->event))
			fprintf(stderr, "case '%s'\n", c->name);
		CHECK_STR(f.ci, c->ci);
		CHECK_STR(meta_event_name(f.event), c->event);
		CHECK_STR(f.branch.value, c->branch);
		CHECK_STR(f.tag.value, c->tag);
		CHECK_STR(f.sha.value, c->sha);
		CHECK_STR(f.sha.from, c->sha_from);
		CHECK_STR(f.pr.value, c->pr);
		CHECK_STR(f.default_branch.value, c->def);
		CHECK_STR(f.source.value, c->source);
		CHECK(meta_tags(RULES, &f, &ts, &err) == 0);
		for (size_t k = 0; k < ts.tags.n; k++)
			buf_addf(&got, "%s%s", k ? " " : "", ts.tags.v[k]);
		if (strcmp(buf_str(&got), c->tags) != 0)
			fprintf(stderr, "case '%s'\n", c->name);
		CHECK_STR(buf_str(&got), c->tags);
		meta_tagset_release(&ts);
		meta_facts_release(&f);
		buf_release(&got);
	}
}

/* Secrets in repository URLs never become facts (facts are printed and
 * become labels). */
static void test_url_credentials(void)
{
	const char *env[] = {
		"GITLAB_CI=true",
		"CI_PROJECT_URL=https://user:hunter2@gitlab.com/a/b.git", NULL
	};
	struct meta_facts f = META_FACTS_INIT;
	struct error err = ERROR_INIT;

	CHECK(meta_facts_from_env(lookup, env, NULL, &f, &err) == 0);
	CHECK_STR(f.source.value, "https://gitlab.com/a/b");
	CHECK_STR(f.title.value, "b");
	meta_facts_release(&f);

	/* other URL forms: an scp-like one becomes https, a file: URL or a
	 * path none */
	const char *env2[] = { "CIRCLECI=true",
			       "CIRCLE_REPOSITORY_URL=file:///srv/app.git",
			       NULL };
	CHECK(meta_facts_from_env(lookup, env2, NULL, &f, &err) == 0);
	CHECK(f.source.value == NULL);
	meta_facts_release(&f);
	const char *env3[] = {
		"CIRCLECI=true",
		"CIRCLE_REPOSITORY_URL=me@host.example:team/app.git/", NULL
	};
	CHECK(meta_facts_from_env(lookup, env3, NULL, &f, &err) == 0);
	CHECK_STR(f.source.value, "https://host.example/team/app");
	meta_facts_release(&f);
}

/* The labels of a GitHub tag push, with the license from the event file
 * and .created from SOURCE_DATE_EPOCH. */
static void test_github_labels(void)
{
	char evbuf[128];
	const char *env[] = { GH,
			      "GITHUB_REF=refs/tags/v2.3.4",
			      "GITHUB_REF_NAME=v2.3.4",
			      "GITHUB_SHA=" SHA,
			      "SOURCE_DATE_EPOCH=1700000000",
			      evbuf,
			      NULL };
	struct meta_facts f = META_FACTS_INIT;
	struct error err = ERROR_INIT;
	struct strlist l = STRLIST_INIT;

	snprintf(evbuf, sizeof(evbuf), "GITHUB_EVENT_PATH=%s", event_file);
	CHECK(meta_facts_from_env(lookup, env, NULL, &f, &err) == 0);
	meta_labels(&f, NULL, &l, NULL);
	CHECK(l.n == 7);
	CHECK(strlist_has(&l, "org.opencontainers.image.created="
			      "2023-11-14T22:13:20Z"));
	CHECK(strlist_has(&l, "org.opencontainers.image.licenses=MIT"));
	CHECK(strlist_has(&l, "org.opencontainers.image.title=app"));
	CHECK(strlist_has(&l, "org.opencontainers.image.version=2.3.4"));
	CHECK(strlist_has(&l, "org.opencontainers.image.revision=" SHA));
	strlist_clear(&l);

	/* what `builder tags` prints */
	struct meta_tagset ts = META_TAGSET_INIT;
	struct strlist from = STRLIST_INIT;
	struct buf out = BUF_INIT(BUF_TEXT_MAX);

	CHECK(meta_tags("semver pr", &f, &ts, &err) == 0);
	meta_labels(&f, NULL, &l, &from);
	meta_describe(&f, &ts, &l, &from, &out);
	CHECK(strstr(buf_str(&out),
		     "ci: github, event: tag\n"
		     "fact tag: v2.3.4 (GITHUB_REF_NAME)\n"
		     "fact commit: " SHA " (GITHUB_SHA)\n"
		     "fact default branch: main (event file "
		     "repository.default_branch)\n"
		     "fact build: 12 (GITHUB_RUN_NUMBER)\n") == buf_str(&out));
	CHECK(strstr(
		buf_str(&out),
		"tag: 2.3.4 <- semver from git tag 'v2.3.4' "
		"(GITHUB_REF_NAME)\n"
		"tag: 2.3 <- semver from git tag 'v2.3.4' "
		"(GITHUB_REF_NAME)\n"
		"tag: 2 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)\n"
		"tag: latest <- semver: a stable version (latest=auto)\n"
		"skipped: pr: nothing, not a pull request\n"));
	CHECK(strstr(buf_str(&out),
		     "label: org.opencontainers.image.created="
		     "2023-11-14T22:13:20Z <- SOURCE_DATE_EPOCH\n"));
	buf_release(&out);
	strlist_clear(&from);
	strlist_clear(&l);
	meta_tagset_release(&ts);
	meta_facts_release(&f);
}

/* A loose commit object as git writes it. */
static void put_commit(const char *dir, const char *sha, long t)
{
	char body[512], raw[600], path[256], cmd[300];
	unsigned char z[1024];
	uLongf zlen = sizeof(z);
	int n, h;
	FILE *fp;

	n = snprintf(body, sizeof(body),
		     "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		     "author A <a@x> %ld +0000\ncommitter C <c@x> %ld +0100\n"
		     "\nmsg\n",
		     t - 5, t);
	h = snprintf(raw, sizeof(raw), "commit %d", n);
	memcpy(raw + h + 1, body, (size_t)n);
	compress(z, &zlen, (unsigned char *)raw, (uLong)(h + 1 + n));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/.git/objects/%.2s", dir, sha);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/.git/objects/%.2s/%s", dir, sha,
		 sha + 2);
	fp = fopen(path, "wb");
	if (!fp || fwrite(z, 1, zlen, fp) != zlen || fclose(fp) != 0)
		exit(1);
}

/* No CI: everything from the context's .git, .created from the commit. */
static void test_git_fallback(void)
{
	char dir[] = "/tmp/test_meta_cifacts.XXXXXX", path[256], cmd[300];
	const char *env[] = { "HOME=/root", NULL };
	struct meta_facts f = META_FACTS_INIT;
	struct error err = ERROR_INIT;

	if (!mkdtemp(dir))
		exit(1);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/.git/refs/heads", dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/.git/HEAD", dir);
	write_file(path, "ref: refs/heads/Topic/A\n");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/.git/refs/heads/Topic", dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/.git/refs/heads/Topic/A", dir);
	write_file(path, SHA "\n");
	CHECK(meta_facts_from_env(lookup, env, dir, &f, &err) == 0);
	CHECK_STR(meta_event_name(f.event), "branch");
	CHECK_STR(f.branch.value, "Topic/A");
	CHECK(f.branch.from && strstr(f.branch.from, "/.git/HEAD"));
	CHECK_STR(f.sha.value, SHA);
	CHECK(f.created.value == NULL); /* packed or missing object */
	CHECK(f.warning == NULL);
	meta_facts_release(&f);

	/* a detached HEAD on an annotated tag, with the commit object
	 * loose: a tag push as far as the rules go, .created from the
	 * commit time */
	snprintf(path, sizeof(path), "%s/.git/HEAD", dir);
	write_file(path, SHA "\n");
	snprintf(path, sizeof(path), "%s/.git/packed-refs", dir);
	write_file(path, HEAD " refs/tags/nightly\n^" SHA "\n" MERGE
			      " refs/tags/v4.5.6\n^" SHA "\n");
	put_commit(dir, SHA, 1700000000);
	CHECK(meta_facts_from_env(lookup, env, dir, &f, &err) == 0);
	CHECK_STR(meta_event_name(f.event), "tag");
	CHECK_STR(f.tag.value, "v4.5.6"); /* a version wins over 'nightly' */
	CHECK_STR(f.created.value, "1700000000");
	struct meta_tagset ts = META_TAGSET_INIT;
	struct buf got = BUF_INIT(BUF_TEXT_MAX);

	CHECK(meta_tags(RULES, &f, &ts, &err) == 0);
	for (size_t k = 0; k < ts.tags.n; k++)
		buf_addf(&got, "%s%s", k ? " " : "", ts.tags.v[k]);
	CHECK_STR(buf_str(&got), "4.5.6 4.5 4 sha-0123456 latest");
	meta_tagset_release(&ts);
	buf_release(&got);
	meta_facts_release(&f);

	/* SOURCE_DATE_EPOCH wins over the commit time */
	const char *env2[] = { "SOURCE_DATE_EPOCH=86400", NULL };
	CHECK(meta_facts_from_env(lookup, env2, dir, &f, &err) == 0);
	CHECK_STR(f.created.value, "86400");
	CHECK_STR(f.created.from, "SOURCE_DATE_EPOCH");
	meta_facts_release(&f);

	/* the commit time is that of .git's HEAD: not used for another
	 * commit named by the CI */
	const char *env3[] = { "COMMIT_SHA=" HEAD, NULL };
	CHECK(meta_facts_from_env(lookup, env3, dir, &f, &err) == 0);
	CHECK(f.created.value == NULL);
	meta_facts_release(&f);

	/* a corrupt .git is a warning, not an error */
	snprintf(path, sizeof(path), "%s/.git/HEAD", dir);
	write_file(path, "nonsense\n");
	CHECK(meta_facts_from_env(lookup, env, dir, &f, &err) == 0);
	CHECK(f.warning && strstr(f.warning, "HEAD"));
	CHECK_STR(meta_event_name(f.event), "none");
	meta_facts_release(&f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	int fd;

	snprintf(event_file, sizeof(event_file), "/tmp/test_meta_event.XXXXXX");
	snprintf(bad_event_file, sizeof(bad_event_file),
		 "/tmp/test_meta_bad.XXXXXX");
	if ((fd = mkstemp(event_file)) < 0 || close(fd) < 0 ||
	    (fd = mkstemp(bad_event_file)) < 0 || close(fd) < 0)
		return 1;
	write_file(event_file,
		   "{\"number\": 42, \"pull_request\": {\"number\": 42, "
		   "\"head\": {\"sha\": \"" HEAD "\", \"ref\": \"feature/x\"}},"
		   "\"repository\": {\"default_branch\": \"main\", "
		   "\"license\": {\"spdx_id\": \"MIT\"}}}");
	write_file(bad_event_file, "{not json");
	RUN(test_ci_cases);
	RUN(test_url_credentials);
	RUN(test_github_labels);
	RUN(test_git_fallback);
	unlink(event_file);
	unlink(bad_event_file);
	return unit_summary();
}
