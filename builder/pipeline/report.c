/*
 * The JSON run summary; see report.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "pipeline/report.h"
#include "util/xmalloc.h"
#include "util/version.h"
#include "util/banned.h"

static const char *const stage_names[STAGE_COUNT] = {
	"build", "test", "tag", "push", "save",
};

static const char *const status_names[] = {
	"not run",
	"ok",
	"failed",
	"skipped",
};

const char *stage_name(enum stage_id id)
{
	return stage_names[id];
}

void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->image_size = -1;
	r->test_exit_code = -1;
	results_init(&r->results);
}

void report_stage_done(struct report *r, enum stage_id id,
		       enum stage_status status, double seconds,
		       const char *message)
{
	struct report_stage *s = &r->stages[id];

	s->status = status;
	s->seconds = seconds;
	free(s->message);
	s->message = message ? xstrdup(message) : NULL;
}

static cJSON *to_json(const struct report *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *stages = cJSON_AddObjectToObject(root, "stages");
	cJSON *tags = cJSON_AddArrayToObject(root, "tags");
	cJSON *engine = cJSON_AddObjectToObject(root, "engine");
	const char *failed = NULL;

	cJSON_AddStringToObject(root, "builder_version", builder_version);
	cJSON_AddBoolToObject(root, "success", r->exit_code == 0);
	cJSON_AddNumberToObject(root, "exit_code", r->exit_code);
	cJSON_AddStringToObject(root, "image", r->image ? r->image : "");
	if (r->image_id[0])
		cJSON_AddStringToObject(root, "image_id", r->image_id);
	else
		cJSON_AddNullToObject(root, "image_id");
	if (r->image_size >= 0)
		cJSON_AddNumberToObject(root, "image_size",
					(double)r->image_size);
	else
		cJSON_AddNullToObject(root, "image_size");
	if (r->digest[0])
		cJSON_AddStringToObject(root, "digest", r->digest);
	else
		cJSON_AddNullToObject(root, "digest");
	for (size_t i = 0; i < r->tags.n; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(r->tags.v[i]));
	if (r->tests_ran)
		cJSON_AddNumberToObject(root, "test_exit_code",
					(double)r->test_exit_code);
	else
		cJSON_AddNullToObject(root, "test_exit_code");
	for (int i = 0; i < STAGE_COUNT; i++) {
		const struct report_stage *s = &r->stages[i];
		cJSON *st = cJSON_AddObjectToObject(stages, stage_names[i]);

		cJSON_AddStringToObject(st, "status", status_names[s->status]);
		cJSON_AddNumberToObject(st, "seconds",
					(double)(long long)(s->seconds * 1000) /
						1000);
		if (s->message)
			cJSON_AddStringToObject(st, "message", s->message);
		if (s->status == STAGE_FAILED && !failed)
			failed = stage_names[i];
	}
	cJSON_AddStringToObject(engine, "version", r->engine_version);
	cJSON_AddStringToObject(engine, "api_version", r->engine_api);
	cJSON_AddStringToObject(root, "credential_source",
				r->credential_source);
	if (failed)
		cJSON_AddStringToObject(root, "failed_stage", failed);
	else
		cJSON_AddNullToObject(root, "failed_stage");
	if (r->error)
		cJSON_AddStringToObject(root, "error", r->error);
	else
		cJSON_AddNullToObject(root, "error");
	if (r->results_wanted)
		cJSON_AddItemToObject(root, "test_results",
				      results_to_json(&r->results));
	return root;
}

char *report_json(const struct report *r)
{
	cJSON *json = to_json(r);
	char *text = cJSON_PrintUnformatted(json);
	char *ret = xstrdup(text ? text : "{}");

	cJSON_free(text);
	cJSON_Delete(json);
	return ret;
}

/* How path is written. */
enum report_dest {
	DEST_RENAME, /* a regular file or a new path: temp file and rename */
	DEST_DIRECT, /* a device, a FIFO, a link to a missing file */
};

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Decides how path is written; *real receives the file to replace for
 * DEST_RENAME (symbolic links resolved). */
static int classify(const char *path, enum report_dest *dest, char **real,
		    struct error *err)
{
	struct stat st;
	char *dir = NULL;
	int ret = -1;

