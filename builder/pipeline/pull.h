#ifndef BUILDER_PULL_H
#define BUILDER_PULL_H

/*
 * Images from registries: whether one is present on the engine, and pulling
 * one with the credentials auth_resolve() finds for its registry. Used for
 * test service images (and cache-from images).
 */

#include "util/error.h"

struct engine;
struct auth_settings;

/* 1 when the image exists on the engine, 0 when not (404), -1 on error.
 * ref is any name the engine accepts: "busybox", "acme/db:1", an image ID.
 * GET /images/{ref}/json. */
int image_exists(struct engine *eng, const char *ref, struct error *err);

/*
 * Pulls ref with POST /images/create?fromImage=<full name>&tag=<tag, or the
 * digest, or "latest">, sending X-Registry-Auth for the ref's registry, as
 * auth_resolve() finds it in auth (the log names the credential source, never a
 * secret). Progress is logged at most once per layer state change ("a1b2c3:
 * Pull complete"), not at every percentage.
 *
 * Errors are EXIT_ENGINE with the engine's message, or EXIT_USAGE for a
 * reference that does not parse. *missing (may be NULL) is set to 1 when
 * the failure says the image does not exist or may not be pulled (404,
 * "manifest unknown", "not found", "repository does not exist", "pull
 * access denied"), so that callers with optional images can go on quietly;
 * to 0 otherwise.
 */
int image_pull(struct engine *eng, const struct auth_settings *auth,
	       const char *ref, int *missing, struct error *err);

#endif
