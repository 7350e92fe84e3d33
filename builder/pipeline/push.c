/*
 * Pushing; see push.h. Endpoint: POST /images/{name}/push?tag=.
 *
 * The engine flushes its first status line before doing any work, so
 * every push error (missing image, denied, unauthorized, registry down)
 * arrives inside a 200 response as errorDetail; jstream makes it an error.
 * The digest comes from the aux message {Tag, Digest, Size} that the
 * graphdriver path sends, or else from the final status line.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "engine/engine.h"
#include "engine/jstream.h"
#include "util/log.h"
#include "pipeline/progress.h"
#include "pipeline/push.h"
#include "pipeline/tag.h"
#include "registry/ref.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

struct push_state {
	struct push_result *res;
	struct progress progress;
};

static const char *const permanent[] = {
	"unauthorized",
	"authentication required",
	"denied",
	"forbidden",
	"does not exist locally",
	"no basic auth credentials",
	"invalid reference",
	NULL,
};

static const char *const transient[] = {
	"toomanyrequests",
	"too many requests",
	"connection reset",
	"connection refused",
	"timeout",
	"timed out",
	"eof",
	"broken pipe",
	"no route to host",
	"service unavailable",
	"bad gateway",
	"internal server error",
	"gateway timeout",
	"status: 5",
	"status 5",
	"http 5",
	"temporarily",
	"lost the connection",
	"blob upload unknown",
	NULL,
};

int push_error_is_transient(const char *message)
{
	for (int i = 0; permanent[i]; i++)
		if (strcasestr(message, permanent[i]))
			return 0;
	for (int i = 0; transient[i]; i++)
		if (strcasestr(message, transient[i]))
			return 1;
	return 0;
}

int push_digest_from_status(const char *status, char *out, size_t len)
{
	const char *d = strstr(status, ": digest: ");
	size_t n;

	if (!d)
		return -1;
	d += strlen(": digest: ");
	n = strcspn(d, " ");
	if (!n || n >= len || strncmp(d, "sha256:", 7))
		return -1;
	memcpy(out, d, n);
	out[n] = '\0';
	return 0;
}

/* The digest; progress_event prints the rest. */
static int on_push_message(const cJSON *msg, void *ctx, struct error *err)
{
	struct push_state *st = ctx;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "status");
	const cJSON *aux = cJSON_GetObjectItemCaseSensitive(msg, "aux");
	const cJSON *digest = cJSON_GetObjectItemCaseSensitive(aux, "Digest");

	(void)err;
	if (cJSON_IsString(digest))
		snprintf(st->res->digest, sizeof(st->res->digest), "%s",
			 digest->valuestring);
	else if (cJSON_IsString(status))
		push_digest_from_status(status->valuestring, st->res->digest,
					sizeof(st->res->digest));
	return 0;
}

static int push_once(struct engine *eng, const char *repository,
		     const char *tag, const char *auth_line,
		     struct push_result *res, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct push_state st;
	struct jstream js;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	const char *headers[2] = { auth_line, NULL };
	int ret;

	memset(&st, 0, sizeof(st));
	st.res = res;
	progress_init(&st.progress);
	res->digest[0] = '\0';
	jstream_init(&js, on_push_message, &st);
	jstream_on_event(&js, progress_event, &st.progress);
	/* The repository goes into the path as is, slashes and all, as the
	 * docker CLI sends it. */
	buf_addf(&path, "/images/%s/push?tag=", repository);
	buf_add_urlencoded(&path, tag);
	req.method = "POST";
	req.path = path.data;
	req.secret_headers = headers;
	ret = jstream_request(eng, &req, &js, err);
	progress_release(&st.progress);
	if (!ret && !res->digest[0])
		ret = err_set(err, EXIT_PUSH,
			      "the engine reported no digest for the push; "
			      "check the tag in the registry before relying "
			      "on it");
	/* The registry's own words decide; a stream cut or garbled on the
	 * way is worth another try. */
	if (ret && err->code == EXIT_ENGINE && js.engine_error)
		err->retryable = push_error_is_transient(err->msg);
	else if (ret && err->code == EXIT_ENGINE && js.failed)
		err->retryable = 1;
	jstream_release(&js);
	buf_release(&path);
	return ret;
}

