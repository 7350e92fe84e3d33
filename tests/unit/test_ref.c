/*
 * Image reference grammar and normalization (ref.c), table-driven against
 * what distribution/reference v0.6.0 ParseNormalizedNamed gives.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/ref.h"
#include "unit.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H32 "0123456789abcdef0123456789abcdef"
#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A250 A50 A50 A50 A50 A50
#define T64 "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"

struct ref_case {
	const char *in;
	const char *domain, *path, *tag, *digest; /* expected when valid */
	const char *familiar; /* expected familiar name */
	const char *error; /* substring when invalid */
};

static const struct ref_case cases[] = {
	/* Docker Hub normalization */
	{ "busybox", "docker.io", "library/busybox", NULL, NULL, "busybox",
	  NULL },
	{ "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
	  "busybox", NULL },
	{ "x", "docker.io", "library/x", NULL, NULL, "x", NULL },
	{ "acme/app", "docker.io", "acme/app", NULL, NULL, "acme/app", NULL },
	{ "acme/app:v1.0-rc_1", "docker.io", "acme/app", "v1.0-rc_1", NULL,
	  "acme/app", NULL },
	{ "docker.io/busybox", "docker.io", "library/busybox", NULL, NULL,
	  "busybox", NULL },
	{ "docker.io/library/busybox:latest", "docker.io", "library/busybox",
	  "latest", NULL, "busybox", NULL },
	{ "docker.io/acme/app", "docker.io", "acme/app", NULL, NULL, "acme/app",
	  NULL },
	{ "index.docker.io/acme/app", "docker.io", "acme/app", NULL, NULL,
	  "acme/app", NULL },
	{ "index.docker.io/busybox", "docker.io", "library/busybox", NULL, NULL,
	  "busybox", NULL },
	{ "docker.io/library/a/b", "docker.io", "library/a/b", NULL, NULL,
	  "library/a/b", NULL },
	{ "acme/team/app", "docker.io", "acme/team/app", NULL, NULL,
	  "acme/team/app", NULL },
	{ "docker.io/a.b/c", "docker.io", "a.b/c", NULL, NULL,
	  "docker.io/a.b/c", NULL },
	{ "index.docker.io/localhost/c", "docker.io", "localhost/c", NULL, NULL,
	  "docker.io/localhost/c", NULL },
	{ "a__b/c-d--e.f_g", "docker.io", "a__b/c-d--e.f_g", NULL, NULL,
	  "a__b/c-d--e.f_g", NULL },
	/* no '/': never a domain, even with a port-like tag */
	{ "localhost", "docker.io", "library/localhost", NULL, NULL,
	  "localhost", NULL },
	{ "localhost:5000", "docker.io", "library/localhost", "5000", NULL,
	  "localhost", NULL },
	{ H64 ":1", "docker.io", "library/" H64, "1", NULL, "library/" H64,
	  NULL },
	/* other registries */
	{ "localhost/app", "localhost", "app", NULL, NULL, "localhost/app",
	  NULL },
	{ "localhost:5000/acme/app:1", "localhost:5000", "acme/app", "1", NULL,
	  "localhost:5000/acme/app", NULL },
	{ "registry.example.com/a/b/c:tag", "registry.example.com", "a/b/c",
	  "tag", NULL, "registry.example.com/a/b/c", NULL },
	{ "127.0.0.1:5000/x", "127.0.0.1:5000", "x", NULL, NULL,
	  "127.0.0.1:5000/x", NULL },
	{ "[::1]:5000/x", "[::1]:5000", "x", NULL, NULL, "[::1]:5000/x", NULL },
	{ "[fe80::1]/x", "[fe80::1]", "x", NULL, NULL, "[fe80::1]/x", NULL },
	{ "Registry.Example.com/acme/app", "Registry.Example.com", "acme/app",
	  NULL, NULL, "Registry.Example.com/acme/app", NULL },
	{ "UPPER/app", "UPPER", "app", NULL, NULL, "UPPER/app", NULL },
	{ "a.b/c", "a.b", "c", NULL, NULL, "a.b/c", NULL },
	{ "my-registry:5000/x", "my-registry:5000", "x", NULL, NULL,
	  "my-registry:5000/x", NULL },
	{ "ghcr.io/acme/app:_x", "ghcr.io", "acme/app", "_x", NULL,
	  "ghcr.io/acme/app", NULL },
	/* digests */
	{ "acme/app@sha256:" H64, "docker.io", "acme/app", NULL, "sha256:" H64,
	  "acme/app", NULL },
	{ "acme/app:1@sha256:" H64, "docker.io", "acme/app", "1", "sha256:" H64,
	  "acme/app", NULL },
	{ "acme/app@sha512:" H64 H64, "docker.io", "acme/app", NULL,
	  "sha512:" H64 H64, "acme/app", NULL },
	/* lengths */
	{ "acme/" A50 A50 A50 A50
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaa",
	  "docker.io", "acme/" A50 A50 A50 A50 A50, NULL, NULL,
	  "acme/" A50 A50 A50 A50 A50, NULL },
	{ "acme/app:" T64 T64, "docker.io", "acme/app", T64 T64, NULL,
	  "acme/app", NULL },

	/* invalid */
	{ "", NULL, NULL, NULL, NULL, NULL, "at least one component" },
	{ "Calc", NULL, NULL, NULL, NULL, NULL,
	  "must be lowercase (example: calc)" },
	{ "acme/Calc", NULL, NULL, NULL, NULL, NULL, "must be lowercase" },
	{ "localhost:5000/Acme/app", NULL, NULL, NULL, NULL, NULL,
	  "must be lowercase" },
	{ "acme/app@SHA256:" H64, NULL, NULL, NULL, NULL, NULL,
	  "unsupported digest algorithm" },
	{ H64, NULL, NULL, NULL, NULL, NULL, "64-character hexadecimal" },
	{ "acme/app:", NULL, NULL, NULL, NULL, NULL, "tag must be" },
	{ "acme/app:.x", NULL, NULL, NULL, NULL, NULL, "tag must be" },
	{ "acme/app:-x", NULL, NULL, NULL, NULL, NULL, "tag must be" },
	{ "acme/app:" T64 T64 "t", NULL, NULL, NULL, NULL, NULL,
	  "tag must be" },
	{ "acme/app:1:2", NULL, NULL, NULL, NULL, NULL, "tag must be" },
	{ "acme/app:a/b", NULL, NULL, NULL, NULL, NULL, "tag must be" },
	{ "acme//app", NULL, NULL, NULL, NULL, NULL, "empty path component" },
	{ "acme/app/", NULL, NULL, NULL, NULL, NULL, "empty path component" },
	{ ":tag", NULL, NULL, NULL, NULL, NULL, "empty path component" },
	{ "acme/-app", NULL, NULL, NULL, NULL, NULL, "path component '-app'" },
	{ "acme/app_", NULL, NULL, NULL, NULL, NULL, "path component 'app_'" },
	{ "acme/a___b", NULL, NULL, NULL, NULL, NULL,
	  "path component 'a___b'" },
	{ "acme/a.-b", NULL, NULL, NULL, NULL, NULL, "path component 'a.-b'" },
	{ "acme/a..b", NULL, NULL, NULL, NULL, NULL, "path component" },
	{ "acme/my app", NULL, NULL, NULL, NULL, NULL,
	  "path component 'my app'" },
	{ "acme/app\n", NULL, NULL, NULL, NULL, NULL,
	  "invalid reference 'acme/app?'" },
	{ A50 A50 A50 A50 A50, NULL, NULL, NULL, NULL, NULL,
	  "more than 255 characters, got 258" },
	{ "acme/app@sha256:abc", NULL, NULL, NULL, NULL, NULL,
	  "at least 32 hex digits" },
	{ "acme/app@", NULL, NULL, NULL, NULL, NULL, "at least 32 hex digits" },
	{ "acme/app@md5:" H32, NULL, NULL, NULL, NULL, NULL,
	  "unsupported digest algorithm" },
	{ "acme/"
	  "app@sha256:"
	  "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  NULL, NULL, NULL, NULL, NULL, "not lower-case hex" },
	{ "acme/app@sha256:" H32, NULL, NULL, NULL, NULL, NULL,
	  "wrong length" },
	{ "acme/app@sha256:" H64 "@x", NULL, NULL, NULL, NULL, NULL, "digest" },
	{ "-bad.com/x", NULL, NULL, NULL, NULL, NULL,
	  "registry '-bad.com' is not a valid host[:port]" },
	{ "host:port/x", NULL, NULL, NULL, NULL, NULL, "registry 'host:port'" },
	{ "localhost:/x", NULL, NULL, NULL, NULL, NULL,
	  "registry 'localhost:'" },
	{ "[::1/x", NULL, NULL, NULL, NULL, NULL, "registry '[::1'" },
	{ "a_b.c/d", NULL, NULL, NULL, NULL, NULL, "registry 'a_b.c'" },
	{ "exa..mple.com/x", NULL, NULL, NULL, NULL, NULL, "registry" },
};

static void test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ref_case *c = &cases[i];
		struct ref r = REF_INIT;
		struct error err = ERROR_INIT;
		int ret = ref_parse(&r, c->in, "IMAGE", &err);

		if (c->error) {
			if (ret != -1 || !strstr(err.msg, c->error) ||
			    err.code != EXIT_USAGE ||
			    !strstr(err.msg, " in IMAGE: ")) {
				fprintf(stderr,
					"case %zu '%s': ret %d, "
					"error '%s', want '%s'\n",
					i, c->in, ret, err.msg, c->error);
				unit_failures_in_test++;
			}
			CHECK(r.domain == NULL && r.path == NULL);
		} else {
			char *fam, *full, *full_want;
			size_t n;

			if (ret != 0) {
				fprintf(stderr, "case %zu '%s': %s\n", i, c->in,
					err.msg);
				unit_failures_in_test++;
				continue;
			}
			CHECK_STR(r.domain, c->domain);
			CHECK_STR(r.path, c->path);
			CHECK_STR(r.tag, c->tag);
			CHECK_STR(r.digest, c->digest);
			fam = ref_familiar_name(&r);
			CHECK_STR(fam, c->familiar);
			n = strlen(c->domain) + strlen(c->path) + 2;
			full_want = malloc(n);
			snprintf(full_want, n, "%s/%s", c->domain, c->path);
			full = ref_full_name(&r);
			CHECK_STR(full, full_want);
			free(fam);
			free(full);
			free(full_want);
		}
		ref_release(&r);
	}
	CHECK(sizeof(cases) / sizeof(cases[0]) >= 40);
}

