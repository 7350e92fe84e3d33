#ifndef BUILDER_YAMLDOC_H
#define BUILDER_YAMLDOC_H

/*
 * A YAML document as a plain tree: scalars, sequences and mappings, each
 * with the line it starts on. The only user of libyaml.
 *
 *	struct ynode *doc = NULL;
 *
 *	if (yamldoc_parse(&doc, text, len, "docker-compose.test.yml", err) < 0)
 *		return -1;       // err names the file and line, EXIT_USAGE
 *	const struct ynode *svcs = ynode_get(doc, "services");
 *	...
 *	ynode_free(doc);
 *
 * What the loader does beyond libyaml:
 *  - aliases (*name) are expanded into copies of their anchor's node, with
 *    a ceiling on the total number of nodes so that a "billion laughs"
 *    file fails instead of eating memory;
 *  - merge keys ("<<: *base" or "<<: [*a, *b]", YAML 1.1's merge type):
 *    the keys of the merged mappings are added where the mapping does not
 *    define them itself; with a list, earlier mappings win over later ones.
 *    Only a plain "<<" is a merge key ("'<<'" is an ordinary key);
 *  - a key defined twice in one mapping is an error naming both lines;
 *  - mapping keys must be scalars; only the first document is read.
 *
 * Scalars keep their text as written (no YAML 1.1 type resolution: "010"
 * stays "010"); `plain` says it was written without quotes, and
 * ynode_is_null() applies YAML's null forms ("", "~", "null") to plain
 * scalars only.
 */

#include <stddef.h>

#include "util/error.h"

/* Ceilings: nodes in the document after alias expansion, nesting depth. */
#define YAMLDOC_MAX_NODES 100000
#define YAMLDOC_MAX_DEPTH 64
#define YAMLDOC_MAX_BYTES (4u * 1024 * 1024)

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	unsigned line; /* 1-based line of the node's first character */
	int plain; /* scalar written without quotes or block style */
	char *value; /* scalar text (owned); NULL for collections */
	/* Sequence items, or mapping values with their keys in keys[]. */
	struct ynode **items;
	struct ynode **keys; /* mapping keys, all scalars; NULL for SEQ */
	size_t n;
};

/*
 * Parses text (len bytes, need not be NUL-terminated) into *out, an owned
 * tree (a mapping, sequence or scalar; an empty document gives a plain
 * empty scalar). name names the file in errors: "'<name>' line 3: ...".
 * Returns 0, or -1 with EXIT_USAGE.
 */
int yamldoc_parse(struct ynode **out, const char *text, size_t len,
		  const char *name, struct error *err);

/* Frees a tree; NULL is fine. */
void ynode_free(struct ynode *n);

/* A deep copy. */
struct ynode *ynode_dup(const struct ynode *n);

/* The value of key in a mapping (borrowed), or NULL (also when n is not a
 * mapping). */
const struct ynode *ynode_get(const struct ynode *n, const char *key);

/* 1 for a plain scalar "", "~", "null", "Null" or "NULL". */
int ynode_is_null(const struct ynode *n);

/* For a scalar: 1 for YAML 1.1's true forms (true, yes, on in any of
 * their three cases), 0 for the false forms, -1 for anything else. */
int ynode_bool(const struct ynode *n);

#endif
