#ifndef BUILDER_PROBE_H
#define BUILDER_PROBE_H

/*
 * A container's health check, run by us while we wait for it to be
 * healthy. Docker runs the check once per interval (30 s by default, the
 * first one an interval after the start; engines before 25 have no
 * start_interval), so a service ready after 1 s is "healthy" only at the
 * next interval. Running the same check the same way (an exec of
 * Config.Healthcheck.Test, as the container's user, in its environment)
 * as soon as the previous run ends tells us sooner.
 *
 *	struct probe p = PROBE_INIT;
 *	for (;;) {                                      // each poll
 *		GET /containers/{id}/json -> info
 *		... Docker's State.Health.Status, as before ...
 *		if (probe_step(eng, id, info, &p) > 0)
 *			break;                          // it passed: healthy
 *	}
 *	probe_release(&p);
 *
 * Only a pass counts: failures stay Docker's to count (retries, start
 * period), so a failing check fails no sooner than Docker says it does.
 * One run at a time, at most four a second. A run that outlives the
 * check's timeout (an exec cannot be stopped through the API; it ends with
 * the container), a check with nothing to run, a Windows container (cmd
 * /S /C there) and any error of the engine's turn our runs off for good:
 * Docker's own checks go on, and its status decides.
 *
 * Endpoints: POST /containers/{id}/exec, POST /exec/{id}/start (detached),
 * GET /exec/{id}/json.
 */

#include "util/strlist.h"

struct cJSON;
struct engine;

struct probe {
	char *exec_id; /* the run in progress, or NULL */
	double started; /* when it started (now_seconds()) */
	double timeout; /* the check's, in seconds */
	int off; /* no more runs: Docker's status decides */
};

#define PROBE_INIT            \
	{                     \
		NULL, 0, 0, 0 \
	}

/* One step, given the container's inspect (GET /containers/{id}/json):
 * looks at the run in progress or starts one. 1 when a run just passed;
 * else 0. Never an error: trouble turns the probe off (logged at debug). */
int probe_step(struct engine *eng, const char *id, const struct cJSON *info,
	       struct probe *p);

void probe_release(struct probe *p);

/* The command Docker runs for the health check of the container config
 * config (inspect's Config): Test ["CMD", args...] runs args; Test
 * ["CMD-SHELL", line] runs Config.Shell (default /bin/sh -c) with line.
 * Fills argv and returns 1, or returns 0 when there is nothing to run (no
 * check, ["NONE"]) or nothing we run (a malformed one; a CMD-SHELL with
 * more than one line, which Docker would join: left to Docker). *timeout: the
 * check's timeout in seconds (30 when unset, as Docker's). */
int probe_command(const struct cJSON *config, struct strlist *argv,
		  double *timeout);

#endif
