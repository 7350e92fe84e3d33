#!/usr/bin/env bash
# The build stage against the real engine: .dockerignore, the context's
# odd files, failing steps, Dockerfile locations, labels and build args.
. "$(dirname "$0")/../lib.sh"

# build_only DIR [flags...]: builds and tags locally, no tests, no push.
build_only() {
	local dir=$1
	shift
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false \
		assert_exit 0 "$BUILDER_BIN" "$@" "$dir"
}

t_dockerignore_applied() {
	need_builder
	make_app app
	mkdir -p app/secret app/logs app/keep app/docs
	echo s >app/secret/key; echo l >app/logs/a.log; echo k >app/logs/keep.log
	echo x >app/notes.tmp; echo y >app/keep/notes.tmp; echo d >app/docs/a.md
	cat >app/.dockerignore <<'IGN'
# comment
secret
logs/*.log
!logs/keep.log
**/*.tmp
/docs
Dockerfile
.dockerignore
IGN
	echo 'COPY . /ctx/' >>app/Dockerfile
	build_only app
	docker run --rm "t$T_UNIQ/app:1" find /ctx | sort >files
	assert_contains files "/ctx/app.sh"
	assert_contains files "/ctx/logs/keep.log"
	assert_not_contains files "/ctx/secret"
	assert_not_contains files "a.log"
	assert_not_contains files "notes.tmp"
	assert_not_contains files "/ctx/docs"
	# The Dockerfile was still sent (the build worked); the classic
	# builder then drops the ignored Dockerfile and .dockerignore.
	assert_not_contains files "/ctx/Dockerfile"
}

t_odd_files_round_trip() {
	need_builder
	mkdir -p ctx/empty ctx/sub
	long=$(printf 'd%.0s' $(seq 1 60))/$(printf 'f%.0s' $(seq 1 70))
	mkdir -p "ctx/$(dirname "$long")"
	echo long >"ctx/$long"
	echo sp >"ctx/with space.txt"
	echo u >"ctx/ünïcødé-名前.txt"
	echo target >ctx/sub/target
	ln -s sub/target ctx/link
	ln -s /etc/shadow ctx/outside-link
	ln ctx/sub/target ctx/hardlink
	mkfifo ctx/fifo
	chmod 750 ctx/sub
	cat >ctx/Dockerfile <<'DF'
FROM busybox:latest
COPY . /ctx/
DF
	# The tar upload (the session's walk is 36-session.sh's).
	build_only ctx --builder classic
	assert_contains "$OUT" "skipping 'fifo'"
	docker run --rm "t$T_UNIQ/app:1" sh -c '
		cd /ctx && ls -la && cat "'"$long"'" "with space.txt" "ünïcødé-名前.txt" &&
		readlink link && readlink outside-link && cat hardlink &&
		test -d empty && test ! -e fifo &&
		stat -c "%a" sub' >out.txt
	assert_contains out.txt "long"
	assert_contains out.txt "sp"
	assert_contains out.txt "sub/target"
	assert_contains out.txt "/etc/shadow"
	assert_contains out.txt "750"
}

t_failing_run_exits_1() {
	need_builder
	make_app app
	echo "RUN echo \"about to fail $T_UNIQ\" >&2 && exit 3" >>app/Dockerfile
	# The classic builder's words; BuildKit's are 35-buildkit.sh's.
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 1 "$BUILDER_BIN" --builder classic app
	assert_contains "$OUT" "about to fail $T_UNIQ"
	assert_contains "$OUT" "build failed at 'Step 4/"
	assert_contains "$OUT" 'RUN echo "about to fail'
	assert_contains "$OUT" "returned a non-zero code: 3"
	# forcerm: the failed step's container is gone.
	left=$(docker ps -a --no-trunc --format '{{.Command}}' | grep -c "$T_UNIQ" || true)
	assert_eq "$left" 0
	# Nothing was tagged.
	[ -z "$(docker images -q "t$T_UNIQ/app")" ] || t_fail "image was tagged"
}

t_missing_dockerfile() {
	need_builder
	mkdir empty
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 2 "$BUILDER_BIN" empty
	assert_contains "$OUT" "empty/Dockerfile' does not exist"
	ACCOUNT=t$T_UNIQ IMAGE=app DOCKERFILE=nope.Dockerfile assert_exit 2 "$BUILDER_BIN" empty
	assert_contains "$OUT" "DOCKERFILE 'nope.Dockerfile' does not exist"
}

