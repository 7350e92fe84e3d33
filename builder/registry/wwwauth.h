#ifndef BUILDER_WWWAUTH_H
#define BUILDER_WWWAUTH_H

/*
 * The WWW-Authenticate challenge a registry answers 401 with (RFC 7235, as
 * the docker CLI's distribution/registry/client/auth/challenge reads it):
 *
 *	Bearer
 *realm="https://auth.docker.io/token",service="registry.docker.io",
 *	       scope="repository:library/busybox:pull"
 *	Basic realm="Registry Realm"
 *
 * Parameter names are case-insensitive; values are tokens or quoted
 * strings with backslash escapes. One header may carry several challenges
 * ("Basic realm=x, Bearer realm=y"): the Bearer one is preferred.
 *
 *	struct www_challenge ch = WWW_CHALLENGE_INIT;
 *	if (wwwauth_parse(value, &ch, err) < 0) ...
 *	if (ch.scheme == WWW_BEARER) ... ch.realm, ch.service, ch.scope
 *	www_challenge_release(&ch);
 */

#include "util/error.h"

enum www_scheme { WWW_NONE = 0, WWW_BASIC, WWW_BEARER };

struct www_challenge {
	enum www_scheme scheme;
	char *realm; /* owned, or NULL */
	char *service;
	char *scope;
	char *error; /* "insufficient_scope", ... */
};

#define WWW_CHALLENGE_INIT                       \
	{                                        \
		WWW_NONE, NULL, NULL, NULL, NULL \
	}

/* Parses a header value into out (released first). A Bearer challenge
 * without a realm, or no Basic nor Bearer challenge at all, is an error
 * (EXIT_PUSH) that quotes at most 200 bytes of the value. Values longer
 * than 4096 bytes are refused. */
int wwwauth_parse(const char *value, struct www_challenge *out,
		  struct error *err);

void www_challenge_release(struct www_challenge *c);

#endif
