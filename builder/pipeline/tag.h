#ifndef BUILDER_TAG_H
#define BUILDER_TAG_H

/*
 * The tag stage: POST /images/{id}/tag for each tag of the repository,
 * after the tests passed. Failures are EXIT_PUSH errors.
 */

#include "util/error.h"
#include "util/strlist.h"

struct engine;

int tag_image(struct engine *eng, const char *image_id, const char *repository,
	      const struct strlist *tags, struct error *err);

#endif
