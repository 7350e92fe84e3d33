/*
 * Credential resolution (auth.c) and base64 (base64.c): environment pairs,
 * password files, config.json auths under every key form, identity tokens,
 * broken entries, credential helper output, and real helpers: small shell
 * scripts written to a scratch directory put first in PATH, with
 * DOCKER_CONFIG and HOME pointing into that directory.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "registry/auth.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/log.h"
#include "registry/ref.h"
#include "unit.h"

static char scratch[] = "/tmp/builder-test-auth-XXXXXX";
static char cfg_dir[256], home_dir[256], bin_dir[256];

/* The settings config.c would read from the environment; each test sets
 * what it needs after reset(). */
static struct auth_settings S;

static void write_file(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static void path_in(char *dst, size_t n, const char *dir, const char *name)
{
	snprintf(dst, n, "%s/%s", dir, name);
}

static void write_config(const char *json)
{
	char p[512];

	path_in(p, sizeof(p), cfg_dir, "config.json");
	if (json)
		write_file(p, json, 0600);
	else
		unlink(p);
}

/* A clean environment for each test: no credential variables, an empty
 * config directory. */
static void reset(void)
{
	memset(&S, 0, sizeof(S));
	S.docker_config = cfg_dir;
	S.home = home_dir;
	write_config(NULL);
}

/* Decodes an X-Registry-Auth style value (base64url, padded). */
static char *decode_url(const char *s)
{
	char *std = strdup(s), *out = NULL, *p;
	size_t len;

	for (p = std; *p; p++) {
		if (*p == '-')
			*p = '+';
		else if (*p == '_')
			*p = '/';
		else if (*p == '+' || *p == '/')
			*p = '!'; /* not URL-safe: make the decode fail */
	}
	if (base64_decode(std, strlen(std), &out, &len) < 0)
		out = NULL;
	free(std);
	return out;
}

/* --- base64 ------------------------------------------------------------- */

static void test_base64_vectors(void)
{
	static const char *const v[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = base64_encode(v[i][0], strlen(v[i][0])), *d = NULL;
		size_t n;
		struct buf b = BUF_INIT(BUF_TEXT_MAX);

		CHECK_STR(e, v[i][1]);
		CHECK(base64_decode(e, strlen(e), &d, &n) == 0);
		CHECK(n == strlen(v[i][0]) && !memcmp(d, v[i][0], n));
		CHECK(base64_encode_buf(&b, v[i][0], strlen(v[i][0])) == 0);
		CHECK_STR(buf_str(&b), v[i][1]);
		buf_release(&b);
		free(e);
		free(d);
	}
}

static void test_base64_url_and_decode(void)
{
	const unsigned char bin[] = { 0xfb, 0xff, 0xfe, 0x3e, 0x3f };
	char *e, *d = NULL;
	size_t n;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	e = base64url_encode(bin, sizeof(bin));
	CHECK_STR(e, "-__-Pj8=");
	free(e);
	e = base64_encode(bin, sizeof(bin));
	CHECK_STR(e, "+//+Pj8=");
	free(e);
	CHECK(base64url_encode_buf(&b, "{}", 2) == 0);
	CHECK_STR(buf_str(&b), "e30=");
	buf_release(&b);

	/* a buffer whose ceiling is too small */
	buf_init(&b, 3);
	CHECK(base64_encode_buf(&b, "abcd", 4) == -1);
	buf_release(&b);
	b = (struct buf)BUF_INIT(BUF_TEXT_MAX);

	/* long input crosses the encoder's internal chunks */
	{
		char big[2000];
		char *enc, *dec = NULL;

		memset(big, 'x', sizeof(big));
		CHECK(base64_encode_buf(&b, big, sizeof(big)) == 0);
		enc = base64_encode(big, sizeof(big));
		CHECK_STR(buf_str(&b), enc);
		CHECK(base64_decode(enc, strlen(enc), &dec, &n) == 0);
		CHECK(n == sizeof(big) && !memcmp(dec, big, n));
		free(enc);
		free(dec);
		buf_release(&b);
	}

	/* missing padding tolerated, newlines skipped */
	CHECK(base64_decode("Zm9vYg", 6, &d, &n) == 0);
	CHECK_STR(d, "foob");
	free(d);
	CHECK(base64_decode("Zm9v\r\nYmE=", 10, &d, &n) == 0);
	CHECK_STR(d, "fooba");
	free(d);
	CHECK(base64_decode("dTpwAA==", 8, &d, &n) == 0);
	CHECK(n == 4 && !memcmp(d, "u:p\0", 4));
	free(d);

	/* rejected */
	CHECK(base64_decode("Zm9v!", 5, &d, &n) == -1 && d == NULL);
	CHECK(base64_decode("Z", 1, &d, &n) == -1);
	CHECK(base64_decode("Zm9vY", 5, &d, &n) == -1);
	CHECK(base64_decode("Zg=", 3, &d, &n) == -1);
	CHECK(base64_decode("Zg===", 5, &d, &n) == -1);
	CHECK(base64_decode("Zm9v=", 5, &d, &n) == -1);
	CHECK(base64_decode("Zg==Zg==", 8, &d, &n) == -1);
	CHECK(base64_decode("-_8=", 4, &d, &n) == -1); /* URL alphabet */
	CHECK(base64_decode("Zm 9v", 5, &d, &n) == -1);
}

/* --- the environment ---------------------------------------------------- */

static void test_env_registry_user(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;

	reset();
	S.registry_user = "ci";
	S.registry_password = "p4ss";
	S.docker_user = "other"; /* lower precedence */
	S.docker_pass = "other";
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "ci");
	CHECK_STR(c.password, "p4ss");
	CHECK_STR(c.serveraddress, "localhost:5000");
	CHECK_STR(c.source, "REGISTRY_USER/REGISTRY_PASSWORD");
	CHECK(!auth_is_anonymous(&c));
	credential_release(&c);
	CHECK(c.username == NULL && c.password == NULL);

	/* Docker Hub gets the CLI's key */
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.serveraddress, "https://index.docker.io/v1/");
	credential_release(&c);
	err_clear(&err);
	CHECK(auth_resolve(&S, NULL, &c, &err) == 0);
	CHECK_STR(c.serveraddress, "https://index.docker.io/v1/");
	credential_release(&c);
	credential_release(NULL);
}

