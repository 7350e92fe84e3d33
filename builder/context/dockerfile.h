#ifndef BUILDER_DOCKERFILE_H
#define BUILDER_DOCKERFILE_H

/*
 * Just enough Dockerfile reading to know the base images of a build, so
 * that their registries' credentials can be sent (classic builder) or the
 * private ones pulled beforehand (BuildKit without a session cannot
 * authenticate its own pulls).
 */

#include <stddef.h>

#include "util/error.h"
#include "util/strlist.h"

/* Appends to out the images named by FROM instructions in text, once each,
 * leaving out `scratch` and earlier stages (FROM base AS x ... FROM x).
 * ${VAR} and $VAR are replaced with build_args ("K=V") or else the default
 * of a global ARG (one before the first FROM); an image still holding '$'
 * after that is left out. Handles line continuations, comments, parser
 * directives, flags such as --platform, and any letter case. Pure. */
void dockerfile_base_images(const char *text, size_t len,
			    const struct strlist *build_args,
			    struct strlist *out);

/* The largest Dockerfile read. The docker CLI has no limit; this one is
 * explicit and generous (a 2 MB generated Dockerfile is real). */
#define DOCKERFILE_MAX (16u * 1024 * 1024)

/* Reads path (at most DOCKERFILE_MAX) and calls dockerfile_base_images(). */
int dockerfile_base_images_of(const char *path,
			      const struct strlist *build_args,
			      struct strlist *out, struct error *err);

#endif
