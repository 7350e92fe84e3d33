/*
 * The OCI distribution client (client.h): one libcurl easy handle per
 * registry, the /v2/ ping, Basic and Bearer authentication with a small
 * token cache, retries on 429 and 5xx honouring Retry-After, and the
 * results every caller needs (status, Location, Docker-Content-Digest).
 *
 * Endpoints: GET /v2/ (ping) and the token realm here; the manifest and
 * blob endpoints are built by manifest users and copy.c.
 *
 * Secrets (the password, identity token and bearer tokens) go to libcurl
 * only: Basic through CURLOPT_USERNAME/PASSWORD, tokens in a header list
 * that is wiped after each transfer. CURLOPT_VERBOSE is never set.
 */
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "registry/client.h"
#include "registry/ref.h"
#include "registry/wwwauth.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/version.h"
#include "util/banned.h"

#define CONNECT_TIMEOUT_S 30L
#define IDLE_TIMEOUT_S 120L
#define RESPONSE_DEFAULT_MAX (64u * 1024)
#define TOKEN_MAX (64u * 1024)
#define TOKENS_KEPT 8
#define RETRY_AFTER_MAX 60
#define RATELIMIT_LOW 10

struct token {
	char *scope;
	char *value; /* secret */
	double expires; /* monotonic seconds */
};

/* What one transfer collects; reset before each. */
struct xfer {
	struct registry_request *rq;
	struct error cb_err; /* set by a callback that stopped the transfer */
	int cb_failed;
	int too_large;
	long header_status;
	char retry_after[64];
	char www_auth[4097];
	char location_raw[2048];
	const char *body; /* in-memory request body */
	size_t body_off;
	registry_read_fn read_fn;
	void *read_ctx;
};

struct registry {
	char *domain;
	char *base; /* "https://registry-1.docker.io" */
	CURL *curl;
	long retries;
	struct credential cred;
	enum www_scheme scheme;
	char *realm, *service;
	struct token tokens[TOKENS_KEPT];
	struct curl_slist *headers;
	char *auth_line; /* "Authorization: Bearer ..." (secret) */
	char errbuf[CURL_ERROR_SIZE];
	char url[4096]; /* of the current request */
	int aborted;
	int warned_ratelimit;
	struct xfer x;
};

static void wipe_free(char *s)
{
	auth_free_secret(s);
}

void registry_request_release(struct registry_request *rq)
{
	if (rq)
		buf_release(&rq->response);
}

const char *registry_domain(const struct registry *reg)
{
	return reg->domain;
}

/* --- pure helpers -------------------------------------------------------- */

static int is_loopback(const char *host, size_t n)
{
	if ((n == 9 && !strncasecmp(host, "localhost", 9)) ||
	    (n == 5 && !strncmp(host, "[::1]", 5)))
		return 1;
	if (n >= 4 && !strncmp(host, "127.", 4)) {
		for (size_t i = 4; i < n; i++)
			if (!isdigit((unsigned char)host[i]) && host[i] != '.')
				return 0;
		return 1;
	}
	return 0;
}

/* The length of the host part of host[:port] (an IPv6 literal keeps its
 * brackets). */
static size_t host_len(const char *domain)
{
	const char *colon;

	if (domain[0] == '[') {
		const char *e = strchr(domain, ']');

		return e ? (size_t)(e - domain) + 1 : strlen(domain);
	}
	colon = strrchr(domain, ':');
	return colon ? (size_t)(colon - domain) : strlen(domain);
}

int registry_is_insecure(const char *domain, const struct strlist *insecure)
{
	size_t hl = host_len(domain);

	if (is_loopback(domain, hl))
		return 1;
	for (size_t i = 0; insecure && i < insecure->n; i++) {
		const char *e = insecure->v[i];

		if (!strcasecmp(e, domain))
			return 1;
		/* a bare host matches every port of it */
		if (strlen(e) == host_len(e) && strlen(e) == hl &&
		    !strncasecmp(e, domain, hl))
			return 1;
	}
	return 0;
}