/* The environment's credentials go only to the registry pushed to. */
static void test_env_registry_only(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;

	reset();
	S.registry_user = "ci";
	S.registry_password = "p4ss";
	S.registry = "localhost:5000";
	write_config("{\"auths\":{\"ghcr.io\":{\"auth\":\"dTpw\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "ci");
	credential_release(&c);
	/* another registry: config.json's credentials, or none */
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK_STR(c.username, "u");
	credential_release(&c);
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	credential_release(&c);
	/* Docker Hub under any of its names */
	S.registry = "docker.io";
	err_clear(&err);
	CHECK(auth_resolve(&S, "index.docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "ci");
	credential_release(&c);
	reset();
}

/* config.c is the one reader of the environment: it fills cfg.auth, and
 * config_validate() says which registry the credentials are for. */
static void test_config_fills_settings(void)
{
	struct config cfg = CONFIG_INIT;
	struct error err = ERROR_INIT;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("REGISTRY_USER", "cfg-user", 1);
	setenv("REGISTRY_PASSWORD", "cfg-pass", 1);
	setenv("REGISTRY_PASSWORD_FILE", "", 1); /* empty: unset */
	setenv("DOCKERHUB_USERNAME", "hubname", 1);
	setenv("DOCKER_AUTH_CONFIG", "{}", 1);
	setenv("DOCKER_CONFIG", "/cfg/dir", 1);
	setenv("HOME", "/home/x", 1);
	setenv("ACCOUNT", "acme", 1);
	setenv("IMAGE", "app", 1);
	setenv("REGISTRY", "registry.example:5000", 1);
	CHECK(config_from_env(&cfg, &err) == 0);
	CHECK(config_validate(&cfg, &err) == 0);
	CHECK_STR(cfg.auth.registry_user, "cfg-user");
	CHECK_STR(cfg.auth.registry_password, "cfg-pass");
	CHECK(cfg.auth.registry_password_file == NULL);
	CHECK_STR(cfg.auth.dockerhub_username, "hubname");
	CHECK(cfg.auth.dockerhub_user == NULL);
	CHECK_STR(cfg.auth.docker_auth_config, "{}");
	CHECK_STR(cfg.auth.docker_config, "/cfg/dir");
	CHECK_STR(cfg.auth.home, "/home/x");
	CHECK_STR(cfg.auth.registry, "registry.example:5000");
	config_release(&cfg);

	/* no REGISTRY: Docker Hub */
	unsetenv("REGISTRY");
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_from_env(&cfg, &err) == 0);
	CHECK(config_validate(&cfg, &err) == 0);
	CHECK_STR(cfg.auth.registry, "docker.io");
	config_release(&cfg);

	unsetenv("REGISTRY_USER");
	unsetenv("REGISTRY_PASSWORD");
	unsetenv("REGISTRY_PASSWORD_FILE");
	unsetenv("DOCKERHUB_USERNAME");
	unsetenv("DOCKER_AUTH_CONFIG");
	unsetenv("DOCKER_CONFIG");
	unsetenv("ACCOUNT");
	unsetenv("IMAGE");
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

static void test_env_password_file(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;
	char p[512];

	reset();
	path_in(p, sizeof(p), scratch, "password");
	write_file(p, "s3cr:et\r\n\n", 0600);
	S.registry_user = "ci";
	S.registry_password_file = p;
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK_STR(c.password, "s3cr:et");
	CHECK_STR(c.source, "REGISTRY_USER/REGISTRY_PASSWORD_FILE");
	credential_release(&c);

	/* empty REGISTRY_PASSWORD counts as unset */
	S.registry_password = "";
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK_STR(c.password, "s3cr:et");
	credential_release(&c);

	write_file(p, "\n", 0600);
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "is empty") && strstr(err.msg, p));
	CHECK(c.username == NULL);

	path_in(p, sizeof(p), scratch, "no-such-file");
	S.registry_password_file = p;
	err_clear(&err);
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "cannot read REGISTRY_PASSWORD_FILE '") &&
	      strstr(err.msg, p) && strstr(err.msg, "No such file"));

	/* both forms of the password at once */
	S.registry_password = "p4ss";
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "both REGISTRY_PASSWORD and "
			      "REGISTRY_PASSWORD_FILE are set"));
	CHECK(!strstr(err.msg, "p4ss"));
}

