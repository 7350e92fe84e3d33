/*
 * The pure parts of push.c: which registry errors are worth a retry, and
 * the digest in the engine's final status line.
 */
#include <string.h>

#include "pipeline/push.h"
#include "unit.h"

static const struct {
	const char *message;
	int transient;
} errors[] = {
	/* Recorded from the engine and the registry. */
	{ "unauthorized: authentication required", 0 },
	{ "no basic auth credentials", 0 },
	{ "denied: requested access to the resource is denied", 0 },
	{ "An image does not exist locally with the tag: x/y", 0 },
	{ "toomanyrequests: You have reached your pull rate limit", 1 },
	{ "Get \"http://127.0.0.1:9/v2/\": dial tcp 127.0.0.1:9: connect: "
	  "connection refused",
	  1 },
	{ "read tcp 10.0.0.2:5566->1.2.3.4:443: read: connection reset by peer",
	  1 },
	{ "received unexpected HTTP status: 500 Internal Server Error", 1 },
	{ "received unexpected HTTP status: 503 Service Unavailable", 1 },
	{ "net/http: TLS handshake timeout", 1 },
	{ "unexpected EOF", 1 },
	{ "blob upload unknown", 1 },
	/* Authentication wins over anything transient-looking. */
	{ "unauthorized: token expired (timeout)", 0 },
	{ "manifest invalid: manifest invalid", 0 },
	{ "", 0 },
};

static void test_transient(void)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		int got = push_error_is_transient(errors[i].message);

		if (got != errors[i].transient)
			fprintf(stderr, "  '%s': got %d\n", errors[i].message,
				got);
		CHECK(got == errors[i].transient);
	}
}

static void test_digest_from_status(void)
{
	static const char d[] =
		"sha256:b0367891a9b32f9fa4624289422acc79d757515a"
		"7cc20ec36c23834445fb4746";
	char out[128];

	CHECK(push_digest_from_status("1: digest: sha256:b0367891a9b32f9fa46242"
				      "89422acc79d757515a7cc20ec36c23834445fb47"
				      "46 size: 735",
				      out, sizeof(out)) == 0);
	CHECK_STR(out, d);
	CHECK(push_digest_from_status("latest: digest: sha256:ab size: 1", out,
				      sizeof(out)) == 0);
	CHECK_STR(out, "sha256:ab");
	CHECK(push_digest_from_status("Pushed", out, sizeof(out)) == -1);
	CHECK(push_digest_from_status("1: digest: md5:abc size: 1", out,
				      sizeof(out)) == -1);
	CHECK(push_digest_from_status("1: digest:  size: 1", out,
				      sizeof(out)) == -1);
	/* Too long for the buffer: refused, not truncated. */
	CHECK(push_digest_from_status("1: digest: sha256:0123456789 size: 1",
				      out, 10) == -1);
}

int main(void)
{
	RUN(test_transient);
	RUN(test_digest_from_status);
	return unit_summary();
}