	*real = NULL;
	if (!*path)
		return err_set(err, EXIT_USAGE,
			       "REPORT is empty: name a file (example: "
			       "REPORT=report.json)");
	if (stat(path, &st) == 0) {
		/* /dev/stdout, /dev/fd/N, /proc/self/fd/N: whatever they
		 * lead to, the open file is written, never replaced. */
		int special = !strncmp(path, "/dev/", 5) ||
			      !strncmp(path, "/proc/", 6);

		if (S_ISDIR(st.st_mode))
			return err_set(err, EXIT_USAGE,
				       "REPORT '%s' is a directory: name a "
				       "file in it (example: "
				       "REPORT=%s/report.json)",
				       path, path);
		if (special || !S_ISREG(st.st_mode)) {
			*dest = DEST_DIRECT;
			if (access(path, W_OK) < 0)
				return err_set(err, EXIT_USAGE,
					       "REPORT '%s' is not writable: "
					       "%s; check REPORT",
					       path, strerror(errno));
			return 0;
		}
		*real = realpath(path, NULL);
		if (!*real)
			return err_set(err, EXIT_USAGE,
				       "cannot resolve REPORT '%s': %s; check "
				       "REPORT",
				       path, strerror(errno));
		*dest = DEST_RENAME;
	} else if (errno != ENOENT) {
		return err_set(err, EXIT_USAGE,
			       "REPORT '%s' cannot be used: %s; check REPORT",
			       path, strerror(errno));
	} else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* A link to a file yet to be created: written through. */
		*dest = DEST_DIRECT;
		return 0;
	} else {
		*real = xstrdup(path);
		*dest = DEST_RENAME;
	}
	/* The temp file goes next to the file it replaces. */
	dir = dir_of(*real);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, EXIT_USAGE,
			"REPORT '%s': the directory '%s' does not exist; "
			"create it or change REPORT",
			path, dir);
		goto out;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		err_set(err, EXIT_USAGE,
			"REPORT '%s': cannot write in the directory '%s': %s; "
			"check REPORT",
			path, dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		free(*real);
		*real = NULL;
	}
	free(dir);
	return ret;
}

int report_check_path(const char *path, struct error *err)
{
	enum report_dest dest;
	char *real = NULL;
	int ret = classify(path, &dest, &real, err);

	free(real);
	return ret;
}

/* Writes text and a newline to an open file and closes it. */
static int write_close(FILE *f, const char *text)
{
	int bad = fputs(text, f) < 0 || fputc('\n', f) < 0;

	if (fclose(f) != 0)
		bad = 1;
	return bad ? -1 : 0;
}

int report_write(const struct report *r, const char *path, struct error *err)
{
	cJSON *json = to_json(r);
	char *text = cJSON_Print(json);
	struct buf tmp = BUF_INIT(BUF_TEXT_MAX);
	enum report_dest dest;
	char *real = NULL;
	FILE *f = NULL;
	int ret = -1;

	if (classify(path, &dest, &real, err) < 0)
		goto out;
	if (dest == DEST_DIRECT) {
		f = fopen(path, "w");
		if (!f || write_close(f, text) < 0) {
			err_set(err, EXIT_USAGE,
				"cannot write the report '%s': %s; check "
				"REPORT",
				path, strerror(errno));
			goto out;
		}
		ret = 0;
		goto out;
	}
	buf_addf(&tmp, "%s.tmp.%ld", real, (long)getpid());
	f = fopen(tmp.data, "w");
	if (!f) {
		err_set(err, EXIT_USAGE,
			"cannot write the report '%s': %s; "
			"check REPORT",
			path, strerror(errno));
		goto out;
	}
	if (write_close(f, text) < 0) {
		err_set(err, EXIT_USAGE, "cannot write the report '%s': %s",
			path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	if (rename(tmp.data, real) < 0) {
		err_set(err, EXIT_USAGE, "cannot write the report '%s': %s",
			path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	ret = 0;
out:
	free(real);
	cJSON_free(text);
	cJSON_Delete(json);
	buf_release(&tmp);
	return ret;
}

void report_release(struct report *r)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		free(r->stages[i].message);
	strlist_clear(&r->tags);
	results_release(&r->results);
	free(r->image);
	free(r->error);
}