/* Writes text to the FIFO at path from a child process, in 5-byte pieces
 * (as a pipe from another program would arrive). */
static pid_t fifo_writer(const char *path, const char *text, size_t repeat)
{
	pid_t pid = fork();

	if (pid == 0) {
		size_t len = strlen(text), i, done;
		int fd = open(path, O_WRONLY);

		signal(SIGPIPE, SIG_DFL);
		if (fd < 0)
			_exit(2);
		for (i = 0; i < repeat; i++)
			for (done = 0; done < len; done += 5) {
				size_t n = len - done < 5 ? len - done : 5;

				if (write(fd, text + done, n) != (ssize_t)n)
					_exit(3);
			}
		_exit(0);
	}
	return pid;
}

/* REGISTRY_PASSWORD_FILE=/dev/stdin or a FIFO: st_size says nothing, and
 * the ceiling is still 64 KiB, not the buffer's default. */
static void test_env_password_fifo(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;
	char p[512];
	pid_t pid;

	reset();
	path_in(p, sizeof(p), scratch, "password.fifo");
	CHECK(mkfifo(p, 0600) == 0);
	S.registry_user = "ci";
	S.registry_password_file = p;
	pid = fifo_writer(p, "fifo-s3cret-password\n", 1);
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	waitpid(pid, NULL, 0);
	CHECK_STR(c.password, "fifo-s3cret-password");
	CHECK_STR(c.source, "REGISTRY_USER/REGISTRY_PASSWORD_FILE");
	credential_release(&c);

	/* 70000 bytes through a FIFO: over the 64 KiB ceiling */
	pid = fifo_writer(p, "0123456789", 7000);
	err_clear(&err);
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "larger than 64 KiB"));
	CHECK(c.password == NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(p);
	reset();
}

static void test_env_half_pairs(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;

	reset();
	S.registry_user = "ci";
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "REGISTRY_USER is set but neither "
			      "REGISTRY_PASSWORD nor REGISTRY_PASSWORD_FILE"));

	reset();
	S.registry_password = "p4ss";
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "REGISTRY_PASSWORD is set but REGISTRY_USER "
			      "is not"));
	CHECK(!strstr(err.msg, "p4ss"));

	reset();
	S.docker_user = "ci";
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "DOCKER_USER is set but DOCKER_PASS is not"));

	reset();
	S.dockerhub_pass = "p4ss";
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "DOCKERHUB_PASS is set but DOCKERHUB_USER (or "
			      "DOCKERHUB_USERNAME) is not"));

	reset();
	S.dockerhub_username = "hub";
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "DOCKERHUB_USERNAME is set but DOCKERHUB_PASS"));
}

static void test_env_aliases(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;

	reset();
	S.docker_user = "du";
	S.docker_pass = "dp";
	S.dockerhub_user = "hu";
	S.dockerhub_pass = "hp";
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "du");
	CHECK_STR(c.source, "DOCKER_USER/DOCKER_PASS");
	credential_release(&c);

	S.docker_user = NULL;
	S.docker_pass = NULL;
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "hu");
	CHECK_STR(c.password, "hp");
	CHECK_STR(c.source, "DOCKERHUB_USER/DOCKERHUB_PASS");
	credential_release(&c);

	S.dockerhub_user = NULL;
	S.dockerhub_username = "hn";
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "hn");
	CHECK_STR(c.source, "DOCKERHUB_USERNAME/DOCKERHUB_PASS");
	credential_release(&c);

	/* the environment wins over config.json */
	write_config("{\"auths\":{\"https://index.docker.io/v1/\":"
		     "{\"auth\":\"Zm9vOmJhcg==\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "hn");
	credential_release(&c);
}

