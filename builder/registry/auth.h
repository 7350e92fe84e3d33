#ifndef BUILDER_AUTH_H
#define BUILDER_AUTH_H

/*
 * Registry credentials: where they come from, and the two headers that
 * carry them to the engine.
 *
 * auth_resolve() looks for credentials for one registry domain, in the
 * settings that config.c read from the environment (struct auth_settings:
 * auth.c itself reads no variable); the first source that has some wins:
 *
 *  1. the environment: REGISTRY_USER with REGISTRY_PASSWORD or
 *     REGISTRY_PASSWORD_FILE; then DOCKER_USER with DOCKER_PASS; then
 *     DOCKERHUB_USER (or DOCKERHUB_USERNAME) with DOCKERHUB_PASS. Empty
 *     variables count as unset; half a pair is an error. These apply only
 *     to the registry being pushed to (settings->registry).
 *  2. DOCKER_AUTH_CONFIG (JSON, its "auths" only), then the docker CLI's
 *     config.json in $DOCKER_CONFIG (default $HOME/.docker): credHelpers
 *     for the key, else credsStore, then "auths". Helpers are run as
 *     `docker-credential-<name> get` with the key on stdin, in a process
 *     group of their own that is killed on a timeout or a signal; nothing
 *     they print is ever shown. When the helper is missing from PATH (a
 *     warning) or has no credentials, "auths" is looked at next.
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
 *	if (auth_resolve(&cfg->auth, ref.domain, &cred, err) < 0)
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

/*
 * The credential settings: what config.c read from the environment, as
 * auth_resolve() uses it. Each string is NULL when the variable is unset
 * (auth_resolve() takes "" as unset too). The strings are borrowed: config
 * points them at the environment's own, which live as long as the process,
 * so no copy of a secret is made here that would need wiping.
 */
struct auth_settings {
	const char *registry_user; /* REGISTRY_USER */
	const char *registry_password; /* REGISTRY_PASSWORD, secret */
	const char *registry_password_file; /* REGISTRY_PASSWORD_FILE */
	const char *docker_user; /* DOCKER_USER */
	const char *docker_pass; /* DOCKER_PASS, secret */
	const char *dockerhub_user; /* DOCKERHUB_USER */
	const char *dockerhub_username; /* DOCKERHUB_USERNAME */
	const char *dockerhub_pass; /* DOCKERHUB_PASS, secret */
	const char *docker_auth_config; /* DOCKER_AUTH_CONFIG, secrets */
	const char *docker_config; /* DOCKER_CONFIG */
	const char *home; /* HOME */
	/* The registry the environment's credentials are for: the one pushed
	 * to (set by config_validate()). For any other domain (base images,
	 * services, cache images) auth_resolve() skips them and uses
	 * config.json's credentials or none: the job's registry password is
	 * never sent to another registry. NULL: they apply to every domain. */
	const char *registry;
	/* How long a credential helper may run, in seconds; 0 means
	 * AUTH_HELPER_TIMEOUT. */
	double helper_timeout;
};

#define AUTH_HELPER_TIMEOUT 30.0

#define AUTH_SETTINGS_INIT \
	{                  \
		NULL       \
	}

/* Fills out (which must be CREDENTIAL_INIT or released) with the
 * credentials for domain ("docker.io", "localhost:5000"; NULL means Docker
 * Hub) found in s. Finding nothing is not an error: out is then
 * anonymous. */
int auth_resolve(const struct auth_settings *s, const char *domain,
		 struct credential *out, struct error *err);

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

/* Copies src into dst (empty): for a second user of credentials that were
 * resolved once (a password file or /dev/stdin can be read only once). */
void credential_copy(struct credential *dst, const struct credential *src);

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

#endif
