#!/bin/sh
# run.sh: run builder from its image against the caller's Docker engine.
#
#   ACCOUNT=acme IMAGE=app ./run.sh [builder options] [CONTEXT]
#
# The current directory is mounted at /app, builder's working directory,
# so CONTEXT, DOCKERFILE, REPORT, SUMMARY, SAVE and TEST_RESULTS' LOCAL_DIR
# are paths relative to it; GITHUB_STEP_SUMMARY and GITHUB_OUTPUT are
# mounted where they are. The engine is the one DOCKER_HOST names
# (default: the local socket), ~/.docker (or DOCKER_CONFIG) is mounted
# read-only for push credentials, and every builder and CI variable that
# is set is passed by name, so no value, secret or not, appears on a
# command line. builder's exit code is ours.
#
# BUILDER_IMAGE picks the image (default: builder:latest). POSIX sh, so it
# runs in job images without bash (docker:cli, Alpine).
set -eu

image=${BUILDER_IMAGE:-builder:latest}

die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 2
}

command -v docker >/dev/null 2>&1 ||
	die "the docker CLI is not installed; builder's image needs it to start"

# Options for `docker run` are appended after the caller's arguments and
# rotated to the front at the end: POSIX sh has no arrays.
nargs=$#
set -- "$@" run --rm

# builder is PID 1 and handles SIGINT and SIGTERM itself, cleaning up its
# containers: no --init. Without a terminal docker proxies signals to it
# (--sig-proxy defaults to true); with -t it does too, and Ctrl-C in the
# terminal reaches docker. -t only when both ends are a terminal, so piped
# or CI output is not mangled into CRLF lines.
if [ -t 0 ] && [ -t 1 ]; then
	set -- "$@" -t
fi

# --- the engine ----------------------------------------------------------------
docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
case $docker_host in
unix://*)
	sock=${docker_host#unix://}
	[ -S "$sock" ] || die "no engine socket at '$sock'; start dockerd or set DOCKER_HOST"
	# Inside, the socket is always at the default path.
	set -- "$@" -v "$sock:/var/run/docker.sock"
	;;
tcp://*)
	set -- "$@" -e DOCKER_HOST
	[ -z "${DOCKER_TLS_VERIFY+x}" ] || set -- "$@" -e DOCKER_TLS_VERIFY
	[ -z "${DOCKER_TLS+x}" ] || set -- "$@" -e DOCKER_TLS
	# The docker CLI's default certificate directory is ~/.docker.
	certs=${DOCKER_CERT_PATH:-}
	if [ -z "$certs" ] && [ -n "${DOCKER_TLS_VERIFY:-}" ]; then
		certs=${HOME:-}/.docker
	fi
	if [ -n "$certs" ]; then
		[ -d "$certs" ] || die "DOCKER_CERT_PATH '$certs' is not a directory"
		set -- "$@" -v "$certs:/certs:ro" -e DOCKER_CERT_PATH=/certs
	fi
	# An engine on the host's loopback is only reachable from the host's
	# network namespace.
	hostport=${docker_host#tcp://}
	case $hostport in
	localhost:* | localhost | 127.* | \[::1\]*)
		set -- "$@" --network host
		;;
	esac
	;;
*)
	die "DOCKER_HOST '$docker_host' is not unix:// or tcp://; ssh:// and npipe:// are not supported"
	;;
esac

# --- credentials and configuration -------------------------------------------
# The image is FROM scratch: nothing sets HOME unless we do.
set -- "$@" -e HOME=/root
config=${DOCKER_CONFIG:-${HOME:-}/.docker}
if [ -d "$config" ]; then
	set -- "$@" -v "$config:/root/.docker:ro" -e DOCKER_CONFIG=/root/.docker
fi