/* --- config.json text --------------------------------------------------- */

struct config_case {
	const char *json, *key;
	const char *user, *pass, *token; /* NULL user and token: anonymous */
	const char *source;
	const char *error; /* substring, when it must fail */
};

static const struct config_case config_cases[] = {
	/* exact keys; "dTpw" is base64 of "u:p" */
	{ "{\"auths\":{\"localhost:5000\":{\"auth\":\"dTpw\"}}}",
	  "localhost:5000", "u", "p", NULL,
	  "config.json auths 'localhost:5000'", NULL },
	{ "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", "u", "p", NULL,
	  "config.json auths 'https://index.docker.io/v1/'", NULL },
	{ "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
	  "https://index.docker.io/v1/", "u", "p", NULL, NULL, NULL },
	/* Docker Hub aliases */
	{ "{\"auths\":{\"docker.io\":{\"auth\":\"dTpw\"}}}", "docker.io", "u",
	  "p", NULL, "config.json auths 'docker.io'", NULL },
	{ "{\"auths\":{\"index.docker.io\":{\"auth\":\"dTpw\"}}}",
	  "index.docker.io", "u", "p", NULL, NULL, NULL },
	{ "{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", "u", "p", NULL, NULL, NULL },
	{ "{\"auths\":{\"https://index.docker.io/v2/\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", "u", "p", NULL,
	  "config.json auths 'https://index.docker.io/v2/'", NULL },
	/* the exact key beats an alias, wherever it is in the file */
	{ "{\"auths\":{\"docker.io\":{\"auth\":\"eDp5\"},"
	  "\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", "u", "p", NULL, NULL, NULL },
	/* URL keys match by host */
	{ "{\"auths\":{\"http://localhost:5000/v2/\":{\"auth\":\"dTpw\"}}}",
	  "localhost:5000", "u", "p", NULL,
	  "config.json auths 'http://localhost:5000/v2/'", NULL },
	{ "{\"auths\":{\"https://ghcr.io\":{\"auth\":\"dTpw\"}}}", "ghcr.io",
	  "u", "p", NULL, NULL, NULL },
	/* ... but not another host or port */
	{ "{\"auths\":{\"localhost:5001\":{\"auth\":\"dTpw\"}}}",
	  "localhost:5000", NULL, NULL, NULL, "none (anonymous)", NULL },
	{ "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
	  "ghcr.io", NULL, NULL, NULL, "none (anonymous)", NULL },
	/* an empty entry (as with a credsStore) falls through to an alias */
	{ "{\"auths\":{\"https://index.docker.io/v1/\":{},"
	  "\"index.docker.io\":{\"auth\":\"dTpw\"}}}",
	  "docker.io", "u", "p", NULL, "config.json auths 'index.docker.io'",
	  NULL },
	/* username/password fields, identity tokens */
	{ "{\"auths\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\"}}}",
	  "r.io", "u", "p", NULL, NULL, NULL },
	{ "{\"auths\":{\"r.io\":{\"identitytoken\":\"tok\"}}}", "r.io", NULL,
	  NULL, "tok", NULL, NULL },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTpw\",\"identitytoken\":\"tok\"}}"
	  "}",
	  "r.io", "u", "p", "tok", NULL, NULL },
	/* `auth` wins over the fields; split at the first ':'; NULs trimmed */
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTpwOnE=\",\"username\":\"x\"}}}",
	  "r.io", "u", "p:q", NULL, NULL, NULL },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTpwAAA\"}}}", "r.io", "u", "p",
	  NULL, NULL, NULL },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTo=\"}}}", "r.io", "u", "", NULL,
	  NULL, NULL },
	/* helpers are not run when run_helpers is 0 */
	{ "{\"credsStore\":\"nosuch\",\"credHelpers\":{\"r.io\":\"nosuch\"},"
	  "\"auths\":{\"r.io\":{\"auth\":\"dTpw\"}}}",
	  "r.io", "u", "p", NULL, NULL, NULL },
	{ "{}", "r.io", NULL, NULL, NULL, "none (anonymous)", NULL },
	{ "{\"auths\":null}", "r.io", NULL, NULL, NULL, NULL, NULL },
	/* broken */
	{ "{\"auths\":{\"r.io\":{\"auth\":\"not base64!\"}}}", "r.io", NULL,
	  NULL, NULL, NULL,
	  "'auth' of 'r.io' in config.json is not "
	  "valid base64" },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dXNlcnBhc3M=\"}}}", "r.io", NULL,
	  NULL, NULL, NULL, "is not base64 of 'user:password'" },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"OnA=\"}}}", "r.io", NULL, NULL,
	  NULL, NULL, "is not base64 of 'user:password'" },
	{ "{\"auths\":{\"r.io\":{\"auth\":\"dTpwAHE=\"}}}", "r.io", NULL, NULL,
	  NULL, NULL, "NUL byte" },
	{ "{\"auths\":{\"r.io\":{\"auth\":5}}}", "r.io", NULL, NULL, NULL, NULL,
	  "'auth' of 'r.io' in config.json is not a "
	  "string" },
	{ "{\"auths\":{\"r.io\":\"x\"}}", "r.io", NULL, NULL, NULL, NULL,
	  "'auths' entry 'r.io' in config.json is not "
	  "a JSON object" },
	{ "{\"auths\":[]}", "r.io", NULL, NULL, NULL, NULL,
	  "'auths' in config.json is not a JSON object" },
	{ "{\"auths\":{", "r.io", NULL, NULL, NULL, NULL,
	  "config.json is not valid JSON" },
	{ "[1]", "r.io", NULL, NULL, NULL, NULL, "is not a JSON object" },
	{ "", "r.io", NULL, NULL, NULL, NULL, "not valid JSON" },
};

