/*
 * Manifests and blobs (copy.h): manifest GET/HEAD/PUT, blob HEAD, cross-
 * repository mount, monolithic and chunked upload, and the streamed copy
 * between two registries.
 *
 * Endpoints: /v2/<name>/manifests/<reference>, /v2/<name>/blobs/<digest>,
 * POST /v2/<name>/blobs/uploads/[?mount=&from=], PATCH and PUT on the
 * upload's Location, DELETE of an upload we do not use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "registry/copy.h"
#include "registry/ref.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define RING_SIZE (4u * 1024 * 1024)
/* Copies of one blob tried again after a 429, a 5xx or a cut transfer. */
#define COPY_RETRIES 3

static void hex_digest(const unsigned char *md, unsigned n, char out[72])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 7;

	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < n && o + 2 < 72; i++) {
		out[o++] = hx[md[i] >> 4];
		out[o++] = hx[md[i] & 15];
	}
	out[o] = '\0';
}

void registry_sha256(const void *data, size_t len, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		abort(); /* only when out of memory */
	hex_digest(md, n, out);
}

void fetched_release(struct fetched *f)
{
	if (!f)
		return;
	buf_release(&f->body);
	f->media_type[0] = f->digest[0] = '\0';
}

static void scope_of(struct buf *b, const char *repo, const char *actions)
{
	buf_reset(b);
	buf_addf(b, "repository:%s:%s", repo, actions);
}

/* One request to a repository: the path and the token scope live with it,
 * so that a function making one says only what is its own. */
struct call {
	struct registry_request rq;
	struct buf path, scope;
};

/* Starts a call: METHOD on the path that fmt makes, with pull or pull,push
 * on repo. */
__attribute__((format(printf, 5, 6))) static void
call_init(struct call *c, const char *method, const char *repo,
	  const char *actions, const char *fmt, ...)
{
	va_list ap;

	*c = (struct call){ .path = BUF_INIT(BUF_PATH_MAX),
			    .scope = BUF_INIT(BUF_PATH_MAX) };
	va_start(ap, fmt);
	buf_vaddf(&c->path, fmt, ap);
	va_end(ap);
	scope_of(&c->scope, repo, actions);
	c->rq.method = method;
}

static int call_do(struct registry *reg, struct call *c, struct error *err)
{
	c->rq.path = c->path.data;
	c->rq.scope = c->scope.data;
	return registry_do(reg, &c->rq, err);
}

static void call_release(struct call *c)
{
	registry_request_release(&c->rq);
	buf_release(&c->path);
	buf_release(&c->scope);
}

static const long ok_200[] = { 200, 0 };
static const long ok_201[] = { 201, 0 };
static const long ok_202[] = { 202, 0 };

int registry_manifest_get(struct registry *reg, const char *repo,
			  const char *reference, struct fetched *out,
			  struct error *err)
{
	struct call c;
	int ret = -1;

