#!/usr/bin/env bash
# builder promote and builder merge: the distribution API spoken to the
# registry directly (builder/registry/client.c), no engine in between.
# The test registry (htpasswd) is the main one; a second registry without
# authentication is started by the tests that copy between registries;
# tests/registry-proxy.c stands in front to count requests, corrupt a
# blob, answer 429, or play a Bearer token server.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

PROXY=$REPO_ROOT/build/registry-proxy
PROXY_SRC=$REPO_ROOT/tests/registry-proxy.c
if [ ! -x "$PROXY" ] || [ "$PROXY_SRC" -nt "$PROXY" ]; then
	mkdir -p "$(dirname "$PROXY")"
	${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wpedantic -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
		-Wvla -fno-common -o "$PROXY.$$" "$PROXY_SRC" && mv "$PROXY.$$" "$PROXY"
fi
# Debian's docker CLI has BuildKit's --platform built in (see
# docs/test-environment.md); the image's newer one lacks buildx.
DOCKER_DEB=/usr/bin/docker

# proxy_start RULE...: the proxy in front of the test registry; sets
# PROXY_ADDR; its request log is $T_DIR/proxy.log.
proxy_start() {
	local _
	rm -f "$T_DIR/proxy.port"
	"$PROXY" --port-file "$T_DIR/proxy.port" --log "$T_DIR/proxy.log" \
		"$REGISTRY_ADDR" "$@" 2>"$T_DIR/proxy.err" &
	for _ in $(seq 100); do
		if [ -s "$T_DIR/proxy.port" ]; then
			PROXY_ADDR=127.0.0.1:$(cat "$T_DIR/proxy.port")
			return 0
		fi
		sleep 0.05
	done
	cat "$T_DIR/proxy.err" >&2
	t_fail "the registry proxy did not start"
}

# reg2_start: a second registry, no authentication; sets REG2.
reg2_start() {
	local port _
	mkdir -p "$T_DIR/reg2"
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		cat >"$T_DIR/reg2/config.yml" <<EOC
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $T_DIR/reg2/data
http:
  addr: 127.0.0.1:$port
EOC
		docker-registry serve "$T_DIR/reg2/config.yml" >"$T_DIR/reg2/log" 2>&1 &
		for _ in $(seq 50); do
			if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; then
				REG2=127.0.0.1:$port
				return 0
			fi
			sleep 0.1
		done
	done
	cat "$T_DIR/reg2/log" >&2
	t_fail "the second registry did not start"
}

# login_config: config.json with the test registry's credentials, so that
# builder reads them for a registry that is not the target's.
login_config() {
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY_ADDR" \
		"$(printf '%s:%s' "$REGISTRY_USER_T" "$REGISTRY_PASS_T" | base64 -w0)" \
		>"$DOCKER_CONFIG/config.json"
}

# push_image NAME:TAG [BYTES]: a one-layer image of its own content
# (FROM scratch, BYTES of random bytes, default 64 KiB), pushed to the test
# registry by the engine.
push_image() {
	local ref=$REGISTRY_ADDR/t$T_UNIQ/$1 dir=$T_DIR/img.$RANDOM
	mkdir -p "$dir"
	printf 'FROM scratch\nCOPY f /f\n' >"$dir/Dockerfile"
	head -c "${2:-65536}" /dev/urandom >"$dir/f"
	login_config
	DOCKER_BUILDKIT=1 "$DOCKER_DEB" build -q -t "$ref" "$dir" >/dev/null
	"$DOCKER_DEB" push "$ref" >/dev/null
}

# push_platform NAME:TAG PLATFORM: a FROM scratch image built for PLATFORM.
push_platform() {
	local ref=$REGISTRY_ADDR/t$T_UNIQ/$1 dir=$T_DIR/img.$RANDOM
	mkdir -p "$dir"
	printf 'FROM scratch\nCOPY f /f\n' >"$dir/Dockerfile"
	echo "$1 $2 $T_UNIQ" >"$dir/f"
	login_config
	DOCKER_BUILDKIT=1 "$DOCKER_DEB" build -q --platform "$2" -t "$ref" "$dir" >/dev/null
	"$DOCKER_DEB" push "$ref" >/dev/null
}

# manifest ADDR REPO REF [USER:PASS]: the manifest body.
manifest() {
	curl -sf ${4:+-u "$4"} \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$1/v2/$2/manifests/$3"
}

# digest_at ADDR REPO REF [USER:PASS]: Docker-Content-Digest of a manifest.
digest_at() {
	curl -sfI ${4:+-u "$4"} \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$1/v2/$2/manifests/$3" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

AUTH() { echo "$REGISTRY_USER_T:$REGISTRY_PASS_T"; }

t_promote_mount() {
	need_builder
	push_image src:1
	proxy_start
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" \
		"$PROXY_ADDR/t$T_UNIQ/rel:1.0" "$PROXY_ADDR/t$T_UNIQ/rel:stable"
	src=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/src" 1 "$(AUTH)")
	[ -n "$src" ] || t_fail "no source digest"
	assert_eq "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/rel" 1.0 "$(AUTH)")" "$src" "rel:1.0"
	assert_eq "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/rel" stable "$(AUTH)")" "$src" "rel:stable"
	assert_contains "$STDOUT" "$PROXY_ADDR/t$T_UNIQ/rel:1.0@$src"
	assert_contains "$STDOUT" "$PROXY_ADDR/t$T_UNIQ/rel:stable@$src"
	cat "$T_DIR/proxy.log"
	# two blobs (config, layer) mounted once, then present; no upload
	assert_eq "$(grep -c 'POST /v2/t.*/blobs/uploads/?mount=' "$T_DIR/proxy.log")" 2 "mounts"
	assert_not_contains "$T_DIR/proxy.log" "PATCH "
	assert_not_contains "$T_DIR/proxy.log" "GET /v2/t$T_UNIQ/src/blobs/"
	! grep -E 'PUT /v2/[^ ]*/blobs/uploads/' "$T_DIR/proxy.log" ||
		t_fail "a blob was uploaded"
	assert_contains "$STDERR" "2 mounted, 0 copied"
}

