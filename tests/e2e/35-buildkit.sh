#!/usr/bin/env bash
# BuildKit builds through POST /build?version=2, without a session.
. "$(dirname "$0")/../lib.sh"

bk() {
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false BUILDER=buildkit "$@"
}

t_single_stage() {
	need_builder
	make_app app
	bk assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$OUT" "builder: BuildKit (BUILDER=buildkit)"
	assert_contains "$OUT" "COPY app.sh test.sh /app/"
	assert_contains "$OUT" " DONE "
	docker run --rm "t$T_UNIQ/app:1" /app/test.sh >out
	assert_contains out "tests passed"
}

t_multi_stage_target_args() {
	need_builder
	mkdir app
	cat >app/Dockerfile <<'DF'
FROM busybox:latest AS one
ARG WORD=unset
RUN echo "stage one says $WORD" && echo "$WORD" >/word
FROM busybox:latest AS unused
RUN echo "this stage must not run" && exit 9
FROM busybox:latest AS final
COPY --from=one /word /word
DF
	bk assert_exit 0 "$BUILDER_BIN" --build-arg WORD=bonjour app
	assert_contains "$OUT" "stage one says bonjour"
	assert_not_contains "$OUT" "this stage must not run"
	docker run --rm "t$T_UNIQ/app:1" cat /word >word
	assert_contains word bonjour
	bk assert_exit 0 "$BUILDER_BIN" --target one --tag 2 --build-arg WORD=hi app
	docker run --rm "t$T_UNIQ/app:2" cat /word >word
	assert_contains word hi
}

t_failing_step() {
	need_builder
	make_app app
	echo "RUN echo 'bk failure $T_UNIQ' >&2 && exit 4" >>app/Dockerfile
	bk assert_exit 1 "$BUILDER_BIN" app
	assert_contains "$OUT" "bk failure $T_UNIQ"
	assert_contains "$OUT" "build failed at '"
	assert_contains "$OUT" "exit code: 4"
	[ -z "$(docker images -q "t$T_UNIQ/app")" ] || t_fail "image was tagged"
}

t_rebuild_cached() {
	need_builder
	make_app app
	echo "RUN echo slow-step-$T_UNIQ" >>app/Dockerfile
	bk assert_exit 0 "$BUILDER_BIN" app
	grep -Eq "^#[0-9]+ [0-9.]+ slow-step-$T_UNIQ" "$STDOUT" ||
		t_fail "the first build did not show the step's output"
	bk assert_exit 0 "$BUILDER_BIN" --tag 2 app
	assert_contains "$OUT" "CACHED"
	# The step's output ("#6 0.123 slow-step-...") is not there: it did
	# not run again.
	! grep -Eq "^#[0-9]+ [0-9.]+ slow-step-$T_UNIQ" "$STDOUT" ||
		t_fail "the RUN step ran again"
}

t_private_base_image() {
	need_builder
	base=$REGISTRY_ADDR/t$T_UNIQ/base:1
	docker tag busybox:latest "$base"
	printf '%s' "$REGISTRY_PASS_T" |
		docker --config "$T_DIR/cli" login -u "$REGISTRY_USER_T" --password-stdin "$REGISTRY_ADDR" >/dev/null
	docker --config "$T_DIR/cli" push "$base" >/dev/null
	docker rmi "$base" >/dev/null
	mkdir app
	printf 'FROM %s\nRUN echo built-on-private-base\n' "$base" >app/Dockerfile
	REGISTRY=$REGISTRY_ADDR REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		bk assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$OUT" "needs credentials (REGISTRY_USER/REGISTRY_PASSWORD)"
	assert_contains "$OUT" "built-on-private-base"
	# And the classic builder gets the credentials in X-Registry-Config.
	# With a session BuildKit pulled it itself (Auth.Credentials): no local copy.
	docker rmi "$base" >/dev/null 2>&1 || true
	REGISTRY=$REGISTRY_ADDR REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		ACCOUNT=t$T_UNIQ IMAGE=app TAG=3 PUSH=false BUILDER=classic \
		assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$OUT" "built-on-private-base"
	docker rmi "$base" >/dev/null 2>&1 || true
}

# fake_buildkit_engine BUILDER_VERSION DRIVER_TYPE ENGINE_VERSION: a fake
# engine that answers one build and a tag, for BUILDER=auto decisions.
fake_buildkit_engine() {
	local version info
	version=$(printf '{"Version":"%s","Os":"linux","Arch":"amd64"}' "$3")
	info=$(printf '{"DriverStatus":[["driver-type","%s"]]}' "$2")
	fake_engine_start <<EOF
match /_ping
reply HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nBuilder-Version: $1\r\nContent-Length: 2\r\n\r\nOK
match GET /version
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${#version}\r\n\r\n$version
match GET /info
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${#info}\r\n\r\n$info
match POST /build
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"id":"moby.image.id","aux":{"ID":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}\r\n
close
match /tag
reply HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n
match GET /images/
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"Size":123}
EOF
}

t_auto_uses_buildkit_when_advertised() {
	need_builder
	make_app app
	fake_buildkit_engine 2 overlayfs 28.0.0
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	# auto tries a session first on any Linux engine at API >= 1.39; this
	# fake refuses /session, so BuildKit takes the tar context.
	assert_contains "$OUT" "builder: BuildKit with a session (auto:"
	assert_contains "$OUT" "sending the context as a tar instead"
	assert_contains "$FAKE_LOG" "version=2"
}

t_auto_classic_on_old_containerd_store() {
	need_builder
	make_app app
	fake_buildkit_engine 2 io.containerd.snapshotter.v1 27.4.1
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	assert_contains "$OUT" "containerd image store"
	assert_contains "$FAKE_LOG" "version=1"
	assert_not_contains "$FAKE_LOG" "version=2"
}

t_cache_from_inline_cache() {
	need_builder
	make_app app
	echo "RUN echo bk-slow-$T_UNIQ && sleep 2" >>app/Dockerfile
	repo=$REGISTRY_ADDR/t$T_UNIQ/app
	export REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T
	BUILDER=buildkit TAG=1 assert_exit 0 "$BUILDER_BIN" app
	grep -Eq "^#[0-9]+ [0-9.]+ bk-slow-$T_UNIQ" "$STDOUT" || t_fail "the slow step did not run"
	# A CI engine without this image or its build cache.
	docker rmi -f "$repo:1" >/dev/null
	docker builder prune -af >/dev/null
	BUILDER=buildkit TAG=2 CACHE_FROM="$repo:1" assert_exit 0 "$BUILDER_BIN" app
	! grep -Eq "^#[0-9]+ [0-9.]+ bk-slow-$T_UNIQ" "$STDOUT" ||
		t_fail "the slow step ran again: the inline cache was not used"
	assert_contains "$OUT" "CACHED"
}

run_test "BuildKit: a single-stage build" t_single_stage
run_test "BuildKit: multi-stage, unused stage skipped, --target, build args" t_multi_stage_target_args
run_test "BuildKit: a failing step exits 1 with its output" t_failing_step
run_test "BuildKit: a rebuild hits the cache" t_rebuild_cached
run_test "BuildKit and classic: a private base image" t_private_base_image
run_test "BuildKit: CACHE_FROM of a pushed image uses its inline cache" t_cache_from_inline_cache
run_test "auto: BuildKit when the engine advertises it" t_auto_uses_buildkit_when_advertised
run_test "auto: classic on a containerd store older than 27.5" t_auto_classic_on_old_containerd_store
t_summary