	fetched_release(out);
	call_init(&c, "GET", repo, "pull", "/v2/%s/manifests/%s", repo,
		  reference);
	c.rq.accept = MT_ACCEPT_ALL;
	c.rq.response_max = MANIFEST_MAX;
	if (call_do(reg, &c, err) < 0)
		goto out;
	if (c.rq.status == 404) {
		err_set(err, EXIT_PUSH,
			"'%s/%s%s%s' does not exist on registry '%s' (manifest "
			"unknown); check the name and that it was pushed",
			registry_domain(reg), repo,
			ref_valid_digest(reference) ? "@" : ":", reference,
			registry_domain(reg));
		goto out;
	}
	if (registry_expect(&c.rq, ok_200, "get the manifest", err) < 0) {
		err_wrap(err, "'%s/%s' on '%s'", repo, reference,
			 registry_domain(reg));
		goto out;
	}
	registry_sha256(c.rq.response.data, c.rq.response.len, out->digest);
	if (ref_valid_digest(reference) &&
	    strncmp(reference, "sha256:", 7) == 0 &&
	    strcmp(reference, out->digest)) {
		err_set(err, EXIT_PUSH,
			"registry '%s' sent a manifest for '%s@%s' whose "
			"digest is %s: the registry or a proxy altered it",
			registry_domain(reg), repo, reference, out->digest);
		goto out;
	}
	if (c.rq.digest[0] && !strncmp(c.rq.digest, "sha256:", 7) &&
	    strcmp(c.rq.digest, out->digest)) {
		err_set(err, EXIT_PUSH,
			"registry '%s' says '%s:%s' is %s, but the manifest "
			"it sent hashes to %s",
			registry_domain(reg), repo, reference, c.rq.digest,
			out->digest);
		goto out;
	}
	snprintf(out->media_type, sizeof(out->media_type), "%.*s",
		 (int)strcspn(c.rq.content_type_out, "; "),
		 c.rq.content_type_out);
	out->body = c.rq.response;
	memset(&c.rq.response, 0, sizeof(c.rq.response));
	ret = 0;
out:
	call_release(&c);
	return ret;
}

int registry_manifest_head(struct registry *reg, const char *repo,
			   const char *reference, char *digest_out,
			   struct error *err)
{
	struct call c;
	int ret = -1;

	digest_out[0] = '\0';
	call_init(&c, "HEAD", repo, "pull", "/v2/%s/manifests/%s", repo,
		  reference);
	c.rq.accept = MT_ACCEPT_ALL;
	if (call_do(reg, &c, err) < 0)
		goto out;
	if (c.rq.status == 404) {
		ret = 0;
		goto out;
	}
	if (registry_expect(&c.rq, ok_200, "look the manifest up", err) < 0) {
		err_wrap(err, "'%s:%s' on '%s'", repo, reference,
			 registry_domain(reg));
		goto out;
	}
	snprintf(digest_out, 80, "%.79s", c.rq.digest);
	ret = 1;
out:
	call_release(&c);
	return ret;
}

int registry_manifest_put(struct registry *reg, const char *repo,
			  const char *reference, const char *media_type,
			  const char *body, size_t len, struct error *err)
{
	struct call c;
	char digest[72];
	int ret = -1;

	registry_sha256(body, len, digest);
	call_init(&c, "PUT", repo, "pull,push", "/v2/%s/manifests/%s", repo,
		  reference);
	c.rq.content_type = media_type;
	c.rq.body = body;
	c.rq.body_len = len;
	if (call_do(reg, &c, err) < 0 ||
	    registry_expect(&c.rq, ok_201, "put the manifest", err) < 0) {
		err_wrap(err, "'%s/%s:%s'", registry_domain(reg), repo,
			 reference);
		goto out;
	}
	if (c.rq.digest[0] && strcmp(c.rq.digest, digest)) {
		err_set(err, EXIT_PUSH,
			"registry '%s' stored '%s:%s' as %s, not %s as sent",
			registry_domain(reg), repo, reference, c.rq.digest,
			digest);
		goto out;
	}
	ret = 0;
out:
	call_release(&c);
	return ret;
}

int registry_blob_exists(struct registry *reg, const char *repo,
			 const char *digest, struct error *err)
{
	struct call c;
	int ret = -1;

	call_init(&c, "HEAD", repo, "pull", "/v2/%s/blobs/%s", repo, digest);
	if (call_do(reg, &c, err) < 0)
		goto out;
	if (c.rq.status == 404) {
		ret = 0;
		goto out;
	}
	if (registry_expect(&c.rq, ok_200, "look the blob up", err) < 0) {
		err_wrap(err, "'%s@%s' on '%s'", repo, digest,
			 registry_domain(reg));
		goto out;
	}
	ret = 1;
out:
	call_release(&c);
	return ret;
}

