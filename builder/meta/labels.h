#ifndef BUILDER_LABELS_H
#define BUILDER_LABELS_H

/*
 * OCI image labels (org.opencontainers.image.*) from the facts (facts.h):
 *
 *	source, url   the repository's https URL (never with credentials)
 *	revision      the full commit id
 *	version       the git tag (1.2.3 for v1.2.3), else pr-N on a pull
 *	              request, else the branch as a tag ("feature-login")
 *	created       RFC 3339 UTC of SOURCE_DATE_EPOCH or the commit's time,
 *	              never the clock: identical sources and settings give
 *	              an identical image ID
 *	title         the repository's name
 *	licenses      the repository's SPDX license (GitHub's event file)
 *
 * Only labels whose facts are known are made.
 *
 *	struct strlist labels = STRLIST_INIT, from = STRLIST_INIT;
 *	meta_labels(&facts, &cfg->labels, &labels, &from);
 */

#include "meta/facts.h"
#include "util/strlist.h"

/*
 * Appends "KEY=VALUE" items to out, skipping every key that user (the
 * user's LABELS, "KEY=VALUE" items; may be NULL) already sets: the user's
 * own labels win. from (may be NULL) gets, for each item, the fact's
 * origin ("GITHUB_SHA").
 */
void meta_labels(const struct meta_facts *f, const struct strlist *user,
		 struct strlist *out, struct strlist *from);

/* Formats seconds since the epoch (decimal) as "2026-12-01T22:00:00Z"
 * into out (at least 32 bytes); returns -1 when epoch is not a time. */
int meta_rfc3339(const char *epoch, char *out, size_t outsz);

#endif
