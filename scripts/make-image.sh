#!/usr/bin/env bash
# make-image.sh: build builder:latest and builder-shell:latest with builder.
#
# builder builds its own images: bin/builder (the development binary) sends
# a context prepared here to the engine, with PUSH=false and no tests:
#
#   $ctx/Dockerfile, $ctx/Dockerfile.shell   copies of the repo's
#   $ctx/bin/builder-static                  from `make static`
#   $ctx/etc/ssl/certs/ca-certificates.crt   this machine's CA bundle
#   $ctx/rootfs/                             static busybox and its applet
#                                            links, for the shell variant
#
# builder names what it builds [REGISTRY/]ACCOUNT/IMAGE:TAG and will not
# make a name without an account, so it builds local/builder:latest and
# local/builder-shell:latest, and `docker tag` gives them the names run.sh
# and CI configurations use. Needs the docker CLI for that one step, and
# root (or busybox-static already installed) for the busybox.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
builder=${BUILDER_BIN:-$repo/bin/builder}
static=$repo/bin/builder-static
cabundle=/etc/ssl/certs/ca-certificates.crt

say() { printf 'make-image: %s\n' "$*"; }
die() { printf 'make-image: error: %s\n' "$*" >&2; exit 1; }

[ -x "$builder" ] || die "'$builder' is missing; run 'make bin/builder'"
[ -x "$static" ] || die "'$static' is missing; run 'make static'"
[ -f "$cabundle" ] || die "no CA bundle at '$cabundle'; apt-get install ca-certificates"

# Debian's busybox-static, not the dynamically linked busybox package
# (they conflict, so /bin/busybox is the static one when this is installed).
if ! dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
	[ "$(id -u)" = 0 ] || die "busybox-static is not installed; run as root or install it"
	say "installing busybox-static"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		busybox-static >/dev/null
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/builder-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT

# --- the context ---------------------------------------------------------------
mkdir -p "$ctx/bin" "$ctx/etc/ssl/certs"
cp "$repo/Dockerfile" "$repo/Dockerfile.shell" "$ctx/"
cp "$static" "$ctx/bin/builder-static"
cp "$cabundle" "$ctx/etc/ssl/certs/ca-certificates.crt"

# A root filesystem for the shell variant: busybox and a link for each of
# its applets at the path busybox itself reports, a root user so HOME and
# `id` make sense, and the directories CI scripts expect.
root=$ctx/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
/bin/busybox --list-full | while IFS= read -r applet; do
	case $applet in
	*/* ) ;;
	*) continue ;; # linuxrc and the like: not a command
	esac
	[ "$applet" != bin/busybox ] || continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done
[ -e "$root/bin/sh" ] || die "busybox provides no 'sh' applet"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

# --- the builds ------------------------------------------------------------------
# Only what is set here reaches builder: a caller's TEST_CMD, REGISTRY,
# EXTRA_TAGS and the like would change what gets built or tagged.
unset REGISTRY EXTRA_TAGS CONTEXT DOCKERFILE BUILD_ARGS TARGET LABELS \
	CACHE_FROM PULL NO_CACHE TEST_CMD TEST_ENV TEST_SERVICES TEST_TIMEOUT \
	PUSH_RETRIES REPORT

build_args="LICENSES=${IMAGE_LICENSES:-NOASSERTION}"
source_url=${IMAGE_SOURCE:-$(git -C "$repo" remote get-url origin 2>/dev/null || true)}
# A credential in a remote URL must not end up in a label, and an scp-like
# ssh remote (git@host:path) becomes the https URL people can open.
case $source_url in
*://*@*) source_url=${source_url%%://*}://${source_url#*@} ;;
*@*:*) source_url=${source_url#*@}
	source_url=https://${source_url%%:*}/${source_url#*:} ;;
esac
source_url=${source_url%.git}
[ -z "$source_url" ] || build_args="$build_args,SOURCE_URL=$source_url"

# build IMAGE DOCKERFILE NAME: build local/IMAGE:latest, tag it NAME. The
# image NAME held before goes when nothing else names it: each build has
# new file times, so a new ID, and the old one was left dangling (6-8 MB a
# `make image`).
build() {
	local old new
	say "building $3 from $2"
	old=$(docker image inspect -f '{{.Id}}' "$3" 2>/dev/null || true)
	(cd "$ctx" && ACCOUNT=local IMAGE=$1 TAG=latest PUSH=false \
		BUILD_ARGS=$build_args "$builder" --no-push -f "$2" .)
	docker tag "local/$1:latest" "$3"
	docker rmi "local/$1:latest" >/dev/null
	new=$(docker image inspect -f '{{.Id}}' "$3")
	if [ -n "$old" ] && [ "$old" != "$new" ] &&
		[ "$(docker image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null)" = 0 ]; then
		docker rmi "$old" >/dev/null 2>&1 ||
			say "the previous $3 ($old) is still used by a container: kept"
	fi
}

build builder Dockerfile builder:latest
build builder-shell Dockerfile.shell builder-shell:latest

say "done: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' builder:latest)," \
	"$(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' builder-shell:latest)"