t_promote_across() {
	need_builder
	# larger than the copy's 4 MiB buffer, so that both sides pause
	push_image src:1 $((11 * 1024 * 1024))
	reg2_start
	login_config
	assert_exit 0 "$BUILDER_BIN" promote "$REGISTRY_ADDR/t$T_UNIQ/src:1" \
		"$REG2/other/app:rel"
	src=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/src" 1 "$(AUTH)")
	assert_eq "$(digest_at "$REG2" other/app rel)" "$src" "target digest"
	assert_contains "$STDERR" "2 copied"
	# every blob's bytes hash to its digest on the target
	for d in $(manifest "$REG2" other/app rel | jq -r '.config.digest, .layers[].digest'); do
		got=sha256:$(curl -sf "http://$REG2/v2/other/app/blobs/$d" | sha256sum | cut -d' ' -f1)
		assert_eq "$got" "$d" "blob"
	done
	# again: everything is there, only the manifest is PUT
	assert_exit 0 "$BUILDER_BIN" promote "$REGISTRY_ADDR/t$T_UNIQ/src:1" \
		"$REG2/other/app:rel2"
	assert_contains "$STDERR" "2 present, 0 mounted, 0 copied"
}

t_promote_corrupt() {
	need_builder
	push_image a:1
	push_image b:1
	reg2_start
	login_config
	assert_exit 0 "$BUILDER_BIN" promote "$REGISTRY_ADDR/t$T_UNIQ/a:1" "$REG2/x/app:live"
	good=$(digest_at "$REG2" x/app live)
	[ -n "$good" ] || t_fail "no first promotion"
	proxy_start --corrupt "/blobs/sha256:"
	# credentials for the proxy's address, which is the source here
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$PROXY_ADDR" \
		"$(printf '%s:%s' "$REGISTRY_USER_T" "$REGISTRY_PASS_T" | base64 -w0)" \
		>"$DOCKER_CONFIG/config.json"
	assert_exit 5 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/b:1" "$REG2/x/app:live"
	assert_contains "$STDERR" "altered in transit"
	assert_contains "$T_DIR/proxy.log" "corrupted"
	assert_eq "$(digest_at "$REG2" x/app live)" "$good" "the tag moved"
}

