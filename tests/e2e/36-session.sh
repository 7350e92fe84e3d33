#!/usr/bin/env bash
# BuildKit builds with a session (POST /session upgraded to h2c): the
# context and the Dockerfile through FileSync, build secrets through
# Secrets, health checks answered throughout. Against the real engine, with
# Debian's docker 20.10 CLI (DOCKER_BUILDKIT=1) as a peer where useful.
. "$(dirname "$0")/../lib.sh"

bk() {
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false BUILDER=buildkit "$@"
}

# secret_app DIR ID: a Dockerfile whose RUN step prints the sha256 of the
# secret ID (never the value); the mount is required, so the build fails
# when the secret is absent.
secret_app() {
	mkdir -p "$1"
	cat >"$1/Dockerfile" <<EOF
FROM busybox:latest
RUN --mount=type=secret,id=$2,required=true echo "secret-sha \$(sha256sum </run/secrets/$2 | cut -c1-64)-$T_UNIQ"
RUN echo built-$T_UNIQ >/built
EOF
}

# assert_secret_nowhere VALUE IMAGE: the value is not in builder's output,
# its report, the image's history or its layers.
assert_secret_nowhere() {
	assert_not_contains "$OUT" "$1"
	[ ! -e report.json ] || assert_not_contains report.json "$1"
	docker history --no-trunc "$2" >history
	assert_not_contains history "$1"
	docker save "$2" -o image.tar
	mkdir -p layers && tar -xf image.tar -C layers
	for l in layers/*/layer.tar; do
		tar -xOf "$l" 2>/dev/null
	done >layers.bin
	! grep -qaF -- "$1" layers.bin || t_fail "the secret is in a layer"
	! grep -rqaF -- "$1" layers || t_fail "the secret is in the image's config"
}

t_secret_from_file() {
	need_builder
	secret_app app npmrc
	value="npm-token-$T_UNIQ-$RANDOM"
	printf '%s' "$value" >npmrc
	want=$(printf '%s' "$value" | sha256sum | cut -c1-64)
	bk assert_exit 0 "$BUILDER_BIN" --verbose --report report.json \
		--secret "id=npmrc,src=$T_DIR/npmrc" app
	assert_contains "$OUT" "POST /session -> 101"
	assert_contains "$OUT" "secret-sha $want-$T_UNIQ"
	assert_secret_nowhere "$value" "t$T_UNIQ/app:1"
	docker run --rm "t$T_UNIQ/app:1" cat /built >built
	assert_contains built "built-$T_UNIQ"
}

t_secret_from_env() {
	need_builder
	secret_app app tok
	value="env-token-$T_UNIQ-$RANDOM"
	want=$(printf '%s' "$value" | sha256sum | cut -c1-64)
	MY_TOKEN=$value SECRETS="id=tok,env=MY_TOKEN" \
		bk assert_exit 0 "$BUILDER_BIN" --verbose app
	assert_contains "$OUT" "secret-sha $want-$T_UNIQ"
	assert_secret_nowhere "$value" "t$T_UNIQ/app:1"
	# id=ID alone reads the variable ID.
	tok=$value bk assert_exit 0 "$BUILDER_BIN" --secret id=tok --tag 2 app
	assert_not_contains "$OUT" "$value"
}

t_secret_missing_source() {
	need_builder
	secret_app app npmrc
	# Exit 2 before any engine call: an unreachable engine is never asked.
	DOCKER_HOST=unix://$T_DIR/none.sock \
		bk assert_exit 2 "$BUILDER_BIN" --secret "id=npmrc,src=$T_DIR/nope" app
	assert_contains "$OUT" "'$T_DIR/nope'"
	assert_not_contains "$OUT" "none.sock"
	DOCKER_HOST=unix://$T_DIR/none.sock SECRETS="id=x,env=NOT_SET_$T_UNIQ" \
		bk assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$OUT" "'NOT_SET_$T_UNIQ', which is not set"
}

t_secret_not_given() {
	need_builder
	secret_app app npmrc
	bk assert_exit 1 "$BUILDER_BIN" app
	assert_contains "$OUT" "secret npmrc not found"
	assert_contains "$OUT" "--secret id=npmrc,src=PATH"
	assert_contains "$OUT" "build failed"
	[ -z "$(docker images -q "t$T_UNIQ/app")" ] || t_fail "image was tagged"
}

# tree_app DIR: a context with nested directories, an executable, a
# symlink, an empty directory, a bigger file, and a .dockerignore with an
# exception.
tree_app() {
	mkdir -p "$1/src/deep/er" "$1/empty" "$1/logs"
	cat >"$1/Dockerfile" <<'EOF'
FROM busybox:latest
COPY . /ctx/
RUN cd /ctx && find . | sort | while read -r f; do stat -c '%n %s %a %F %h' "$f"; done >/listing
EOF
	printf 'hello\n' >"$1/a.txt"
	ln "$1/a.txt" "$1/src/hard" # sent as a link, as the CLI does
	printf '#!/bin/sh\necho run\n' >"$1/src/run.sh"
	chmod 755 "$1/src/run.sh"
	printf 'deep\n' >"$1/src/deep/er/file"
	ln -s ../a.txt "$1/src/link"
	printf 'x\n' >"$1/logs/drop.log"
	printf 'y\n' >"$1/logs/keep.log"
	printf 'z\n' >"$1/skip.tmp"
	head -c 300000 /dev/urandom >"$1/src/big.bin"
	printf '*.tmp\nlogs\n!logs/keep.log\n' >"$1/.dockerignore"
}

t_copy_same_as_docker_cli() {
	need_builder
	tree_app app
	bk assert_exit 0 "$BUILDER_BIN" --verbose app
	assert_contains "$OUT" "POST /session -> 101"
	assert_not_contains "$OUT" "sending the context as a tar"
	docker run --rm "t$T_UNIQ/app:1" cat /listing >ours
	docker run --rm "t$T_UNIQ/app:1" md5sum /ctx/src/big.bin >ours.md5
	# --no-cache: else the CLI build reuses ours when the cache keys agree
	DOCKER_BUILDKIT=1 /usr/bin/docker build --no-cache -q -t "t$T_UNIQ/cli:1" app >/dev/null
	docker run --rm "t$T_UNIQ/cli:1" cat /listing >theirs
	docker run --rm "t$T_UNIQ/cli:1" md5sum /ctx/src/big.bin >theirs.md5
	diff -u theirs ours || t_fail "the context differs from the docker CLI's"
	diff -u theirs.md5 ours.md5 || t_fail "big.bin differs"
	assert_contains ours "./logs/keep.log"
	assert_not_contains ours "drop.log"
	assert_not_contains ours "skip.tmp"
	# And the same as builder's own tar path (classic builder).
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=2 PUSH=false BUILDER=classic \
		assert_exit 0 "$BUILDER_BIN" app
	docker run --rm "t$T_UNIQ/app:2" cat /listing >tar
	diff -u tar ours || t_fail "the context differs from the tar path's"
}

t_rebuild_sends_only_changes() {
	need_builder
	tree_app app
	head -c 2000000 /dev/urandom >app/src/big2.bin
	BUILDKIT_SHARED_KEY=k$T_UNIQ bk assert_exit 0 "$BUILDER_BIN" app
	first=$(grep -o 'transferring context: [0-9.]*[kMG]*i*B' "$OUT" | tail -1)
	echo changed >app/a.txt
	BUILDKIT_SHARED_KEY=k$T_UNIQ bk assert_exit 0 "$BUILDER_BIN" --tag 2 app
	second=$(grep -o 'transferring context: [0-9.]*[kMG]*i*B' "$OUT" | tail -1)
	echo "first: $first; second: $second"
	case $first in *MiB) ;; *) t_fail "first transfer '$first' is not MBs" ;; esac
	case $second in *KiB | *[0-9]B) ;; *) t_fail "second transfer '$second' is not small" ;; esac
	docker run --rm "t$T_UNIQ/app:2" cat /ctx/a.txt >a
	assert_contains a changed
}

t_dockerfile_elsewhere() {
	need_builder
	mkdir -p app other
	printf 'ctx-%s\n' "$T_UNIQ" >app/file
	printf 'FROM busybox:latest\nCOPY file /file\n' >other/Build.df
	bk assert_exit 0 "$BUILDER_BIN" -f other/Build.df app
	docker run --rm "t$T_UNIQ/app:1" cat /file >f
	assert_contains f "ctx-$T_UNIQ"
}

t_private_base_through_session() {
	need_builder
	base=$REGISTRY_ADDR/t$T_UNIQ/sbase:1
	docker tag busybox:latest "$base"
	printf '%s' "$REGISTRY_PASS_T" |
		docker --config "$T_DIR/cli" login -u "$REGISTRY_USER_T" --password-stdin "$REGISTRY_ADDR" >/dev/null
	docker --config "$T_DIR/cli" push "$base" >/dev/null
	docker rmi "$base" >/dev/null
	mkdir app
	printf 'FROM %s\nRUN echo on-private-base-%s\n' "$base" "$T_UNIQ" >app/Dockerfile
	# Without credentials the registry refuses the pull.
	bk assert_exit 1 "$BUILDER_BIN" app
	assert_not_contains "$OUT" "on-private-base-$T_UNIQ"
	REGISTRY=$REGISTRY_ADDR REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		bk assert_exit 0 "$BUILDER_BIN" --verbose app
	assert_contains "$OUT" "the session serves them to BuildKit"
	assert_contains "$OUT" "session: credentials for '$REGISTRY_ADDR': REGISTRY_USER/REGISTRY_PASSWORD"
	assert_contains "$OUT" "on-private-base-$T_UNIQ"
	assert_not_contains "$OUT" "$REGISTRY_PASS_T"
	# No pre-pull: the engine's image store never had the base image.
	! docker image inspect "$base" >/dev/null 2>&1 || t_fail "the base image was pre-pulled"
}

# A fake engine that offers BuildKit but answers /session with a 404.
t_session_refused() {
	need_builder
	secret_app app npmrc
	printf 'v' >npmrc
	fake_engine_start <<EOF
match /_ping
reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nBuilder-Version: 2\r\nContent-Length: 2\r\n\r\nOK
match GET /version
reply HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 49\r\n\r\n{"Version":"20.10.0","Os":"linux","Arch":"amd64"}
match POST /session
reply HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{"message":"page not found 42"}
EOF
	DOCKER_HOST=unix://$FAKE_SOCK bk assert_exit 3 "$BUILDER_BIN" --secret "id=npmrc,src=$T_DIR/npmrc" app
	fake_engine_stop
	assert_contains "$OUT" "refused POST /session (HTTP 404: page not found 42)"
	assert_contains "$OUT" "BUILDER=classic"
	assert_contains "$OUT" "which build secrets, --ssh and --output need"
	assert_not_contains "$FAKE_LOG" "/build"
}

t_sigterm_cancels() {
	need_builder
	mkdir app
	printf 'FROM busybox:latest\nRUN echo started-%s && sh -c "sleep 60" sig-%s\n' "$T_UNIQ" "$T_UNIQ" >app/Dockerfile
	# Not through bk(): $! must be builder's own pid.
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false BUILDER=buildkit "$BUILDER_BIN" --verbose app >out 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "[0-9] started-$T_UNIQ" out && break
		sleep 0.1
	done
	grep -q "[0-9] started-$T_UNIQ" out || t_fail "the RUN step did not start"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat out
	assert_eq "$rc" 143 "exit status"
	assert_contains out "interrupted by SIGTERM"
	assert_contains out "POST /build/cancel -> 200"
	sleep 2
	! pgrep -f "sig-$T_UNIQ" >/dev/null || t_fail "the RUN step still runs on the engine"
}

# agent_lister DIR: a static program that asks the agent at SSH_AUTH_SOCK
# for its identities and prints "agent keys: N" (busybox has no client).
agent_lister() {
	cat >agent-list.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char req[5] = { 0, 0, 0, 1, 11 }, r[9];
	const char *p = getenv("SSH_AUTH_SOCK");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t got = 0;
	if (!p) { puts("no SSH_AUTH_SOCK"); return 1; }
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) { perror("connect"); return 1; }
	if (write(fd, req, 5) != 5) { perror("write"); return 1; }
	while (got < 9) { ssize_t n = read(fd, r + got, 9 - got); if (n <= 0) { puts("short answer"); return 1; } got += (size_t)n; }
	if (r[4] != 12) { printf("answer type %d\n", r[4]); return 1; }
	printf("agent keys: %u\n", (unsigned)r[5] << 24 | r[6] << 16 | r[7] << 8 | r[8]);
	return 0;
}
EOF
	gcc -static -O1 -o "$1/agent-list" agent-list.c || t_fail "cannot build the agent client"
}

t_ssh_agent_forwarded() {
	need_builder
	command -v ssh-agent >/dev/null || t_skip "no ssh-agent (openssh-client)"
	mkdir app
	agent_lister app
	printf 'FROM busybox:latest\nCOPY agent-list /agent-list\nRUN --mount=type=ssh /agent-list && echo ssh-%s\n' "$T_UNIQ" >app/Dockerfile
	eval "$(ssh-agent -a "$T_DIR/agent.sock")" >/dev/null
	trap 'kill "$SSH_AGENT_PID" 2>/dev/null' EXIT
	ssh-keygen -q -t ed25519 -N '' -f key
	ssh-add -q key 2>/dev/null
	bk assert_exit 0 "$BUILDER_BIN" --verbose --ssh default app
	assert_contains "$OUT" "agent keys: 1"
	assert_contains "$OUT" "ssh agent 'default' forwarded"
	# An explicit ID=PATH, through SSH.
	printf 'FROM busybox:latest\nCOPY agent-list /agent-list\nRUN --mount=type=ssh,id=deploy /agent-list && echo ssh2-%s\n' "$T_UNIQ" >app/Dockerfile
	SSH="deploy=$T_DIR/agent.sock" SSH_AUTH_SOCK='' bk assert_exit 0 "$BUILDER_BIN" --tag 2 app
	assert_contains "$OUT" "agent keys: 1"
	kill "$SSH_AGENT_PID"
	# A missing socket: exit 2 before the engine.
	DOCKER_HOST=unix://$T_DIR/none.sock bk assert_exit 2 "$BUILDER_BIN" --ssh "x=$T_DIR/agent.sock" app
	assert_contains "$OUT" "is not an ssh agent socket"
	SSH_AUTH_SOCK='' bk assert_exit 2 "$BUILDER_BIN" --ssh default app
	assert_contains "$OUT" "SSH_AUTH_SOCK, which is not set"
}

# The session over tcp+TLS: a second engine (scripts/tls-engine.sh), up
# for this test only.
t_session_over_tls() {
	need_builder
	command -v openssl >/dev/null || t_skip "no openssl"
	state=$(mktemp -d /tmp/tls-engine.XXXXXX)
	trap 'bash "$REPO_ROOT/scripts/tls-engine.sh" down "$state" >/dev/null 2>&1' EXIT
	bash "$REPO_ROOT/scripts/tls-engine.sh" up "$state" >tls-up.log 2>&1 ||
		t_fail "scripts/tls-engine.sh up failed: $(tail -5 tls-up.log)"
	# shellcheck source=/dev/null
	. "$state/env"
	tree_app app
	head -c 3000000 /dev/urandom >app/src/big2.bin
	printf 'RUN --mount=type=secret,id=tok,required=true echo "tls-secret $(cat /run/secrets/tok | wc -c)"\n' >>app/Dockerfile
	tok=tls-token-$T_UNIQ DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$TLS_ENGINE_CERTS" \
		bk assert_exit 0 "$BUILDER_BIN" --verbose --secret id=tok app
	assert_contains "$OUT" "engine: $TLS_ENGINE_HOST"
	assert_contains "$OUT" "POST /session -> 101"
	tok=tls-token-$T_UNIQ
	assert_contains "$OUT" "tls-secret ${#tok}"
	assert_not_contains "$OUT" "tls-token-$T_UNIQ"
	DOCKER_HOST="$TLS_ENGINE_HOST" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$TLS_ENGINE_CERTS" \
		docker run --rm "t$T_UNIQ/app:1" md5sum /ctx/src/big2.bin >theirs
	md5sum app/src/big2.bin | sed 's# .*##' >ours
	assert_contains theirs "$(cat ours)"
}

# out_app DIR EXTRA: a scratch stage holding files made by a busybox stage;
# EXTRA is more shell for that stage.
out_app() {
	mkdir -p "$1"
	cat >"$1/Dockerfile" <<EOF
FROM busybox:latest AS build
RUN mkdir -p /out/sub && echo hi-$T_UNIQ >/out/sub/a.txt && ln -s sub/a.txt /out/link && ln /out/sub/a.txt /out/hard && chmod 751 /out/sub $2
FROM scratch
COPY --from=build /out/ /
EOF
}

t_output_local() {
	need_builder
	out_app app
	bk assert_exit 0 "$BUILDER_BIN" --output "type=local,dest=$T_DIR/dest/deep" app
	assert_contains "$OUT" "wrote the build's output to '$T_DIR/dest/deep'"
	assert_contains "$OUT" "tag: skipped: OUTPUT is set"
	assert_contains dest/deep/sub/a.txt "hi-$T_UNIQ"
	assert_contains dest/deep/hard "hi-$T_UNIQ"
	assert_eq "$(readlink dest/deep/link)" "sub/a.txt" "symlink target"
	assert_eq "$(stat -c %a dest/deep/sub)" 751 "directory mode"
	assert_eq "$(find dest -name '.builder-output-*' | wc -l)" 0 "temporary files"
	! docker image inspect "t$T_UNIQ/app:1" >/dev/null 2>&1 || t_fail "an image was tagged"
}

t_output_tar() {
	need_builder
	out_app app
	OUTPUT="type=tar,dest=$T_DIR/o.tar" bk assert_exit 0 "$BUILDER_BIN" app
	tar -tf o.tar >list
	assert_contains list "sub/a.txt"
	mkdir x && tar -xf o.tar -C x
	assert_contains x/sub/a.txt "hi-$T_UNIQ"
	assert_eq "$(find . -maxdepth 1 -name '*builder-output*' | wc -l)" 0 "temporary files"
}

t_output_link_out_refused() {
	need_builder
	out_app app "&& ln -s /etc/passwd /out/evil && ln -s ../../x /out/sub/up"
	mkdir dest
	bk assert_exit 1 "$BUILDER_BIN" --output "type=local,dest=$T_DIR/dest" app
	assert_contains "$OUT" "is a symlink to"
	assert_contains "$OUT" "outside '$T_DIR/dest'; refused"
	[ ! -e x ] || t_fail "something was written outside DEST"
	assert_eq "$(find dest -name '.builder-output-*' | wc -l)" 0 "temporary files"
	assert_eq "$(find dest -type l | wc -l)" 0 "links written"
}

t_output_usage() {
	need_builder
	bk assert_exit 2 "$BUILDER_BIN" --output type=image app
	assert_contains "$OUT" "type=local (a directory) or type=tar (a file)"
	bk assert_exit 2 "$BUILDER_BIN" --output type=tar app
	assert_contains "$OUT" "dest= names the file"
	BUILDER=classic OUTPUT=dir ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$OUT" "needs BuildKit"
}

# fake_docker_session API VERSION SESSION [PING_EXTRA]: a Docker engine at
# API 1.API, release VERSION, whose /session is SESSION: "ok" (101, the
# daemon's HTTP/2 preface and SETTINGS, then held open, as a real engine
# does while the build runs) or "refused" (404). POST /build answers an
# image ID; tag and inspect work.
fake_docker_session() {
	local version="{\"Version\":\"$2\",\"ApiVersion\":\"1.$1\",\"Os\":\"${FAKE_OS:-linux}\",\"Arch\":\"amd64\"}"
	{
		printf 'match /_ping\n'
		printf 'reply HTTP/1.1 200 OK\\r\\nApi-Version: 1.%s\\r\\nOstype: linux\\r\\n%sContent-Length: 2\\r\\n\\r\\nOK\n' "$1" "${4:-}"
		printf 'match GET /version\n'
		printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s\n' ${#version} "$version"
		printf 'match POST /session\n'
		if [ "$3" = ok ]; then
			printf 'send HTTP/1.1 101 Switching Protocols\\r\\nConnection: Upgrade\\r\\nUpgrade: h2c\\r\\n\\r\\nPRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00\n'
			printf 'hold\n'
		else
			printf 'reply HTTP/1.1 404 Not Found\\r\\nContent-Type: application/json\\r\\nContent-Length: 29\\r\\n\\r\\n{"message":"page not found"}\n'
		fi
		printf 'match POST /build\n'
		printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n{"id":"moby.image.id","aux":{"ID":"sha256:%s"}}\\r\\n\n' "$(printf 'ab%.0s' $(seq 32))"
		printf 'close\n'
		printf 'match /tag\n'
		printf 'reply HTTP/1.1 201 Created\\r\\nContent-Length: 0\\r\\n\\r\\n\n'
		printf 'match GET /images/\n'
		printf 'reply HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 12\\r\\n\\r\\n{"Size":123}\n'
	} >"$T_DIR/fake-engine.script"
	fake_engine_start "$T_DIR/fake-engine.script"
}

fake_app() {
	mkdir -p app
	printf 'FROM scratch\nCOPY a /a\n' >app/Dockerfile
	echo a >app/a
}

t_auto_session_on_api_1_53() {
	need_builder
	fake_app
	fake_docker_session 53 29.2.0 ok
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	# builder speaks API 1.47 at most; the engine's deprecation of
	# /session at 1.53 does not remove it.
	assert_contains "$OUT" "version 29.2.0, API 1.47"
	assert_contains "$OUT" "builder: BuildKit with a session (auto: a Linux Docker engine"
	assert_contains "$FAKE_LOG" "POST /session "
	grep -q "POST /v1.47/build?.*version=2.*&session=.*&remote=client-session" "$FAKE_LOG" ||
		t_fail "the build did not name the session"
	assert_not_contains "$OUT" "warning"
}

t_auto_session_refused_falls_back() {
	need_builder
	fake_app
	# Docker 23 with the BuildKit feature off: no Builder-Version.
	fake_docker_session 42 23.0.6 refused
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	assert_contains "$OUT" "builder: BuildKit with a session (auto:"
	assert_contains "$OUT" "refused POST /session (HTTP 404: page not found)"
	assert_contains "$OUT" "BUILDER=classic"
	assert_contains "$OUT" "builder: classic (no session"
	grep -q "POST /v1.42/build?.*version=1" "$FAKE_LOG" || t_fail "no classic build"
	assert_not_contains "$FAKE_LOG" "session="
}

t_auto_session_refused_buildkit_tar() {
	need_builder
	fake_app
	# Docker 28 advertising BuildKit but refusing /session: BuildKit
	# through a tar context, as before sessions.
	fake_docker_session 48 28.5.1 refused 'Builder-Version: 2\r\n'
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	assert_contains "$OUT" "sending the context as a tar instead"
	grep -q "POST /v1.47/build?.*version=2" "$FAKE_LOG" || t_fail "no BuildKit build"
}

t_auto_classic_where_no_session() {
	need_builder
	fake_app
	FAKE_OS=windows fake_docker_session 41 20.10.9 ok
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	assert_contains "$OUT" "builder: classic (auto: a windows/amd64 engine has no BuildKit)"
	assert_not_contains "$FAKE_LOG" "/session"
	fake_docker_session 41 4.3.1 ok 'Libpod-Api-Version: 4.3.1\r\n'
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false \
		assert_exit 0 "$BUILDER_BIN" app
	fake_engine_stop
	assert_contains "$OUT" "builder: classic (auto: Podman"
	assert_not_contains "$FAKE_LOG" "/session"
}

t_buildkit_refused_output_says_classic() {
	need_builder
	fake_app
	fake_docker_session 44 25.0.5 refused 'Builder-Version: 2\r\n'
	DOCKER_HOST=unix://$FAKE_SOCK ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false BUILDER=buildkit \
		assert_exit 3 "$BUILDER_BIN" --output "type=local,dest=$T_DIR/dest" app
	fake_engine_stop
	assert_contains "$OUT" "refused POST /session"
	assert_contains "$OUT" "BUILDER=classic builds without one"
	assert_not_contains "$FAKE_LOG" "/build"
	[ ! -e dest ] || t_fail "DEST was created"
}

run_test "a secret from a file reaches RUN --mount=type=secret, and nothing else" t_secret_from_file
run_test "a secret from a variable, and id=ID alone" t_secret_from_env
run_test "a missing secret file or variable exits 2 before the engine" t_secret_missing_source
run_test "a secret the Dockerfile needs but the run lacks fails the build" t_secret_not_given
run_test "COPY . through the session equals the docker CLI's and the tar path's" t_copy_same_as_docker_cli
run_test "a rebuild with the same shared key sends only what changed" t_rebuild_sends_only_changes
run_test "a Dockerfile outside the context" t_dockerfile_elsewhere
run_test "a private base image: credentials through the session, no pre-pull" t_private_base_through_session
run_test "/session refused with a secret to serve: a clear error" t_session_refused
run_test "SIGTERM mid-build exits 143 and the build stops on the engine" t_sigterm_cancels
run_test "RUN --mount=type=ssh reaches a forwarded ssh-agent" t_ssh_agent_forwarded
run_test "the session over tcp+TLS: context and secret" t_session_over_tls
run_test "--output type=local writes a scratch stage's files, no image" t_output_local
run_test "OUTPUT type=tar writes the stage as a tar file" t_output_tar
run_test "--output refuses a symlink out of DEST, writes nothing outside" t_output_link_out_refused
run_test "--output: bad specs and BUILDER=classic exit 2" t_output_usage
run_test "auto: BuildKit with a session on API 1.53 (Docker 29.2, /session deprecated)" t_auto_session_on_api_1_53
run_test "auto: /session refused, no BuildKit advertised: classic, and says why" t_auto_session_refused_falls_back
run_test "auto: /session refused, BuildKit advertised: BuildKit from a tar" t_auto_session_refused_buildkit_tar
run_test "auto: classic on a Windows engine and on Podman, no /session tried" t_auto_classic_where_no_session
run_test "BUILDER=buildkit, /session refused, --output: exit 3 naming BUILDER=classic" t_buildkit_refused_output_says_classic
t_summary