long registry_retry_after(const char *value)
{
	char *end;
	long v;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!*value)
		return -1;
	if (!isdigit((unsigned char)*value))
		return 0; /* an HTTP date: use our own backoff */
	errno = 0;
	v = strtol(value, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (errno == ERANGE || *end)
		return errno == ERANGE ? RETRY_AFTER_MAX : -1;
	return v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : v;
}

void registry_error_text(const char *body, size_t len, long status, char *out,
			 size_t size)
{
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
	const cJSON *list = cJSON_IsArray(errors) ? errors : NULL, *e;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_init(&b, size > 1 ? size - 1 : 1);
	cJSON_ArrayForEach(e, list)
	{
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		const cJSON *msg =
			cJSON_GetObjectItemCaseSensitive(e, "message");

		int r = 0;

		if (b.len)
			r = buf_addstr(&b, "; ");
		if (r == 0 && cJSON_IsString(code) && cJSON_IsString(msg))
			r = buf_addf(&b, "%s: %s", code->valuestring,
				     msg->valuestring);
		else if (r == 0 && cJSON_IsString(msg))
			r = buf_addstr(&b, msg->valuestring);
		else if (r == 0 && cJSON_IsString(code))
			r = buf_addstr(&b, code->valuestring);
		if (r < 0)
			break; /* what fits is enough */
	}
	cJSON_Delete(root);
	if (!b.len && body && len) {
		/* printable bytes of the body, one line */
		for (size_t i = 0; i < len && i < 200; i++) {
			unsigned char c = (unsigned char)body[i];

			if (buf_addch(&b, c >= 0x20 && c < 0x7f ? (char)c
								: ' ') < 0)
				break;
		}
		while (b.len && b.data[b.len - 1] == ' ')
			b.data[--b.len] = '\0';
	}
	if (!b.len)
		buf_addf(&b, "HTTP %ld", status);
	snprintf(out, size, "%s", b.data ? b.data : "");
	buf_release(&b);
}

int registry_expect(const struct registry_request *rq, const long *wanted,
		    const char *what, struct error *err)
{
	char text[1024];

	for (const long *w = wanted; *w; w++)
		if (rq->status == *w)
			return 0;
	registry_error_text(rq->response.data, rq->response.len, rq->status,
			    text, sizeof(text));
	return err_set(err, EXIT_PUSH,
		       "cannot %s: the registry answered %ld: %s", what,
		       rq->status, text);
}

/* --- callbacks ----------------------------------------------------------- */

/* Copies a header's value (trimmed) into dst. */
static void header_value(const char *v, size_t n, char *dst, size_t size)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name,
		     const char **value, size_t *vlen)
{
	size_t l = strlen(name);

	if (n <= l || strncasecmp(line, name, l) || line[l] != ':')
		return 0;
	*value = line + l + 1;
	*vlen = n - l - 1;
	return 1;
}