/* Sleeps, waking early for a signal; -1 when interrupted. */
static int backoff(double seconds, struct error *err)
{
	double until = now_seconds() + seconds;

	while (now_seconds() < until) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (signals_pending())
			return signals_error(err);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* The registry's host of a repository name, as the engine reads it. */
static void registry_of(const char *repository, char *out, size_t len)
{
	struct ref r = REF_INIT;
	struct error ignored = ERROR_INIT;

	if (ref_parse(&r, repository, NULL, &ignored) == 0)
		snprintf(out, len, "%s", r.domain);
	else
		snprintf(out, len, "%s", REF_HUB_DOMAIN);
	ref_release(&r);
}

/* The registry speaks plain HTTP: only the engine's configuration can
 * allow that, so say where. */
static void insecure_hint(struct error *err, const char *registry)
{
	size_t len = strlen(err->msg);

	snprintf(err->msg + len, sizeof(err->msg) - len,
		 "; the registry '%s' speaks plain HTTP: list it in "
		 "\"insecure-registries\" in the engine's daemon.json (Docker) "
		 "or mark it insecure = true in registries.conf (Podman)",
		 registry);
}

/* Pushes one tag, retrying transient failures with exponential backoff;
 * *retried is set when a retry was made. */
static int push_with_retries(struct engine *eng, const char *repository,
			     const char *tag, const char *auth_line,
			     long retries, struct push_result *res,
			     int *retried, struct error *err)
{
	double delay = 1.0;

	for (long attempt = 0;; attempt++) {
		err_clear(err);
		res->attempts++;
		if (!push_once(eng, repository, tag, auth_line, res, err))
			return 0;
		if (err->code >= 128 || !err->retryable || attempt >= retries)
			return -1;
		log_warn("push of '%s:%s' failed (%s); retry %ld of %ld in "
			 "%.0fs",
			 repository, tag, err->msg, attempt + 1, retries,
			 delay);
		if (backoff(delay, err) < 0)
			return -1;
		*retried = 1;
		delay *= 2;
	}
}

/* GET /images/{ref}/json; NULL when the engine does not know ref. */
static cJSON *inspect(struct engine *eng, const char *ref)
{
	struct error ignored = ERROR_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *img = NULL;

	/* Names go into the path as is, slashes and all, like the push. */
	buf_addf(&path, "/images/%s/json", ref);
	if (engine_json(eng, "GET", path.data, NULL, &img, NULL, &ignored) <
	    0) {
		cJSON_Delete(img);
		img = NULL;
	}
	buf_release(&path);
	return img;
}

static int lists_digest(const cJSON *img, const char *digest)
{
	const cJSON *item;

	cJSON_ArrayForEach(item,
			   cJSON_GetObjectItemCaseSensitive(img, "RepoDigests"))
	{
		const char *at = cJSON_IsString(item)
					 ? strrchr(item->valuestring, '@')
					 : NULL;

		if (at && !strcmp(at + 1, digest))
			return 1;
	}
	return 0;
}

/*
 * Which image the engine pushed as repository:tag with digest, into out
 * ("" when the engine cannot say). The push goes by name, so another run
 * may have moved the tag between our tag and our push.
 * - With the containerd image store the image ID is the pushed digest.
 * - Docker records repository@digest for the image it pushed: inspecting
 *   that reference names the image whose config the manifest holds.
 * - An engine may list the digest among the tested image's RepoDigests.
 * - Podman records neither (it may recompress layers, so the digest is
 *   not one it stores): the weaker check that the tag still names the
 *   tested image right after the push is all an engine can tell.
 */
static void pushed_image(struct engine *eng, const char *repository,
			 const char *tag, const char *digest,
			 const char *image_id, char *out, size_t len)
{
	struct buf ref = BUF_INIT(BUF_TEXT_MAX);
	cJSON *img = NULL;
	const cJSON *id;

	out[0] = '\0';
	if (!strcmp(digest, image_id)) {
		snprintf(out, len, "%s", image_id);
		goto out;
	}
	buf_addf(&ref, "%s@%s", repository, digest);
	img = inspect(eng, ref.data);
	if (!img) {
		img = inspect(eng, image_id);
		if (img && lists_digest(img, digest)) {
			snprintf(out, len, "%s", image_id);
			goto out;
		}
		cJSON_Delete(img);
		log_debug("the engine does not know '%s'; checking that the "
			  "tag still names the tested image",
			  ref.data);
		buf_reset(&ref);
		buf_addf(&ref, "%s:%s", repository, tag);
		img = inspect(eng, ref.data);
	}
	id = cJSON_GetObjectItemCaseSensitive(img, "Id");
	if (cJSON_IsString(id))
		snprintf(out, len, "%s", id->valuestring);
out:
	cJSON_Delete(img);
	buf_release(&ref);
}

/* Points repository:tag at the tested image again after a race. */
static int retag(struct engine *eng, const char *image_id,
		 const char *repository, const char *tag, struct error *err)
{
	struct strlist one = STRLIST_INIT;
	int ret;

	strlist_push(&one, tag);
	ret = tag_image(eng, image_id, repository, &one, err);
	strlist_clear(&one);
	return ret;
}

int push_image(struct engine *eng, const char *image_id, const char *repository,
	       const struct strlist *tags, const struct credential *cred,
	       long retries, struct push_result *res, struct error *err)
{
	char *auth_line = auth_header_line(cred);
	char registry[256];
	char got[128];
	int ret = 0;

	registry_of(repository, registry, sizeof(registry));
	log_info("credentials for '%s': %s", registry, cred->source);

	for (size_t i = 0; i < tags->n && !ret; i++) {
		const char *tag = tags->v[i];
		int retried = 0;
		int race;

		got[0] = '\0';
		for (race = 0; race < PUSH_RACE_TRIES; race++) {
			if (race && retag(eng, image_id, repository, tag, err))
				break;
			if (push_with_retries(eng, repository, tag, auth_line,
					      retries, res, &retried, err))
				break;
			pushed_image(eng, repository, tag, res->digest,
				     image_id, got, sizeof(got));
			if (!strcmp(got, image_id))
				break;
			log_warn("'%s:%s' was pushed as %.19s, not the tested "
				 "image %.19s: another run moved the tag; "
				 "tagging and pushing again",
				 repository, tag,
				 got[0] ? got : "an unknown image", image_id);
		}
		if (!err->code && race == PUSH_RACE_TRIES)
			err_set(err, EXIT_PUSH,
				"'%s:%s' kept moving to other images while it "
				"was "
				"pushed (a race with another run pushing the "
				"same "
				"tag; %d tries): the registry's %s is not the "
				"tested "
				"image %.19s; give each run a tag of its own "
				"(e.g. "
				"the commit) or run them one after another",
				repository, tag, PUSH_RACE_TRIES, res->digest,
				image_id);
		if (err->code) {
			res->digest[0] = '\0';
			if (err->code < 128)
				err_recode(err, EXIT_PUSH);
			if (err->code == EXIT_PUSH &&
			    strstr(err->msg, "HTTP response to HTTPS client"))
				insecure_hint(err, registry);
			if (err->code == EXIT_PUSH)
				err_wrap(err,
					 "push of '%s:%s' to registry '%s' "
					 "failed%s (credentials: %s)",
					 repository, tag, registry,
					 retried ? " after retries" : "",
					 cred->source);
			ret = -1;
			break;
		}
		{
			struct buf name = BUF_INIT(BUF_PATH_MAX);

			buf_addf(&name, "%s:%s", repository, tag);
			strlist_push(&res->pushed, name.data);
			buf_release(&name);
		}
		log_info("pushed %s:%s@%s", repository, tag, res->digest);
	}
	auth_free_secret(auth_line);
	return ret;
}

void push_result_release(struct push_result *res)
{
	strlist_clear(&res->pushed);
}
