#ifndef BUILDER_SECRETS_H
#define BUILDER_SECRETS_H

/*
 * Build secrets for RUN --mount=type=secret, served to BuildKit through
 * the session (Secrets.GetSecret). Specs are buildx's:
 *
 *	id=npmrc,src=/path/to/file   the file's bytes
 *	id=token,env=VAR             the variable's value
 *	id=TOKEN                     the variable TOKEN
 *
 * ("source=" is an alias of "src=", as in buildx; "type=file|env" picks
 * the kind when both could apply). secrets_add() reads the value at once,
 * so a missing file or variable is an EXIT_USAGE error before any engine
 * call, naming the file or variable and never the value. Values live in
 * memory allocated once at their size, and are wiped when freed. Nothing
 * here logs.
 */

#include <stddef.h>

#include "util/error.h"

#define SECRET_MAX (1u * 1024 * 1024)

struct secret {
	char *id;
	char *value; /* owned, wiped on free */
	size_t len;
};

struct secrets {
	struct secret *v;
	size_t n, alloc;
};

#define SECRETS_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* Where env= values come from: config.c passes its reader of the
 * environment (the only one), tests their own table. NULL: not set. */
typedef const char *(*secrets_lookup_fn)(const char *name);

/* Parses one spec and reads its value. A second spec with the same id
 * replaces the first, as buildx does. */
int secrets_add(struct secrets *s, const char *spec, secrets_lookup_fn lookup,
		struct error *err);

/* Each non-empty line of text (the SECRETS setting) as one spec. */
int secrets_add_lines(struct secrets *s, const char *text,
		      secrets_lookup_fn lookup, struct error *err);

/* The secret with this id, or NULL. Borrowed. */
const struct secret *secrets_find(const struct secrets *s, const char *id);

void secrets_clear(struct secrets *s);

#endif
