#ifndef BUILDER_LEFTOVERS_H
#define BUILDER_LEFTOVERS_H

/*
 * What builder runs left on the engine, found by the label CLEANUP_LABEL
 * (and images by their run name, cleanup.h) rather than by a run's own
 * bookkeeping: `builder cleanup`,
 * and the last sweep of a run's own cleanup (a create whose answer was
 * lost).
 */

#include "util/error.h"

struct engine;

/* Removes the containers, then the networks, then the volumes labelled
 * with run_id (any run's when NULL), then the image names of its builds
 * (RUN_IMAGE_REPO:<run id>, cleanup.h), those at least older_than seconds
 * old (any age when older_than < 0), logging each. *failures counts
 * removals that failed; -1 when listing failed. */
int leftovers_sweep(struct engine *eng, const char *run_id, long older_than,
		    int *failures, struct error *err);

/* `builder cleanup`: removes what leftovers_sweep() does of run_id's run
 * (any age), or without run_id that of any builder run created (or named)
 * at least older_than seconds ago (any age when older_than < 0, `--all`),
 * logging each. Younger objects may belong to a live run and are kept
 * (objects of unknown age too). Fails (EXIT_ENGINE) when listing fails or
 * some object could not be removed. Not for use at the start of a
 * pipeline: other runs on the same engine may be live. */
#define CLEANUP_DEFAULT_AGE (60L * 60) /* `builder cleanup`: 1 hour */
int leftovers_remove(struct engine *eng, const char *run_id, long older_than,
		     struct error *err);

#endif
