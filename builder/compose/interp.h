#ifndef BUILDER_INTERP_H
#define BUILDER_INTERP_H

/*
 * Variable interpolation in compose files, as the compose specification
 * defines it:
 *
 *	$VAR  ${VAR}          the value; unset: "" (and the name is reported)
 *	${VAR:-default}       default when VAR is unset or empty
 *	${VAR-default}        default when VAR is unset
 *	${VAR:?message}       an error when VAR is unset or empty
 *	${VAR?message}        an error when VAR is unset
 *	${VAR:+replacement}   replacement when VAR is set and not empty
 *	${VAR+replacement}    replacement when VAR is set
 *	$$                    a literal '$'
 *
 * Names are [A-Za-z_][A-Za-z0-9_]*. Defaults, messages and replacements
 * are interpolated in turn ("${A:-${B:-x}}"), only when they are used.
 * Any other '$' ("$1", "$ ", "${}", "${A:x}", a '$' at the end, an unclosed
 * "${") is an error, as in docker compose.
 *
 * Values come from a lookup function, never from the process environment
 * directly (only builder/cli/config.c reads that): it returns the value of
 * name, or NULL when name is unset.
 */

#include "util/error.h"
#include "util/strlist.h"

typedef const char *(*compose_lookup_fn)(const char *name, void *ctx);

/*
 * Interpolates in into *out (owned, NUL-terminated). Names that were used
 * without a default and are unset are appended to unset (when not NULL and
 * not already there). Errors are EXIT_USAGE and say what is wrong with the
 * text ("required variable 'DB' is missing a value: set it"); the caller
 * adds the key and line. On error *out is NULL.
 */
int interp_string(const char *in, compose_lookup_fn lookup, void *ctx,
		  char **out, struct strlist *unset, struct error *err);

#endif
