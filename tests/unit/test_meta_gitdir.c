/*
 * .git read directly (gitdir.c): repositories written into a scratch
 * directory file by file, as git lays them out (loose and packed refs,
 * worktrees, detached HEAD, annotated tags, loose objects), and corrupt
 * ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "meta/facts.h"
#include "meta/gitdir.h"
#include "util/buf.h"
#include "unit.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define TAGOBJ "1111111111111111111111111111111111111111"
#define TAGOBJ2 "2222222222222222222222222222222222222222"
#define OTHER "3333333333333333333333333333333333333333"

static char root[64];

/* Writes path (under root) with content, creating directories. */
static void put(const char *path, const void *content, size_t len)
{
	char full[512];
	FILE *fp;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	for (char *p = full + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(full, 0755);
			*p = '/';
		}
	fp = fopen(full, "wb");
	if (!fp) {
		perror(full);
		exit(1);
	}
	fwrite(content, 1, len, fp);
	fclose(fp);
}

static void puts_(const char *path, const char *s)
{
	put(path, s, strlen(s));
}

/* A loose object as git writes it: zlib("<type> <len>\0<body>"). */
static void put_object(const char *repo, const char *sha, const char *type,
		       const char *body)
{
	char raw[4096], path[256];
	unsigned char z[8192];
	uLongf zlen = sizeof(z);
	int n = snprintf(raw, sizeof(raw), "%s %zu", type, strlen(body));

	memcpy(raw + n + 1, body, strlen(body));
	compress(z, &zlen, (unsigned char *)raw, (uLong)(n + 1 + strlen(body)));
	snprintf(path, sizeof(path), "%s/objects/%.2s/%s", repo, sha, sha + 2);
	put(path, z, zlen);
}

static char *at(const char *rel)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return p;
}

static void fresh(void)
{
	char cmd[128];

	if (root[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			exit(1);
	}
	snprintf(root, sizeof(root), "/tmp/test_meta_gitdir.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
}

static void join(const struct strlist *l, struct buf *b)
{
	buf_reset(b);
	for (size_t i = 0; i < l->n; i++)
		buf_addf(b, "%s%s", i ? " " : "", l->v[i]);
}

static void test_loose_branch(void)
{
	struct git_info gi = GIT_INFO_INIT;
	struct error err = ERROR_INIT;

	fresh();
	puts_("r/.git/HEAD", "ref: refs/heads/main\n");
	puts_("r/.git/refs/heads/main", SHA "\n");
	puts_("r/.git/refs/remotes/origin/HEAD",
	      "ref: refs/remotes/origin/trunk\n");
	puts_("r/.git/config",
	      "[core]\n\tbare = false\n[remote \"origin\"]\n"
	      "\turl = https://u:tok@github.com/acme/app.git\n");
	put_object("r/.git", SHA, "commit",
		   "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		   "author A <a@example.com> 1600000000 +0200\n"
		   "committer C <c@example.com> 1700000000 -0700\n"
		   "\nmessage\n");
	puts_("r/sub/dir/file", "x");
	CHECK(git_read(at("r/sub/dir"), &gi, &err) == 0);
	CHECK(gi.found);
	CHECK_STR(gi.branch, "main");
	CHECK_STR(gi.sha, SHA);
	CHECK(gi.head_from && strstr(gi.head_from, "/.git/refs/heads/main"));
	CHECK_STR(gi.default_branch, "trunk");
	CHECK_STR(gi.origin_url, "https://u:tok@github.com/acme/app.git");
	CHECK(gi.commit_time == 1700000000);
	CHECK(gi.tags.n == 0);
	git_info_release(&gi);
}

static void test_packed_refs(void)
{
	struct git_info gi = GIT_INFO_INIT;
	struct error err = ERROR_INIT;

	fresh();
	puts_("r/.git/HEAD", "ref: refs/heads/feature/x\n");
	puts_("r/.git/packed-refs",
	      "# pack-refs with: peeled fully-peeled sorted \n" OTHER
	      " refs/heads/feature/a\n" SHA " refs/heads/feature/x\n" TAGOBJ
	      " refs/tags/v1.0.0\n^" SHA "\n" OTHER " refs/tags/v0.9\n");
	CHECK(git_read(at("r"), &gi, &err) == 0);
	CHECK_STR(gi.branch, "feature/x");
	CHECK_STR(gi.sha, SHA);
	CHECK(gi.head_from && strstr(gi.head_from, "packed-refs"));
	CHECK(gi.commit_time == -1); /* no loose object: unknown */
	CHECK(gi.tags.n == 1 && !strcmp(gi.tags.v[0], "v1.0.0"));
	git_info_release(&gi);
}

static void test_detached_tags(void)
{
	struct git_info gi = GIT_INFO_INIT;
	struct error err = ERROR_INIT;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	fresh();
	puts_("r/.git/HEAD", SHA "\n");
	/* lightweight, annotated loose (peeled through the tag object),
	 * annotated packed, one overridden by a loose ref, one elsewhere */
	puts_("r/.git/refs/tags/light", SHA "\n");
	puts_("r/.git/refs/tags/rel/v2.0.0", TAGOBJ2 "\n");
	put_object("r/.git", TAGOBJ2, "tag",
		   "object " SHA "\ntype commit\ntag rel/v2.0.0\n"
		   "tagger T <t@example.com> 1700000000 +0000\n\nrelease\n");
	puts_("r/.git/refs/tags/moved", OTHER "\n");
	puts_("r/.git/packed-refs",
	      TAGOBJ " refs/tags/v1.0.0\n^" SHA "\n" SHA
		     " refs/tags/moved\n" OTHER " refs/tags/other\n");
	CHECK(git_read(at("r"), &gi, &err) == 0);
	CHECK(gi.branch == NULL);
	CHECK_STR(gi.sha, SHA);
	CHECK(gi.head_from && strstr(gi.head_from, "/.git/HEAD"));
	join(&gi.tags, &b);
	CHECK_STR(buf_str(&b), "light rel/v2.0.0 v1.0.0");
	git_info_release(&gi);
	buf_release(&b);
}

static void test_worktree(void)
{
	struct git_info gi = GIT_INFO_INIT;
	struct error err = ERROR_INIT;

	fresh();
	puts_("main/.git/HEAD", "ref: refs/heads/main\n");
	puts_("main/.git/refs/heads/main", OTHER "\n");
	puts_("main/.git/refs/heads/wt-branch", SHA "\n");
	puts_("main/.git/worktrees/wt/HEAD", "ref: refs/heads/wt-branch\n");
	puts_("main/.git/worktrees/wt/commondir", "../..\n");
	puts_("wt/.git", "gitdir: ../main/.git/worktrees/wt\n");
	CHECK(git_read(at("wt"), &gi, &err) == 0);
	CHECK_STR(gi.branch, "wt-branch");
	CHECK_STR(gi.sha, SHA);
	git_info_release(&gi);

	/* an absolute gitdir, as `git worktree add` writes it */
	char line[600];
	snprintf(line, sizeof(line), "gitdir: %s\n",
		 at("main/.git/worktrees/wt"));
	puts_("wt2/.git", line);
	CHECK(git_read(at("wt2"), &gi, &err) == 0);
	CHECK_STR(gi.sha, SHA);
	git_info_release(&gi);
}

struct bad_case {
	const char *file, *content, *error;
};

static const struct bad_case bads[] = {
	{ "r/.git/HEAD", "garbage\n",
	  "is neither 'ref: refs/...' nor a commit id" },
	{ "r/.git/HEAD", "", "is neither" },
	{ "r/.git/HEAD", "ref: refs/../../../etc/passwd\n",
	  "which is not a valid ref" },
	{ "r/.git/HEAD", "ref: HEAD\n", "which is not a valid ref" },
	{ "r/.git/HEAD", "0123456789abcdef\n", "is neither" },
	{ "r/.git", "gitdir: /nonexistent/x\n", "which is not a directory" },
	{ "r/.git", "not a gitdir line\n", "is not a 'gitdir: PATH' file" },
};

static void test_corrupt(void)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct git_info gi = GIT_INFO_INIT;
		struct error err = ERROR_INIT;

		fresh();
		puts_(bads[i].file, bads[i].content);
		err_clear(&err);
		CHECK(git_read(at("r"), &gi, &err) == -1);
		CHECK(err.code == EXIT_USAGE);
		if (!strstr(err.msg, bads[i].error))
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
		CHECK(strstr(err.msg, bads[i].error) != NULL);
		git_info_release(&gi);
	}
}

