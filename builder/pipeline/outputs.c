/*
 * SUMMARY, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT from the final report;
 * see outputs.h. No engine call: called by main.c after the run.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "pipeline/outputs.h"
#include "pipeline/report.h"
#include "pipeline/summary.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

static const char *status_word(enum stage_status st)
{
	switch (st) {
	case STAGE_OK:
		return "ok";
	case STAGE_FAILED:
		return "failed";
	case STAGE_SKIPPED:
		return "skipped";
	default:
		return "not run";
	}
}

static void fill(struct summary *s, const struct config *cfg,
		 const struct report *rep)
{
	static const enum stage_id order[] = { STAGE_BUILD, STAGE_TEST,
					       STAGE_TAG, STAGE_SAVE,
					       STAGE_PUSH };

	memset(s, 0, sizeof(*s));
	s->image = rep->image;
	s->digest = rep->digest;
	s->image_id = rep->image_id;
	s->tags = &rep->tags;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct report_stage *st = &rep->stages[order[i]];
		struct summary_stage *out = &s->stages[s->nstages];

		if (order[i] == STAGE_SAVE && !cfg->save)
			continue;
		out->name = stage_name(order[i]);
		out->result = status_word(st->status);
		out->seconds =
			st->status == STAGE_OK || st->status == STAGE_FAILED
				? st->seconds
				: -1;
		s->nstages++;
	}
	if (rep->results.junit.files)
		s->tests = &rep->results.junit;
	s->exit_code = rep->exit_code;
	s->error = rep->error;
}

static void write_or_warn(const char *variable, const char *path,
			  const struct buf *b, int append)
{
	struct error err = ERROR_INIT;

	if (summary_write_file(variable, path, b, append, &err) < 0)
		log_warn("%s", err.msg);
}

void outputs_write(const struct config *cfg, const struct report *rep)
{
	struct summary s;
	struct buf md = BUF_INIT(BUF_TEXT_MAX), out = BUF_INIT(BUF_TEXT_MAX);
	struct error err = ERROR_INIT;
	char delim[64];
	char *metadata = NULL;

	if (!cfg->summary && !cfg->github_step_summary && !cfg->github_output)
		return;
	fill(&s, cfg, rep);
	if (cfg->summary || cfg->github_step_summary) {
		summary_markdown(&s, &md);
		if (cfg->summary)
			write_or_warn("SUMMARY", cfg->summary, &md, 0);
		if (cfg->github_step_summary)
			write_or_warn("GITHUB_STEP_SUMMARY",
				      cfg->github_step_summary, &md, 1);
	}
	if (cfg->github_output) {
		metadata = report_json(rep);
		summary_delimiter(delim, sizeof(delim));
		if (summary_github_output(&s, metadata, delim, &out, &err) < 0)
			log_warn("%s", err.msg);
		else
			write_or_warn("GITHUB_OUTPUT", cfg->github_output, &out,
				      1);
	}
	free(metadata);
	buf_release(&md);
	buf_release(&out);
}
