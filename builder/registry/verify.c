/*
 * registry_verify_tag() (verify.h): after a push, the tag must resolve to
 * the digest builder reports. HEAD /v2/<name>/manifests/<tag>, and a GET
 * when the registry sends no Docker-Content-Digest.
 */
#include <stdio.h>
#include <string.h>

#include "registry/copy.h"
#include "registry/ref.h"
#include "registry/verify.h"
#include "util/log.h"
#include "util/banned.h"

int registry_verify_tag_on(struct registry *reg, const char *repo,
			   const char *tag, const char *expected_digest,
			   struct error *err)
{
	struct fetched f = FETCHED_INIT;
	char digest[80];
	int found, ret = -1;

	found = registry_manifest_head(reg, repo, tag, digest, err);
	if (found < 0)
		goto fail;
	if (!found) {
		err_set(err, EXIT_PUSH,
			"'%s/%s:%s' was pushed as %s, but the registry does "
			"not know the tag",
			registry_domain(reg), repo, tag, expected_digest);
		goto out;
	}
	if (!digest[0]) {
		if (registry_manifest_get(reg, repo, tag, &f, err) < 0)
			goto fail;
		snprintf(digest, sizeof(digest), "%s", f.digest);
	}
	if (strcmp(digest, expected_digest)) {
		err_set(err, EXIT_PUSH,
			"'%s/%s:%s' resolves to %s on the registry, not to the "
			"pushed %s: another push moved the tag, or the "
			"registry kept an old manifest",
			registry_domain(reg), repo, tag, digest,
			expected_digest);
		goto out;
	}
	log_info("verified: '%s/%s:%s' is %s on the registry",
		 registry_domain(reg), repo, tag, digest);
	ret = 0;
	goto out;
fail:
	err_wrap(err, "cannot verify the push of '%s/%s:%s'",
		 registry_domain(reg), repo, tag);
out:
	fetched_release(&f);
	return ret;
}

int registry_verify_tag(const struct registry_settings *s, const char *image,
			const char *expected_digest, struct error *err)
{
	struct ref r = REF_INIT;
	struct registry *reg = NULL;
	int ret = -1;

	if (ref_parse(&r, image, "the pushed image", err) < 0)
		return err_recode(err, EXIT_PUSH);
	if (!r.tag) {
		err_set(err, EXIT_PUSH, "cannot verify '%s': it has no tag",
			image);
		goto out;
	}
	if (registry_open(&reg, r.domain, s, err) < 0) {
		err_wrap(err, "cannot verify the push of '%s'", image);
		goto out;
	}
	ret = registry_verify_tag_on(reg, r.path, r.tag, expected_digest, err);
out:
	registry_close(reg);
	ref_release(&r);
	return ret;
}
