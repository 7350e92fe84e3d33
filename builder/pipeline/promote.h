#ifndef BUILDER_PROMOTE_H
#define BUILDER_PROMOTE_H

/*
 * `builder promote SOURCE TARGET...` and `builder merge TARGET SOURCE...`:
 * registry to registry over the distribution API (registry/client.h),
 * without an engine.
 *
 * promote copies an image or an index, with every blob and child
 * manifest, to each target: nothing when a blob is already there, a
 * cross-repository mount within one registry, a streamed and verified
 * copy between registries. The target's tag is PUT last, after every blob
 * and child manifest is in place; a failure before leaves it untouched.
 *
 * merge reads each source's platform (an image's from its config; an
 * index's from its entries), copies the images into TARGET's repository
 * when they live elsewhere, and PUTs one index as TARGET and each of
 * EXTRA_TAGS. Two sources with the same platform are a usage error (exit
 * 2) naming both.
 *
 * Both print each pushed reference with its digest on stdout
 * ("localhost:5000/acme/app:1@sha256:...") and fail with EXIT_PUSH.
 */

#include "cli/config.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "util/error.h"

int pipeline_promote(const struct config *cfg, struct error *err);
int pipeline_merge(const struct config *cfg, struct error *err);

/* --- shared by promote.c and merge.c ------------------------------------- */

/* Open registries, by domain; a second handle per domain for copies
 * within one registry that cannot mount. */
struct registry_pool {
	struct registry_settings settings;
	struct pool_entry {
		char *domain;
		struct registry *reg, *reg2;
	} e[8];
	int n;
};

void registry_pool_init(struct registry_pool *p, const struct config *cfg);
/* The registry for domain (opened on first use); second: the other
 * handle. Borrowed: the pool closes them. */
int registry_pool_get(struct registry_pool *p, const char *domain, int second,
		      struct registry **out, struct error *err);
void registry_pool_release(struct registry_pool *p);

struct copy_stats {
	int present, mounted, copied, manifests;
	long long bytes;
};

/*
 * Puts everything the manifest body (of media type mt) references into
 * dst_repo on dst_domain, from src_repo on src_domain: blobs, and for an
 * index each child manifest (by digest, recursively). The manifest itself
 * is not PUT.
 */
int promote_contents(struct registry_pool *pool, const char *src_domain,
		     const char *src_repo, const char *dst_domain,
		     const char *dst_repo, const char *body, size_t len,
		     const char *mt, struct copy_stats *st, struct error *err);

#endif