static void test_config_text(void)
{
	size_t i;

	for (i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
		const struct config_case *t = &config_cases[i];
		struct credential c = CREDENTIAL_INIT;
		struct error err = ERROR_INIT;
		int ret = auth_from_config_text(t->json, t->key, 0, &c, &err);

		if (t->error) {
			if (ret != -1 || !strstr(err.msg, t->error) ||
			    err.code != EXIT_USAGE) {
				fprintf(stderr,
					"config case %zu: ret %d, '%s'"
					"\n",
					i, ret, err.msg);
				unit_failures_in_test++;
			}
			/* never the secret: "p" of "u:p" is too short to
			 * check, the others are not */
			CHECK(!strstr(err.msg, "userpass"));
			CHECK(c.username == NULL && c.serveraddress == NULL);
			continue;
		}
		if (ret != 0) {
			fprintf(stderr, "config case %zu: %s\n", i, err.msg);
			unit_failures_in_test++;
			continue;
		}
		CHECK_STR(c.username, t->user);
		CHECK_STR(c.password, t->pass);
		CHECK_STR(c.identitytoken, t->token);
		CHECK_STR(c.serveraddress, ref_auth_key(t->key));
		if (t->source)
			CHECK_STR(c.source, t->source);
		if (!t->user && !t->token)
			CHECK(auth_is_anonymous(&c));
		credential_release(&c);
	}
}

/* --- helper output ------------------------------------------------------ */

