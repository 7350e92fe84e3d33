#ifndef BUILDER_PUSH_H
#define BUILDER_PUSH_H

/*
 * The push stage: POST /images/{repository}/push?tag= for each tag, with
 * X-Registry-Auth from the resolved credential. Any errorDetail in the
 * stream fails the push (EXIT_PUSH) with the registry's own message and
 * the credential source that was tried. Transient failures (connection
 * reset or refused, 5xx, timeouts, toomanyrequests) are retried up to
 * retries times with exponential backoff; authentication and authorization
 * failures are not.
 *
 * The engine pushes by name, so a concurrent run may move a tag between
 * the tag stage and the push. After each push the engine is asked which
 * image the pushed digest belongs to; when it is not image_id (the tested
 * image) the tag is set again and pushed again, PUSH_RACE_TRIES times in
 * all, then the push fails (EXIT_PUSH) naming the race. res->digest is
 * only ever a digest of image_id.
 */

#include "util/error.h"
#include "util/strlist.h"

struct credential;
struct engine;

struct push_result {
	char digest[128]; /* "sha256:..." of the last pushed tag */
	struct strlist pushed; /* "repository:tag" for each pushed tag */
	int attempts; /* push requests made, retries included */
};

#define PUSH_RESULT_INIT               \
	{                              \
		{ 0 }, STRLIST_INIT, 0 \
	}

#define PUSH_RACE_TRIES 3

int push_image(struct engine *eng, const char *image_id, const char *repository,
	       const struct strlist *tags, const struct credential *cred,
	       long retries, struct push_result *res, struct error *err);

/* 1 when an error message from a push looks transient. Pure. */
int push_error_is_transient(const char *message);

/* Extracts the digest from a final status line "<tag>: digest: sha256:...
 * size: N" into out; 0 when found. Pure. */
int push_digest_from_status(const char *status, char *out, size_t len);

void push_result_release(struct push_result *res);

#endif