static void check_ratelimit(struct registry *reg, const char *v, size_t n)
{
	char tmp[64];
	char *end;
	long left;

	header_value(v, n, tmp, sizeof(tmp));
	left = strtol(tmp, &end, 10);
	if (end == tmp || reg->warned_ratelimit)
		return;
	if (left < RATELIMIT_LOW) {
		reg->warned_ratelimit = 1;
		log_warn("registry '%s' rate limit: %ld pulls left in this "
			 "window (ratelimit-remaining '%s'); log in or wait "
			 "before more pulls",
			 reg->domain, left, tmp);
	}
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	struct registry *reg = ctx;
	struct xfer *x = &reg->x;
	struct registry_request *rq = x->rq;
	size_t len = size * n;
	const char *v;
	size_t vl;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new answer (after a redirect or 100 Continue): forget the
		 * headers of the one before. */
		const char *sp = memchr(line, ' ', len);

		x->header_status = sp ? strtol(sp + 1, NULL, 10) : 0;
		rq->location[0] = rq->digest[0] = '\0';
		rq->content_type_out[0] = '\0';
		rq->content_length = -1;
		x->retry_after[0] = x->www_auth[0] = '\0';
		x->location_raw[0] = '\0';
		return len;
	}
	if (header_is(line, len, "location", &v, &vl))
		header_value(v, vl, x->location_raw, sizeof(x->location_raw));
	else if (header_is(line, len, "docker-content-digest", &v, &vl))
		header_value(v, vl, rq->digest, sizeof(rq->digest));
	else if (header_is(line, len, "content-type", &v, &vl))
		header_value(v, vl, rq->content_type_out,
			     sizeof(rq->content_type_out));
	else if (header_is(line, len, "retry-after", &v, &vl))
		header_value(v, vl, x->retry_after, sizeof(x->retry_after));
	else if (header_is(line, len, "www-authenticate", &v, &vl))
		header_value(v, vl, x->www_auth, sizeof(x->www_auth));
	else if (header_is(line, len, "ratelimit-remaining", &v, &vl))
		check_ratelimit(reg, v, vl);
	else if (header_is(line, len, "content-length", &v, &vl)) {
		char tmp[32];
		char *end;
		long long cl;

		header_value(v, vl, tmp, sizeof(tmp));
		errno = 0;
		cl = strtoll(tmp, &end, 10);
		if (!errno && end != tmp && !*end && cl >= 0)
			rq->content_length = cl;
	}
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *ctx)
{
	struct registry *reg = ctx;
	struct xfer *x = &reg->x;
	struct registry_request *rq = x->rq;
	size_t len = size * n;
	long status = x->header_status;

	if (reg->aborted)
		return 0;
	if (status >= 200 && status < 300 && rq->on_data) {
		int r = rq->on_data(data, len, rq->data_ctx, &x->cb_err);

		if (r == REGISTRY_PAUSE)
			return CURL_WRITEFUNC_PAUSE;
		if (r < 0) {
			x->cb_failed = 1;
			return 0;
		}
		return len;
	}
	if (buf_add(&rq->response, data, len) < 0) {
		if (status >= 200 && status < 300) {
			x->too_large = 1;
			return 0;
		}
		/* an error body: its beginning is enough */
	}
	return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *ctx)
{
	struct registry *reg = ctx;
	struct xfer *x = &reg->x;
	size_t room = size * n, left;

	if (reg->aborted)
		return CURL_READFUNC_ABORT;
	if (x->read_fn)
		return x->read_fn(dst, size, n, x->read_ctx);
	left = x->rq->body_len - x->body_off;
	if (left > room)
		left = room;
	if (left)
		memcpy(dst, x->body + x->body_off, left);
	x->body_off += left;
	return left;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct registry *reg = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	return reg->aborted || signals_pending();
}

/* --- open, close --------------------------------------------------------- */

static void drop_tokens(struct registry *reg)
{
	for (int i = 0; i < TOKENS_KEPT; i++) {
		free(reg->tokens[i].scope);
		wipe_free(reg->tokens[i].value);
		memset(&reg->tokens[i], 0, sizeof(reg->tokens[i]));
	}
}

void registry_close(struct registry *reg)
{
	if (!reg)
		return;
	if (reg->curl)
		curl_easy_cleanup(reg->curl);
	curl_slist_free_all(reg->headers);
	wipe_free(reg->auth_line);
	drop_tokens(reg);
	credential_release(&reg->cred);
	free(reg->realm);
	free(reg->service);
	free(reg->domain);
	free(reg->base);
	free(reg);
}

static int ping(struct registry *reg, struct error *err);
static int get_token(struct registry *reg, const char *scope, const char **out,
		     struct error *err);

