/*
 * Manifest and index parsing and building (manifest.c), platforms, and the
 * sha256 of copy.c.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/copy.h"
#include "registry/manifest.h"
#include "unit.h"

#define D1        \
	"sha256:" \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define D2        \
	"sha256:" \
	"2222222222222222222222222222222222222222222222222222222222222222"
#define D3        \
	"sha256:" \
	"3333333333333333333333333333333333333333333333333333333333333333"

static const char docker_image[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
	"\"config\":{\"mediaType\":\"application/vnd.docker.container.image."
	"v1+json\",\"size\":1469,\"digest\":\"" D1 "\"},"
	"\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs."
	"diff.tar.gzip\",\"size\":2818413,\"digest\":\"" D2 "\"},"
	"{\"mediaType\":\"x\",\"size\":0,\"digest\":\"" D3 "\"}]}";

static const char oci_index_no_mt[] =
	"{\"schemaVersion\":2,\"manifests\":["
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":500,\"digest\":\"" D1
	"\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\","
	"\"variant\":\"v8\"}},"
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":566,\"digest\":\"" D2
	"\",\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
	"\"annotations\":{\"vnd.docker.reference.type\":\"attestation-"
	"manifest\"}}]}";

static void test_parse_image(void)
{
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;

	CHECK(manifest_parse(&m, docker_image, strlen(docker_image), NULL,
			     &err) == 0);
	CHECK(m.kind == MANIFEST_IMAGE);
	CHECK_STR(m.media_type, MT_DOCKER_MANIFEST);
	CHECK_STR(m.config.digest, D1);
	CHECK(m.config.size == 1469);
	CHECK(m.n == 2);
	if (m.n == 2) {
		CHECK_STR(m.desc[0].digest, D2);
		CHECK(m.desc[0].size == 2818413);
		CHECK(m.desc[1].size == 0);
	}
	manifest_release(&m);
	manifest_release(&m); /* twice is fine */
}

static void test_parse_index(void)
{
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;

	/* no mediaType: from the Content-Type with parameters */
	CHECK(manifest_parse(&m, oci_index_no_mt, strlen(oci_index_no_mt),
			     MT_OCI_INDEX "; charset=utf-8", &err) == 0);
	CHECK(m.kind == MANIFEST_INDEX);
	CHECK_STR(m.media_type, MT_OCI_INDEX);
	CHECK(m.n == 2);
	if (m.n == 2) {
		CHECK_STR(m.desc[0].platform.os, "linux");
		CHECK_STR(m.desc[0].platform.architecture, "arm64");
		CHECK_STR(m.desc[0].platform.variant, "v8");
		CHECK(!m.desc[0].attestation);
		CHECK(m.desc[1].attestation);
	}
	manifest_release(&m);
	/* no mediaType nor Content-Type: from the shape */
	CHECK(manifest_parse(&m, oci_index_no_mt, strlen(oci_index_no_mt),
			     "application/json", &err) == 0);
	CHECK(m.kind == MANIFEST_INDEX);
	manifest_release(&m);
}

struct bad_case {
	const char *body, *error;
};

static const struct bad_case bad[] = {
	{ "", "not a JSON object" },
	{ "[]", "not a JSON object" },
	{ "{\"schemaVersion\":1,\"fsLayers\":[]}", "schema 1" },
	{ "{\"mediaType\":\"text/plain\"}", "neither an image" },
	{ "{\"mediaType\":5}", "not a string" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\"}", "no 'manifests' array" },
	{ "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"layers\":[]}", "config" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":1,\"digest\":\"sha256:12\"}]}",
	  "entry 1 of the index has no valid digest" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":-1,\"digest\":\"" D1 "\"}]}",
	  "no valid size" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":1.5,\"digest\":\"" D1 "\"}]}",
	  "no valid size" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":1e300,\"digest\":\"" D1 "\"}]}",
	  "no valid size" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":1,\"digest\":\"" D1 "\",\"platform\":[]}]}",
	  "platform is not an object" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":"
	  "\"a\",\"size\":1,\"digest\":\"" D1 "\",\"platform\":{\"os\":1}}]}",
	  "not a string" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[5]}",
	  "not a JSON object" },
};

static void test_parse_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct manifest m = MANIFEST_INIT;
		struct error err = ERROR_INIT;
		int r = manifest_parse(&m, bad[i].body, strlen(bad[i].body),
				       NULL, &err);

		CHECK(r == -1);
		CHECK(err.code == EXIT_PUSH);
		if (!strstr(err.msg, bad[i].error))
			fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i,
				err.msg, bad[i].error);
		CHECK(strstr(err.msg, bad[i].error) != NULL);
		CHECK(m.media_type == NULL && m.desc == NULL);
	}
}

