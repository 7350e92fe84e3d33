#!/usr/bin/env bash
# builder's own images, end to end: `make image` makes builder:latest and
# builder-shell:latest small and right (entrypoint, working directory, a
# static stripped binary), the README's `docker run` of the image builds,
# tests and pushes examples/hello with credentials (the engine pushes; the
# container only talks to the socket), `docker stop` during the tests ends
# it with 143 and nothing left behind, and run.sh works from any directory
# and passes builder's exit code through.
#
# The first `make image` on a machine builds the static dependencies from
# Debian's source packages (minutes): hence the longer time limit.
# shellcheck disable=SC2031,SC2119 # test variables live in subshells
E2E_TIME_LIMIT=${E2E_TIME_LIMIT:-900}
. "$(dirname "$0")/../lib.sh"

MAX_IMAGE=8000000  # bytes, builder:latest
MAX_STATIC=6500000 # bytes, bin/builder-static stripped (issue 14: <= 6.5 MB)

# The sizes measured, shown after the test (its own log is shown only when
# it fails).
T_SIZES=$(mktemp /tmp/e2e-sizes.XXXXXX)
trap 'rm -f "$T_SIZES"' EXIT

# need_image: builder:latest must be there; the first test makes it.
need_image() {
	docker image inspect builder:latest >/dev/null 2>&1 ||
		t_fail "no builder:latest: 'make image' failed or did not run (see the first test)"
}

# app_copy: examples/hello in $T_DIR/app; sets APP.
app_copy() {
	APP=$T_DIR/app
	cp -r "$REPO_ROOT/examples/hello" "$APP"
}

# job_env [TAG [TEST_CMD]]: the variables of a push of $APP to the test
# registry as t$T_UNIQ/hello:TAG (default 1), exported for `docker run -e
# NAME`; the tests are the example's own unless TEST_CMD is given.
job_env() {
	export ACCOUNT=t$T_UNIQ IMAGE=hello TAG=${1:-1} REGISTRY=$REGISTRY_ADDR \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		TEST_CMD=${2:-/tests/run.sh}
	unset EXTRA_TAGS CONTEXT DOCKERFILE REPORT PUSH CI CIRCLE_BUILD_NUM \
		bamboo_buildNumber GITHUB_RUN_NUMBER CI_PIPELINE_IID
}

# check_pushed TAG: the registry holds it, and the last line of stdout is its
# reference with the registry's digest.
check_pushed() {
	local digest
	digest=$(registry_digest "t$T_UNIQ/hello" "$1")
	[ -n "$digest" ] || t_fail "the registry has no t$T_UNIQ/hello:$1"
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/hello:$1@$digest" "last line"
	assert_contains "$OUT" "3 tests passed"
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
}

t_make_image() {
	local start size entry wd static stripped
	start=$(date +%s)
	echo "\$ make image"
	make -s -C "$REPO_ROOT" image >"$T_DIR/make.log" 2>&1 || {
		tail -40 "$T_DIR/make.log"
		t_fail "'make image' failed (the end of its log is above)"
	}
	cat "$T_DIR/make.log"
	echo "(make image: $(($(date +%s) - start)) s)"

	docker image inspect builder:latest >/dev/null ||
		t_fail "'make image' made no builder:latest"
	size=$(docker image inspect -f '{{.Size}}' builder:latest)
	entry=$(docker image inspect -f '{{json .Config.Entrypoint}}' builder:latest)
	wd=$(docker image inspect -f '{{.Config.WorkingDir}}' builder:latest)
	echo "builder:latest: $size bytes, entrypoint $entry, working directory $wd"
	[ "$size" -le "$MAX_IMAGE" ] ||
		t_fail "builder:latest is $size bytes, more than $MAX_IMAGE"
	assert_eq "$entry" '["/builder"]' "builder:latest entrypoint"
	assert_eq "$wd" /app "builder:latest working directory"
	assert_eq "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' builder:latest)" \
		"linux/$(docker version -f '{{.Server.Arch}}')" "platform"

	docker image inspect builder-shell:latest >/dev/null ||
		t_fail "'make image' made no builder-shell:latest"
	assert_eq "$(docker image inspect -f '{{json .Config.Cmd}}' builder-shell:latest)" \
		'["sh"]' "builder-shell:latest command"
	assert_exit 0 docker run --rm --name "shell-$T_UNIQ" builder-shell:latest \
		sh -c 'command -v builder && builder --version'
	assert_contains "$OUT" /usr/local/bin/builder

	static=$REPO_ROOT/bin/builder-static
	echo "\$ file $static"
	file "$static" | tee file.out
	assert_contains file.out "statically linked"
	echo "\$ ldd $static"
	ldd "$static" >ldd.out 2>&1 || true
	cat ldd.out
	assert_contains ldd.out "not a dynamic executable"
	cp "$static" stripped
	strip stripped
	stripped=$(stat -c %s stripped)
	echo "bin/builder-static: $(stat -c %s "$static") bytes, $stripped stripped"
	[ "$stripped" -le "$MAX_STATIC" ] ||
		t_fail "bin/builder-static is $stripped bytes stripped, more than $MAX_STATIC"
	printf 'builder:latest %s bytes (limit %s); builder-shell:latest %s bytes; bin/builder-static %s bytes stripped (limit %s)\n' \
		"$size" "$MAX_IMAGE" \
		"$(docker image inspect -f '{{.Size}}' builder-shell:latest)" \
		"$stripped" "$MAX_STATIC" >>"$T_SIZES"
}