/* Cancels an upload we opened and do not use; failures do not matter. */
static void cancel_upload(struct registry *reg, const char *location,
			  const char *scope)
{
	struct registry_request rq = REGISTRY_REQUEST_INIT;
	struct error ignored = ERROR_INIT;
	char *loc = xstrdup(location);

	rq.method = "DELETE";
	rq.path = loc;
	rq.scope = scope;
	registry_do(reg, &rq, &ignored);
	registry_request_release(&rq);
	free(loc);
}

/* Opens an upload: POST .../blobs/uploads/, 202 with a Location. */
static int start_upload(struct registry *reg, const char *repo,
			const char *scope, char **location, struct error *err)
{
	struct registry_request rq = REGISTRY_REQUEST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	int ret = -1;

	buf_addf(&path, "/v2/%s/blobs/uploads/", repo);
	rq.method = "POST";
	rq.path = path.data;
	rq.scope = scope;
	if (registry_do(reg, &rq, err) < 0 ||
	    registry_expect(&rq, ok_202, "start a blob upload", err) < 0)
		goto out;
	if (!rq.location[0]) {
		err_set(err, EXIT_PUSH,
			"registry '%s' opened an upload without a Location",
			registry_domain(reg));
		goto out;
	}
	*location = xstrdup(rq.location);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "'%s' on '%s'", repo, registry_domain(reg));
	registry_request_release(&rq);
	buf_release(&path);
	return ret;
}

/* The upload URL with "digest=" added to its query. */
static void with_digest(struct buf *b, const char *location, const char *digest)
{
	buf_reset(b);
	buf_addf(b, "%s%cdigest=", location, strchr(location, '?') ? '&' : '?');
	buf_add_urlencoded(b, digest);
}

int registry_blob_mount(struct registry *reg, const char *repo,
			const char *digest, const char *from_repo,
			struct error *err)
{
	struct call c;
	int ret = -1;

	call_init(&c, "POST", repo, "pull,push",
		  "/v2/%s/blobs/uploads/?mount=", repo);
	buf_add_urlencoded(&c.path, digest);
	buf_addstr(&c.path, "&from=");
	buf_add_urlencoded(&c.path, from_repo);
	buf_addf(&c.scope, " repository:%s:pull", from_repo);
	if (call_do(reg, &c, err) < 0)
		goto out;
	if (c.rq.status == 201) {
		ret = 1;
		goto out;
	}
	if (c.rq.status == 202) {
		/* The registry could not mount and opened an upload. */
		if (c.rq.location[0])
			cancel_upload(reg, c.rq.location, c.scope.data);
		ret = 0;
		goto out;
	}
	registry_expect(&c.rq, ok_201, "mount the blob", err);
	err_wrap(err, "'%s@%s' from '%s' on '%s'", repo, digest, from_repo,
		 registry_domain(reg));
out:
	call_release(&c);
	return ret;
}

int registry_blob_get(struct registry *reg, const char *repo,
		      const char *digest, size_t max, struct buf *out,
		      struct error *err)
{
	struct call c;
	char got[72];
	int ret = -1;

	call_init(&c, "GET", repo, "pull", "/v2/%s/blobs/%s", repo, digest);
	c.rq.response_max = max;
	if (call_do(reg, &c, err) < 0 ||
	    registry_expect(&c.rq, ok_200, "get the blob", err) < 0) {
		err_wrap(err, "'%s@%s' on '%s'", repo, digest,
			 registry_domain(reg));
		goto out;
	}
	registry_sha256(c.rq.response.data, c.rq.response.len, got);
	if (strcmp(got, digest)) {
		err_set(err, EXIT_PUSH,
			"blob '%s@%s' from registry '%s' hashes to %s: it was "
			"altered in transit or in storage",
			repo, digest, registry_domain(reg), got);
		goto out;
	}
	buf_release(out);
	*out = c.rq.response;
	memset(&c.rq.response, 0, sizeof(c.rq.response));
	ret = 0;
out:
	call_release(&c);
	return ret;
}

/* --- the streamed copy --------------------------------------------------- */

