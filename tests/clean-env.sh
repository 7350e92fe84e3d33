# shellcheck shell=bash
# Sourced by tests/lib.sh and tests/run-unit.sh. Tests run in an environment
# of their own, not the caller's: a BUILDER, TAG or SECRETS exported in the
# shell, or the GITHUB_* and CI_* variables of a CI that runs the suite,
# would change what builder does (with BUILDER=classic exported every e2e
# test failed, and with SECRETS set 6 unit tests did), and a caller's
# GITHUB_STEP_SUMMARY would collect every test's summary.

# clean_env: unexports every variable but the few below, and every exported
# function (an exported docker() would stand in for docker); a test sets
# whatever else it needs.
clean_env() {
	local __ce_name
	# shellcheck disable=SC2163 # export -n of the variable named there
	for __ce_name in $(compgen -e); do
		case $__ce_name in
		PATH | HOME | TMPDIR | LANG | LANGUAGE | LC_* | TZ | TERM | USER | \
			LOGNAME | SHELL | PWD | OLDPWD | SHLVL) ;;
		# The machine's network, and the engine the suite is pointed at.
		http_proxy | https_proxy | no_proxy | HTTP_PROXY | HTTPS_PROXY | \
			NO_PROXY) ;;
		DOCKER_HOST | DOCKER_TLS | DOCKER_TLS_VERIFY | DOCKER_CERT_PATH) ;;
		# How the tests that compile something build it.
		CC | CFLAGS | PKG_CONFIG_PATH | MAKEFLAGS | MAKELEVEL | MFLAGS) ;;
		# The suite's own controls (tests/lib.sh, tests/run.sh).
		TEST_ONLY | TEST_KEEP | TEST_LONG | E2E_TIME_LIMIT | BUILDER_TEST_* | \
			ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS) ;;
		# bash's own (unset, RANDOM would stop being random; SHELLOPTS
		# is read-only): no longer exported, still there.
		RANDOM | SRANDOM | SECONDS | LINENO | SHELLOPTS | BASHOPTS)
			export -n "$__ce_name" ;;
		*) unset "$__ce_name" 2>/dev/null || export -n "$__ce_name" ;;
		esac
	done
	for __ce_name in $(declare -Fx | sed 's/^declare -fx //'); do
		unset -f "$__ce_name"
	done
}
