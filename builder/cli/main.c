/*
 * builder: build, test, tag and push a Docker image through the Engine
 * API. This file reads the command line, runs one command, prints the
 * error once and maps it to the exit code; nothing else exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "util/error.h"
#include "util/log.h"
#include "meta/describe.h"
#include "pipeline/outputs.h"
#include "pipeline/pipeline.h"
#include "pipeline/promote.h"
#include "pipeline/report.h"
#include "util/signals.h"
#include "util/version.h"
#include "util/banned.h"

/* `builder tags`: what config resolved from TAGS and the CI's facts, one
 * item a line on stdout (the command's result, for scripts to grep); no
 * engine. */
static int print_tags(const struct config *cfg)
{
	struct buf out = BUF_INIT(BUF_TEXT_MAX);

	meta_describe(&cfg->facts, &cfg->tagset, &cfg->meta_labels,
		      &cfg->meta_label_from, &out);
	fputs(buf_str(&out), stdout);
	buf_release(&out);
	return 0;
}

static int run(struct config *cfg, struct report *rep, struct error *err)
{
	switch (cfg->command) {
	case CMD_HELP:
		config_usage();
		return 0;
	case CMD_VERSION:
		printf("builder %s\n", builder_version);
		return 0;
	case CMD_CHECK:
		return pipeline_check(cfg, err);
	case CMD_CLEANUP:
		return pipeline_cleanup(cfg, err);
	case CMD_MERGE:
		return pipeline_merge(cfg, err);
	case CMD_PROMOTE:
		return pipeline_promote(cfg, err);
	case CMD_TAGS:
		return print_tags(cfg);
	case CMD_RUN:
		break;
	}
	return pipeline_run(cfg, rep, err);
}

int main(int argc, char **argv)
{
	struct config cfg = CONFIG_INIT;
	struct report rep;
	struct error err = ERROR_INIT;
	struct error rerr = ERROR_INIT;
	int code = EXIT_OK, configured = 0;

	/* Line-buffered, so that our stderr lines and the build's stdout
	 * interleave in order in a CI log. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signals_install();
	report_init(&rep);

	if (config_from_env(&cfg, &err) < 0 ||
	    config_parse_args(&cfg, argc, argv, &err) < 0 ||
	    config_validate(&cfg, &err) < 0) {
		code = err.code;
	} else {
		configured = 1;
		log_set_level((enum log_level)cfg.log_level);
		if (run(&cfg, &rep, &err) < 0)
			code = err.code ? err.code : EXIT_ENGINE;
	}
	/* A signal wins over whatever error it caused. */
	if (signals_pending())
		code = 128 + signals_pending();
	/* What stdout was to carry (above all the pushed reference) and did
	 * not reach it (a full disk, a closed pipe) fails the run. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (!code) {
			int saved = errno;

			code = EXIT_PUSH;
			err_clear(&err);
			errno = saved;
			err_set(&err, EXIT_PUSH,
				"cannot write to stdout: %s; the result above "
				"(for a run, the pushed reference) is lost, "
				"although the push may have succeeded",
				strerror(errno));
		}
	}
	if (code) {
		if (code >= 128 && err.code < 128)
			signals_error(&err);
		log_error("%s", err.msg);
	}
	/* The report is written whatever failed, also a usage error; when
	 * REPORT itself was the error, once is enough. */
	if (cfg.command == CMD_RUN && cfg.report &&
	    (configured || report_check_path(cfg.report, &rerr) == 0)) {
		rep.exit_code = code;
		rep.error = code ? err.msg : NULL;
		/* A run whose summary was asked for and lost is not a
		 * success. */
		if (report_write(&rep, cfg.report, &rerr) < 0) {
			log_error("%s", rerr.msg);
			if (!code)
				code = rerr.code;
		}
		rep.error = NULL;
	}
	/* SUMMARY, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT: from the final
	 * report, after a run that got past the configuration. */
	if (cfg.command == CMD_RUN && configured) {
		rep.exit_code = code;
		rep.error = code ? err.msg : NULL;
		outputs_write(&cfg, &rep);
		rep.error = NULL;
	}
	report_release(&rep);
	config_release(&cfg);
	return code;
}