struct stream {
	char *ring;
	size_t head, len; /* read position and bytes held */
	long long received, sent, size;
	EVP_MD_CTX *md;
	int src_paused, dst_paused;
	int src_done, verified, failed;
	struct error err; /* the first failure, ours */
	const char *digest, *src_domain, *src_repo;
};

static int on_src_data(const char *data, size_t len, void *ctx,
		       struct error *err)
{
	struct stream *s = ctx;
	size_t tail, first;

	if (s->failed)
		return err_set(err, EXIT_PUSH, "the copy was stopped");
	if ((long long)len > s->size - s->received)
		return err_set(err, EXIT_PUSH,
			       "blob '%s@%s' from registry '%s' is longer than "
			       "the %lld bytes its descriptor says",
			       s->src_repo, s->digest, s->src_domain, s->size);
	if (len > RING_SIZE - s->len) {
		s->src_paused = 1;
		return REGISTRY_PAUSE;
	}
	if (!EVP_DigestUpdate(s->md, data, len))
		return err_set(err, EXIT_PUSH, "sha256 failed");
	tail = (s->head + s->len) % RING_SIZE;
	first = RING_SIZE - tail < len ? RING_SIZE - tail : len;
	memcpy(s->ring + tail, data, first);
	memcpy(s->ring, data + first, len - first);
	s->len += len;
	s->received += (long long)len;
	return 0;
}

