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

# merge_recordings OUT NAME...: one recording with the devices of NAME...
# (tests/data/NAME.umockdev); a device they share (controller, root hub) once,
# as umockdev-run refuses the same device twice.
merge_recordings() {
	local out=$1 name files=()
	shift
	for name in "$@"; do files+=("$DATA/$name.umockdev"); done
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	     { split($0, l, "\n"); if (!(l[1] in seen)) { seen[l[1]] = 1; print } }' \
		"${files[@]}" >"$out"
}

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

# For setup_file: python3 may be a slow wrapper (pyenv's shim), so the test
# helpers' interpreter is resolved once per file, into PYTHON.
python_resolve() {
	PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	export PYTHON
}
