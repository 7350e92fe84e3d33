#!/usr/bin/env bash
# The environment the end-to-end tests run in: packages, a Docker engine, a
# registry with htpasswd authentication, and local base images (nothing can
# be pulled here).
#
#   scripts/test-env.sh deps     install the Debian packages that are missing
#   scripts/test-env.sh up       engine + registry + busybox:latest; idempotent
#   scripts/test-env.sh down     stop what 'up' started (dockerd only if it
#                                started it)
#   scripts/test-env.sh status   say what runs
#   scripts/test-env.sh envfile  print the path of the file tests source
#
# State lives in $BUILDER_TEST_STATE (default /tmp/builder-test-env): pid
# files, logs, the registry's config, password file and storage, and 'env',
# which defines REGISTRY_ADDR, REGISTRY_USER_T, REGISTRY_PASS_T and
# REGISTRY_DIR. REGISTRY_PORT picks the registry's port (default: 5000, or
# the next free one).
set -euo pipefail

STATE=${BUILDER_TEST_STATE:-/tmp/builder-test-env}
ENV_FILE=$STATE/env
REG_USER=testuser
REG_PASS=testpass
PACKAGES="build-essential pkg-config libcurl4-openssl-dev libcjson-dev
libarchive-dev libssl-dev zlib1g-dev libyaml-dev libexpat1-dev docker.io docker-registry apache2-utils
busybox-static clang valgrind jq curl file python3-yaml docker-compose
iproute2 openssl socat libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
openssh-client shellcheck"

say() { printf 'test-env: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "'$1' needs root: run this as root or install sudo"
	fi
}

cmd_deps() {
	local missing="" p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq >/dev/null ||
		die "apt-get update failed: is the Debian archive reachable?"
	# shellcheck disable=SC2086
	as_root apt-get install -y -qq --no-install-recommends $missing \
		>"${TMPDIR:-/tmp}/builder-apt.log" 2>&1 ||
		{ tail -30 "${TMPDIR:-/tmp}/builder-apt.log" >&2;
		  die "apt-get install failed: see the lines above"; }
}

# --- engine -------------------------------------------------------------

engine_ok() {
	if [ -n "${DOCKER_HOST:-}" ]; then
		# tcp and TLS included: the CLI knows DOCKER_TLS_VERIFY.
		timeout 10 docker version >/dev/null 2>&1
	else
		curl -sf --max-time 5 --unix-socket /var/run/docker.sock \
			http://d/_ping >/dev/null 2>&1
	fi
}

engine_up() {
	local _
	engine_ok && return 0
	[ -z "${DOCKER_HOST:-}" ] ||
		die "no engine answers on DOCKER_HOST='$DOCKER_HOST': start it or unset DOCKER_HOST"
	command -v dockerd >/dev/null ||
		die "'dockerd' is not installed: run 'scripts/test-env.sh deps'"
	say "starting dockerd (log: $STATE/dockerd.log)"
	# No systemd here. setsid and closed descriptors: the daemon must not
	# hold the caller's terminal or pipes open.
	setsid dockerd >"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
	echo $! >"$STATE/dockerd.pid"
	for _ in $(seq 60); do
		engine_ok && return 0
		kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null || break
		sleep 1
	done
	tail -30 "$STATE/dockerd.log" >&2
	die "dockerd did not answer on /var/run/docker.sock within 60 s: see its log above"
}

# --- registry -----------------------------------------------------------

pid_alive() { # PIDFILE NAME
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$2"
}

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

registry_answers() { # ADDR
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		-u "$REG_USER:$REG_PASS" "http://$1/v2/")" = 200 ]
}

write_env() { # ADDR DIR
	cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/test-env.sh up; sourced by tests/lib.sh.
REGISTRY_ADDR=$1
REGISTRY_USER_T=$REG_USER
REGISTRY_PASS_T=$REG_PASS
REGISTRY_DIR=$2
EOF
	mv "$ENV_FILE.tmp" "$ENV_FILE"
}

