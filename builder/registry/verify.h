#ifndef BUILDER_VERIFY_H
#define BUILDER_VERIFY_H

#include "registry/client.h"
#include "util/error.h"

/*
 * Checks that image ("localhost:5000/acme/app:1", a tag) resolves on its
 * registry to expected_digest ("sha256:..."). A mismatch, a missing tag,
 * or a registry that cannot be asked: -1 with EXIT_PUSH.
 */
int registry_verify_tag(const struct registry_settings *s, const char *image,
			const char *expected_digest, struct error *err);

/* The same on an open registry, for repo ("acme/app") and tag. */
int registry_verify_tag_on(struct registry *reg, const char *repo,
			   const char *tag, const char *expected_digest,
			   struct error *err);

#endif
