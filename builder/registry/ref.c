/*
 * The image reference grammar of distribution/reference v0.6.0, as used by
 * the engine and the docker CLI, written out as small hand-made matchers
 * instead of regular expressions. Normalization follows
 * ParseNormalizedNamed: Docker Hub domain and "library/" filled in,
 * "index.docker.io" folded into "docker.io". Pure: no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "registry/ref.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define PATH_MAX_LEN 255 /* RepositoryNameTotalLengthMax, without domain */
#define TAG_MAX_LEN 128

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_lower_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_hex(int c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

int ref_valid_tag(const char *tag)
{
	size_t i;

	if (!tag || !*tag)
		return 0;
	for (i = 0; tag[i]; i++) {
		int c = (unsigned char)tag[i];

		if (i >= TAG_MAX_LEN)
			return 0;
		if (is_alnum(c) || c == '_')
			continue;
		if (i > 0 && (c == '.' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

/* Matches one path component of n bytes (not NUL-terminated). */
static int valid_component_n(const char *c, size_t n)
{
	size_t i = 0;

	for (;;) {
		/* an alphanumeric run */
		if (i >= n || !is_lower_alnum((unsigned char)c[i]))
			return 0;
		while (i < n && is_lower_alnum((unsigned char)c[i]))
			i++;
		if (i == n)
			return 1;
		/* a separator: ".", "_", "__" or any run of "-" */
		if (c[i] == '.') {
			i++;
		} else if (c[i] == '_') {
			i++;
			if (i < n && c[i] == '_')
				i++;
		} else if (c[i] == '-') {
			while (i < n && c[i] == '-')
				i++;
		} else {
			return 0;
		}
	}
}

int ref_valid_path_component(const char *c)
{
	return c && valid_component_n(c, strlen(c));
}

/* A domain component: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]. */
static int valid_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum((unsigned char)s[0]) ||
	    !is_alnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int ref_valid_domain(const char *d)
{
	const char *host_end, *p;

	if (!d || !*d)
		return 0;
	if (d[0] == '[') {
		/* \[[a-fA-F0-9:]+\] */
		for (p = d + 1; is_hex((unsigned char)*p) || *p == ':'; p++)
			;
		if (p == d + 1 || *p != ']')
			return 0;
		host_end = p + 1;
	} else {
		const char *label = d;

		for (p = d;; p++) {
			if (*p == '.' || *p == ':' || *p == '\0') {
				if (!valid_label(label, (size_t)(p - label)))
					return 0;
				if (*p != '.')
					break;
				label = p + 1;
			}
		}
		host_end = p;
	}
	if (*host_end == '\0')
		return 1;
	if (*host_end != ':' || !host_end[1])
		return 0;
	for (p = host_end + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* The reference grammar's digest: algorithm ":" hex{32,}, where algorithm
 * is [A-Za-z][A-Za-z0-9]* joined by [-_+.]. */
static int digest_grammar(const char *d)
{
	const char *p = d;

	for (;;) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return 0;
		while (is_alnum((unsigned char)*p))
			p++;
		if (*p == ':')
			break;
		if (*p != '-' && *p != '_' && *p != '+' && *p != '.')
			return 0;
		p++;
	}
	p++;
	if (strlen(p) < 32)
		return 0;
	for (; *p; p++)
		if (!is_hex((unsigned char)*p))
			return 0;
	return 1;
}

/* go-digest's Validate: known algorithm, exact length, lower-case hex.
 * Returns the expected hex length, 0 for an unknown algorithm. */
static size_t digest_hex_len(const char *d)
{
	static const struct {
		const char *alg;
		size_t len;
	} algs[] = { { "sha256:", 64 }, { "sha384:", 96 }, { "sha512:", 128 } };
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strncmp(d, algs[i].alg, strlen(algs[i].alg)))
			return algs[i].len;
	return 0;
}

int ref_valid_digest(const char *d)
{
	const char *hex;
	size_t want;

	if (!d || !digest_grammar(d) || !(want = digest_hex_len(d)))
		return 0;
	hex = strchr(d, ':') + 1;
	if (strlen(hex) != want)
		return 0;
	for (; *hex; hex++)
		if (!is_lower_hex((unsigned char)*hex))
			return 0;
	return 1;
}

/* Copies s for an error message: at most 200 bytes, control characters
 * replaced, so that a hostile value cannot garble the terminal. */
static void quote_value(char *dst, size_t size, const char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 200) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

static int bad_ref(struct error *err, const char *s, const char *what,
		   const char *rule, const char *example)
{
	char value[256];

	quote_value(value, sizeof(value), s);
	return err_set(err, EXIT_USAGE,
		       "invalid reference '%s'%s%s: %s "
		       "(example: %s)",
		       value, what ? " in " : "", what ? what : "", rule,
		       example);
}

static int all_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_lower_hex((unsigned char)s[i]))
			return 0;
	return 1;
}

static int has_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/* splitDockerDomain's test for the first component of a name with a '/'. */
static int is_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || has_upper(s, n) ||
	       (n == 9 && !memcmp(s, "localhost", 9));
}

/* Checks the path (n bytes) component by component. */
static int check_path(const char *path, size_t n, const char *s,
		      const char *what, struct error *err)
{
	const char *p = path, *end = path + n;

	if (n > PATH_MAX_LEN) {
		char rule[128];

		snprintf(rule, sizeof(rule),
			 "repository name must not be "
			 "more than %d characters, got %zu",
			 PATH_MAX_LEN, n);
		return bad_ref(err, s, what, rule, "acme/app");
	}
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (len == 0)
			return bad_ref(err, s, what, "empty path component",
				       "acme/app");
		if (!valid_component_n(p, len)) {
			char rule[512], comp[256];
			char *c = xstrndup(p, len);

			quote_value(comp, sizeof(comp), c);
			free(c);
			snprintf(rule, sizeof(rule),
				 "path component '%s' must "
				 "be lower-case letters and digits, separated "
				 "by '.', '_', '__' or '-'",
				 comp);
			return bad_ref(err, s, what, rule, "acme/my-app");
		}
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

static int check_digest(const char *d, const char *s, const char *what,
			struct error *err)
{
	static const char example[] = "acme/app@sha256:"
				      "0123456789abcdef0123456789abcdef01234567"
				      "89abcdef0123456789abcdef";

	if (!digest_grammar(d))
		return bad_ref(err, s, what,
			       "digest must be an algorithm, ':' "
			       "and at least 32 hex digits",
			       example);
	if (!digest_hex_len(d))
		return bad_ref(err, s, what,
			       "unsupported digest algorithm "
			       "(sha256, sha384 or sha512)",
			       example);
	if (!ref_valid_digest(d))
		return bad_ref(err, s, what,
			       "digest has the wrong length or "
			       "is not lower-case hex",
			       example);
	return 0;
}

int ref_parse(struct ref *out, const char *s, const char *what,
	      struct error *err)
{
	char *domain = NULL, *rest = NULL, *lower = NULL;
	const char *slash, *name_end, *at, *colon;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!s || !*s) {
		bad_ref(err, "", what,
			"repository name must have at least "
			"one component",
			"acme/app");
		goto out;
	}
	if (strlen(s) == 64 && all_lower_hex(s, 64)) {
		bad_ref(err, s, what,
			"a 64-character hexadecimal string is an "
			"image ID, not a repository name",
			"acme/app");
		goto out;
	}

	/* splitDockerDomain */
	slash = strchr(s, '/');
	if (slash && is_domain(s, (size_t)(slash - s))) {
		domain = xstrndup(s, (size_t)(slash - s));
		rest = xstrdup(slash + 1);
	} else {
		domain = xstrdup(REF_HUB_DOMAIN);
		rest = xstrdup(s);
	}
	if (!strcmp(domain, "index.docker.io")) {
		free(domain);
		domain = xstrdup(REF_HUB_DOMAIN);
	}
	if (!strcmp(domain, REF_HUB_DOMAIN) && !strchr(rest, '/')) {
		struct buf b = BUF_INIT(BUF_TEXT_MAX);

		buf_addstr(&b, "library/");
		buf_addstr(&b, rest);
		free(rest);
		rest = buf_detach(&b);
	}

	/* rest is path[:tag][@digest]; neither path nor tag holds ':' or '@' */
	at = strchr(rest, '@');
	name_end = at ? at : rest + strlen(rest);
	colon = memchr(rest, ':', (size_t)(name_end - rest));
	if (has_upper(rest, (size_t)((colon ? colon : name_end) - rest))) {
		size_t i;

		lower = xstrdup(s);
		for (i = 0; lower[i]; i++)
			lower[i] = (char)tolower((unsigned char)lower[i]);
		bad_ref(err, s, what, "repository name must be lowercase",
			lower);
		goto out;
	}
	if (!ref_valid_domain(domain)) {
		char rule[512], d[256];

		quote_value(d, sizeof(d), domain);
		snprintf(rule, sizeof(rule),
			 "registry '%s' is not a valid "
			 "host[:port]",
			 d);
		bad_ref(err, s, what, rule,
			"registry.example.com:5000/acme/app");
		goto out;
	}
	if (check_path(rest, (size_t)((colon ? colon : name_end) - rest), s,
		       what, err) < 0)
		goto out;
	if (colon) {
		char *tag = xstrndup(colon + 1, (size_t)(name_end - colon - 1));

		if (!ref_valid_tag(tag)) {
			free(tag);
			bad_ref(err, s, what,
				"tag must be 1 to 128 letters, "
				"digits, '_', '.' or '-', not starting with "
				"'.' or '-'",
				"acme/app:1.0");
			goto out;
		}
		out->tag = tag;
	}
	if (at) {
		if (check_digest(at + 1, s, what, err) < 0)
			goto out;
		out->digest = xstrdup(at + 1);
	}
	out->domain = domain;
	out->path = xstrndup(rest, (size_t)((colon ? colon : name_end) - rest));
	domain = NULL;
	ret = 0;
out:
	if (ret < 0)
		ref_release(out);
	free(domain);
	free(rest);
	free(lower);
	return ret;
}

void ref_release(struct ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static const char *familiar_path(const struct ref *r)
{
	const char *p = r->path;

	/* "library/<64 hex>" stays whole: a bare 64-hex name is refused */
	if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/') &&
	    !(strlen(p + 8) == 64 && all_lower_hex(p + 8, 64)))
		return p + 8;
	return p;
}

static int is_hub(const struct ref *r)
{
	return !r->domain || !strcmp(r->domain, REF_HUB_DOMAIN);
}

char *ref_familiar_name(const struct ref *r)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	const char *p = familiar_path(r), *slash = strchr(p, '/');

	/* Unlike Go's FamiliarName, keep "docker.io/" when the first path
	 * component would read as a domain ("docker.io/a.b/c"): the short
	 * form must parse back to the same reference. */
	if (is_hub(r) && !(slash && is_domain(p, (size_t)(slash - p))))
		buf_addstr(&b, p);
	else
		buf_addf(&b, "%s/%s", r->domain, r->path);
	return buf_detach(&b);
}

char *ref_full_name(const struct ref *r)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_addf(&b, "%s/%s", r->domain ? r->domain : REF_HUB_DOMAIN, r->path);
	return buf_detach(&b);
}

char *ref_familiar_string(const struct ref *r)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *name = ref_familiar_name(r);

	buf_addstr(&b, name);
	free(name);
	if (r->tag)
		buf_addf(&b, ":%s", r->tag);
	if (r->digest)
		buf_addf(&b, "@%s", r->digest);
	return buf_detach(&b);
}

const char *ref_auth_key(const char *domain)
{
	if (!domain || !*domain || !strcmp(domain, REF_HUB_DOMAIN) ||
	    !strcmp(domain, "index.docker.io"))
		return REF_HUB_AUTH_KEY;
	return domain;
}