int registry_open(struct registry **out, const char *domain,
		  const struct registry_settings *s, struct error *err)
{
	struct registry *reg;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	const char *host = domain;

	*out = NULL;
	/* Reference-counted and thread-safe since libcurl 7.84. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(err, EXIT_PUSH, "cannot initialise libcurl");
	if (!domain || !strcmp(domain, REF_HUB_DOMAIN) ||
	    !strcmp(domain, "index.docker.io"))
		host = "registry-1.docker.io";
	reg = xcalloc(1, sizeof(*reg));
	reg->domain = xstrdup(domain ? domain : REF_HUB_DOMAIN);
	reg->retries = s->retries < 0 ? 3 : s->retries;
	buf_addf(&b, "%s://%s",
		 registry_is_insecure(host, s->insecure) ? "http" : "https",
		 host);
	reg->base = buf_detach(&b);
	reg->curl = curl_easy_init();
	if (!reg->curl) {
		registry_close(reg);
		return err_set(err, EXIT_PUSH,
			       "cannot create a libcurl handle");
	}
	if (s->cred && s->cred_domain && !strcmp(s->cred_domain, reg->domain)) {
		credential_copy(&reg->cred, s->cred);
	} else if (s->auth &&
		   auth_resolve(s->auth, reg->domain, &reg->cred, err) < 0) {
		registry_close(reg);
		return -1;
	}
	log_debug("registry '%s' at %s, credentials: %s", reg->domain,
		  reg->base, reg->cred.source[0] ? reg->cred.source : "none");
	if (ping(reg, err) < 0) {
		registry_close(reg);
		return -1;
	}
	*out = reg;
	return 0;
}

/* --- one transfer -------------------------------------------------------- */

/* The URL of path on reg: absolute URLs (a Location) are kept. */
static int make_url(struct registry *reg, const char *path, struct error *err)
{
	int n;

	if (!strncmp(path, "http://", 7) || !strncmp(path, "https://", 8))
		n = snprintf(reg->url, sizeof(reg->url), "%s", path);
	else
		n = snprintf(reg->url, sizeof(reg->url), "%s%s", reg->base,
			     path);
	if (n < 0 || (size_t)n >= sizeof(reg->url))
		return err_set(err, EXIT_PUSH,
			       "the URL for '%.100s...' on registry '%s' is "
			       "too long",
			       path, reg->domain);
	return 0;
}

enum auth_mode { AUTH_OFF, AUTH_ON, AUTH_TOKEN_BASIC };

static int add_header(struct registry *reg, const char *name, const char *v)
{
	struct buf h = BUF_INIT(BUF_TEXT_MAX);
	struct curl_slist *l;

	if (!v)
		return 0;
	buf_init(&h, 8192);
	if (buf_addf(&h, "%s: %s", name, v) < 0) {
		buf_release(&h);
		return -1;
	}
	l = curl_slist_append(reg->headers, h.data);
	buf_release(&h);
	if (!l)
		return -1;
	reg->headers = l;
	return 0;
}

static int setup(struct registry *reg, struct registry_request *rq,
		 enum auth_mode mode, const char *bearer,
		 registry_read_fn read_fn, void *read_ctx, long long body_size,
		 struct error *err)
{
	CURL *c = reg->curl;
	const char *m = rq->method ? rq->method : "GET";

	curl_easy_reset(c);
	curl_slist_free_all(reg->headers);
	reg->headers = NULL;
	wipe_free(reg->auth_line);
	reg->auth_line = NULL;
	memset(&reg->x, 0, sizeof(reg->x));
	reg->aborted = 0; /* a copy stopped before may have set it */
	reg->x.rq = rq;
	reg->x.body = rq->body;
	reg->x.read_fn = read_fn;
	reg->x.read_ctx = read_ctx;
	reg->errbuf[0] = '\0';
	rq->status = 0;
	rq->location[0] = rq->digest[0] = rq->content_type_out[0] = '\0';
	rq->content_length = -1;
	buf_release(&rq->response);
	buf_init(&rq->response,
		 rq->response_max ? rq->response_max : RESPONSE_DEFAULT_MAX);

	if (make_url(reg, rq->path, err) < 0)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, reg->url);
	if (!strcmp(m, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(m, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(m, "POST") && !read_fn) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)rq->body_len);
	} else if (!strcmp(m, "PUT") || !strcmp(m, "PATCH") ||
		   (!strcmp(m, "POST") && read_fn)) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, reg);
		curl_easy_setopt(
			c, CURLOPT_INFILESIZE_LARGE,
			(curl_off_t)(read_fn ? body_size
					     : (long long)rq->body_len));
		if (strcmp(m, "PUT"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	}
	/* Blob GETs may be redirected to storage (S3, a CDN); libcurl does
	 * not send our Authorization header nor Basic credentials to another
	 * host. */
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, reg->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, IDLE_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, builder_user_agent);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 128L * 1024);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reg);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, reg);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, reg);

	/* No "Expect: 100-continue": some registries and proxies answer it
	 * badly, and a refused upload is seen at its end anyway. */
	if (add_header(reg, "Expect", "") < 0 ||
	    add_header(reg, "Accept", rq->accept) < 0 ||
	    add_header(reg, "Content-Type", rq->content_type) < 0 ||
	    add_header(reg, "Content-Range", rq->content_range) < 0 ||
	    add_header(reg, "Range", rq->range) < 0)
		return err_set(err, EXIT_PUSH, "a request header is too long");
	if ((mode == AUTH_ON && reg->scheme == WWW_BASIC) ||
	    mode == AUTH_TOKEN_BASIC) {
		if (reg->cred.username && reg->cred.password) {
			curl_easy_setopt(c, CURLOPT_HTTPAUTH,
					 (long)CURLAUTH_BASIC);
			curl_easy_setopt(c, CURLOPT_USERNAME,
					 reg->cred.username);
			curl_easy_setopt(c, CURLOPT_PASSWORD,
					 reg->cred.password);
		}
	} else if (mode == AUTH_ON && bearer) {
		struct buf h = BUF_INIT(BUF_TEXT_MAX);
		struct curl_slist *l;

		buf_init(&h, TOKEN_MAX + 64);
		if (buf_reserve(&h, strlen(bearer) + 32) < 0 ||
		    buf_addf(&h, "Authorization: Bearer %s", bearer) < 0) {
			buf_release(&h);
			return err_set(err, EXIT_PUSH,
				       "the registry token is too long");
		}
		reg->auth_line = buf_detach(&h);
		l = curl_slist_append(reg->headers, reg->auth_line);
		if (!l)
			return err_set(err, EXIT_PUSH, "out of memory");
		reg->headers = l;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, reg->headers);
	return 0;
}