static void test_config_platform(void)
{
	struct platform p = { 0 };
	struct error err = ERROR_INIT;
	const char *cfg = "{\"architecture\":\"arm\",\"os\":\"linux\","
			  "\"variant\":\"v7\",\"rootfs\":{}}";
	char *s;

	CHECK(manifest_config_platform(&p, cfg, strlen(cfg), &err) == 0);
	s = platform_string(&p);
	CHECK_STR(s, "linux/arm/v7");
	free(s);
	CHECK(manifest_config_platform(&p, "{\"os\":\"linux\"}", 15, &err) ==
	      -1);
	CHECK(p.os == NULL);
	CHECK(strstr(err.msg, "no os and architecture") != NULL);
	/* The first error sticks: each expected failure starts clean. */
	err_clear(&err);
	CHECK(manifest_config_platform(&p, "nope", 4, &err) == -1);
	CHECK(strstr(err.msg, "not a JSON object") != NULL);
	platform_release(&p);
}

static void test_platform_parse(void)
{
	struct platform p = { 0 }, q = { 0 };
	struct error err = ERROR_INIT;

	CHECK(platform_parse(&p, "linux/amd64", "PLATFORM", &err) == 0);
	CHECK_STR(p.os, "linux");
	CHECK_STR(p.architecture, "amd64");
	CHECK(p.variant == NULL);
	CHECK(platform_parse(&q, "linux/arm64/v8", "PLATFORM", &err) == 0);
	CHECK_STR(q.variant, "v8");
	CHECK(!platform_equal(&p, &q));
	free(q.variant);
	q.variant = NULL;
	free(q.architecture);
	q.architecture = strdup("amd64");
	CHECK(platform_equal(&p, &q));
	CHECK(platform_parse(&p, "linux", "PLATFORM", &err) == -1);
	CHECK(err.code == EXIT_USAGE && strstr(err.msg, "PLATFORM=linux/"));
	{
		static const char *const wrong[] = { "linux/", "Linux/amd64",
						     "linux/arm/v7/x", "/amd64",
						     "linux/arm/" };
		char want[64];

		for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++) {
			/* The first error sticks: start each one clean. */
			err_clear(&err);
			CHECK(platform_parse(&p, wrong[i], "PLATFORM", &err) ==
			      -1);
			snprintf(want, sizeof(want), "PLATFORM '%s' is not",
				 wrong[i]);
			CHECK(strstr(err.msg, want) != NULL);
		}
	}
	platform_release(&p);
	platform_release(&q);
}

static void test_build_index(void)
{
	struct descriptor d[2];
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;
	const char *mt = NULL;
	char *text;

	memset(d, 0, sizeof(d));
	d[0].media_type = (char *)MT_DOCKER_MANIFEST;
	d[0].digest = (char *)D1;
	d[0].size = 528;
	d[0].platform.os = (char *)"linux";
	d[0].platform.architecture = (char *)"amd64";
	d[1].media_type = (char *)MT_DOCKER_MANIFEST;
	d[1].digest = (char *)D2;
	d[1].size = 529;
	d[1].platform.os = (char *)"linux";
	d[1].platform.architecture = (char *)"arm64";
	d[1].platform.variant = (char *)"v8";
	text = manifest_build_index(d, 2, &mt);
	CHECK_STR(mt, MT_DOCKER_LIST);
	CHECK(manifest_parse(&m, text, strlen(text), NULL, &err) == 0);
	CHECK(m.kind == MANIFEST_INDEX && m.n == 2);
	if (m.n == 2) {
		CHECK_STR(m.desc[1].digest, D2);
		CHECK(m.desc[1].size == 529);
		CHECK_STR(m.desc[1].platform.variant, "v8");
		CHECK(platform_equal(&m.desc[0].platform, &d[0].platform));
	}
	manifest_release(&m);
	free(text);
	/* one OCI entry makes it an OCI index */
	d[1].media_type = (char *)MT_OCI_MANIFEST;
	text = manifest_build_index(d, 2, &mt);
	CHECK_STR(mt, MT_OCI_INDEX);
	free(text);
}

static void test_sha256(void)
{
	char out[72];

	registry_sha256("", 0, out);
	CHECK_STR(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
		       "4ca495991b7852b855");
	registry_sha256("abc", 3, out);
	CHECK_STR(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a"
		       "9cb410ff61f20015ad");
}

int main(void)
{
	RUN(test_parse_image);
	RUN(test_parse_index);
	RUN(test_parse_bad);
	RUN(test_config_platform);
	RUN(test_platform_parse);
	RUN(test_build_index);
	RUN(test_sha256);
	return unit_summary();
}
