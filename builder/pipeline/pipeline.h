#ifndef BUILDER_PIPELINE_H
#define BUILDER_PIPELINE_H

/*
 * The main job: build -> test -> tag -> push, each stage timed and
 * recorded in the report, and the cleanup of everything the run created on
 * the engine whatever happened. On success the last line on stdout is the
 * pushed reference with its digest: REGISTRY/ACCOUNT/IMAGE:TAG@sha256:...
 */

#include "util/error.h"

struct config;
struct report;

int pipeline_run(const struct config *cfg, struct report *rep,
		 struct error *err);

/* `builder check`: the engine and the credential source, no secrets. */
int pipeline_check(const struct config *cfg, struct error *err);

/* `builder cleanup`: leftovers of runs killed with SIGKILL. */
int pipeline_cleanup(const struct config *cfg, struct error *err);

#endif
