#ifndef BUILDER_RESULTS_H
#define BUILDER_RESULTS_H

/*
 * Test results out of the test container (TEST_RESULTS, --test-results
 * PATH[:LOCAL_DIR]): after the tests, passed or failed, each PATH is
 * copied out with GET /containers/{id}/archive?path=PATH, streamed through
 * the safe extractor (context/extract.h) into LOCAL_DIR (a directory's
 * contents, as `docker cp c:PATH/. LOCAL_DIR`; a file by its name), and
 * the JUnit XML files among what was copied are read (pipeline/junit.h).
 *
 * Nothing here fails the run: a missing PATH, a refused entry, a cap, a
 * broken XML file are warnings, logged as they happen and kept in struct
 * results for the report and the summary.
 */

#include "engine/engine.h"
#include "pipeline/junit.h"
#include "util/error.h"
#include "util/strlist.h"

#define RESULTS_DEFAULT_DIR "test-results"

struct results_spec {
	char *path; /* in the container */
	char *local_dir; /* on this machine */
};

/* Parses "PATH[:LOCAL_DIR]" (LOCAL_DIR defaults to RESULTS_DEFAULT_DIR;
 * PATH "/" is refused; trailing "/" and "/." are dropped). EXIT_USAGE
 * errors name `what` (the variable or flag). The strings are owned by
 * spec: results_spec_release(). */
int results_spec_parse(struct results_spec *spec, const char *arg,
		       const char *what, struct error *err);
void results_spec_release(struct results_spec *spec);

struct results {
	struct junit junit; /* totals over every PATH */
	size_t paths_copied; /* PATHs found and extracted */
	size_t files; /* entries written */
	unsigned long long bytes;
	size_t refused; /* entries refused, all PATHs */
	struct strlist warnings; /* one line each, as logged */
};

void results_init(struct results *r);
void results_release(struct results *r);

/*
 * Copies spec->path out of container id into spec->local_dir and adds
 * the JUnit files found there to r. A relative PATH starts at the
 * container's working directory (asked of the engine). Logs what it
 * copied, refused and read. Returns 0; the failures are in r->warnings.
 */
int results_collect(struct engine *eng, const char *id,
		    const struct results_spec *spec, struct results *r);

/* The same for each "PATH[:LOCAL_DIR]" of specs (TEST_RESULTS, already
 * checked by results_spec_parse()), then results_log(). Nothing after a
 * signal: the run is being cut short. */
void results_collect_all(struct engine *eng, const char *id,
			 const struct strlist *specs, struct results *r);

/* The report's "test_results" object: totals, failing cases, what was
 * copied and the warnings. Owned by the caller. */
struct cJSON *results_to_json(const struct results *r);

/* Logs the totals and the failing cases ("tests: 12 tests, 1 failure,
 * ..."); nothing when no JUnit file was read. */
void results_log(const struct results *r);

#endif
