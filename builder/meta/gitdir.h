#ifndef BUILDER_GITDIR_H
#define BUILDER_GITDIR_H

/*
 * Reads what builder needs from a repository's .git directly, without
 * git (the FROM scratch image has none):
 *
 *  - the .git of dir or of its nearest parent that has one, as a directory
 *    or as a "gitdir: PATH" file (worktrees, submodules), with the
 *    worktree's "commondir" for the shared refs;
 *  - HEAD: a branch ("ref: refs/heads/main") or a detached commit;
 *  - refs, loose (refs/heads/main, symbolic refs followed) or from
 *    packed-refs, and the tags that point at HEAD's commit (annotated
 *    tags peeled through packed-refs' "^" lines or the loose tag object);
 *  - the default branch, from refs/remotes/origin/HEAD;
 *  - remote.origin.url from config;
 *  - the committer time of HEAD's commit when its object is loose
 *    (zlib). Objects in packs are not read: the time stays unknown.
 *
 *	struct git_info gi = GIT_INFO_INIT;
 *	if (git_read(ctx_dir, &gi, err) < 0)
 *		... corrupt: err says which file and why ...
 *	if (gi.found && gi.sha) ...
 *	git_info_release(&gi);
 */

#include "util/error.h"
#include "util/strlist.h"

struct git_info {
	int found; /* 1 when a .git was found */
	char *gitdir; /* the directory holding HEAD */
	char *branch; /* "main"; NULL when detached or not found */
	char *sha; /* HEAD's commit, hex; NULL on an unborn branch */
	char *head_from; /* where sha came from: ".git/HEAD",
			    ".git/refs/heads/main", ".git/packed-refs" */
	struct strlist tags; /* tag names pointing at sha, sorted */
	char *default_branch; /* from refs/remotes/origin/HEAD */
	char *origin_url; /* remote.origin.url, as written */
	long long commit_time; /* committer time; -1 when unknown */
};

#define GIT_INFO_INIT                                                   \
	{                                                               \
		0, NULL, NULL, NULL, NULL, STRLIST_INIT, NULL, NULL, -1 \
	}

/*
 * Looks for a .git in dir and its parents and reads it into out. No .git
 * anywhere is not an error (out->found stays 0). A .git that is there but
 * cannot be made sense of (a "gitdir:" file pointing nowhere, a HEAD that
 * is neither a ref nor a commit, a ref outside refs/) is an EXIT_USAGE
 * error naming the file; out keeps what was read before.
 */
int git_read(const char *dir, struct git_info *out, struct error *err);

/* Frees what out holds and resets it to GIT_INFO_INIT. NULL is fine. */
void git_info_release(struct git_info *gi);

/* 1 when s is a full commit id: 40 (SHA-1) or 64 (SHA-256) lower-case
 * hex digits. */
int git_valid_sha(const char *s);

/* 1 when name is a ref name git would accept under refs/ (no "..", no
 * "//", no control characters, none of " ~^:?*[\\", no ".lock" end). */
int git_valid_refname(const char *name);

#endif
