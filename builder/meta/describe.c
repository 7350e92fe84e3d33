/*
 * The `builder tags` text: facts, tags, skipped rules and labels with
 * their origins, one line each. Pure: formats into a buffer.
 */
#include <string.h>

#include "meta/describe.h"
#include "util/banned.h"

static void fact(struct buf *out, const char *name, const struct meta_fact *f)
{
	if (f->value)
		buf_addf(out, "fact %s: %s (%s)\n", name, f->value,
			 f->from ? f->from : "?");
}

void meta_describe(const struct meta_facts *f, const struct meta_tagset *ts,
		   const struct strlist *labels,
		   const struct strlist *label_from, struct buf *out)
{
	buf_addf(out, "ci: %s, event: %s\n", f->ci ? f->ci : "none",
		 meta_event_name(f->event));
	fact(out, "branch", &f->branch);
	fact(out, "tag", &f->tag);
	fact(out, "commit", &f->sha);
	fact(out, "pull request", &f->pr);
	fact(out, "default branch", &f->default_branch);
	fact(out, "build", &f->build);
	fact(out, "source", &f->source);
	fact(out, "title", &f->title);
	fact(out, "licenses", &f->licenses);
	fact(out, "created", &f->created);
	for (size_t i = 0; ts && i < ts->tags.n; i++)
		buf_addf(out, "tag: %s <- %s\n", ts->tags.v[i],
			 i < ts->from.n ? ts->from.v[i] : "?");
	for (size_t i = 0; ts && i < ts->skipped.n; i++)
		buf_addf(out, "skipped: %s\n", ts->skipped.v[i]);
	for (size_t i = 0; labels && i < labels->n; i++)
		buf_addf(out, "label: %s <- %s\n", labels->v[i],
			 label_from && i < label_from->n ? label_from->v[i]
							 : "?");
	if (f->warning)
		buf_addf(out, "warning: %s\n", f->warning);
}