if [ -n "${REGISTRY_PASSWORD_FILE:-}" ]; then
	pwfile=$REGISTRY_PASSWORD_FILE
	case $pwfile in
	/*) ;;
	*) pwfile=$PWD/$pwfile ;;
	esac
	[ -f "$pwfile" ] || die "REGISTRY_PASSWORD_FILE '$REGISTRY_PASSWORD_FILE' is not a file"
	set -- "$@" -v "$pwfile:/run/secrets/registry_password:ro" \
		-e REGISTRY_PASSWORD_FILE=/run/secrets/registry_password
fi

# GitHub's event file (the pull request's head, the default branch) lives
# outside the mounted directory.
if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
	set -- "$@" -v "$GITHUB_EVENT_PATH:/run/github-event.json:ro" \
		-e GITHUB_EVENT_PATH=/run/github-event.json
fi

# builder's own variables, then the CI systems' (tag and source labels).
for name in ACCOUNT IMAGE TAG REGISTRY EXTRA_TAGS CONTEXT DOCKERFILE \
	BUILD_ARGS TARGET LABELS CACHE_FROM PULL NO_CACHE BUILDER PLATFORM \
	TEST_CMD TEST_ENV TEST_SERVICES TEST_TIMEOUT TEST_RESULTS \
	TEST_COMPOSE HOOKS SOURCE_BRANCH SOURCE_COMMIT COMMIT_MSG DOCKER_REPO \
	DOCKER_TAG IMAGE_NAME DOCKERFILE_PATH BUILD_PATH GITHUB_HEAD_REF \
	GITHUB_REF_NAME CI_COMMIT_TAG CI_COMMIT_REF_NAME CI_COMMIT_MESSAGE \
	CIRCLE_TAG CIRCLE_BRANCH bamboo_planRepository_branchName \
	PUSH PUSH_RETRIES REPORT SUMMARY SAVE DOCKER_API_VERSION \
	INSECURE_REGISTRIES \
	REGISTRY_USER REGISTRY_PASSWORD DOCKER_USER DOCKER_PASS \
	DOCKERHUB_USER DOCKERHUB_USERNAME DOCKERHUB_PASS DOCKER_AUTH_CONFIG \
	CI CIRCLE_BUILD_NUM CIRCLE_SHA1 CIRCLE_REPOSITORY_URL \
	bamboo_buildNumber bamboo_planRepository_revision \
	bamboo_planRepository_repositoryUrl \
	GITHUB_RUN_NUMBER GITHUB_SHA GITHUB_SERVER_URL GITHUB_REPOSITORY \
	CI_PIPELINE_IID CI_COMMIT_SHA CI_PROJECT_URL \
	TAGS BRANCH GIT_TAG COMMIT_SHA PR_NUMBER DEFAULT_BRANCH BUILD_NUMBER \
	SOURCE_DATE_EPOCH GITHUB_ACTIONS GITHUB_REF GITHUB_REF_NAME \
	GITHUB_REF_TYPE GITHUB_HEAD_REF GITLAB_CI CI_COMMIT_TAG \
	CI_COMMIT_BRANCH CI_MERGE_REQUEST_IID \
	CI_MERGE_REQUEST_SOURCE_BRANCH_NAME CI_MERGE_REQUEST_SOURCE_BRANCH_SHA \
	CI_DEFAULT_BRANCH CI_PROJECT_NAME CIRCLECI CIRCLE_TAG CIRCLE_BRANCH \
	CIRCLE_PR_NUMBER CIRCLE_PROJECT_REPONAME bamboo_buildKey \
	bamboo_planRepository_branchName bamboo_repository_pr_key \
	bamboo_repository_pr_sourceBranch SOURCE_BRANCH SOURCE_COMMIT; do
	# Only the name: docker reads the value from our environment.
	eval "isset=\${$name+x}"
	[ -z "$isset" ] || set -- "$@" -e "$name"
done

# GitHub Actions' job summary and step outputs are files of the runner
# outside the checkout: each is mounted at its own path (created first, or
# docker would make a directory there) for builder to append to.
for name in GITHUB_STEP_SUMMARY GITHUB_OUTPUT; do
	eval "file=\${$name:-}"
	[ -n "$file" ] || continue
	case $file in
	/*)
		[ -e "$file" ] || : >>"$file"
		set -- "$@" -v "$file:$file" -e "$name"
		;;
	*) set -- "$@" -e "$name" ;;
	esac
done

set -- "$@" -v "$PWD:/app" -w /app "$image"

# Rotate the caller's arguments from the front to the end.
while [ "$nargs" -gt 0 ]; do
	set -- "$@" "$1"
	shift
	nargs=$((nargs - 1))
done

exec docker "$@"
