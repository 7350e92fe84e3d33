#ifndef BUILDER_DESCRIBE_H
#define BUILDER_DESCRIBE_H

/*
 * The text `builder tags` prints: the facts, the tags and labels, and
 * where each came from, one item a line, each line starting with its kind
 * so that scripts can grep it:
 *
 *	ci: github, event: tag
 *	fact tag: v2.3.4 (GITHUB_REF_NAME)
 *	fact commit: 0123...4567 (GITHUB_SHA)
 *	tag: 2.3.4 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)
 *	skipped: pr: nothing, not a pull request
 *	label: org.opencontainers.image.version=2.3.4 <- GITHUB_REF_NAME
 *	warning: cannot read '.git/HEAD': ...
 *
 * Unknown facts are left out. The caller prints buf_str(out) through
 * util/log.h.
 */

#include "meta/facts.h"
#include "meta/tagrules.h"
#include "util/buf.h"
#include "util/strlist.h"

/* Appends the description to out; labels and label_from are what
 * meta_labels() made (label_from may be NULL). */
void meta_describe(const struct meta_facts *f, const struct meta_tagset *ts,
		   const struct strlist *labels,
		   const struct strlist *label_from, struct buf *out);

#endif