/* Resolves the raw Location against the request URL. */
static void resolve_location(struct registry *reg, struct registry_request *rq)
{
	CURLU *u;
	char *full = NULL;

	if (!reg->x.location_raw[0])
		return;
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, reg->url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, reg->x.location_raw, 0) ==
		    CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
		snprintf(rq->location, sizeof(rq->location), "%s", full);
	curl_free(full);
	curl_url_cleanup(u);
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

int registry_finish(struct registry *reg, struct registry_request *rq, int rc,
		    struct error *err)
{
	long status = 0;

	/* the token is not needed any more */
	curl_easy_setopt(reg->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(reg->headers);
	reg->headers = NULL;
	wipe_free(reg->auth_line);
	reg->auth_line = NULL;
	curl_easy_getinfo(reg->curl, CURLINFO_RESPONSE_CODE, &status);
	rq->status = status;
	resolve_location(reg, rq);
	if (reg->x.cb_failed) {
		*err = reg->x.cb_err;
		return -1;
	}
	if (signals_pending())
		return signals_error(err);
	if (reg->x.too_large)
		return err_set(err, EXIT_PUSH,
			       "the answer of registry '%s' to %s %s is larger "
			       "than %zu bytes",
			       reg->domain, rq->method ? rq->method : "GET",
			       rq->path, rq->response.max);
	if (rc != CURLE_OK) {
		err_set(err, EXIT_PUSH,
			"cannot reach registry '%s' (%s %s): %s; check the "
			"host name and that it serves %s",
			reg->domain, rq->method ? rq->method : "GET", reg->url,
			reg->errbuf[0] ? reg->errbuf
				       : curl_easy_strerror((CURLcode)rc),
			strncmp(reg->base, "https", 5)
				? "plain HTTP"
				: "HTTPS (for plain HTTP, "
				  "add it to "
				  "INSECURE_REGISTRIES)");
		err->retryable = retryable_curl((CURLcode)rc);
		return -1;
	}
	return 0;
}

int registry_prepare(struct registry *reg, struct registry_request *rq,
		     registry_read_fn read_fn, void *read_ctx,
		     long long body_size, struct error *err)
{
	const char *bearer = NULL;

	if (reg->scheme == WWW_BEARER && rq->scope &&
	    get_token(reg, rq->scope, &bearer, err) < 0)
		return -1;
	return setup(reg, rq, AUTH_ON, bearer, read_fn, read_ctx, body_size,
		     err);
}

void *registry_handle(struct registry *reg)
{
	return reg->curl;
}

void registry_abort(struct registry *reg)
{
	reg->aborted = 1;
}

static int perform(struct registry *reg, struct registry_request *rq,
		   enum auth_mode mode, const char *bearer, struct error *err)
{
	CURLcode rc;

