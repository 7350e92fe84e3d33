#ifndef BUILDER_SAVE_H
#define BUILDER_SAVE_H

/*
 * SAVE=FILE (--save FILE): the built and tested image as a `docker
 * load`-able tarball, streamed from GET /images/get?names=... straight to
 * the file (no whole-image buffer), with every tag given, so that `docker
 * load` restores them all. Works with PUSH=false: keep the image as an
 * artifact without a registry.
 */

#include "engine/engine.h"
#include "util/error.h"
#include "util/strlist.h"

/* Writes the image, known by names (references or an image ID; the
 * first one must exist), to path. A regular file or a new path is written
 * to a temporary file beside it and renamed at the end, so a failed save
 * leaves no half tarball under the name; a FIFO or a device is written
 * directly. Errors name SAVE and the file, or the engine's message. */
int save_image(struct engine *eng, const struct strlist *names,
	       const char *path, unsigned long long *bytes, struct error *err);

#endif
