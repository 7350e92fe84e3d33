#ifndef BUILDER_VERIFY_H
#define BUILDER_VERIFY_H

#include "registry/client.h"
#include "util/error.h"

/*
 * Checks that image ("localhost:5000/acme/app:1", a tag) resolves on its
 * registry to expected_digest ("sha256:..."). A mismatch or a missing tag:
 * -1 with EXIT_PUSH. A registry that cannot be asked from here (the engine
 * pushed, and may reach registries this process cannot): 1, with err
 * saying why, for the caller to warn about.
 */
int registry_verify_tag(const struct registry_settings *s, const char *image,
			const char *expected_digest, struct error *err);

/* The same on an open registry, for repo ("acme/app") and tag. */
int registry_verify_tag_on(struct registry *reg, const char *repo,
			   const char *tag, const char *expected_digest,
			   struct error *err);

#endif
