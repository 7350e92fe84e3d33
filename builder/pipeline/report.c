/*
 * The JSON run summary; see report.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "pipeline/report.h"
#include "util/xmalloc.h"
#include "util/banned.h"

static const char *const stage_names[STAGE_COUNT] = {
	"build",
	"test",
	"tag",
	"push",
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

	cJSON_AddStringToObject(root, "builder_version", BUILDER_VERSION);
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
	return root;
}

int report_write(const struct report *r, const char *path, struct error *err)
{
	cJSON *json = to_json(r);
	char *text = cJSON_Print(json);
	struct buf tmp = BUF_INIT;
	FILE *f = NULL;
	int ret = -1;

	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp.data, "w");
	if (!f) {
		err_set(err, EXIT_USAGE,
			"cannot write the report '%s': %s; "
			"check REPORT",
			path, strerror(errno));
		goto out;
	}
	if (fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0) {
		f = NULL;
		err_set(err, EXIT_USAGE, "cannot write the report '%s': %s",
			path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	f = NULL;
	if (rename(tmp.data, path) < 0) {
		err_set(err, EXIT_USAGE, "cannot write the report '%s': %s",
			path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
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
	free(r->image);
	free(r->error);
}
