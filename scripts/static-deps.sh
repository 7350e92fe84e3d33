#!/usr/bin/env bash
# static-deps.sh: build the static libraries that bin/builder-static links.
#
# Debian's libcurl.a cannot be linked statically (it wants gssapi and sasl2,
# which Debian ships no static libraries for), there is no libcjson.a at
# all, and libarchive.a drags in xml2, nettle, lzma, bz2, zstd, lz4 and acl
# for formats builder never writes. So we build the three from Debian's own
# source packages, each cut down to what builder uses:
#
#   libcurl     HTTP only, over unix sockets or TCP with OpenSSL
#   libarchive  no compression or crypto libraries but zlib, no acl/xattr
#   cJSON       cJSON.c compiled into a .a
#
# OpenSSL, zlib, nghttp2 and protobuf-c come from Debian's libssl-dev,
# zlib1g-dev, libnghttp2-dev and libprotobuf-c-dev as they are (their .a
# files need nothing else); protoc-c (protobuf-c-compiler) generates the
# session's message code at build time.
#
# Run as root on Debian 12: installs the build tools with apt-get, adds a
# deb-src entry for the suites already configured if there is none, then
# builds into $repo/.deps (sources in .deps/src, headers in .deps/include,
# libraries in .deps/lib) and writes .deps/stamp. Each library is rebuilt
# only when its recipe below changed, so running it again is cheap.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
deps=$repo/.deps
src=$deps/src
log=$deps/build.log
jobs=$(nproc 2>/dev/null || echo 2)
# -ffunction-sections lets the final link drop the unused parts of each
# library with --gc-sections.
dep_cflags="-Os -ffunction-sections -fdata-sections"

say() { printf 'static-deps: %s\n' "$*"; }

die() {
	printf 'static-deps: error: %s\n' "$*" >&2
	if [ -s "$log" ]; then
		printf 'static-deps: last lines of %s:\n' "$log" >&2
		tail -n 30 "$log" >&2
	fi
	exit 1
}

# run CMD...: run quietly, output appended to the log; fail with its tail.
run() {
	printf '+ %s\n' "$*" >>"$log"
	"$@" >>"$log" 2>&1 || die "'$*' failed (exit $?)"
}

mkdir -p "$src" "$deps/include" "$deps/lib"
: >"$log"
rm -f "$deps/stamp"

# --- build tools -----------------------------------------------------------
need_pkgs="build-essential dpkg-dev autoconf automake libtool pkg-config
	libssl-dev zlib1g-dev libyaml-dev ca-certificates libnghttp2-dev
	libprotobuf-c-dev protobuf-c-compiler libexpat1-dev"
missing=
for p in $need_pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
apt_updated=
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || die "packages missing:$missing; run as root or install them"
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	run apt-get update
	apt_updated=1
	# shellcheck disable=SC2086 # word splitting wanted
	run apt-get install -y --no-install-recommends $missing
fi

# --- deb-src entry -----------------------------------------------------------
# A copy of Debian's own entries with Types: deb-src, so `apt-get source`
# fetches the sources of exactly the versions the machine installs.
have_sources() {
	local out
	out=$(apt-cache showsrc curl cjson libarchive 2>/dev/null) || return 1
	case $out in *'Package: libarchive'*) return 0 ;; esac
	return 1
}
if ! have_sources; then
	[ "$(id -u)" = 0 ] || die "no deb-src entry for Debian; run as root to add one"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		srcfile=/etc/apt/sources.list.d/debian-src.sources
		if [ ! -f "$srcfile" ]; then
			say "adding $srcfile"
			sed 's/^Types:.*/Types: deb-src/' \
				/etc/apt/sources.list.d/debian.sources >"$srcfile"
		fi
	elif [ -f /etc/apt/sources.list ]; then
		srcfile=/etc/apt/sources.list.d/debian-src.list
		if [ ! -f "$srcfile" ]; then
			say "adding $srcfile"
			sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' \
				/etc/apt/sources.list >"$srcfile"
		fi
	else
		die "no Debian apt sources found to copy a deb-src entry from"
	fi
	if [ -z "$apt_updated" ] || ! have_sources; then
		say "apt-get update"
		run apt-get update
	fi
	have_sources || die "apt-get still finds no source packages; check $srcfile"
fi

# --- helpers -----------------------------------------------------------------

# fetch PKG: unpack Debian's source package PKG under $src, make it ready
# to configure, and print its directory. A tree left half-prepared by an
# interrupted run is unpacked again (apt-get reuses what it downloaded).
fetch() {
	local pkg=$1 dir p
	dir=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n 1)
	if [ -n "$dir" ] && [ -f "$dir/.static-deps-ready" ]; then
		printf '%s\n' "$dir"
		return
	fi
	[ -z "$dir" ] || rm -rf "$dir"
	say "$pkg: fetching source" >&2
	(cd "$src" && run apt-get source -qq "$pkg")
	dir=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n 1)
	[ -n "$dir" ] || die "apt-get source $pkg left no $pkg-* directory"
	if [ "$pkg" = curl ]; then
		# The last two patches of Debian's series rename the library
		# for its GnuTLS and NSS flavours; debian/rules pops them to
		# build the OpenSSL one, and so do we.
		for p in 99_nss.patch 90_gnutls.patch; do
			[ ! -f "$dir/debian/patches/$p" ] ||
				run patch -d "$dir" -R -p1 -i "debian/patches/$p"
		done
	fi
	if [ -f "$dir/configure.ac" ]; then
		# Debian's patches touch configure.ac and Makefile.am, and
		# Debian's own build runs autoreconf too.
		say "$pkg: regenerating the build system" >&2
		(cd "$dir" && run autoreconf -fi)
	fi
	touch "$dir/.static-deps-ready"
	printf '%s\n' "$dir"
}