/* Whatever parses, its familiar and full forms parse back to the same. */
static void test_roundtrip(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ref a = REF_INIT, b = REF_INIT, c = REF_INIT;
		struct error err = ERROR_INIT;
		char *s, *full;

		if (cases[i].error)
			continue;
		CHECK(ref_parse(&a, cases[i].in, NULL, &err) == 0);
		s = ref_familiar_string(&a);
		full = ref_full_name(&a);
		CHECK(ref_parse(&b, s, NULL, &err) == 0);
		CHECK(ref_parse(&c, full, NULL, &err) == 0);
		CHECK_STR(b.domain, a.domain);
		CHECK_STR(b.path, a.path);
		CHECK_STR(b.tag, a.tag);
		CHECK_STR(b.digest, a.digest);
		CHECK_STR(c.domain, a.domain);
		CHECK_STR(c.path, a.path);
		free(s);
		free(full);
		ref_release(&a);
		ref_release(&b);
		ref_release(&c);
	}
}

static void test_error_without_what(void)
{
	struct ref r = REF_INIT;
	struct error err = ERROR_INIT;

	CHECK(ref_parse(&r, "Calc", NULL, &err) == -1);
	CHECK_STR(err.msg, "invalid reference 'Calc': repository name must be "
			   "lowercase (example: calc)");
	ref_release(&r);
	ref_release(NULL);
}

