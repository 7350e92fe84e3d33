#ifndef BUILDER_BUILD_H
#define BUILDER_BUILD_H

/*
 * The build stage: POST /build with the context streamed as the body.
 * The image gets only the run's own name here (RUN_IMAGE_REPO:<run id>,
 * cleanup.h, removed by the cleanup), so that no prune of dangling images
 * takes it before the tag stage; tag.c tags it after the tests passed, so
 * that a failed test leaves no tag behind.
 */

#include "util/error.h"

struct config;
struct credential;
struct engine;
struct run;

struct build_result {
	char image_id[128]; /* "sha256:..." */
	size_t context_files;
	unsigned long long context_bytes;
	int buildkit; /* built with BuildKit (version=2) */
};

/* Builds cfg's context. run: where a classic builder's RUN container left
 * by a failed step is registered for removal (cleanup.h), and, with
 * BUILD_NAMED (the pipeline's image, not a compose service's), whose name
 * the image gets (none with OUTPUT). cred: credentials for cfg's registry,
 * sent as X-Registry-Config for private base images (may be anonymous).
 * Errors: EXIT_USAGE (no Dockerfile), EXIT_BUILD (the build or the context
 * failed), EXIT_ENGINE (transport). */
enum build_naming { BUILD_UNNAMED, BUILD_NAMED };
int build_image(struct engine *eng, struct run *run, enum build_naming naming,
		const struct config *cfg, const struct credential *cred,
		struct build_result *res, struct error *err);

#endif
