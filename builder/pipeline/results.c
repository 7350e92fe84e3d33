/*
 * Test results out of the test container; see results.h. Calls
 * GET /containers/{id}/archive?path=PATH (a tar of PATH, named by its base
 * name), hands the bytes to the extractor's thread as they arrive, then
 * walks what was extracted for JUnit XML files.
 */
#include <errno.h>
#include <fts.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "context/extract.h"
#include "pipeline/results.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Refused entries logged one by one; the rest are counted. */
#define REFUSED_LOGGED 20
/* JUnit files read per PATH at most. */
#define JUNIT_FILES_MAX 1000

int results_spec_parse(struct results_spec *spec, const char *arg,
		       const char *what, struct error *err)
{
	const char *colon = strchr(arg, ':');
	char *path;
	size_t len;

	memset(spec, 0, sizeof(*spec));
	path = colon ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
	for (len = strlen(path); len > 1;) {
		if (path[len - 1] == '/')
			path[--len] = '\0';
		else if (len > 2 && !strcmp(path + len - 2, "/."))
			path[len -= 2] = '\0';
		else
			break;
	}
	if (!*path || !strcmp(path, "/") || !strcmp(path, ".")) {
		free(path);
		return err_set(err, EXIT_USAGE,
			       "%s '%s': name a file or directory of the test "
			       "container, e.g. /app/test-results[:LOCAL_DIR]",
			       what, arg);
	}
	if (colon && !colon[1]) {
		free(path);
		return err_set(err, EXIT_USAGE,
			       "%s '%s': nothing after ':'; give LOCAL_DIR or "
			       "leave out the ':'",
			       what, arg);
	}
	spec->path = path;
	spec->local_dir = xstrdup(colon ? colon + 1 : RESULTS_DEFAULT_DIR);
	return 0;
}

void results_spec_release(struct results_spec *spec)
{
	if (!spec)
		return;
	free(spec->path);
	free(spec->local_dir);
	spec->path = spec->local_dir = NULL;
}

void results_init(struct results *r)
{
	memset(r, 0, sizeof(*r));
	junit_init(&r->junit);
}

void results_release(struct results *r)
{
	if (!r)
		return;
	junit_release(&r->junit);
	strlist_clear(&r->warnings);
}

static void warn(struct results *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct results *r, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	buf_init(&line, 8192);
	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	log_warn("%s", line.data ? line.data : "");
	if (r->warnings.n < 100)
		strlist_push(&r->warnings, line.data ? line.data : "");
	buf_release(&line);
}

static int has_xml_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".xml");
}

/* Reads the JUnit files under root (a file or a directory), without
 * following links. */
static void read_junit(struct results *r, const char *root)
{
	char *const roots[] = { (char *)root, NULL };
	FTS *fts;
	FTSENT *e;
	size_t seen = 0;
	struct error err = ERROR_INIT;

	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts) {
		warn(r, "cannot read the results in '%s': %s", root,
		     strerror(errno));
		return;
	}
	while ((e = fts_read(fts))) {
		if (e->fts_info != FTS_F || !has_xml_suffix(e->fts_name))
			continue;
		if (++seen > JUNIT_FILES_MAX) {
			warn(r,
			     "more than %d XML files in '%s': the rest "
			     "are not read",
			     JUNIT_FILES_MAX, root);
			break;
		}
		err_clear(&err);
		if (junit_read_file(&r->junit, e->fts_path, &err) < 0)
			warn(r, "JUnit report not read: %s", err.msg);
	}
	fts_close(fts);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int results_collect(struct engine *eng, const char *id, const char *workdir,
		    const struct results_spec *spec, struct results *r)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct extract_result res = { 0 };
	struct extract_job *job = NULL;
	struct error err = ERROR_INIT, xerr = ERROR_INIT;
	struct buf path = BUF_INIT, full = BUF_INIT, top = BUF_INIT;
	int rc;

	if (spec->path[0] == '/' || !workdir || !*workdir)
		buf_addf(&full, "%s%s", spec->path[0] == '/' ? "" : "/",
			 spec->path);
	else
		buf_addf(&full, "%s%s%s", workdir,
			 workdir[strlen(workdir) - 1] == '/' ? "" : "/",
			 spec->path);
	buf_addf(&path, "/containers/%s/archive?path=", id);
	buf_add_urlencoded(&path, full.data);

	if (extract_start(&job, spec->local_dir, NULL, &res, &xerr) < 0) {
		warn(r, "cannot copy the test results '%s': %s", full.data,
		     xerr.msg);
		goto out;
	}
	req.method = "GET";
	req.path = path.data;
	req.on_data = extract_feed;
	req.data_ctx = job;
	rc = engine_do(eng, &req, &err);
	if (extract_finish(job, rc, &xerr) < 0) {
		if (req.status == 404) {
			warn(r,
			     "no test results at '%s' in the test "
			     "container: nothing copied",
			     full.data);
		} else if (rc < 0 && !res.stopped[0]) {
			warn(r, "cannot copy the test results '%s': %s",
			     full.data, err.msg);
		} else {
			warn(r, "cannot copy the test results '%s' to '%s': %s",
			     full.data, spec->local_dir, xerr.msg);
		}
		goto out;
	}
	r->paths_copied++;
	r->files += res.files;
	r->bytes += res.bytes;
	r->refused += res.refused_count;
	log_info("results: copied '%s' to '%s/' (%zu entries, %llu bytes)",
		 full.data, spec->local_dir, res.files, res.bytes);
	for (size_t i = 0; i < res.refused.n && i < REFUSED_LOGGED; i++)
		warn(r, "results: refused '%s'", res.refused.v[i]);
	if (res.refused_count > REFUSED_LOGGED)
		warn(r, "results: %zu more entries refused",
		     res.refused_count - REFUSED_LOGGED);
	if (res.stopped[0])
		warn(r,
		     "results: copy stopped: %s; the rest of '%s' was not "
		     "copied",
		     res.stopped, full.data);
	buf_addf(&top, "%s/%s", spec->local_dir, base_name(full.data));
	read_junit(r, top.data);
out:
	extract_result_release(&res);
	buf_release(&path);
	buf_release(&full);
	buf_release(&top);
	return 0;
}

void results_log(const struct results *r)
{
	const struct junit *j = &r->junit;

	if (!j->files)
		return;
	log_info("tests: %lld tests, %lld failures, %lld errors, %lld "
		 "skipped in %.1fs (%zu JUnit file%s)",
		 j->tests, j->failures, j->errors, j->skipped, j->time,
		 j->files, j->files == 1 ? "" : "s");
	for (size_t i = 0; i < j->ncases; i++)
		log_info("tests: %s %s%s%s", j->cases[i].kind, j->cases[i].name,
			 j->cases[i].message[0] ? ": " : "",
			 j->cases[i].message);
	if (j->more_cases)
		log_info("tests: and %zu more failing tests", j->more_cases);
}
