/*
 * The WWW-Authenticate parser (wwwauth.h): pure, no I/O. The grammar is
 * RFC 7235's: challenge = scheme [ 1*SP ( token68 / #auth-param ) ], a
 * comma-separated list in which a new challenge starts where a token is
 * followed by a space and not by '='.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/wwwauth.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define WWWAUTH_MAX 4096

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~/:", c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *skip_ws_commas(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return p;
}

void www_challenge_release(struct www_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	c->realm = c->service = c->scope = c->error = NULL;
	c->scheme = WWW_NONE;
}

/* One parameter value at p: a token or a quoted string. Sets *end past it;
 * returns the owned value or NULL when the quoted string is not closed. */
static char *param_value(const char *p, const char **end)
{
	struct buf v = BUF_INIT(BUF_TEXT_MAX);

	buf_init(&v, WWWAUTH_MAX + 1);
	if (*p != '"') {
		const char *s = p;

		/* '=' too: token68 padding and sloppy servers */
		while (is_tchar(*p) || *p == '=')
			p++;
		buf_add(&v, s, (size_t)(p - s));
		*end = p;
		return buf_detach(&v);
	}
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		buf_addch(&v, *p);
	}
	if (*p != '"') {
		buf_release(&v);
		return NULL;
	}
	*end = p + 1;
	return buf_detach(&v);
}

/* A challenge found while scanning: its scheme and its parameters. */
struct found {
	enum www_scheme scheme;
	char *realm, *service, *scope, *error;
};

static void found_release(struct found *f)
{
	free(f->realm);
	free(f->service);
	free(f->scope);
	free(f->error);
	memset(f, 0, sizeof(*f));
}

static void keep(char **dst, char *v)
{
	if (*dst) {
		free(v); /* the first of a repeated parameter wins */
		return;
	}
	*dst = v;
}

int wwwauth_parse(const char *value, struct www_challenge *out,
		  struct error *err)
{
	struct found best = { 0 }, cur = { 0 };
	const char *p;
	int ret = -1, in_challenge = 0;

	www_challenge_release(out);
	if (!value || strlen(value) > WWWAUTH_MAX)
		return err_set(err, EXIT_PUSH,
			       "the registry's WWW-Authenticate header is %s",
			       value ? "longer than 4096 bytes" : "missing");
	p = skip_ws_commas(value);
	while (*p) {
		const char *s = p;
		size_t n;

		while (is_tchar(*p))
			p++;
		n = (size_t)(p - s);
		if (!n)
			goto bad;
		if (*skip_ws(p) == '=' && in_challenge) {
			/* name=value of the current challenge */
			char *v;
			const char *q = skip_ws(skip_ws(p) + 1);

			if (!(v = param_value(q, &p)))
				goto bad;
			if (n == 5 && !strncasecmp(s, "realm", 5))
				keep(&cur.realm, v);
			else if (n == 7 && !strncasecmp(s, "service", 7))
				keep(&cur.service, v);
			else if (n == 5 && !strncasecmp(s, "scope", 5))
				keep(&cur.scope, v);
			else if (n == 5 && !strncasecmp(s, "error", 5))
				keep(&cur.error, v);
			else
				free(v);
			p = skip_ws(p);
			if (*p && *p != ',')
				goto bad;
			p = skip_ws_commas(p);
			continue;
		}
		/* A new challenge: keep the best one seen so far. */
		if (cur.scheme > best.scheme) {
			found_release(&best);
			best = cur;
			memset(&cur, 0, sizeof(cur));
		}
		found_release(&cur);
		in_challenge = 1;
		if (n == 6 && !strncasecmp(s, "bearer", 6))
			cur.scheme = WWW_BEARER;
		else if (n == 5 && !strncasecmp(s, "basic", 5))
			cur.scheme = WWW_BASIC;
		else
			cur.scheme = WWW_NONE; /* Digest, Negotiate, ... */
		if (*p && *p != ' ' && *p != '\t' && *p != ',')
			goto bad;
		p = skip_ws_commas(p);
	}
	if (cur.scheme > best.scheme) {
		found_release(&best);
		best = cur;
		memset(&cur, 0, sizeof(cur));
	}
	if (best.scheme == WWW_NONE) {
		err_set(err, EXIT_PUSH,
			"the registry asks for an authentication scheme "
			"builder does not speak (WWW-Authenticate '%.200s'); "
			"Basic and Bearer are supported",
			value);
		goto out;
	}
	if (best.scheme == WWW_BEARER && (!best.realm || !*best.realm)) {
		err_set(err, EXIT_PUSH,
			"the registry's Bearer challenge names no realm "
			"(WWW-Authenticate '%.200s'): cannot get a token",
			value);
		goto out;
	}
	out->scheme = best.scheme;
	out->realm = best.realm;
	out->service = best.service;
	out->scope = best.scope;
	out->error = best.error;
	memset(&best, 0, sizeof(best));
	ret = 0;
	goto out;
bad:
	err_set(err, EXIT_PUSH,
		"cannot parse the registry's WWW-Authenticate header "
		"'%.200s'",
		value);
out:
	found_release(&cur);
	found_release(&best);
	return ret;
}