t_merge_platforms() {
	need_builder
	push_platform app:1-amd64 linux/amd64
	push_platform app:1-arm64 linux/arm64
	login_config
	R=$REGISTRY_ADDR/t$T_UNIQ
	assert_exit 0 "$BUILDER_BIN" merge --extra-tag latest "$R/app:1" "$R/app:1-amd64" "$R/app:1-arm64"
	amd=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" 1-amd64 "$(AUTH)")
	arm=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" 1-arm64 "$(AUTH)")
	idx=$(manifest "$REGISTRY_ADDR" "t$T_UNIQ/app" 1 "$(AUTH)")
	echo "$idx"
	assert_eq "$(echo "$idx" | jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest')" "$amd" amd64
	assert_eq "$(echo "$idx" | jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest')" "$arm" arm64
	assert_eq "$(echo "$idx" | jq -r '.manifests | length')" 2 entries
	index=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" 1 "$(AUTH)")
	assert_eq "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" latest "$(AUTH)")" "$index" latest
	assert_contains "$STDOUT" "$R/app:1@$index"
	# the engine resolves each platform to its own image
	for p in amd64 arm64; do
		"$DOCKER_DEB" pull -q --platform "linux/$p" "$R/app:1" >/dev/null
		assert_eq "$(docker image inspect -f '{{.Architecture}}' "$R/app:1")" "$p" "pulled"
		docker rmi -f "$R/app:1" >/dev/null
	done
	# an index is a source too: merged further, with a third platform
	push_platform app:1-arm linux/arm/v7
	assert_exit 0 "$BUILDER_BIN" merge "$R/app:2" "$R/app:1" "$R/app:1-arm"
	assert_eq "$(manifest "$REGISTRY_ADDR" "t$T_UNIQ/app" 2 "$(AUTH)" | jq -r '[.manifests[].platform | .os+"/"+.architecture+(.variant // "" | if . == "" then "" else "/"+. end)] | sort | join(",")')" \
		"linux/amd64,linux/arm/v7,linux/arm64" platforms
	# and promoted, index and all, to another registry
	reg2_start
	assert_exit 0 "$BUILDER_BIN" promote "$R/app:2" "$REG2/multi/app:2"
	assert_eq "$(digest_at "$REG2" multi/app 2)" "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" 2 "$(AUTH)")" "index copied"
	assert_eq "$(digest_at "$REG2" multi/app "$arm")" "$arm" "child manifest copied"
	assert_contains "$STDERR" "3 child manifests"
}

t_merge_duplicate() {
	need_builder
	push_platform app:a linux/amd64
	push_platform app:b linux/amd64
	login_config
	R=$REGISTRY_ADDR/t$T_UNIQ
	assert_exit 2 "$BUILDER_BIN" merge "$R/app:1" "$R/app:a" "$R/app:b"
	assert_contains "$STDERR" "sources '$R/app:a' and '$R/app:b' are both linux/amd64"
	[ -z "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/app" 1 "$(AUTH)")" ] ||
		t_fail "an index was pushed"
}

t_usage() {
	need_builder
	assert_exit 2 "$BUILDER_BIN" promote localhost:5000/a:1
	assert_contains "$STDERR" "needs at least two image references"
	assert_exit 2 "$BUILDER_BIN" promote localhost:5000/a:1 "localhost:5000/b@sha256:$(printf '%064d' 0)"
	assert_contains "$STDERR" "names a digest"
	assert_exit 2 "$BUILDER_BIN" merge localhost:5000/a:1 Bad/Name
	PLATFORM=linux assert_exit 2 "$BUILDER_BIN" merge localhost:5000/a:1 localhost:5000/b:1
	assert_contains "$STDERR" "PLATFORM 'linux' is not a platform"
	INSECURE_REGISTRIES=http://x assert_exit 2 "$BUILDER_BIN" merge localhost:5000/a:1 localhost:5000/b:1
	assert_contains "$STDERR" "INSECURE_REGISTRIES entry 'http://x' is not a registry host"
}

t_ratelimit() {
	need_builder
	push_image src:1
	proxy_start --header "ratelimit-remaining: 3;w=21600"
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/rel:1"
	assert_contains "$STDERR" "rate limit: 3 pulls left"
	[ "$(grep -c 'rate limit' "$STDERR")" = 1 ] || t_fail "warned more than once"
}

t_token_auth() {
	need_builder
	push_image src:1
	proxy_start --bearer tokenuser:tokenpass --upstream-auth "$(AUTH)"
	REGISTRY_USER=tokenuser REGISTRY_PASSWORD=tokenpass \
		assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/tok:1"
	cat "$T_DIR/proxy.log"
	assert_contains "$T_DIR/proxy.log" "GET /token?service=registry-proxy&scope=repository%3At$T_UNIQ%2Fsrc%3Apull => 200 token"
	assert_contains "$T_DIR/proxy.log" "=> 401 bearer challenge"
	assert_eq "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/tok" 1 "$(AUTH)")" \
		"$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/src" 1 "$(AUTH)")" "promoted"
	# wrong password: the token server refuses, exit 5, nothing secret shown
	REGISTRY_USER=tokenuser REGISTRY_PASSWORD=wrongpass \
		assert_exit 5 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/tok:2"
	assert_contains "$STDERR" "token server of registry '$PROXY_ADDR' refused the credentials"
	assert_not_contains "$OUT" wrongpass
	assert_not_contains "$OUT" registry-proxy-token
}

