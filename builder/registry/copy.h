#ifndef BUILDER_COPY_H
#define BUILDER_COPY_H

/*
 * Manifests and blobs on registries (the /v2/<name>/manifests and
 * /v2/<name>/blobs endpoints), over client.h. repo is a repository path on
 * that registry ("acme/app", "library/busybox"); reference a tag or a
 * digest. Every error is EXIT_PUSH and names the registry, repository and
 * digest.
 *
 * Blob copies between registries are streamed: the source's GET and the
 * target's PUT run together (one curl multi handle), through a fixed 4 MiB
 * ring buffer, whatever the blob's size. The sha256 is computed as the
 * bytes pass, and the last byte is held back until the whole blob was
 * verified: a blob that does not match its digest is never completed on
 * the target.
 */

#include <stddef.h>

#include "registry/client.h"
#include "registry/manifest.h"
#include "util/buf.h"
#include "util/error.h"

/* "sha256:<64 hex>" of the bytes, into out (at least 72 bytes). */
void registry_sha256(const void *data, size_t len, char out[72]);

/* What a manifest GET returned. */
struct fetched {
	struct buf body;
	char media_type[256]; /* the Content-Type, without parameters */
	char digest[80]; /* sha256 of body (checked against the registry's) */
};

#define FETCHED_INIT                           \
	{                                      \
		BUF_INIT(BUF_TEXT_MAX), { 0 }, \
		{                              \
			0                      \
		}                              \
	}

void fetched_release(struct fetched *f);

/* GETs a manifest or index (any of the four media types). When reference
 * is a digest, the body must hash to it. A 404 is an error that says the
 * reference does not exist. */
int registry_manifest_get(struct registry *reg, const char *repo,
			  const char *reference, struct fetched *out,
			  struct error *err);

/* PUTs a manifest under reference (a tag, or its digest) with media_type.
 * The registry's Docker-Content-Digest must equal the body's sha256. */
int registry_manifest_put(struct registry *reg, const char *repo,
			  const char *reference, const char *media_type,
			  const char *body, size_t len, struct error *err);

/* HEADs a manifest; 1 when it exists (its digest in digest_out, 80 bytes,
 * or "" when the registry sent none), 0 when it does not. */
int registry_manifest_head(struct registry *reg, const char *repo,
			   const char *reference, char *digest_out,
			   struct error *err);

/* 1 when the blob exists in repo, 0 when not. */
int registry_blob_exists(struct registry *reg, const char *repo,
			 const char *digest, struct error *err);

/* Mounts a blob from another repository of the same registry: 1 when
 * mounted, 0 when the registry could not (the upload it opened instead is
 * cancelled). */
int registry_blob_mount(struct registry *reg, const char *repo,
			const char *digest, const char *from_repo,
			struct error *err);

/* GETs a small blob (an image config) into out, at most max bytes, and
 * checks its digest. */
int registry_blob_get(struct registry *reg, const char *repo,
		      const char *digest, size_t max, struct buf *out,
		      struct error *err);

/* Streams the blob d from src/src_repo to dst/dst_repo (see above). src
 * and dst must be different registry objects. */
int registry_blob_copy(struct registry *src, const char *src_repo,
		       struct registry *dst, const char *dst_repo,
		       const struct descriptor *d, struct error *err);

#endif
