#ifndef BUILDER_AUTH_H
#define BUILDER_AUTH_H

/*
 * Registry credentials: where they come from, and the two headers that
 * carry them to the engine.
 *
 * auth_resolve() looks for credentials for one registry domain; the first
 * source that has some wins:
 *
 *  1. the environment: REGISTRY_USER with REGISTRY_PASSWORD or
 *     REGISTRY_PASSWORD_FILE; then DOCKER_USER with DOCKER_PASS; then
 *     DOCKERHUB_USER (or DOCKERHUB_USERNAME) with DOCKERHUB_PASS. Empty
 *     variables count as unset; half a pair is an error. These apply to
 *     whichever domain is asked for.
 *  2. DOCKER_AUTH_CONFIG (JSON, its "auths" only), then the docker CLI's
 *     config.json in $DOCKER_CONFIG (default $HOME/.docker): credHelpers
 *     for the key, else credsStore, then "auths". Helpers are run as
 *     `docker-credential-<name> get` with the key on stdin; when the helper
 *     is missing from PATH (a warning) or has no credentials, "auths" is
 *     looked at next.
 *  3. nothing: anonymous.
 *
 * The key is what the docker CLI stores credentials under: Docker Hub is
 * "https://index.docker.io/v1/" (see ref_auth_key()), anything else its
 * host[:port]. In "auths", keys written as URLs ("https://host/v2/") match
 * their host, and for Docker Hub "docker.io", "index.docker.io" and
 * "registry-1.docker.io" are accepted as well.
 *
 * Secrets (username, password, identitytoken) are never logged nor put in
 * error messages, and are zeroed before their memory is freed. Errors are
 * EXIT_USAGE and name the variable, file or helper at fault.
 *
 *	struct credential cred = CREDENTIAL_INIT;
 *	if (auth_resolve(ref.domain, &cred, err) < 0)
 *		return -1;
 *	log_info("credentials: %s", cred.source);
 *	hdr = auth_header(&cred);   // X-Registry-Auth
 *	...
 *	credential_release(&cred);
 */

#include <stddef.h>

#include "util/error.h"

struct credential {
	char *username; /* secret */
	char *password; /* secret */
	char *identitytoken; /* secret; sent instead of username/password */
	char *serveraddress; /* the registry key looked up */
	char source[128]; /* where they came from, for logs: e.g.
			     "REGISTRY_USER/REGISTRY_PASSWORD_FILE",
			     "config.json auths 'localhost:5000'",
			     "credential helper 'docker-credential-pass'",
			     "none (anonymous)" */
};

#define CREDENTIAL_INIT                 \
	{                               \
		NULL, NULL, NULL, NULL, \
		{                       \
			0               \
		}                       \
	}

/* Fills out (which must be CREDENTIAL_INIT or released) with the
 * credentials for domain ("docker.io", "localhost:5000"; NULL means Docker
 * Hub). Finding nothing is not an error: out is then anonymous. */
int auth_resolve(const char *domain, struct credential *out, struct error *err);

/* The environment's credentials (REGISTRY_USER, DOCKER_USER, DOCKERHUB_USER
 * and their passwords) are for the registry being pushed to: once this is
 * called, auth_resolve() uses them only for that domain, and other
 * registries (base images, services, cache images) get config.json's
 * credentials or none. Before it, they apply to every domain. */
void auth_set_env_registry(const char *domain);

/* 1 when c carries no username, password nor identity token. */
int auth_is_anonymous(const struct credential *c);

/* The X-Registry-Auth value: base64url (padded) of
 * {"username","password","serveraddress"} or
 * {"identitytoken","serveraddress"}; "e30=" ({}) when anonymous. Owned;
 * holds a secret, so zero it before freeing (auth_free_secret()). */
char *auth_header(const struct credential *c);

/* The X-Registry-Config value for /build: base64url of
 * {serveraddress: {username, password, serveraddress}, ...} for the n
 * credentials (NULL and anonymous ones skipped; the first of a key wins).
 * Owned; holds secrets. */
char *auth_registry_config(const struct credential *const *creds, size_t n);

/* The same as whole header lines, "X-Registry-Auth: <value>" and
 * "X-Registry-Config: <value>", ready for engine_request.secret_headers.
 * Owned; free with auth_free_secret(). */
char *auth_header_line(const struct credential *c);
char *auth_registry_config_line(const struct credential *const *creds,
				size_t n);

/* Zeroes the secrets and frees everything; c is left as CREDENTIAL_INIT.
 * NULL is fine. */
void credential_release(struct credential *c);

/* Zeroes a NUL-terminated secret string and frees it. NULL is fine. */
void auth_free_secret(char *s);

/*
 * Looks key up in config.json text (pure but for helpers: they are run only
 * when run_helpers is non-zero, and skipped otherwise). key may be a domain
 * ("docker.io") or a key ("https://index.docker.io/v1/"). Returns 0 with out
 * filled, or anonymous when nothing matched; -1 when the text is not valid
 * JSON, a field has the wrong type, an `auth` is not valid base64 of
 * "user:password", or a helper fails.
 */
int auth_from_config_text(const char *json, const char *key, int run_helpers,
			  struct credential *out, struct error *err);

/*
 * Parses what `docker-credential-<name> get` printed:
 * {"ServerURL":"...","Username":"...","Secret":"..."}. Username "<token>"
 * makes Secret an identity token. Empty Username and Secret mean no
 * credentials (cred unchanged, 0 returned). Sets username/password or
 * identitytoken in cred, replacing what was there; leaves serveraddress and
 * source alone.
 */
int auth_parse_helper_output(const char *out, size_t len,
			     struct credential *cred, struct error *err);

/* How long a credential helper may run, in seconds (default 30). For tests. */
void auth_set_helper_timeout(double seconds);

#endif