t_unreadable_file() {
	need_builder
	command -v setpriv >/dev/null || t_skip "setpriv is missing"
	make_app app
	echo secret >app/locked
	chmod 000 app/locked
	# root reads everything: drop the capabilities that let it. The tar
	# upload sends every file; a session sends only what the Dockerfile
	# uses (make_app's COPY does not name it).
	ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false assert_exit 1 \
		setpriv --bounding-set=-dac_override,-dac_read_search \
		"$BUILDER_BIN" --builder classic app
	assert_contains "$OUT" "cannot read 'locked'"
	assert_contains "$OUT" "Permission denied"
	# The build failed in the upload, before any container; no
	# assert_no_leftovers: without a run id it would judge (and remove)
	# the objects of other runs on the shared engine.
}

t_dockerfile_outside_context() {
	need_builder
	make_app app
	mkdir other
	printf 'FROM busybox:latest\nCOPY . /ctx/\nLABEL from=outside\n' >other/Build.df
	build_only app -f other/Build.df
	docker run --rm "t$T_UNIQ/app:1" ls -a /ctx >files
	assert_contains files "app.sh"
	assert_not_contains files ".dockerfile."
	docker image inspect -f '{{index .Config.Labels "from"}}' "t$T_UNIQ/app:1" >label
	assert_contains label outside
}

t_args_labels_target() {
	need_builder
	mkdir app
	cat >app/Dockerfile <<'DF'
FROM busybox:latest AS base
ARG GREETING=unset
RUN echo "$GREETING" >/greeting
FROM base AS final
RUN echo final >/stage
DF
	GITHUB_ACTIONS=true GITHUB_SHA=abc1234 SOURCE_DATE_EPOCH=1700000000 \
		BUILD_ARGS='GREETING=hi there' LABELS='team=core,org.opencontainers.image.version=custom' \
		build_only app --target base
	docker run --rm "t$T_UNIQ/app:1" sh -c 'cat /greeting; ls /stage 2>&1; true' >out
	assert_contains out "hi there"
	assert_contains out "No such file"
	docker image inspect -f '{{json .Config.Labels}}' "t$T_UNIQ/app:1" >labels
	assert_contains labels '"team":"core"'
	assert_contains labels '"org.opencontainers.image.revision":"abc1234"'
	assert_contains labels '"org.opencontainers.image.version":"custom"'
	assert_contains labels '"org.opencontainers.image.created":"2023-11-14T22:13:20Z"'
}

t_dockerfile_symlinks_followed() {
	need_builder
	make_app app
	mkdir outside
	printf 'FROM busybox:latest\nCOPY app.sh /app/\nLABEL from=linked-%s\n' "$T_UNIQ" >outside/Build.df
	# The context's Dockerfile is a link out of it: followed, like the CLI.
	rm app/Dockerfile
	ln -s "$T_DIR/outside/Build.df" app/Dockerfile
	build_only app
	docker image inspect -f '{{index .Config.Labels "from"}}' "t$T_UNIQ/app:1" >label
	assert_contains label "linked-$T_UNIQ"
	# -f naming a link (relative) to a file outside the context.
	rm app/Dockerfile
	sed -i "s/linked-/via-f-/" outside/Build.df
	ln -s outside/Build.df link.df
	build_only app -f link.df
	docker image inspect -f '{{index .Config.Labels "from"}}' "t$T_UNIQ/app:1" >label
	assert_contains label "via-f-$T_UNIQ"
}

t_dockerfile_is_directory() {
	need_builder
	make_app app
	mkdir app/build.d
	ACCOUNT=t$T_UNIQ IMAGE=app DOCKERFILE=build.d assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$OUT" "build.d' is a directory"
	assert_not_contains "$OUT" "does not exist"
	rm app/Dockerfile
	mkdir app/Dockerfile
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$OUT" "app/Dockerfile' is a directory"
}

# big_comment BYTES: comment lines of 1000 bytes, about BYTES in all.
big_comment() {
	local line
	line="# $(printf 'x%.0s' $(seq 1 997))"
	yes "$line" | head -n $(($1 / 1000)) || true
}