static void test_refs_odd(void)
{
	struct git_info gi = GIT_INFO_INIT;
	struct error err = ERROR_INIT;

	/* an unborn branch: no commit yet, not an error */
	fresh();
	puts_("r/.git/HEAD", "ref: refs/heads/main\n");
	CHECK(git_read(at("r"), &gi, &err) == 0);
	CHECK_STR(gi.branch, "main");
	CHECK(gi.sha == NULL);
	git_info_release(&gi);

	/* a symbolic ref loop */
	puts_("r/.git/refs/heads/main", "ref: refs/heads/loop\n");
	puts_("r/.git/refs/heads/loop", "ref: refs/heads/main\n");
	err_clear(&err);
	CHECK(git_read(at("r"), &gi, &err) == -1);
	CHECK(strstr(err.msg, "chain of more than") != NULL);
	git_info_release(&gi);

	/* a corrupt loose ref */
	puts_("r/.git/refs/heads/main", "zzz\n");
	err_clear(&err);
	CHECK(git_read(at("r"), &gi, &err) == -1);
	CHECK(strstr(err.msg, "refs/heads/main' is neither") != NULL);
	git_info_release(&gi);

	/* a corrupt loose object: time unknown, no crash */
	fresh();
	puts_("r/.git/HEAD", SHA "\n");
	put("r/.git/objects/01/23456789abcdef0123456789abcdef01234567",
	    "\x78\x9c garbage", 10);
	CHECK(git_read(at("r"), &gi, &err) == 0);
	CHECK(gi.commit_time == -1);
	git_info_release(&gi);

	/* no .git at all */
	fresh();
	puts_("r/file", "x");
	CHECK(git_read(at("r"), &gi, &err) == 0);
	CHECK(!gi.found);
	git_info_release(&gi);
}

static void test_refnames(void)
{
	CHECK(git_valid_refname("refs/heads/main"));
	CHECK(git_valid_refname("refs/heads/feature/x-1.2"));
	CHECK(!git_valid_refname("refs/heads/a..b"));
	CHECK(!git_valid_refname("refs/heads/.hidden"));
	CHECK(!git_valid_refname("refs/heads/x.lock"));
	CHECK(!git_valid_refname("refs/heads/a b"));
	CHECK(!git_valid_refname("refs//x"));
	CHECK(!git_valid_refname("heads/main"));
	CHECK(!git_valid_refname("refs/heads/"));
	CHECK(git_valid_sha(SHA));
	CHECK(!git_valid_sha("0123456"));
	CHECK(!git_valid_sha("0123456789ABCDEF0123456789abcdef01234567"));
}

int main(void)
{
	RUN(test_loose_branch);
	RUN(test_packed_refs);
	RUN(test_detached_tags);
	RUN(test_worktree);
	RUN(test_corrupt);
	RUN(test_refs_odd);
	RUN(test_refnames);
	fresh(); /* removes the last one; leaves an empty directory */
	rmdir(root);
	return unit_summary();
}
