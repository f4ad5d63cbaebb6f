#!/bin/sh
# Debian packages the tests use, installed here when missing (as root, with apt):
#   faketime  libfaketime moves the provider process's clock in the schedule tests;
#   pass      with gnupg, the real secret store of the write-only delivery tests;
#   jq        runs the guard of the example rotation workflow (docs/ci/rotate-credentials.yml);
#   openssl   runs the documented password-fingerprint recipe.
# Usage: tools/system-tools.sh VENV_PYTHON (finds libfaketime exactly as the tests do).
#
# Where a package is still missing, the tests that need it are skipped with the reason, unless a
# flag requires it: METAL_RESET_REQUIRE_SYSTEM_TOOLS=1 (set by .ci/run) requires all of them,
# METAL_RESET_REQUIRE_FAKETIME=1 (the older flag) libfaketime and openssl, as tests/conftest.py
# does. Then this exits 1.
set -eu
python=${1:?usage: tools/system-tools.sh VENV_PYTHON}

has() {
	case $1 in
	faketime) "$python" -c 'from pulumi_metal_reset.testing.faketime import find_libfaketime as f; raise SystemExit(0 if f() else 1)' ;;
	pass) command -v pass >/dev/null ;;
	gnupg) command -v gpg >/dev/null && command -v gpg-agent >/dev/null ;;
	jq) command -v jq >/dev/null ;;
	openssl) command -v openssl >/dev/null ;;
	esac
}

required() {
	[ "${METAL_RESET_REQUIRE_SYSTEM_TOOLS:-}" = 1 ] ||
		{ { [ "$1" = faketime ] || [ "$1" = openssl ]; } && [ "${METAL_RESET_REQUIRE_FAKETIME:-}" = 1 ]; }
}

missing=""
for package in faketime pass gnupg jq openssl; do
	has "$package" || missing="$missing $package"
done

if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "system tools: installing Debian's$missing"
	# shellcheck disable=SC2086 # one word per package
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }; then
		echo "system tools: apt-get install$missing failed"
	fi
	still=""
	for package in $missing; do
		has "$package" || still="$still $package"
	done
	missing=$still
fi

status=0
for package in faketime pass gnupg jq openssl; do
	case " $missing " in
	*" $package "*)
		if required "$package"; then
			echo "system tools: $package is required here but missing; install Debian's $package (as root: apt-get install $package)." >&2
			status=1
		else
			echo "system tools: $package missing and not installable here; the tests that need it are skipped and say why"
		fi
		;;
	*) echo "system tools: $package found" ;;
	esac
done
exit $status