static void test_helper_output(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;
	const char *ok = "{\"ServerURL\":\"r.io\",\"Username\":\"u\","
			 "\"Secret\":\"s3cret\"}\n";
	const char *tok = "{\"ServerURL\":\"r.io\",\"Username\":\"<token>\","
			  "\"Secret\":\"t0ken\"}";

	err_clear(&err);
	CHECK(auth_parse_helper_output(ok, strlen(ok), &c, &err) == 0);
	CHECK_STR(c.username, "u");
	CHECK_STR(c.password, "s3cret");
	CHECK(c.identitytoken == NULL);
	CHECK(c.serveraddress == NULL); /* the caller's key, not ServerURL */

	/* replaces what was there */
	err_clear(&err);
	CHECK(auth_parse_helper_output(tok, strlen(tok), &c, &err) == 0);
	CHECK(c.username == NULL && c.password == NULL);
	CHECK_STR(c.identitytoken, "t0ken");
	credential_release(&c);

	/* nothing stored */
	err_clear(&err);
	CHECK(auth_parse_helper_output("{\"Username\":\"\",\"Secret\":\"\"}",
				       29, &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	err_clear(&err);
	CHECK(auth_parse_helper_output("{}", 2, &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));

	/* only len bytes are looked at */
	err_clear(&err);
	CHECK(auth_parse_helper_output(ok, 10, &c, &err) == -1);
	CHECK(strstr(err.msg, "not a JSON object"));
	CHECK(!strstr(err.msg, "s3cret"));

	err_clear(&err);
	CHECK(auth_parse_helper_output("credentials not found in native "
				       "keychain",
				       40, &c, &err) == -1);
	err_clear(&err);
	CHECK(auth_parse_helper_output("{\"Username\":\"u\"}", 16, &c, &err) ==
	      -1);
	CHECK(strstr(err.msg, "without a 'Secret'"));
	err_clear(&err);
	CHECK(auth_parse_helper_output("{\"Secret\":\"s3cret\"}", 19, &c,
				       &err) == -1);
	CHECK(strstr(err.msg, "without a 'Username'"));
	CHECK(!strstr(err.msg, "s3cret"));
	err_clear(&err);
	CHECK(auth_parse_helper_output("{\"Username\":1,\"Secret\":\"x\"}", 27,
				       &c, &err) == -1);
	CHECK(strstr(err.msg, "not a string"));
	CHECK(auth_is_anonymous(&c));
	credential_release(&c);
}

/* --- config.json on disk and real helpers ------------------------------- */

static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || exit 9\n"
	"cat > \"$(dirname \"$0\")/../stdin.last\"\n"
	"key=$(cat \"$(dirname \"$0\")/../stdin.last\")\n"
	"case \"$key\" in\n"
	"localhost:5000) printf '{\"ServerURL\":\"%s\",\"Username\":\"hu\","
	"\"Secret\":\"hs\"}\\n' \"$key\" ;;\n"
	"tok.example) printf '{\"ServerURL\":\"x\",\"Username\":\"<token>\","
	"\"Secret\":\"tk\"}' ;;\n"
	"https://index.docker.io/v1/) printf '{\"Username\":\"hub\","
	"\"Secret\":\"hubs\"}' ;;\n"
	"broken.example) printf '{\"ServerURL\":\"%s\",\"Username\":\"bu\","
	"\"Secret\":\"Br0ken-s3cret\"}\\n' \"$key\";"
	" echo 'Br0ken-s3cret' >&2; exit 3 ;;\n"
	"slow.example) exec sleep 10 ;;\n"
	"orphan.example) sleep 300 & echo $! > \"$(dirname "
	"\"$0\")/../orphan.pid\";"
	" exec sleep 10 ;;\n"
	"linger.example) sleep 300 & echo $! > \"$(dirname "
	"\"$0\")/../linger.pid\";"
	" printf '{\"Username\":\"lu\",\"Secret\":\"ls\"}' ;;\n"
	"big.example) head -c 70000 /dev/zero | tr '\\000' a ;;\n"
	"garbage.example) echo 'not json' ;;\n"
	"*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"esac\n";

static void read_stdin_last(char *dst, size_t n)
{
	char p[512];
	FILE *f;
	size_t got = 0;

	path_in(p, sizeof(p), scratch, "stdin.last");
	f = fopen(p, "r");
	if (f) {
		got = fread(dst, 1, n - 1, f);
		fclose(f);
	}
	dst[got] = '\0';
}

/* The pid written in scratch/name, or 0. */
static pid_t read_pid(const char *name)
{
	char p[512], text[32];
	FILE *f;
	size_t got = 0;

	path_in(p, sizeof(p), scratch, name);
	f = fopen(p, "r");
	if (f) {
		got = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[got] = '\0';
	return (pid_t)strtol(text, NULL, 10);
}

/* 1 while pid runs (a zombie counts as gone), waiting up to 2 s for it to
 * go. */
static int alive_after_wait(pid_t pid)
{
	struct timespec pause = { 0, 20000000 };
	int i;

	for (i = 0; i < 100; i++) {
		char p[64], stat[256];
		FILE *f;
		size_t got = 0;
		const char *paren;

		snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
		f = fopen(p, "r");
		if (!f)
			return 0;
		got = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[got] = '\0';
		paren = strrchr(stat, ')');
		if (!paren || paren[1] == '\0' || paren[2] == 'Z' ||
		    paren[2] == 'X')
			return 0;
		nanosleep(&pause, NULL);
	}
	return 1;
}

static void test_config_file(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;
	char p[512];

	/* no config.json at all */
	reset();
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	CHECK_STR(c.source, "none (anonymous)");
	CHECK_STR(c.serveraddress, "localhost:5000");
	credential_release(&c);

	write_config("{\"auths\":{\"localhost:5000\":{\"auth\":\"dTpw\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "u");
	CHECK_STR(c.source, "config.json auths 'localhost:5000'");
	credential_release(&c);

	/* DOCKER_AUTH_CONFIG first, config.json as the fallback */
	S.docker_auth_config = "{\"auths\":{\"localhost:5000\":"
			       "{\"auth\":\"eDp5\"}}}";
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "x");
	CHECK_STR(c.source, "DOCKER_AUTH_CONFIG auths 'localhost:5000'");
	credential_release(&c);
	S.docker_auth_config = "{\"auths\":{}}";
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "u");
	credential_release(&c);
	S.docker_auth_config = "{nope";
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == -1);
	CHECK(strstr(err.msg, "DOCKER_AUTH_CONFIG is not valid JSON"));
	S.docker_auth_config = NULL;

	/* broken config.json: named in the error */
	write_config("{\"auths\":");
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == -1);
	path_in(p, sizeof(p), cfg_dir, "config.json");
	CHECK(strstr(err.msg, p) && strstr(err.msg, "not valid JSON"));
	CHECK(err.code == EXIT_USAGE);

	/* an unreadable config.json (a directory) is an error too */
	write_config(NULL);
	mkdir(p, 0700);
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == -1);
	CHECK(strstr(err.msg, "cannot read docker config"));
	rmdir(p);

	/* without DOCKER_CONFIG: $HOME/.docker/config.json */
	S.docker_config = NULL;
	path_in(p, sizeof(p), home_dir, ".docker");
	mkdir(p, 0700);
	path_in(p, sizeof(p), home_dir, ".docker/config.json");
	write_file(p,
		   "{\"auths\":{\"https://index.docker.io/v1/\":"
		   "{\"auth\":\"aDpw\"}}}",
		   0600);
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "h");
	credential_release(&c);
	unlink(p);
	S.home = NULL;
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	credential_release(&c);
	reset();
}

