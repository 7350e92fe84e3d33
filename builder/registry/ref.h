#ifndef BUILDER_REF_H
#define BUILDER_REF_H

/*
 * Image references, parsed and normalized the way the engine and the docker
 * CLI do it (distribution/reference v0.6.0, ParseNormalizedNamed):
 *
 *	reference := [domain "/"] path [":" tag] ["@" digest]
 *
 *	"busybox"                  -> docker.io  library/busybox
 *	"acme/app:1.0"             -> docker.io  acme/app        tag 1.0
 *	"localhost:5000/app@sha256:..." -> localhost:5000 app    digest
 *	"index.docker.io/x/y"      -> docker.io  x/y
 *
 * The first component is a domain only when it is "localhost", contains a
 * '.' or a ':', or has an uppercase letter; otherwise the whole name is a
 * Docker Hub path, and a Hub path of one component gets "library/".
 *
 *	struct ref r = REF_INIT;
 *	if (ref_parse(&r, cfg->image_ref, "IMAGE", err) < 0)
 *		return -1;
 *	...
 *	ref_release(&r);
 */

#include "util/error.h"

struct ref {
	char *domain; /* "docker.io" when none was given */
	char *path; /* "library/busybox" */
	char *tag; /* NULL if none */
	char *digest; /* NULL if none; "sha256:<64 hex>" */
};

#define REF_INIT                       \
	{                              \
		NULL, NULL, NULL, NULL \
	}

/* Docker Hub, as a domain and as the credential key the CLI stores. */
#define REF_HUB_DOMAIN "docker.io"
#define REF_HUB_AUTH_KEY "https://index.docker.io/v1/"

/*
 * Parses s into out (all fields owned). On failure returns -1 with an
 * EXIT_USAGE error that quotes the value and names the rule, e.g.
 *   "invalid reference 'Calc' in IMAGE: repository name must be lowercase
 *    (example: calc)"
 * what names where the value came from (a variable or flag) and may be NULL.
 * out is left empty on failure.
 */
int ref_parse(struct ref *out, const char *s, const char *what,
	      struct error *err);

/* Frees the fields and resets them to NULL. NULL is fine. */
void ref_release(struct ref *r);

/* 1 when tag matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int ref_valid_tag(const char *tag);

/* 1 when c matches [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* (one path component). */
int ref_valid_path_component(const char *c);

/* 1 when d is host[:port]: dot-separated alphanumeric labels with inner
 * '-', or a bracketed IPv6 literal; uppercase allowed. */
int ref_valid_domain(const char *d);

/* 1 when d is "sha256:", "sha384:" or "sha512:" with the right number of
 * lower-case hex digits (other algorithms are unsupported, as in go-digest). */
int ref_valid_digest(const char *d);

/* The short name people type: "busybox", "acme/app",
 * "localhost:5000/acme/app". No tag or digest. Owned. A Hub path whose
 * first component would read as a domain keeps its "docker.io/"
 * ("docker.io/a.b/c"), so that the name always parses back to r. */
char *ref_familiar_name(const struct ref *r);

/* The full name the engine wants for pull and push:
 * "docker.io/library/busybox". No tag or digest. Owned. */
char *ref_full_name(const struct ref *r);

/* The familiar name with ":tag" and/or "@digest" appended. Owned. */
char *ref_familiar_string(const struct ref *r);

/* The key credentials are stored under: REF_HUB_AUTH_KEY for "docker.io" and
 * "index.docker.io" (and for NULL or ""), else domain itself (borrowed). */
const char *ref_auth_key(const char *domain);

#endif
