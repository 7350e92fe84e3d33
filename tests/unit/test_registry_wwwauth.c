/*
 * The WWW-Authenticate parser (wwwauth.c) and the client's pure helpers
 * (client.c: Retry-After, insecure registries, error bodies), table-driven.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/client.h"
#include "registry/wwwauth.h"
#include "unit.h"

struct www_case {
	const char *in;
	enum www_scheme scheme; /* WWW_NONE: an error is expected */
	const char *realm, *service, *scope, *error;
};

static const struct www_case cases[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
	  "docker.io\",scope=\"repository:library/busybox:pull\"",
	  WWW_BEARER, "https://auth.docker.io/token", "registry.docker.io",
	  "repository:library/busybox:pull", NULL },
	{ "Basic realm=\"Registry Realm\"", WWW_BASIC, "Registry Realm", NULL,
	  NULL, NULL },
	{ "basic realm=x", WWW_BASIC, "x", NULL, NULL, NULL },
	{ "BEARER REALM=\"http://127.0.0.1:1/t\" , Service=svc", WWW_BEARER,
	  "http://127.0.0.1:1/t", "svc", NULL, NULL },
	/* quoted-pair escapes, commas inside quotes */
	{ "Bearer realm=\"a\\\"b,c\",scope=\"repository:x:pull,push\"",
	  WWW_BEARER, "a\"b,c", NULL, "repository:x:pull,push", NULL },
	{ "Bearer realm=\"https://r/t\",error=\"insufficient_scope\"",
	  WWW_BEARER, "https://r/t", NULL, NULL, "insufficient_scope" },
	/* several challenges: Bearer wins whatever the order */
	{ "Basic realm=\"b\", Bearer realm=\"https://t\"", WWW_BEARER,
	  "https://t", NULL, NULL, NULL },
	{ "Bearer realm=\"https://t\", Basic realm=\"b\"", WWW_BEARER,
	  "https://t", NULL, NULL, NULL },
	{ "Negotiate abc==, Basic realm=\"b\"", WWW_BASIC, "b", NULL, NULL,
	  NULL },
	/* the first of a repeated parameter */
	{ "Bearer realm=\"https://1\",realm=\"https://2\"", WWW_BEARER,
	  "https://1", NULL, NULL, NULL },
	{ "Bearer realm=\"https://t\",unknown=1,service=s", WWW_BEARER,
	  "https://t", "s", NULL, NULL },
	/* errors */
	{ "Bearer service=x", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"\"", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "Digest realm=x", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"unterminated", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "Bearer realm=\"x\" junk", WWW_NONE, NULL, NULL, NULL, NULL },
	{ "=", WWW_NONE, NULL, NULL, NULL, NULL },
};

static void test_wwwauth_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct www_case *c = &cases[i];
		struct www_challenge ch = WWW_CHALLENGE_INIT;
		struct error err = ERROR_INIT;
		int r = wwwauth_parse(c->in, &ch, &err);

		if (c->scheme == WWW_NONE) {
			if (r != -1 || err.code != EXIT_PUSH)
				fprintf(stderr, "case %zu: '%s' parsed\n", i,
					c->in);
			CHECK(r == -1);
			CHECK(ch.scheme == WWW_NONE && !ch.realm);
			continue;
		}
		if (r != 0)
			fprintf(stderr, "case %zu: '%s': %s\n", i, c->in,
				err.msg);
		CHECK(r == 0);
		CHECK(ch.scheme == c->scheme);
		CHECK_STR(ch.realm, c->realm);
		CHECK_STR(ch.service, c->service);
		CHECK_STR(ch.scope, c->scope);
		CHECK_STR(ch.error, c->error);
		www_challenge_release(&ch);
	}
}

static void test_wwwauth_too_long(void)
{
	struct www_challenge ch = WWW_CHALLENGE_INIT;
	struct error err = ERROR_INIT;
	char *big = malloc(5000);

	memcpy(big, "Basic realm=", 12);
	memset(big + 12, 'a', 4987);
	big[4999] = '\0';
	CHECK(wwwauth_parse(big, &ch, &err) == -1);
	CHECK(strstr(err.msg, "longer than") != NULL);
	err_clear(&err); /* the first error sticks */
	CHECK(wwwauth_parse(NULL, &ch, &err) == -1);
	CHECK(strstr(err.msg, "missing") != NULL);
	free(big);
}

static void test_retry_after(void)
{
	CHECK(registry_retry_after(NULL) == -1);
	CHECK(registry_retry_after("") == -1);
	CHECK(registry_retry_after("2") == 2);
	CHECK(registry_retry_after(" 7 ") == 7);
	CHECK(registry_retry_after("0") == 0);
	CHECK(registry_retry_after("3600") == 60);
	CHECK(registry_retry_after("99999999999999999999999") == 60);
	CHECK(registry_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
	CHECK(registry_retry_after("5x") == -1);
}

static void test_insecure(void)
{
	struct strlist l = STRLIST_INIT;

	CHECK(registry_is_insecure("localhost:5000", NULL));
	CHECK(registry_is_insecure("localhost", NULL));
	CHECK(registry_is_insecure("127.0.0.1:5000", NULL));
	CHECK(registry_is_insecure("[::1]:5000", NULL));
	CHECK(!registry_is_insecure("127.example.com", NULL));
	CHECK(!registry_is_insecure("localhost.example.com:5000", NULL));
	CHECK(!registry_is_insecure("registry.example.com", NULL));
	strlist_push(&l, "registry.example.com:5000");
	strlist_push(&l, "plain.example.com");
	CHECK(registry_is_insecure("registry.example.com:5000", &l));
	CHECK(!registry_is_insecure("registry.example.com", &l));
	CHECK(!registry_is_insecure("registry.example.com:5001", &l));
	CHECK(registry_is_insecure("plain.example.com:8080", &l));
	CHECK(registry_is_insecure("PLAIN.example.com", &l));
	strlist_clear(&l);
}

static void test_error_text(void)
{
	char out[256];
	const char *b1 = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\","
			 "\"message\":\"manifest unknown\"},{\"code\":\"X\","
			 "\"message\":\"y\"}]}";
	const char *b2 = "<html>\n<b>bad gateway</b></html>";

	registry_error_text(b1, strlen(b1), 404, out, sizeof(out));
	CHECK_STR(out, "MANIFEST_UNKNOWN: manifest unknown; X: y");
	registry_error_text(b2, strlen(b2), 502, out, sizeof(out));
	CHECK_STR(out, "<html> <b>bad gateway</b></html>");
	registry_error_text(NULL, 0, 503, out, sizeof(out));
	CHECK_STR(out, "HTTP 503");
	registry_error_text("{\"errors\":5}", 12, 400, out, sizeof(out));
	CHECK_STR(out, "{\"errors\":5}");
	registry_error_text(b1, strlen(b1), 404, out, 10);
	CHECK(strlen(out) <= 9);
}

int main(void)
{
	RUN(test_wwwauth_table);
	RUN(test_wwwauth_too_long);
	RUN(test_retry_after);
	RUN(test_insecure);
	RUN(test_error_text);
	return unit_summary();
}