static void test_validators(void)
{
	CHECK(ref_valid_tag("latest"));
	CHECK(ref_valid_tag("_"));
	CHECK(ref_valid_tag("1.0-RC_2"));
	CHECK(!ref_valid_tag(""));
	CHECK(!ref_valid_tag(NULL));
	CHECK(!ref_valid_tag(".x"));
	CHECK(!ref_valid_tag("a/b"));
	CHECK(!ref_valid_tag("a+b"));
	CHECK(ref_valid_tag(T64 T64));
	CHECK(!ref_valid_tag(T64 T64 "t"));

	CHECK(ref_valid_path_component("a"));
	CHECK(ref_valid_path_component("a.b_c__d-e---f"));
	CHECK(ref_valid_path_component("0"));
	CHECK(!ref_valid_path_component(""));
	CHECK(!ref_valid_path_component("A"));
	CHECK(!ref_valid_path_component("a/b"));
	CHECK(!ref_valid_path_component("a___b"));
	CHECK(!ref_valid_path_component("a._b"));
	CHECK(!ref_valid_path_component(".a"));
	CHECK(!ref_valid_path_component("a-"));

	CHECK(ref_valid_domain("localhost"));
	CHECK(ref_valid_domain("localhost:5000"));
	CHECK(ref_valid_domain("a"));
	CHECK(ref_valid_domain("Reg-1.Example.COM:443"));
	CHECK(ref_valid_domain("[::1]"));
	CHECK(ref_valid_domain("[2001:DB8::1]:5000"));
	CHECK(!ref_valid_domain(""));
	CHECK(!ref_valid_domain(NULL));
	CHECK(!ref_valid_domain("a-"));
	CHECK(!ref_valid_domain("-a"));
	CHECK(!ref_valid_domain("a..b"));
	CHECK(!ref_valid_domain(".a"));
	CHECK(!ref_valid_domain("a."));
	CHECK(!ref_valid_domain("a:"));
	CHECK(!ref_valid_domain("a:5000x"));
	CHECK(!ref_valid_domain("a:b:1"));
	CHECK(!ref_valid_domain("[]"));
	CHECK(!ref_valid_domain("[::1"));
	CHECK(!ref_valid_domain("[::g]"));
	CHECK(!ref_valid_domain("a_b"));

	CHECK(ref_valid_digest("sha256:" H64));
	CHECK(ref_valid_digest("sha384:" H64 H32));
	CHECK(!ref_valid_digest("sha256:" H32));
	CHECK(!ref_valid_digest("sha1:" H32 "01234567"));
	CHECK(!ref_valid_digest("sha256"));
	CHECK(!ref_valid_digest(NULL));
}

static void test_auth_key(void)
{
	CHECK_STR(ref_auth_key("docker.io"), "https://index.docker.io/v1/");
	CHECK_STR(ref_auth_key("index.docker.io"),
		  "https://index.docker.io/v1/");
	CHECK_STR(ref_auth_key(NULL), "https://index.docker.io/v1/");
	CHECK_STR(ref_auth_key(""), "https://index.docker.io/v1/");
	CHECK_STR(ref_auth_key("registry-1.docker.io"), "registry-1.docker.io");
	CHECK_STR(ref_auth_key("localhost:5000"), "localhost:5000");
}

static void test_familiar_string(void)
{
	struct ref r = REF_INIT;
	struct error err = ERROR_INIT;
	char *s;

	CHECK(ref_parse(&r, "docker.io/library/busybox:1@sha256:" H64, NULL,
			&err) == 0);
	s = ref_familiar_string(&r);
	CHECK_STR(s, "busybox:1@sha256:" H64);
	free(s);
	ref_release(&r);
}

int main(void)
{
	RUN(test_table);
	RUN(test_roundtrip);
	RUN(test_error_without_what);
	RUN(test_validators);
	RUN(test_auth_key);
	RUN(test_familiar_string);
	return unit_summary();
}