registry_up() {
	local port _ addr dir
	if pid_alive "$STATE/registry.pid" docker-registry && [ -s "$ENV_FILE" ]; then
		addr=$(sed -n 's/^REGISTRY_ADDR=//p' "$ENV_FILE")
		registry_answers "$addr" && return 0
		say "registry on '$addr' does not answer: restarting it"
		registry_down
	fi
	if ! command -v docker-registry >/dev/null || ! command -v htpasswd >/dev/null; then
		die "'docker-registry' or 'htpasswd' is missing: run 'scripts/test-env.sh deps'"
	fi

	port=${REGISTRY_PORT:-5000}
	if [ -z "${REGISTRY_PORT:-}" ]; then
		while port_busy "$port"; do
			port=$((port + 1))
			[ "$port" -lt 5100 ] || die "no free port from 5000 to 5099: set REGISTRY_PORT"
		done
	elif port_busy "$port"; then
		die "port $port (REGISTRY_PORT) is in use: pick another"
	fi
	addr=127.0.0.1:$port
	dir=$(mktemp -d "$STATE/registry.XXXXXX")
	htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$STATE/htpasswd"
	cat >"$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir
  delete:
    enabled: true
http:
  addr: $addr
auth:
  htpasswd:
    realm: builder-test
    path: $STATE/htpasswd
EOF
	say "starting registry on $addr (log: $STATE/registry.log)"
	setsid docker-registry serve "$STATE/registry.yml" \
		>"$STATE/registry.log" 2>&1 </dev/null 9>&- &
	echo $! >"$STATE/registry.pid"
	# Only 'kill -0' while it starts: until setsid has exec'd the registry,
	# its /proc cmdline is this script's (or empty), which pid_alive's name
	# check takes for a dead registry on a busy machine.
	for _ in $(seq 100); do
		if registry_answers "$addr"; then
			write_env "$addr" "$dir"
			return 0
		fi
		kill -0 "$(cat "$STATE/registry.pid")" 2>/dev/null || break
		sleep 0.2
	done
	tail -30 "$STATE/registry.log" >&2
	kill -0 "$(cat "$STATE/registry.pid")" 2>/dev/null ||
		die "the registry on '$addr' exited while starting: see its log above"
	die "the registry did not answer on '$addr' within 20 s: see its log above"
}

registry_down() {
	local pid _
	if pid_alive "$STATE/registry.pid" docker-registry; then
		pid=$(cat "$STATE/registry.pid")
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$STATE/registry.pid" "$ENV_FILE"
	rm -rf "$STATE"/registry.??????
}

# --- base images --------------------------------------------------------

busybox_image() {
	local root bb
	docker image inspect busybox:latest >/dev/null 2>&1 && return 0
	bb=$(command -v busybox || true)
	if [ -z "$bb" ] || ! file -L "$bb" | grep -q 'statically linked'; then
		die "no static busybox: run 'scripts/test-env.sh deps' (busybox-static)"
	fi
	say "importing busybox:latest from $bb"
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
		"$root/etc" "$root/root" "$root/tmp" "$root/var/tmp"
	chmod 1777 "$root/tmp" "$root/var/tmp"
	cp "$bb" "$root/bin/busybox"
	"$bb" --list-full | while IFS= read -r a; do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
		docker import -c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' \
			-c 'CMD ["sh"]' - busybox:latest >/dev/null
	rm -rf "$root"
}

# One 'up' or 'down' at a time: parallel test runs share one environment.
lock() {
	mkdir -p "$STATE"
	exec 9>"$STATE/lock"
	flock 9
}

cmd_up() {
	lock
	engine_up
	registry_up
	busybox_image
	say "ready: engine, registry $(sed -n 's/^REGISTRY_ADDR=//p' "$ENV_FILE"), busybox:latest"
}

cmd_down() {
	local pid _
	lock
	registry_down
	if pid_alive "$STATE/dockerd.pid" dockerd; then
		pid=$(cat "$STATE/dockerd.pid")
		say "stopping the dockerd this script started (pid $pid)"
		kill "$pid"
		for _ in $(seq 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
	fi
	rm -f "$STATE/dockerd.pid"
}

cmd_status() {
	local rc=0
	if engine_ok; then echo "engine: answers"; else echo "engine: down"; rc=1; fi
	if pid_alive "$STATE/dockerd.pid" dockerd; then
		echo "engine: started by this script (pid $(cat "$STATE/dockerd.pid"))"
	fi
	if pid_alive "$STATE/registry.pid" docker-registry && [ -s "$ENV_FILE" ]; then
		echo "registry: $(sed -n 's/^REGISTRY_ADDR=//p' "$ENV_FILE") (pid $(cat "$STATE/registry.pid"))"
	else
		echo "registry: down"; rc=1
	fi
	return $rc
}

case "${1:-}" in
deps) cmd_deps ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
envfile) echo "$ENV_FILE" ;;
*) echo "usage: scripts/test-env.sh deps|up|down|status|envfile" >&2; exit 2 ;;
esac
