# shellcheck shell=bash
# Sourced by tests/lib.sh and tests/run-unit.sh. Tests run in an environment
# of their own, not the caller's: a BUILDER, TAG or SECRETS exported in the
# shell, or the GITHUB_* and CI_* variables of a CI that runs the suite,
# would change what builder does (with BUILDER=classic exported every e2e
# test failed, and with SECRETS set 6 unit tests did), and a caller's
# GITHUB_STEP_SUMMARY would collect every test's summary.

# clean_env: unexports every variable but the few below; a test sets
# whatever else it needs.
clean_env() {
	local name
	for name in $(compgen -e); do
		case $name in
		PATH | HOME | TMPDIR | LANG | LANGUAGE | LC_* | TZ | TERM | USER | \
			LOGNAME | SHELL | PWD | OLDPWD | SHLVL) ;;
		# The engine the suite is pointed at, and its own controls
		# (tests/lib.sh, tests/run.sh).
		DOCKER_HOST | DOCKER_TLS_VERIFY | DOCKER_CERT_PATH) ;;
		TEST_ONLY | TEST_KEEP | TEST_LONG | E2E_TIME_LIMIT | BUILDER_TEST_* | \
			ASAN_OPTIONS | UBSAN_OPTIONS | LSAN_OPTIONS) ;;
		*) unset "$name" 2>/dev/null || true ;;
		esac
	done
}