static size_t on_dst_read(char *dst, size_t size, size_t n, void *ctx)
{
	struct stream *s = ctx;
	size_t room = size * n, give = s->len, first;

	if (s->failed)
		return CURL_READFUNC_ABORT;
	/* The last byte waits for the digest check. */
	if (!s->verified && give && s->sent + (long long)give >= s->size)
		give--;
	if (give > room)
		give = room;
	if (!give) {
		if (s->verified && s->sent == s->size)
			return 0;
		s->dst_paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	first = RING_SIZE - s->head < give ? RING_SIZE - s->head : give;
	memcpy(dst, s->ring + s->head, first);
	memcpy(dst + first, s->ring, give - first);
	s->head = (s->head + give) % RING_SIZE;
	s->len -= give;
	s->sent += (long long)give;
	return give;
}

static void stream_fail(struct stream *s, const struct error *e)
{
	if (!s->failed)
		s->err = *e;
	s->failed = 1;
}

/* The source's GET ended: check what arrived. */
static void src_ended(struct stream *s, struct registry *src,
		      struct registry_request *rq, CURLcode rc)
{
	struct error e = ERROR_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char got[72];

	s->src_done = 1;
	if (registry_finish(src, rq, (int)rc, &e) < 0) {
		stream_fail(s, &e);
		return;
	}
	if (rq->status != 200) {
		registry_expect(rq, ok_200, "get the blob", &e);
		err_wrap(&e, "'%s@%s' on '%s'", s->src_repo, s->digest,
			 s->src_domain);
		e.retryable = rq->status == 429 || rq->status >= 500;
		stream_fail(s, &e);
		return;
	}
	if (s->received != s->size) {
		err_set(&e, EXIT_PUSH,
			"blob '%s@%s' from registry '%s' ended after %lld of "
			"its %lld bytes",
			s->src_repo, s->digest, s->src_domain, s->received,
			s->size);
		e.retryable = 1;
		stream_fail(s, &e);
		return;
	}
	EVP_DigestFinal_ex(s->md, md, &n);
	hex_digest(md, n, got);
	if (strcmp(got, s->digest)) {
		err_set(&e, EXIT_PUSH,
			"blob '%s@%s' from registry '%s' hashes to %s: it was "
			"altered in transit or in storage; nothing was "
			"committed on the target",
			s->src_repo, s->digest, s->src_domain, got);
		stream_fail(s, &e);
		return;
	}
	s->verified = 1;
}

/*
 * The chunked copy, for registries that refuse a blob in one PUT: Range
 * GETs of CHUNK bytes from the source, each hashed and sent as a PATCH,
 * then an empty PUT with the digest, only after the whole blob hashed
 * right. One chunk in memory at a time.
 */
static int copy_chunked(struct registry *src, const char *src_repo,
			struct registry *dst, const char *dst_repo,
			const struct descriptor *d, size_t chunk,
			struct error *err)
{
	struct registry_request rq = REGISTRY_REQUEST_INIT;
	struct buf gpath = BUF_INIT(BUF_PATH_MAX),
		   gscope = BUF_INIT(BUF_PATH_MAX),
		   dscope = BUF_INIT(BUF_PATH_MAX);
	struct buf url = BUF_INIT(BUF_PATH_MAX);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char *location = NULL, range[96], crange[64], got[72];
	long long off = 0;
	int ret = -1;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		err_set(err, EXIT_PUSH, "cannot start a sha256");
		goto out;
	}
	scope_of(&dscope, dst_repo, "pull,push");
	scope_of(&gscope, src_repo, "pull");
	buf_addf(&gpath, "/v2/%s/blobs/%s", src_repo, d->digest);
	if (start_upload(dst, dst_repo, dscope.data, &location, err) < 0)
		goto out;
	while (off < d->size) {
		struct registry_request get = REGISTRY_REQUEST_INIT;
		long long want = d->size - off < (long long)chunk
					 ? d->size - off
					 : (long long)chunk;
		int r;

		snprintf(range, sizeof(range), "bytes=%lld-%lld", off,
			 off + want - 1);
		get.method = "GET";
		get.path = gpath.data;
		get.scope = gscope.data;
		get.range = range;
		get.response_max = chunk;
		r = registry_do(src, &get, err);
		if (r == 0 && get.status != 206 &&
		    !(get.status == 200 && off == 0 &&
		      (long long)get.response.len == d->size)) {
			static const long ok206[] = { 206, 0 };

			r = registry_expect(&get, ok206, "get a blob range",
					    err);
		}
		if (r == 0 && (long long)get.response.len != want &&
		    !(get.status == 200 && off == 0))
			r = err_set(err, EXIT_PUSH,
				    "registry '%s' sent %zu bytes for the "
				    "range %s of '%s@%s'",
				    registry_domain(src), get.response.len,
				    range, src_repo, d->digest);
		if (r < 0) {
			registry_request_release(&get);
			err_wrap(err, "'%s@%s' on '%s'", src_repo, d->digest,
				 registry_domain(src));
			goto out;
		}
		EVP_DigestUpdate(md, get.response.data, get.response.len);
		snprintf(crange, sizeof(crange), "%lld-%lld", off,
			 off + (long long)get.response.len - 1);
		memset(&rq, 0, offsetof(struct registry_request, status));
		rq.method = "PATCH";
		rq.path = location;
		rq.scope = dscope.data;
		rq.content_type = "application/octet-stream";
		rq.content_range = crange;
		rq.body = get.response.data;
		rq.body_len = get.response.len;
		r = registry_do(dst, &rq, err);
		if (r == 0)
			r = registry_expect(&rq, ok_202, "upload a blob chunk",
					    err);
		off += (long long)get.response.len;
		registry_request_release(&get);
		if (r < 0)
			goto fail;
		if (rq.location[0]) {
			free(location);
			location = xstrdup(rq.location);
		}
	}
	EVP_DigestFinal_ex(md, sum, &n);
	hex_digest(sum, n, got);
	if (strcmp(got, d->digest)) {
		err_set(err, EXIT_PUSH,
			"blob '%s@%s' from registry '%s' hashes to %s: it was "
			"altered in transit or in storage; nothing was "
			"committed on the target",
			src_repo, d->digest, registry_domain(src), got);
		goto out;
	}
	memset(&rq, 0, offsetof(struct registry_request, status));
	with_digest(&url, location, d->digest);
	rq.method = "PUT";
	rq.path = url.data;
	rq.scope = dscope.data;
	rq.content_type = "application/octet-stream";
	if (registry_do(dst, &rq, err) < 0 ||
	    registry_expect(&rq, ok_201, "complete the blob upload", err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	err_wrap(err, "copy '%s@%s' to '%s/%s'", src_repo, d->digest,
		 registry_domain(dst), dst_repo);
out:
	if (ret < 0 && location)
		cancel_upload(dst, location, dscope.data);
	registry_request_release(&rq);
	EVP_MD_CTX_free(md);
	free(location);
	buf_release(&gpath);
	buf_release(&gscope);
	buf_release(&dscope);
	buf_release(&url);
	return ret;
}

/* Statuses with which a registry says it does not take a blob in one
 * PUT. */
static int refuses_monolithic(long status)
{
	return status == 400 || status == 405 || status == 411 ||
	       status == 413 || status == 415 || status == 501;
}

static int copy_streamed(struct registry *src, const char *src_repo,
			 struct registry *dst, const char *dst_repo,
			 const struct descriptor *d, int *refused,
			 struct error *err)
{
	struct registry_request get = REGISTRY_REQUEST_INIT;
	struct registry_request put = REGISTRY_REQUEST_INIT;
	struct buf gpath = BUF_INIT(BUF_PATH_MAX),
		   gscope = BUF_INIT(BUF_PATH_MAX),
		   dscope = BUF_INIT(BUF_PATH_MAX);
	struct buf url = BUF_INIT(BUF_PATH_MAX);
	struct stream s = { 0 };
	char *location = NULL;
	CURLM *m = NULL;
	CURL *hs, *hd;
	int running = 1, dst_done = 0, dst_first = 0, ret = -1;
	CURLcode dst_rc = CURLE_OK;

	if (strncmp(d->digest, "sha256:", 7) != 0)
		return err_set(err, EXIT_PUSH,
			       "blob '%s' uses a digest algorithm builder does "
			       "not verify (only sha256)",
			       d->digest);
	s.size = d->size;
	s.digest = d->digest;
	s.src_domain = registry_domain(src);
	s.src_repo = src_repo;
	s.ring = xmalloc(RING_SIZE);
	s.md = EVP_MD_CTX_new();
	if (!s.md || !EVP_DigestInit_ex(s.md, EVP_sha256(), NULL)) {
		err_set(err, EXIT_PUSH, "cannot start a sha256");
		goto out;
	}
	scope_of(&dscope, dst_repo, "pull,push");
	if (start_upload(dst, dst_repo, dscope.data, &location, err) < 0)
		goto out;
	with_digest(&url, location, d->digest);

	buf_addf(&gpath, "/v2/%s/blobs/%s", src_repo, d->digest);
	scope_of(&gscope, src_repo, "pull");
	get.method = "GET";
	get.path = gpath.data;
	get.scope = gscope.data;
	get.on_data = on_src_data;
	get.data_ctx = &s;
	put.method = "PUT";
	put.path = url.data;
	put.scope = dscope.data;
	put.content_type = "application/octet-stream";
	if (registry_prepare(src, &get, NULL, NULL, 0, err) < 0 ||
	    registry_prepare(dst, &put, on_dst_read, &s, d->size, err) < 0)
		goto out;
	hs = registry_handle(src);
	hd = registry_handle(dst);
	m = curl_multi_init();
	if (!m || curl_multi_add_handle(m, hs) != CURLM_OK ||
	    curl_multi_add_handle(m, hd) != CURLM_OK) {
		err_set(err, EXIT_PUSH, "cannot start the copy (libcurl)");
		goto out;
	}
	while (running) {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (msg->easy_handle == hs) {
				src_ended(&s, src, &get, msg->data.result);
				if (s.failed)
					registry_abort(dst);
				s.dst_paused = s.dst_paused ? 2 : 0;
			} else {
				dst_done = 1;
				dst_rc = msg->data.result;
				dst_first = !s.src_done;
				if (!s.src_done) {
					registry_abort(src);
					s.src_paused = s.src_paused ? 2 : 0;
				}
			}
		}
		if (s.src_paused && (s.src_paused == 2 || dst_done ||
				     RING_SIZE - s.len >= 512 * 1024)) {
			s.src_paused = 0;
			curl_easy_pause(hs, CURLPAUSE_CONT);
		}
		if (s.dst_paused &&
		    (s.len || s.verified || s.failed || s.dst_paused == 2)) {
			s.dst_paused = 0;
			curl_easy_pause(hd, CURLPAUSE_CONT);
		}
		if (signals_pending()) {
			registry_abort(src);
			registry_abort(dst);
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	if (signals_pending()) {
		signals_error(err);
		goto out;
	}
	/* The target answered before the source was done: its answer is
	 * the cause, and the source's stop only the consequence. */
	if (dst_first && dst_rc == CURLE_OK &&
	    registry_finish(dst, &put, (int)dst_rc, err) == 0 &&
	    put.status != 201) {
		*refused = refuses_monolithic(put.status);
		registry_expect(&put, ok_201, "upload the blob", err);
		err->retryable = put.status == 429 || put.status >= 500;
		err_wrap(err, "copy '%s@%s' to '%s/%s'", src_repo, d->digest,
			 registry_domain(dst), dst_repo);
		goto out;
	}
	if (s.failed) {
		*err = s.err;
		goto out;
	}
	if (!dst_done) {
		err_set(err, EXIT_PUSH, "the copy of blob '%s' stopped",
			d->digest);
		goto out;
	}
	if (registry_finish(dst, &put, (int)dst_rc, err) < 0 ||
	    registry_expect(&put, ok_201, "complete the blob upload", err) <
		    0) {
		*refused = refuses_monolithic(put.status);
		if (put.status == 429 || put.status >= 500)
			err->retryable = 1;
		err_wrap(err, "copy '%s@%s' to '%s/%s'", src_repo, d->digest,
			 registry_domain(dst), dst_repo);
		goto out;
	}
	if (!s.verified) {
		err_set(err, EXIT_PUSH,
			"the copy of blob '%s' ended before it was verified",
			d->digest);
		goto out;
	}
	ret = 0;
out:
	if (m) {
		curl_multi_remove_handle(m, registry_handle(src));
		curl_multi_remove_handle(m, registry_handle(dst));
		curl_multi_cleanup(m);
	}
	if (ret < 0 && location)
		cancel_upload(dst, location, dscope.data);
	registry_request_release(&get);
	registry_request_release(&put);
	EVP_MD_CTX_free(s.md);
	free(s.ring);
	free(location);
	buf_release(&gpath);
	buf_release(&gscope);
	buf_release(&dscope);
	buf_release(&url);
	return ret;
}

int registry_blob_copy(struct registry *src, const char *src_repo,
		       struct registry *dst, const char *dst_repo,
		       const struct descriptor *d, struct error *err)
{
	int refused = 0;

	for (long attempt = 0;; attempt++) {
		if (copy_streamed(src, src_repo, dst, dst_repo, d, &refused,
				  err) == 0)
			return 0;
		if (refused || !err->retryable || attempt >= COPY_RETRIES ||
		    signals_pending())
			break;
		/* a registry's hiccup: the whole blob again, a while later */
		log_warn("%s; copying it again in %ld s (%ld of %d)", err->msg,
			 1L << attempt, attempt + 1, COPY_RETRIES);
		for (double end = now_seconds() + (double)(1L << attempt);
		     now_seconds() < end && !signals_pending();) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		err_clear(err);
	}
	if (!refused)
		return -1;
	log_warn("%s; copying it in %u MiB chunks instead", err->msg,
		 RING_SIZE / (1024 * 1024));
	err_clear(err);
	return copy_chunked(src, src_repo, dst, dst_repo, d, RING_SIZE, err);
}