static void test_helpers(void)
{
	struct credential c = CREDENTIAL_INIT;
	struct error err = ERROR_INIT;
	char got[256];
	double t0;
	pid_t pid;

	reset();
	/* credHelpers for one registry */
	write_config("{\"credHelpers\":{\"localhost:5000\":\"test\"},"
		     "\"auths\":{\"localhost:5000\":{\"auth\":\"dTpw\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "localhost:5000", &c, &err) == 0);
	CHECK_STR(c.username, "hu");
	CHECK_STR(c.password, "hs");
	CHECK_STR(c.serveraddress, "localhost:5000");
	CHECK_STR(c.source, "credential helper 'docker-credential-test'");
	read_stdin_last(got, sizeof(got));
	CHECK_STR(got, "localhost:5000"); /* no newline */
	credential_release(&c);

	/* credsStore for everything; the Hub key on stdin */
	write_config("{\"credsStore\":\"test\"}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "docker.io", &c, &err) == 0);
	CHECK_STR(c.username, "hub");
	read_stdin_last(got, sizeof(got));
	CHECK_STR(got, "https://index.docker.io/v1/");
	credential_release(&c);

	/* identity token */
	err_clear(&err);
	CHECK(auth_resolve(&S, "tok.example", &c, &err) == 0);
	CHECK_STR(c.identitytoken, "tk");
	CHECK(c.username == NULL);
	credential_release(&c);

	/* not found: anonymous, or the auths entry when there is one */
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	credential_release(&c);
	write_config("{\"credsStore\":\"test\",\"auths\":{\"ghcr.io\":"
		     "{\"auth\":\"dTpw\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK_STR(c.username, "u");
	credential_release(&c);

	/* credHelpers names a helper that has nothing: credsStore is not
	 * asked (as in the CLI), auths is */
	write_config("{\"credHelpers\":{\"ghcr.io\":\"test\"},"
		     "\"credsStore\":\"nosuch\"}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK(auth_is_anonymous(&c));
	credential_release(&c);

	/* a helper missing from PATH: warn, go on */
	write_config("{\"credsStore\":\"nosuch\",\"auths\":{\"ghcr.io\":"
		     "{\"auth\":\"dTpw\"}}}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == 0);
	CHECK_STR(c.username, "u");
	credential_release(&c);

	/* a failing helper that printed its answer anyway: its name, exit
	 * code and output size, never its output */
	write_config("{\"credsStore\":\"test\"}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "broken.example", &c, &err) == -1);
	CHECK(strstr(err.msg, "credential helper 'docker-credential-test' "
			      "(credsStore in '") &&
	      strstr(err.msg, "exit code 3"));
	CHECK(strstr(err.msg, "(72 bytes) is not shown"));
	CHECK(!strstr(err.msg, "Br0ken-s3cret"));
	CHECK(!strstr(err.msg, "\"bu\""));
	CHECK(c.username == NULL);
	err_clear(&err);
	CHECK(auth_resolve(&S, "garbage.example", &c, &err) == -1);
	CHECK(strstr(err.msg, "not a JSON object"));

	/* output over the cap */
	err_clear(&err);
	CHECK(auth_resolve(&S, "big.example", &c, &err) == -1);
	CHECK(strstr(err.msg, "more than 64 KiB"));

	/* a helper that hangs */
	S.helper_timeout = 0.5;
	t0 = now_seconds();
	err_clear(&err);
	CHECK(auth_resolve(&S, "slow.example", &c, &err) == -1);
	CHECK(strstr(err.msg, "did not answer"));
	CHECK(now_seconds() - t0 < 5);

	/* ... and what it started goes with it: its process group is
	 * killed */
	err_clear(&err);
	CHECK(auth_resolve(&S, "orphan.example", &c, &err) == -1);
	CHECK(strstr(err.msg, "did not answer"));
	pid = read_pid("orphan.pid");
	CHECK(pid > 0);
	if (pid > 0) {
		CHECK(!alive_after_wait(pid));
		kill(pid, SIGKILL);
	}

	/* a helper that answered and exited, leaving a child that holds its
	 * stdout: the answer counts, without waiting for the child */
	S.helper_timeout = 5;
	t0 = now_seconds();
	err_clear(&err);
	err_clear(&err);
	CHECK(auth_resolve(&S, "linger.example", &c, &err) == 0);
	CHECK_STR(c.username, "lu");
	CHECK_STR(c.password, "ls");
	CHECK(now_seconds() - t0 < 3);
	credential_release(&c);
	pid = read_pid("linger.pid");
	CHECK(pid > 0);
	if (pid > 0)
		kill(pid, SIGKILL);

	/* a helper name that is a path */
	write_config("{\"credsStore\":\"../../bin/sh\"}");
	err_clear(&err);
	CHECK(auth_resolve(&S, "ghcr.io", &c, &err) == -1);
	CHECK(strstr(err.msg, "invalid credential helper name"));

	/* run_helpers in auth_from_config_text */
	CHECK(auth_from_config_text("{\"credsStore\":\"test\"}",
				    "localhost:5000", 1, &c, &err) == 0);
	CHECK_STR(c.username, "hu");
	credential_release(&c);
	reset();
}

/* --- headers ------------------------------------------------------------ */

static void test_headers(void)
{
	struct credential a = CREDENTIAL_INIT, b = CREDENTIAL_INIT;
	struct credential anon = CREDENTIAL_INIT;
	const struct credential *all[4];
	char *h, *json;

	h = auth_header(&anon);
	CHECK_STR(h, "e30=");
	free(h);
	h = auth_header(NULL);
	CHECK_STR(h, "e30=");
	free(h);

	a.username = strdup("u\"1");
	a.password = strdup("p/?>~");
	a.serveraddress = strdup("localhost:5000");
	h = auth_header(&a);
	CHECK(!strpbrk(h, "+/"));
	json = decode_url(h);
	CHECK_STR(json, "{\"username\":\"u\\\"1\",\"password\":\"p/?>~\","
			"\"serveraddress\":\"localhost:5000\"}");
	auth_free_secret(json);
	auth_free_secret(h);

	b.identitytoken = strdup("tok");
	b.username = strdup("ignored");
	b.serveraddress = strdup("https://index.docker.io/v1/");
	h = auth_header(&b);
	json = decode_url(h);
	CHECK_STR(json, "{\"identitytoken\":\"tok\",\"serveraddress\":"
			"\"https://index.docker.io/v1/\"}");
	free(json);
	free(h);

	all[0] = &a;
	all[1] = &anon;
	all[2] = NULL;
	all[3] = &b;
	h = auth_registry_config(all, 4);
	json = decode_url(h);
	CHECK_STR(
		json,
		"{\"localhost:5000\":{\"username\":\"u\\\"1\","
		"\"password\":\"p/?>~\",\"serveraddress\":\"localhost:5000\"},"
		"\"https://index.docker.io/v1/\":{\"identitytoken\":\"tok\","
		"\"serveraddress\":\"https://index.docker.io/v1/\"}}");
	free(json);
	free(h);
	h = auth_registry_config(all + 1, 2);
	CHECK_STR(h, "e30=");
	free(h);
	h = auth_registry_config(NULL, 0);
	CHECK_STR(h, "e30=");
	free(h);

	credential_release(&a);
	credential_release(&b);
	CHECK(a.username == NULL && a.serveraddress == NULL);
}

int main(void)
{
	char p[512], path[8192];
	const char *old_path = getenv("PATH");

	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		return 2;
	}
	path_in(cfg_dir, sizeof(cfg_dir), scratch, "config");
	path_in(home_dir, sizeof(home_dir), scratch, "home");
	path_in(bin_dir, sizeof(bin_dir), scratch, "bin");
	mkdir(cfg_dir, 0700);
	mkdir(home_dir, 0700);
	mkdir(bin_dir, 0700);
	path_in(p, sizeof(p), bin_dir, "docker-credential-test");
	write_file(p, helper_script, 0755);
	snprintf(path, sizeof(path), "%s:%s", bin_dir,
		 old_path ? old_path : "/usr/bin:/bin");
	setenv("PATH", path, 1);

	RUN(test_base64_vectors);
	RUN(test_base64_url_and_decode);
	RUN(test_env_registry_user);
	RUN(test_env_registry_only);
	RUN(test_config_fills_settings);
	RUN(test_env_password_file);
	RUN(test_env_password_fifo);
	RUN(test_env_half_pairs);
	RUN(test_env_aliases);
	RUN(test_config_text);
	RUN(test_helper_output);
	RUN(test_config_file);
	RUN(test_helpers);
	RUN(test_headers);

	snprintf(path, sizeof(path), "rm -rf '%s'", scratch);
	if (system(path) != 0)
		fprintf(stderr, "could not remove %s\n", scratch);
	return unit_summary();
}
