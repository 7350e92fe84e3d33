/*
 * Image presence and pulls; see pull.h. Endpoints: GET /images/{name}/json
 * and POST /images/create (a JSON message stream, decoded by jstream).
 * Progress is printed by pipeline/progress.c.
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
#include "pipeline/progress.h"
#include "pipeline/pull.h"
#include "registry/ref.h"
#include "util/banned.h"

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
	struct buf path = BUF_INIT(BUF_PATH_MAX);
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
	struct progress prog;
	struct jstream js;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	char *header = NULL;
	char *name = NULL;
	const char *headers[2] = { NULL, NULL };
	int ret = -1;

	progress_init(&prog);
	jstream_init(&js, NULL, NULL);
	jstream_on_event(&js, progress_event, &prog);
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
	progress_release(&prog);
	buf_release(&path);
	free(name);
	ref_release(&r);
	return ret;
}
