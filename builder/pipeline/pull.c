/*
 * Image presence and pulls; see pull.h. Endpoints: GET /images/{name}/json
 * and POST /images/create (a JSON message stream, decoded by jstream).
 *
 * Pull progress is a flood of messages ("Downloading [==>  ] 1.2MB/30MB"
 * several times a second per layer); a CI log wants one line per layer and
 * state, so we remember the last status of each layer id and print only
 * changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "engine/engine.h"
#include "engine/jstream.h"
#include "util/log.h"
#include "pipeline/pull.h"
#include "registry/ref.h"
#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Layers remembered for progress; more are logged without deduplication
 * rather than grow without bound. */
#define PROGRESS_IDS_MAX 512

/* Appends s for use as a path segment that may span '/' (image names do):
 * unreserved characters, '/', ':' and '@' as is, the rest percent-encoded. */
static void add_path(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char one[2] = { *s, '\0' };

		if (strchr("/:@", *s))
			buf_addch(b, *s);
		else
			buf_add_urlencoded(b, one);
	}
}

int image_exists(struct engine *eng, const char *ref, struct error *err)
{
	struct buf path = BUF_INIT;
	long status = 0;
	int ret;

	buf_addstr(&path, "/images/");
	add_path(&path, ref);
	buf_addstr(&path, "/json");
	ret = engine_json(eng, "GET", path.data, NULL, NULL, &status, err);
	buf_release(&path);
	if (ret == 0)
		return 1;
	if (status == 404) {
		err_clear(err);
		return 0;
	}
	return err_wrap(err, "cannot inspect image '%s'", ref);
}

struct progress {
	struct strlist ids; /* layer ids ... */
	struct strlist states; /* ... and their last status, in step */
};

static int on_progress(const cJSON *msg, void *ctx, struct error *err)
{
	struct progress *p = ctx;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "status");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	size_t i;

	(void)err;
	if (!cJSON_IsString(status) || !status->valuestring[0])
		return 0;
	if (!cJSON_IsString(id) || !id->valuestring[0]) {
		log_info("%s", status->valuestring);
		return 0;
	}
	for (i = 0; i < p->ids.n; i++)
		if (!strcmp(p->ids.v[i], id->valuestring))
			break;
	if (i < p->ids.n) {
		if (!strcmp(p->states.v[i], status->valuestring))
			return 0;
		free(p->states.v[i]);
		p->states.v[i] = xstrdup(status->valuestring);
	} else if (p->ids.n < PROGRESS_IDS_MAX) {
		strlist_push(&p->ids, id->valuestring);
		strlist_push(&p->states, status->valuestring);
	}
	log_info("%s: %s", id->valuestring, status->valuestring);
	return 0;
}

static int says_missing(const char *msg, long status)
{
	static const char *const signs[] = {
		"not found",	      "does not exist", "manifest unknown",
		"pull access denied", "no such image",	"unknown manifest",
	};

	if (status == 404)
		return 1;
	for (size_t i = 0; i < sizeof(signs) / sizeof(*signs); i++)
		if (strcasestr(msg, signs[i]))
			return 1;
	return 0;
}

int image_pull(struct engine *eng, const struct auth_settings *auth,
	       const char *ref, int *missing, struct error *err)
{
	struct ref r = REF_INIT;
	struct credential cred = CREDENTIAL_INIT;
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct progress prog = { STRLIST_INIT, STRLIST_INIT };
	struct jstream js;
	struct buf path = BUF_INIT;
	char *header = NULL;
	char *name = NULL;
	const char *headers[2] = { NULL, NULL };
	int ret = -1;

	jstream_init(&js, on_progress, &prog);
	if (missing)
		*missing = 0;
	if (ref_parse(&r, ref, "image", err) < 0)
		goto out;
	if (auth_resolve(auth, r.domain, &cred, err) < 0) {
		err_wrap(err, "cannot pull '%s'", ref);
		goto out;
	}
	name = ref_full_name(&r);
	log_info("pulling '%s' (credentials: %s)", ref, cred.source);

	buf_addstr(&path, "/images/create?fromImage=");
	buf_add_urlencoded(&path, name);
	buf_addstr(&path, "&tag=");
	/* An empty tag pulls every tag of the repository: never send one. */
	buf_add_urlencoded(&path, r.digest ? r.digest
				  : r.tag  ? r.tag
					   : "latest");

	header = auth_header_line(&cred);
	headers[0] = header;
	req.method = "POST";
	req.path = path.data;
	req.secret_headers = headers;
	if (jstream_request(eng, &req, &js, err) < 0) {
		if (missing)
			*missing = says_missing(err->msg, req.status);
		err_wrap(err, "cannot pull '%s' (credentials: %s)", ref,
			 cred.source);
		goto out;
	}
	ret = 0;
out:
	auth_free_secret(header);
	credential_release(&cred);
	jstream_release(&js);
	strlist_clear(&prog.ids);
	strlist_clear(&prog.states);
	buf_release(&path);
	free(name);
	ref_release(&r);
	return ret;
}
