#!/usr/bin/env bats
# The udev rules file: generated with the helper's installed path, well formed, and
# read by udev itself the way we mean it.
#
# udev 252 has no `udevadm verify`. `udevadm test` parses the rules and shows what
# would RUN for a device, without running it; it reads the system's rules
# directories, so it runs in a private mount namespace where those are empty tmpfs
# mounts (and so is /run, where udev keeps its database), with only our file in
# /run/udev/rules.d: nothing of the host's udev configuration is read or changed,
# and `udevadm test` triggers no uevent. Where that cannot be done (not root, no
# unshare, no PCI device in sysfs) those tests are skipped; the portable syntax
# check below runs everywhere.

load common

setup() {
	RULES=$top_builddir/rules.d/90-vhotplug.rules
	RULES_IN=$top_srcdir/rules.d/90-vhotplug.rules.in
}

# make_var NAME: the value of a make variable of the build tree, expanded.
make_var() {
	make -s --no-print-directory -C "$top_builddir" --eval='print-var-%: ; @echo $($*)' \
		"print-var-$1"
}

# check_rules FILE: each line that is not blank or a comment (after joining lines
# ending in a backslash) must be KEY OP "VALUE" pairs separated by commas, with keys
# udev knows and operators that fit them; every GOTO needs a LABEL after it.
# Prints one line per problem and fails if there is any.
check_rules() {
	local file=$1 n=0 first line next rest key attr op comma errors=0
	local -A labels=() gotos=()
	local pair='^[[:space:]]*([A-Z]+)(\{[^}]*\})?[[:space:]]*(==|!=|\+=|-=|:=|=)[[:space:]]*"(([^"\\]|\\.)*)"[[:space:]]*(,?)(.*)$'
	local match_only=' ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS TAGS ATTRS TEST PROGRAM RESULT CONST '
	local both=' NAME SYMLINK TAG ENV ATTR SYSCTL '
	local assign_only=' OWNER GROUP MODE OPTIONS RUN SECLABEL IMPORT LABEL GOTO '
	local needs_attr=' ATTRS CONST ENV ATTR SYSCTL SECLABEL IMPORT '

	problem() {
		echo "$file:$first: $*"
		errors=$((errors + 1))
	}
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		first=$n
		while [[ $line == *\\ ]] && IFS= read -r next; do
			line=${line%\\}$next
			n=$((n + 1))
		done
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		rest=$line
		while true; do
			if ! [[ $rest =~ $pair ]]; then
				problem "not KEY OP \"VALUE\": $rest"
				break
			fi
			key=${BASH_REMATCH[1]} attr=${BASH_REMATCH[2]} op=${BASH_REMATCH[3]}
			comma=${BASH_REMATCH[6]} rest=${BASH_REMATCH[7]}
			if [[ $match_only == *" $key "* ]]; then
				[[ $op == == || $op == != ]] || problem "$key is only matched (== or !=), not $op"
			elif [[ $assign_only == *" $key "* ]]; then
				[[ $op != == && $op != != ]] || problem "$key is only assigned, not matched with $op"
				[[ $key != LABEL && $key != GOTO ]] || [[ $op == = ]] || problem "$key takes =, not $op"
			elif [[ $both != *" $key "* ]]; then
				problem "unknown key $key"
			fi
			if [[ $needs_attr == *" $key "* && ${#attr} -le 2 ]]; then
				problem "$key needs {NAME}"
			elif [[ -n $attr && $needs_attr != *" $key "* && $key != TEST && $key != RUN ]]; then
				problem "$key takes no {$attr}"
			fi
			[[ $key != LABEL ]] || labels[${BASH_REMATCH[4]}]=$first
			[[ $key != GOTO ]] || gotos[${BASH_REMATCH[4]}]=$first
			if [ -z "$comma" ]; then
				[[ $rest =~ ^[[:space:]]*$ ]] || problem "missing comma before: $rest"
				break
			fi
			if [[ $rest =~ ^[[:space:]]*$ ]]; then
				problem "trailing comma"
				break
			fi
		done
	done <"$file"
	for key in "${!gotos[@]}"; do
		first=${gotos[$key]}
		[ -n "${labels[$key]:-}" ] || problem "GOTO \"$key\" has no LABEL"
		[ -z "${labels[$key]:-}" ] || [ "${labels[$key]}" -gt "$first" ] ||
			problem "LABEL \"$key\" comes before its GOTO"
	done
	unset -f problem
	[ "$errors" -eq 0 ]
}

# in_udev_sandbox DEVICE ACTION: `udevadm test` of ACTION on DEVICE (a real sysfs
# path) with only our rules file, in a private mount namespace; output in $output.
in_udev_sandbox() {
	[ "$(id -u)" -eq 0 ] || skip "udevadm test in a mount namespace needs root"
	command -v udevadm >/dev/null || skip "no udevadm"
	command -v unshare >/dev/null || skip "no unshare"
	unshare -m --propagation private true 2>/dev/null || skip "unshare -m does not work here"
	[ -e "$1" ] || skip "no $1 on this machine"
	# shellcheck disable=SC2016
	run unshare -m --propagation private sh -euc '
		for d in /etc/udev/rules.d /lib/udev/rules.d /usr/lib/udev/rules.d \
			/usr/local/lib/udev/rules.d /run; do
			if [ -d "$d" ] && [ ! -L "$d" ]; then
				mount -t tmpfs vhotplug-test "$d"
			fi
		done
		mkdir -p /run/udev/rules.d
		cp "$1" /run/udev/rules.d/90-vhotplug.rules
		exec udevadm test --action="$3" "$2" 2>&1' sh "$RULES" "$1" "$2"
	assert_success
	assert_output --partial 'Reading rules file: /run/udev/rules.d/90-vhotplug.rules'
	# Parse problems are logged as "FILE:LINE message", from the start of the line.
	refute_line --regexp '^[^ ]*90-vhotplug\.rules:[0-9]+ '
}

# A real PCI function of this machine, whose sysfs udevadm can read.
pci_device() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d/uevent" ] && { readlink -f "$d"; return; }
	done
	echo /sys/bus/pci/devices/none
}

@test "the built rules file has the helper's installed path in every RUN" {
	[ -f "$RULES" ] || fail "$RULES is not built: run make first"
	run grep -c '@' "$RULES"
	assert_output 0
	local helper
	helper=$(make_var pkglibexecdir)/vhotplug-helper
	[[ $helper == /*/vhotplug-helper ]] || fail "odd helper path: $helper"
	run grep -o 'RUN+="[^"]*"' "$RULES"
	assert_success
	assert_equal "${#lines[@]}" 3
	local l
	for l in "${lines[@]}"; do
		assert_equal "$l" "RUN+=\"$helper\""
	done
	# Only the placeholder differs from the source.
	assert_equal "$(sed "s|@helper@|$helper|g" "$RULES_IN")" "$(cat "$RULES")"
}

@test "the rules file and its source pass the syntax check" {
	run check_rules "$RULES_IN"
	assert_success
	assert_output ''
	run check_rules "$RULES"
	assert_success
	assert_output ''
}

@test "the syntax check finds what udev would reject or misread" {
	local bad=$BATS_TEST_TMPDIR/bad.rules
	cat >"$bad" <<-'EOF'
		# comment
		BOGUS=="x", RUN+="/bin/true"
		SUBSYSTEM=="pci" RUN+="/bin/true"
		SUBSYSTEM="pci", RUN+="/bin/true"
		ENV="x", RUN=="/bin/true"
		KERNEL=="event*", RUN+="unterminated
		GOTO="nowhere"
		SUBSYSTEM=="usb",
		ACTION=="add", \
			GOTO="later"
		LABEL="later"
	EOF
	run check_rules "$bad"
	assert_failure
	assert_line "$bad:2: unknown key BOGUS"
	assert_line --partial "$bad:3: missing comma before"
	assert_line "$bad:4: SUBSYSTEM is only matched (== or !=), not ="
	assert_line "$bad:5: ENV needs {NAME}"
	assert_line "$bad:5: RUN is only assigned, not matched with =="
	assert_line --partial "$bad:6: not KEY OP \"VALUE\""
	assert_line "$bad:7: GOTO \"nowhere\" has no LABEL"
	assert_line "$bad:8: trailing comma"
	assert_equal "${#lines[@]}" 8
}

@test "udevadm test: udev parses the rules and would run the helper on a PCI add and remove" {
	local helper dev
	helper=$(make_var pkglibexecdir)/vhotplug-helper
	dev=$(pci_device)
	in_udev_sandbox "$dev" add
	assert_line "run: '$helper'"
	in_udev_sandbox "$dev" remove
	assert_line "run: '$helper'"
}

@test "udevadm test: nothing runs for a change event" {
	in_udev_sandbox "$(pci_device)" change
	refute_line --partial 'run: '
}