	if (setup(reg, rq, mode, bearer, NULL, NULL, 0, err) < 0)
		return -1;
	if (signals_pending())
		return signals_error(err);
	rc = curl_easy_perform(reg->curl);
	log_debug("registry %s %s => %ld", rq->method ? rq->method : "GET",
		  reg->url, reg->x.header_status);
	return registry_finish(reg, rq, (int)rc, err);
}

/* Sleeps seconds, waking for signals. */
static int backoff(double seconds, struct error *err)
{
	double end = now_seconds() + seconds;

	while (now_seconds() < end) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (signals_pending())
			return signals_error(err);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* --- authentication ------------------------------------------------------ */

static int ping(struct registry *reg, struct error *err)
{
	struct registry_request rq = REGISTRY_REQUEST_INIT;
	struct www_challenge ch = WWW_CHALLENGE_INIT;
	int ret = -1;

	rq.method = "GET";
	rq.path = "/v2/";
	if (registry_do(reg, &rq, err) < 0) {
		err_wrap(err, "cannot ping registry '%s'", reg->domain);
		goto out;
	}
	if (rq.status == 401) {
		if (wwwauth_parse(reg->x.www_auth, &ch, err) < 0) {
			err_wrap(err, "registry '%s'", reg->domain);
			goto out;
		}
		reg->scheme = ch.scheme;
		reg->realm = ch.realm;
		reg->service = ch.service;
		ch.realm = ch.service = NULL;
		log_debug("registry '%s' wants %s authentication", reg->domain,
			  reg->scheme == WWW_BEARER ? "Bearer" : "Basic");
	} else if (rq.status != 200) {
		static const long ok[] = { 200, 401, 0 };

		registry_expect(&rq, ok, "ping the registry", err);
		err_wrap(err, "'%s' (%s/v2/) does not answer as a registry",
			 reg->domain, reg->base);
		goto out;
	}
	ret = 0;
out:
	www_challenge_release(&ch);
	registry_request_release(&rq);
	return ret;
}

static int token_from_json(const char *body, size_t len, char **token,
			   double *ttl)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "expires_in");