t_large_dockerfile_and_dockerignore() {
	need_builder
	make_app app
	# 2.1 MB of Dockerfile: the CLI has no limit, ours is 16 MiB.
	{
		echo 'FROM busybox:latest'
		big_comment 2100000
		echo 'COPY . /ctx/'
		echo "LABEL big=yes-$T_UNIQ"
	} >app/Dockerfile
	build_only app
	docker image inspect -f '{{index .Config.Labels "big"}}' "t$T_UNIQ/app:1" >label
	assert_contains label "yes-$T_UNIQ"
	# A 1.5 MB .dockerignore with the Dockerfile outside the context (its
	# text is rewritten to list the injected Dockerfile).
	mv app/Dockerfile big.df
	echo "secret-$T_UNIQ" >app/secret.txt
	{
		big_comment 1500000
		echo 'secret.txt'
	} >app/.dockerignore
	build_only app -f big.df
	docker run --rm "t$T_UNIQ/app:1" ls -a /ctx >files
	assert_contains files "app.sh"
	assert_not_contains files "secret.txt"
	assert_not_contains files ".dockerfile."
	# Over the ceiling: refused, naming the file and the limit.
	big_comment 17000000 >app/.dockerignore
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 2 "$BUILDER_BIN" -f big.df app
	assert_contains "$OUT" ".dockerignore' is larger than 16 MiB"
}

# --- the upload, against the fake engine ----------------------------------

# fe_upload: the fake engine (tests/fake_engine.c) answering the ping and
# the version, then the POST /build rules read from stdin.
fe_upload() {
	local v='{"Version":"20.10.99-fake","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
	{
		echo 'match /_ping'
		echo 'reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK'
		echo 'match GET /version'
		printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' "${#v}" "$v"
		cat
	} >"$T_DIR/fake-engine.script"
	fake_engine_start "$T_DIR/fake-engine.script"
}

# has_open PID NAME: PID has a file named NAME open.
has_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in */"$2") return 0 ;; esac
	done
	return 1
}

# A 400 MB file cut to 1 MB while it is sent: the engine reads nothing for
# 5 s, so builder is blocked inside the file when it shrinks. The error
# names the file (exit 1); closing the half-written archive must not
# replace it (it was "a tar record larger than 4194304 bytes").
t_file_shrinks_during_upload() {
	local pid rc=0
	need_builder
	make_app app
	truncate -s 400M app/big.bin
	fe_upload <<'EOF'
match POST /build
sleep 5
drain
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}
EOF
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false \
		BUILDER=classic "$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for _ in $(seq 200); do
		has_open "$pid" big.bin && break
		sleep 0.02
	done
	has_open "$pid" big.bin || t_fail "builder never opened big.bin"
	truncate -s 1M app/big.bin
	wait "$pid" || rc=$?
	cat "$STDERR"
	assert_eq "$rc" 1 "exit code"
	assert_contains "$STDERR" "'big.bin' in the context shrank while it was being sent"
	assert_not_contains "$STDERR" "tar record"
	assert_eq "$(grep -c '^builder: error: ' "$STDERR")" 1 "error lines"
}

# The engine resets the connection while a 400 MB file is being sent: an
# engine failure (exit 3), not a build failure.
t_engine_reset_during_upload() {
	need_builder
	make_app app
	truncate -s 400M app/big.bin
	fe_upload <<'EOF'
match POST /build
nodrain
sleep 1
reset
EOF
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false \
		BUILDER=classic assert_exit 3 "$BUILDER_BIN" app
	assert_contains "$STDERR" "POST /build to the docker engine at 'unix://$FAKE_SOCK'"
	assert_contains "$STDERR" "Connection reset by peer"
	assert_not_contains "$STDERR" "tar record"
	assert_eq "$(grep -c '^builder: error: ' "$STDERR")" 1 "error lines"
}

run_test ".dockerignore excludes and re-includes" t_dockerignore_applied
run_test "symlinks, FIFO, long, UTF-8 and spaced names round-trip" t_odd_files_round_trip
run_test "a failing RUN exits 1 with its output, no container left" t_failing_run_exits_1
run_test "a missing Dockerfile exits 2 naming the path" t_missing_dockerfile
run_test "an unreadable file fails the build" t_unreadable_file
run_test "a Dockerfile outside the context" t_dockerfile_outside_context
run_test "build args, labels and target" t_args_labels_target
run_test "Dockerfile symlinks out of the context are followed" t_dockerfile_symlinks_followed
run_test "a DOCKERFILE that is a directory is said to be one" t_dockerfile_is_directory
run_test "a 2.1 MB Dockerfile and a 1.5 MB .dockerignore" t_large_dockerfile_and_dockerignore
run_test "a file shrinking by 399 MB during the upload is named (exit 1)" t_file_shrinks_during_upload
run_test "an engine reset during a 400 MB upload exits 3" t_engine_reset_during_upload
t_summary