# A `make image` whose images differ (here by their licenses label; a new
# binary does it in real life) removes the ones it moved the names off,
# instead of leaving them dangling; the second run puts the usual ones back.
t_make_image_again() {
	local name old new licenses
	declare -A before
	for licenses in "test-$T_UNIQ" ""; do
		for name in builder:latest builder-shell:latest; do
			before[$name]=$(docker image inspect -f '{{.Id}}' "$name") ||
				t_fail "no $name: see the first test"
		done
		IMAGE_LICENSES=$licenses bash "$REPO_ROOT/scripts/make-image.sh" \
			>"$T_DIR/make.log" 2>&1 || {
			tail -20 "$T_DIR/make.log"
			t_fail "scripts/make-image.sh failed"
		}
		for name in builder:latest builder-shell:latest; do
			old=${before[$name]}
			new=$(docker image inspect -f '{{.Id}}' "$name")
			[ "$old" != "$new" ] ||
				t_fail "$name kept its ID although its label changed"
			if docker image inspect "$old" >/dev/null 2>&1; then
				t_fail "the previous $name ($old) is still on the engine"
			fi
		done
	done
}

# The README's command, verbatim but for the values.
t_docker_run_pushes() {
	need_image
	app_copy
	cd "$APP" || return
	job_env
	assert_exit 0 docker run --rm --name "builder-$T_UNIQ" \
		-v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:/app" \
		-e ACCOUNT -e IMAGE -e TAG -e REGISTRY -e REGISTRY_USER \
		-e REGISTRY_PASSWORD -e TEST_CMD builder:latest
	check_pushed 1
	assert_contains "$OUT" "REGISTRY_USER/REGISTRY_PASSWORD"
	assert_eq "$(registry_tags "t$T_UNIQ/hello" | tr '\n' ' ')" "1 " "tags"
	assert_no_leftovers
}

# docker stop sends SIGTERM to builder, PID 1 of its container: it removes
# its test container and exits 143, well before docker's SIGKILL.
t_docker_stop() {
	local name=builder-$T_UNIQ runid="" start secs rc image
	need_image
	app_copy
	cd "$APP" || return
	job_env 1 'sleep 60'
	docker run -d --name "$name" \
		-v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:/app" \
		-e ACCOUNT -e IMAGE -e TAG -e REGISTRY -e REGISTRY_USER \
		-e REGISTRY_PASSWORD -e TEST_CMD builder:latest
	# The run id is in the test container's name, in builder's log.
	for _ in $(seq 300); do
		runid=$(docker logs "$name" 2>&1 |
			grep -oE "'builder-b[0-9a-f]{10}-test'" | head -1 | tr -d "'")
		runid=${runid#builder-}
		runid=${runid%-test}
		[ -z "$runid" ] || break
		[ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
		sleep 0.2
	done
	[ -n "$runid" ] || { docker logs "$name"; t_fail "no test container in builder's log"; }
	for _ in $(seq 150); do
		[ -z "$(docker ps -q --filter "label=io.builder.run=$runid" --filter status=running)" ] ||
			break
		sleep 0.2
	done
	echo "run $runid; its containers:"
	docker ps -a --filter "label=io.builder.run=$runid" --format '  {{.Names}} {{.Status}}'
	[ -n "$(docker ps -q --filter "label=io.builder.run=$runid" --filter status=running)" ] ||
		t_fail "the test container of run $runid never ran"

	start=$(date +%s)
	docker stop -t 10 "$name"
	secs=$(($(date +%s) - start))
	rc=$(docker wait "$name")
	echo "builder's log:"
	docker logs "$name" 2>&1 | sed 's/^/  | /'
	echo "docker stop took $secs s; exit status $rc"
	assert_eq "$rc" 143 "exit status after docker stop"
	[ "$secs" -lt 10 ] || t_fail "builder did not stop on SIGTERM: docker killed it after $secs s"
	assert_no_leftovers "$runid"
	assert_eq "$(registry_tags "t$T_UNIQ/hello")" "" "tags after an interrupted run"
	# The image built before the tests is untagged: remove it.
	image=$(docker logs "$name" 2>&1 | grep -oE 'built sha256:[0-9a-f]{64}' | head -1)
	[ -z "$image" ] || docker rmi -f "${image#built }" >/dev/null 2>&1 || true
	docker rm "$name" >/dev/null
}

t_run_sh_elsewhere() {
	need_image
	app_copy
	cd "$APP" || return
	[ ! -e run.sh ] || t_fail "the app has its own run.sh"
	job_env 1
	assert_exit 0 "$REPO_ROOT/run.sh"
	check_pushed 1

	job_env 2 'echo failing on purpose; exit 3'
	assert_exit 4 "$REPO_ROOT/run.sh"
	assert_contains "$OUT" "failing on purpose"
	assert_eq "$(registry_tags "t$T_UNIQ/hello" | tr '\n' ' ')" "1 " \
		"tags after a failed test (none for it)"

	# builder's usage errors come through as well.
	job_env 3
	assert_exit 2 "$REPO_ROOT/run.sh" --no-such-option
	assert_no_leftovers
}

run_test "make image: small images, static stripped binary" t_make_image
run_test "make image again: the previous images go" t_make_image_again
sed 's/^/# sizes: /' "$T_SIZES"
run_test "docker run builder:latest builds, tests and pushes" t_docker_run_pushes
run_test "docker stop during the tests: 143, nothing left" t_docker_stop
run_test "run.sh from another directory passes the exit code" t_run_sh_elsewhere
t_summary