t_identity_token() {
	need_builder
	push_image src:1
	proxy_start --bearer tokenuser:idtok-secret --upstream-auth "$(AUTH)"
	mkdir bin
	cat >bin/docker-credential-e2e <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server || true
printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok-secret"}' "\$server"
HELPER
	chmod +x bin/docker-credential-e2e
	printf '{"credHelpers":{"%s":"e2e"}}' "$PROXY_ADDR" >"$DOCKER_CONFIG/config.json"
	PATH=$T_DIR/bin:$PATH assert_exit 0 "$BUILDER_BIN" promote \
		"$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/idt:1"
	cat "$T_DIR/proxy.log"
	assert_contains "$T_DIR/proxy.log" "POST /token => 200 token (refresh_token)"
	assert_not_contains "$T_DIR/proxy.log" "GET /token"
	assert_not_contains "$OUT" idtok-secret
}

t_retry_after() {
	need_builder
	push_image src:1
	proxy_start --fail "GET /v2/t$T_UNIQ/src/manifests/" 429 --times 1 --retry-after 2
	start=$(date +%s)
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/rel:1"
	secs=$(($(date +%s) - start))
	[ "$secs" -ge 2 ] || t_fail "Retry-After was not waited out (${secs}s)"
	assert_contains "$STDERR" "answered 429"
	assert_contains "$STDERR" "retrying in 2 s"
	assert_contains "$T_DIR/proxy.log" "=> 429 injected"
}

t_copy_retried() {
	need_builder
	push_image src:1
	reg2_start
	proxy_start --fail "GET /v2/t$T_UNIQ/src/blobs/sha256:" 503 --times 1
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$PROXY_ADDR" \
		"$(printf '%s:%s' "$REGISTRY_USER_T" "$REGISTRY_PASS_T" | base64 -w0)" \
		>"$DOCKER_CONFIG/config.json"
	assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$REG2/x/app:1"
	assert_contains "$STDERR" "copying it again in 1 s (1 of 3)"
	assert_contains "$T_DIR/proxy.log" "=> 503 injected"
	assert_eq "$(digest_at "$REG2" x/app 1)" "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/src" 1 "$(AUTH)")" promoted
}

t_chunked() {
	need_builder
	push_image src:1 $((9 * 1024 * 1024))
	login_config
	# the proxy is another registry to builder; it refuses every blob PUT
	# that has a body
	proxy_start --fail "PUT /v2/t$T_UNIQ/chunked/blobs/uploads/" 405 --with-body
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 0 "$BUILDER_BIN" promote "$REGISTRY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/chunked:1"
	cat "$T_DIR/proxy.log"
	assert_contains "$STDERR" "copying it in 4 MiB chunks instead"
	# 9 MiB in three PATCHes, the config in one
	assert_eq "$(grep -c "PATCH /v2/t$T_UNIQ/chunked/blobs/uploads/.* => HTTP/1.1 202" "$T_DIR/proxy.log")" 4 PATCHes
	src=$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/src" 1 "$(AUTH)")
	assert_eq "$(digest_at "$REGISTRY_ADDR" "t$T_UNIQ/chunked" 1 "$(AUTH)")" "$src" "promoted"
}

t_verify_tag() {
	need_builder
	push_image src:1
	# the tag PUT succeeds, but the registry then does not know it
	proxy_start --fail "HEAD /v2/t$T_UNIQ/rel/manifests/v1" 404
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 5 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/rel:v1"
	assert_contains "$STDERR" "but the registry does not know the tag"
	assert_not_contains "$STDOUT" "rel:v1@"
	REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		assert_exit 0 "$BUILDER_BIN" promote "$PROXY_ADDR/t$T_UNIQ/src:1" "$PROXY_ADDR/t$T_UNIQ/rel:v2"
	assert_contains "$STDERR" "verified: '$PROXY_ADDR/t$T_UNIQ/rel:v2' is sha256:"
}

run_test "promote within one registry: mounts, no blob upload" t_promote_mount
run_test "promote across registries: streamed, bytes verified" t_promote_across
run_test "promote: a blob corrupted in transit is exit 5, tag untouched" t_promote_corrupt
run_test "merge two platforms into an index; merge an index; promote it" t_merge_platforms
run_test "merge: two sources with one platform is exit 2" t_merge_duplicate
run_test "merge and promote: usage errors" t_usage
run_test "token auth through a Bearer token server" t_token_auth
run_test "an identity token is exchanged for a token (refresh_token)" t_identity_token
run_test "a 429 with Retry-After is waited out" t_retry_after
run_test "a low ratelimit-remaining is logged once" t_ratelimit
run_test "a blob copy that meets a 503 is tried again" t_copy_retried
run_test "a registry that refuses one-PUT uploads gets chunks" t_chunked
run_test "every pushed tag is verified against its digest" t_verify_tag
t_summary
