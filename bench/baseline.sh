#!/usr/bin/env bash
# baseline.sh: builder's job done the usual way, with the docker CLI.
#
#   ACCOUNT=acme IMAGE=app TAG=1 REGISTRY=host:port EXTRA_TAGS="latest" \
#   TEST_CMD=/tests/run.sh PUSH=true REGISTRY_USER=u REGISTRY_PASSWORD=p \
#   bash bench/baseline.sh CONTEXT
#
# The benchmark's reference point: the same variables builder reads, the
# same work (classic build, tests in the image, tags, login, push of every
# tag), each step one docker CLI command, as a CI script would have it.
# CACHE_FROM images are pulled and passed to --cache-from. The CLI gets a
# throwaway DOCKER_CONFIG so that the login neither uses nor changes the
# caller's. Exits on the first failing command.
set -euo pipefail

ctx=${1:-.}
: "${ACCOUNT:?ACCOUNT is not set}" "${IMAGE:?IMAGE is not set}"
tag=${TAG:-latest}
repo=${REGISTRY:+$REGISTRY/}$ACCOUNT/$IMAGE

DOCKER_CONFIG=$(mktemp -d "${TMPDIR:-/tmp}/baseline-docker.XXXXXX")
export DOCKER_CONFIG
trap 'rm -rf "$DOCKER_CONFIG"' EXIT

login() {
	[ -n "${REGISTRY_USER:-}" ] || return 0
	printf '%s' "${REGISTRY_PASSWORD:-}" |
		docker login --username "$REGISTRY_USER" --password-stdin \
			"${REGISTRY:-docker.io}" >/dev/null
}

cache_args=()
if [ -n "${CACHE_FROM:-}" ]; then
	login
	for image in ${CACHE_FROM//,/ }; do
		docker pull "$image" || true # a missing cache is not an error
		cache_args+=(--cache-from "$image")
	done
fi

DOCKER_BUILDKIT=0 docker build -t "$repo:$tag" \
	--label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--label "org.opencontainers.image.version=$tag" \
	${cache_args[@]+"${cache_args[@]}"} "$ctx"

if [ -n "${TEST_CMD:-}" ]; then
	docker run --rm --entrypoint sh "$repo:$tag" -c "$TEST_CMD"
fi

tags=("$tag")
extra=${EXTRA_TAGS:-}
for t in ${extra//,/ }; do
	docker tag "$repo:$tag" "$repo:$t"
	tags+=("$t")
done

if [ "${PUSH:-true}" = true ]; then
	login
	for t in "${tags[@]}"; do
		docker push "$repo:$t"
	done
fi
