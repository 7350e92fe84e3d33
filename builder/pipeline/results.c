/*
 * Test results out of the test container; see results.h. Calls
 * GET /containers/{id}/archive?path=PATH (a tar of PATH, named by its base
 * name), hands the bytes to the extractor's thread as they arrive, then
 * walks what was extracted for JUnit XML files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "context/extract.h"
#include "engine/json.h"
#include "pipeline/results.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Refused entries logged one by one; the rest are counted. */
#define REFUSED_LOGGED 20

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
	struct buf line = BUF_INIT(8192);
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	/* Names from the test container: no terminal control sequences. */
	for (size_t i = 0; i < line.len; i++)
		if ((unsigned char)line.data[i] < 0x20 || line.data[i] == 0x7f)
			line.data[i] = '?';
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

/* Reads the JUnit files among those just written (not whatever else
 * LOCAL_DIR held before). open() with O_NOFOLLOW: the name is one the
 * extractor created as a regular file. */
static void read_junit(struct results *r, const char *dir,
		       const struct strlist *written)
{
	struct error err = ERROR_INIT;
	struct buf p = BUF_INIT(BUF_PATH_MAX);

	for (size_t i = 0; i < written->n; i++) {
		if (!has_xml_suffix(written->v[i]))
			continue;
		buf_reset(&p);
		buf_addf(&p, "%s/%s", dir, written->v[i]);
		err_clear(&err);
		if (junit_read_file(&r->junit, p.data, &err) < 0)
			warn(r, "JUnit report not read: %s", err.msg);
	}
	buf_release(&p);
}

/* The container's working directory, for a relative PATH; "/" when the
 * image sets none or the engine cannot say. */
static char *container_workdir(struct engine *eng, const char *id)
{
	struct error err = ERROR_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *c = NULL;
	const cJSON *wd;
	char *ret;

	buf_addf(&path, "/containers/%s/json", id);
	engine_json(eng, "GET", path.data, NULL, &c, NULL, &err);
	wd = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(c, "Config"), "WorkingDir");
	ret = xstrdup(cJSON_IsString(wd) && wd->valuestring[0] == '/'
			      ? wd->valuestring
			      : "/");
	cJSON_Delete(c);
	buf_release(&path);
	return ret;
}

int results_collect(struct engine *eng, const char *id,
		    const struct results_spec *spec, struct results *r)
{
	char *workdir = NULL;
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct extract_result res = { 0 };
	struct extract_job *job = NULL;
	struct error err = ERROR_INIT, xerr = ERROR_INIT;
	struct extract_options opt = { .strip_top_dir = 1 };
	struct buf path = BUF_INIT(BUF_PATH_MAX), full = BUF_INIT(BUF_PATH_MAX);
	int rc;

	if (spec->path[0] == '/') {
		buf_addstr(&full, spec->path);
	} else {
		workdir = container_workdir(eng, id);
		buf_addf(&full, "%s%s%s", workdir,
			 workdir[strlen(workdir) - 1] == '/' ? "" : "/",
			 spec->path);
	}
	buf_addf(&path, "/containers/%s/archive?path=", id);
	buf_add_urlencoded(&path, full.data);

	if (extract_start(&job, spec->local_dir, &opt, &res, &xerr) < 0) {
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
			     "container: nothing copied (%s)",
			     full.data, err.msg);
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
	read_junit(r, spec->local_dir, &res.written);
out:
	extract_result_release(&res);
	buf_release(&path);
	buf_release(&full);
	free(workdir);
	return 0;
}

void results_collect_all(struct engine *eng, const char *id,
			 const struct strlist *specs, struct results *r)
{
	for (size_t i = 0; i < specs->n && !signals_pending(); i++) {
		struct results_spec spec;
		struct error err = ERROR_INIT;

		if (results_spec_parse(&spec, specs->v[i], "TEST_RESULTS",
				       &err) < 0) {
			warn(r, "%s", err.msg);
			continue;
		}
		results_collect(eng, id, &spec, r);
		results_spec_release(&spec);
	}
	results_log(r);
}

cJSON *results_to_json(const struct results *r)
{
	const struct junit *j = &r->junit;
	cJSON *o = cJSON_CreateObject();
	cJSON *failing = NULL, *warnings;

	cJSON_AddNumberToObject(o, "paths_copied", (double)r->paths_copied);
	cJSON_AddNumberToObject(o, "files_copied", (double)r->files);
	cJSON_AddNumberToObject(o, "bytes_copied", (double)r->bytes);
	cJSON_AddNumberToObject(o, "refused", (double)r->refused);
	cJSON_AddNumberToObject(o, "junit_files", (double)j->files);
	if (j->files) {
		cJSON_AddNumberToObject(o, "tests", (double)j->tests);
		cJSON_AddNumberToObject(o, "failures", (double)j->failures);
		cJSON_AddNumberToObject(o, "errors", (double)j->errors);
		cJSON_AddNumberToObject(o, "skipped", (double)j->skipped);
		cJSON_AddNumberToObject(o, "time", j->time);
		failing = cJSON_AddArrayToObject(o, "failing");
		for (size_t i = 0; i < j->ncases; i++) {
			cJSON *c = cJSON_CreateObject();

			cJSON_AddStringToObject(c, "name", j->cases[i].name);
			cJSON_AddStringToObject(c, "kind", j->cases[i].kind);
			cJSON_AddStringToObject(c, "message",
						j->cases[i].message);
			cJSON_AddItemToArray(failing, c);
		}
		cJSON_AddNumberToObject(o, "failing_not_listed",
					(double)j->more_cases);
	}
	warnings = cJSON_AddArrayToObject(o, "warnings");
	for (size_t i = 0; i < r->warnings.n; i++)
		cJSON_AddItemToArray(warnings,
				     cJSON_CreateString(r->warnings.v[i]));
	return o;
}

void results_log(const struct results *r)
{
	const struct junit *j = &r->junit;

	if (!j->files)
		return;
	log_info("tests: %lld test%s, %lld failure%s, %lld error%s, %lld "
		 "skipped in %.1fs (%zu JUnit file%s)",
		 j->tests, j->tests == 1 ? "" : "s", j->failures,
		 j->failures == 1 ? "" : "s", j->errors,
		 j->errors == 1 ? "" : "s", j->skipped, j->time, j->files,
		 j->files == 1 ? "" : "s");
	for (size_t i = 0; i < j->ncases; i++)
		log_info("tests: %s %s%s%s", j->cases[i].kind, j->cases[i].name,
			 j->cases[i].message[0] ? ": " : "",
			 j->cases[i].message);
	if (j->more_cases)
		log_info("tests: and %zu more failing tests", j->more_cases);
}
