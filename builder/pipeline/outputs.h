#ifndef BUILDER_OUTPUTS_H
#define BUILDER_OUTPUTS_H

/*
 * What the run leaves for the CI, once the report is complete: the
 * Markdown summary to SUMMARY (replaced) and GITHUB_STEP_SUMMARY
 * (appended), and the step outputs to GITHUB_OUTPUT (appended); see
 * summary.h for the formats. A file that cannot be written is a warning:
 * the image was built (and pushed) all the same.
 */

struct config;
struct report;

void outputs_write(const struct config *cfg, const struct report *rep);

#endif