	if (!cJSON_IsString(t) || !*t->valuestring)
		t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (!cJSON_IsString(t) || !*t->valuestring) {
		cJSON_Delete(root);
		return -1;
	}
	*token = xstrdup(t->valuestring);
	*ttl = 60;
	if (cJSON_IsNumber(e) && e->valuedouble >= 60 &&
	    e->valuedouble < 86400 * 365)
		*ttl = e->valuedouble;
	/* the parsed copy held the token: wipe it */
	memset(t->valuestring, 0, strlen(t->valuestring));
	cJSON_Delete(root);
	return 0;
}

/* The query or form of a token request. */
static void token_params(struct registry *reg, const char *scope, struct buf *q,
			 int form)
{
	const char *p = scope;

	if (reg->service) {
		buf_addstr(q, "service=");
		buf_add_urlencoded(q, reg->service);
	}
	if (form) {
		buf_addstr(q, q->len ? "&scope=" : "scope=");
		buf_add_urlencoded(q, scope);
		return;
	}
	while (p && *p) {
		size_t n = strcspn(p, " ");

		if (n) {
			char *one = xstrndup(p, n);

			buf_addstr(q, q->len ? "&scope=" : "scope=");
			buf_add_urlencoded(q, one);
			free(one);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
}

static int get_token(struct registry *reg, const char *scope, const char **out,
		     struct error *err)
{
	struct registry_request rq = REGISTRY_REQUEST_INIT;
	struct buf url = BUF_INIT(BUF_PATH_MAX), form = BUF_INIT(BUF_TEXT_MAX);
	char *token = NULL;
	double ttl, now = now_seconds();
	int slot = 0, ret = -1;

	for (int i = 0; i < TOKENS_KEPT; i++) {
		struct token *t = &reg->tokens[i];

		if (t->scope && !strcmp(t->scope, scope) && t->expires > now) {
			*out = t->value;
			return 0;
		}
		if (!t->scope || t->expires < reg->tokens[slot].expires)
			slot = i; /* free, or the oldest */
	}
	buf_init(&url, 16384);
	buf_init(&form, 16384 + TOKEN_MAX);
	buf_addstr(&url, reg->realm);
	if (reg->cred.identitytoken) {
		/* The OAuth2 refresh flow the docker CLI uses with an identity
		 * token. */
		rq.method = "POST";
		rq.content_type = "application/x-www-form-urlencoded";
		buf_addstr(&form, "grant_type=refresh_token&client_id=builder&"
				  "refresh_token=");
		buf_add_urlencoded(&form, reg->cred.identitytoken);
		buf_addch(&form, '&');
		token_params(reg, scope, &form, 1);
		rq.body = form.data;
		rq.body_len = form.len;
	} else {
		rq.method = "GET";
		buf_addch(&url, strchr(reg->realm, '?') ? '&' : '?');
		token_params(reg, scope, &url, 0);
	}
	rq.path = url.data;
	if (strncmp(url.data, "http://", 7) &&
	    strncmp(url.data, "https://", 8)) {
		err_set(err, EXIT_PUSH,
			"registry '%s' names a token realm '%.200s' that is "
			"not an http(s) URL",
			reg->domain, reg->realm);
		goto out;
	}
	for (long attempt = 0;; attempt++) {
		if (perform(reg, &rq, AUTH_TOKEN_BASIC, NULL, err) < 0)
			goto fail;
		if ((rq.status == 429 || rq.status >= 500) &&
		    attempt < reg->retries) {
			long ra = registry_retry_after(reg->x.retry_after);

			if (backoff(ra >= 0 ? (double)ra
					    : (double)(1L << attempt),
				    err) < 0)
				goto out;
			continue;
		}
		break;
	}
	if (rq.status == 401 || rq.status == 403) {
		char text[512];

		registry_error_text(rq.response.data, rq.response.len,
				    rq.status, text, sizeof(text));
		err_set(err, EXIT_PUSH,
			"the token server of registry '%s' refused %s (%ld: "
			"%s); check the credentials (%s)",
			reg->domain,
			auth_is_anonymous(&reg->cred) ? "an anonymous token"
						      : "the credentials",
			rq.status, text,
			reg->cred.source[0] ? reg->cred.source : "none");
		goto out;
	}
	if (rq.status != 200 ||
	    token_from_json(rq.response.data, rq.response.len, &token, &ttl) <
		    0) {
		char text[512];

		registry_error_text(rq.response.data, rq.response.len,
				    rq.status, text, sizeof(text));
		err_set(err, EXIT_PUSH,
			"the token server of registry '%s' gave no token "
			"(HTTP %ld: %s)",
			reg->domain, rq.status, text);
		goto out;
	}
	free(reg->tokens[slot].scope);
	wipe_free(reg->tokens[slot].value);
	reg->tokens[slot].scope = xstrdup(scope);
	reg->tokens[slot].value = token;
	/* renewed a little before the server's expiry */
	reg->tokens[slot].expires = now + ttl - 10;
	*out = token;
	ret = 0;
	goto out;
fail:
	err_wrap(err, "cannot get a token for registry '%s'", reg->domain);
out:
	if (rq.response.data)
		memset(rq.response.data, 0, rq.response.len);
	registry_request_release(&rq);
	buf_release(&url);
	if (form.data)
		memset(form.data, 0, form.len);
	buf_release(&form);
	return ret;
}

static void forget_token(struct registry *reg, const char *scope)
{
	for (int i = 0; i < TOKENS_KEPT; i++) {
		struct token *t = &reg->tokens[i];

		if (t->scope && !strcmp(t->scope, scope)) {
			free(t->scope);
			wipe_free(t->value);
			memset(t, 0, sizeof(*t));
		}
	}
}

int registry_do(struct registry *reg, struct registry_request *rq,
		struct error *err)
{
	int reauth = 0;
	long attempt = 0;

	for (;;) {
		const char *bearer = NULL;
		long ra;

		if (reg->scheme == WWW_BEARER && rq->scope &&
		    get_token(reg, rq->scope, &bearer, err) < 0)
			return -1;
		if (perform(reg, rq, AUTH_ON, bearer, err) < 0) {
			if (!err->retryable || attempt >= reg->retries)
				return -1;
			log_warn("%s; retrying in %ld s (%ld of %ld)", err->msg,
				 1L << attempt, attempt + 1, reg->retries);
			if (backoff((double)(1L << attempt), err) < 0)
				return -1;
			err_clear(err);
			attempt++;
			continue;
		}
		if (rq->status == 401 && reg->scheme == WWW_BEARER &&
		    rq->scope && !reauth) {
			/* an expired or revoked token: one fresh try */
			forget_token(reg, rq->scope);
			reauth = 1;
			continue;
		}
		if ((rq->status != 429 && rq->status < 500) ||
		    attempt >= reg->retries)
			break;
		ra = registry_retry_after(reg->x.retry_after);
		if (ra <= 0)
			ra = 1L << attempt;
		log_warn("registry '%s' answered %ld to %s %s; retrying in %ld "
			 "s (%ld of %ld)",
			 reg->domain, rq->status,
			 rq->method ? rq->method : "GET", rq->path, ra,
			 attempt + 1, reg->retries);
		if (backoff((double)ra, err) < 0)
			return -1;
		attempt++;
	}
	if ((rq->status == 401 || rq->status == 403) &&
	    strcmp(rq->path, "/v2/")) {
		char text[512];

		registry_error_text(rq->response.data, rq->response.len,
				    rq->status, text, sizeof(text));
		return err_set(err, EXIT_PUSH,
			       "%s %s on registry '%s': %s (%s); check the "
			       "credentials for '%s' (%s)",
			       rq->method ? rq->method : "GET", rq->path,
			       reg->domain,
			       rq->status == 401 ? "unauthorized" : "denied",
			       text, reg->domain,
			       reg->cred.source[0] ? reg->cred.source
						   : "none (anonymous)");
	}
	return 0;
}
