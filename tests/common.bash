# Shared set-up for the bats files; sourced with `load common`.
# automake's AM_TESTS_ENVIRONMENT exports top_srcdir and top_builddir.

bats_load_library bats-support
bats_load_library bats-assert

: "${top_srcdir:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)

CTL=$top_builddir/ctl/vhotplugctl
STATD=$top_builddir/statd/vhotplug-statd
HELPER=$top_builddir/helper/vhotplug-helper
DATA=$top_srcdir/tests/data
CONFIGS=$top_srcdir/tests/configs
SCHEMA=$top_srcdir/sql/schema.sql

# Run a command with the devices of one or more recordings (tests/data/NAME.umockdev).
with_devices() {
	local args=()
	while [ "$1" != "--" ]; do
		args+=(--device "$DATA/$1.umockdev")
		shift
	done
	shift
	umockdev-run "${args[@]}" -- "$@"
}