# up_to_date NAME RECIPE LIB: true when LIB exists and was built from RECIPE.
up_to_date() {
	[ -f "$3" ] && [ -f "$src/$1.recipe" ] &&
		[ "$(cat "$src/$1.recipe")" = "$2" ]
}

# --- cJSON ---------------------------------------------------------------------
cjson_recipe="cc $dep_cflags -std=c89 -c cJSON.c; ar rcs libcjson.a"
if up_to_date cjson "$cjson_recipe" "$deps/lib/libcjson.a"; then
	say "cjson: up to date"
else
	dir=$(fetch cjson)
	say "cjson: building $(basename "$dir")"
	rm -f "$src/cjson.recipe"
	# shellcheck disable=SC2086
	run cc $dep_cflags -std=c89 -c -o "$dir/cJSON.o" "$dir/cJSON.c"
	rm -f "$deps/lib/libcjson.a"
	run ar rcs "$deps/lib/libcjson.a" "$dir/cJSON.o"
	mkdir -p "$deps/include/cjson"
	cp "$dir/cJSON.h" "$deps/include/cjson/cJSON.h"
	printf '%s\n' "$cjson_recipe" >"$src/cjson.recipe"
fi

# --- libarchive --------------------------------------------------------------
# builder only writes uncompressed pax tar, so every optional library is
# off; zlib stays (cheap, and the gzip filter is the one a caller might
# reasonably want). iconv comes from glibc.
archive_opts=(
	--disable-shared --enable-static
	--disable-bsdtar --disable-bsdcpio --disable-bsdcat
	--disable-acl --disable-xattr
	--with-zlib
	--without-bz2lib --without-libb2 --without-lz4 --without-zstd
	--without-lzma --without-lzo2 --without-cng --without-mbedtls
	--without-nettle --without-openssl --without-xml2 --without-expat
)
archive_recipe="${archive_opts[*]} CFLAGS=$dep_cflags"
if up_to_date libarchive "$archive_recipe" "$deps/lib/libarchive.a"; then
	say "libarchive: up to date"
else
	dir=$(fetch libarchive)
	say "libarchive: configuring $(basename "$dir")"
	rm -f "$src/libarchive.recipe"
	(
		cd "$dir"
		[ ! -f config.status ] || run make distclean
		run ./configure --prefix="$deps" "${archive_opts[@]}" CFLAGS="$dep_cflags"
		say "libarchive: building"
		run make -j"$jobs" libarchive.la
		run make install-libLTLIBRARIES install-includeHEADERS
	)
	rm -f "$deps/lib/libarchive.la"
	printf '%s\n' "$archive_recipe" >"$src/libarchive.recipe"
fi

# --- libcurl -----------------------------------------------------------------
# HTTP only, without the features a browser-like client needs (cookies,
# HSTS, alt-svc, DoH, netrc, mime forms, NTLM). Unix sockets stay on: they
# are how builder reaches the engine; proxies and basic auth stay too.
# The CA bundle path is the one Debian uses and the image ships; TLS to a
# remote engine uses DOCKER_CERT_PATH's ca.pem instead.
curl_opts=(
	--disable-shared --enable-static
	--with-openssl --with-zlib
	--enable-http --enable-unix-sockets --enable-proxy
	--disable-ftp --disable-file --disable-ldap --disable-ldaps
	--disable-rtsp --disable-dict --disable-telnet --disable-tftp
	--disable-pop3 --disable-imap --disable-smb --disable-smtp
	--disable-gopher --disable-mqtt --disable-manual
	--disable-ntlm --disable-ntlm-wb --disable-tls-srp --disable-cookies
	--disable-doh --disable-mime --disable-netrc --disable-alt-svc
	--disable-hsts --disable-libcurl-option --disable-progress-meter
	--without-libpsl --without-brotli --without-zstd --without-nghttp2
	--without-libidn2 --without-librtmp --without-libssh2 --without-libssh
	--without-gssapi --without-ngtcp2 --without-nghttp3 --without-quiche
	--without-hyper --without-msh3 --without-libgsasl
	--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path
)
curl_recipe="${curl_opts[*]} CFLAGS=$dep_cflags"
if up_to_date curl "$curl_recipe" "$deps/lib/libcurl.a"; then
	say "curl: up to date"
else
	dir=$(fetch curl)
	say "curl: configuring $(basename "$dir")"
	rm -f "$src/curl.recipe"
	(
		cd "$dir"
		[ ! -f config.status ] || run make distclean
		run ./configure --prefix="$deps" "${curl_opts[@]}" CFLAGS="$dep_cflags"
		say "curl: building"
		# The library and its headers only: not the curl tool, not docs.
		run make -j"$jobs" -C lib
		run make -C lib install
		run make -C include install
	)
	rm -f "$deps/lib/libcurl.la"
	printf '%s\n' "$curl_recipe" >"$src/curl.recipe"
fi

for f in include/curl/curl.h include/cjson/cJSON.h include/archive.h \
	include/archive_entry.h lib/libcurl.a lib/libcjson.a lib/libarchive.a; do
	[ -f "$deps/$f" ] || die "'.deps/$f' is missing after the build"
done
date -u '+%Y-%m-%dT%H:%M:%SZ' >"$deps/stamp"
say "done: $deps/lib ($(cd "$deps/lib" && echo *.a))"
