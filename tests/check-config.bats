#!/usr/bin/env bats
# vhotplug-statd --check-config: valid configs pass (warning about upstream
# keys we ignore), bad ones fail naming the JSON path and the reason.

bats_require_minimum_version 1.5.0

load common

UPSTREAM=$top_srcdir/../shared/upstream

check_ok() {
	run --separate-stderr "$STATD" --check-config -c "$1"
	assert_success
	assert_output "$1: ok"
}

# check_bad NAME "PATH: reason"...: tests/configs/NAME fails with exit 1
# and one "FILE: PATH: reason" line per argument.
check_bad() {
	local file=$CONFIGS/$1
	shift
	run -1 "$STATD" --check-config -c "$file"
	for expected; do
		assert_output --partial "$file: $expected"
	done
}

@test "valid configs pass" {
	for f in "$CONFIGS"/valid-*.json; do
		check_ok "$f"
	done
}

@test "every config under tests/configs: valid and warn pass, bad fail" {
	local n=0
	for f in "$CONFIGS"/*.json; do
		case ${f##*/} in
		valid-* | warn-*) check_ok "$f" ;;
		bad-*) run -1 "$STATD" --check-config -c "$f" ;;
		*) fail "$f: name it valid-, warn- or bad-" ;;
		esac
		n=$((n + 1))
	done
	[ "$n" -ge 40 ]
}

@test "the upstream README sample passes (trailing commas, old evdev form)" {
	[ -f "$UPSTREAM/README.txt" ] || skip "no $UPSTREAM/README.txt"
	local sample=$BATS_TEST_TMPDIR/readme-sample.json
	sed -n '/^Sample config$/,/^License$/{/^Sample config$/d;/^License$/d;p}' \
		"$UPSTREAM/README.txt" >"$sample"
	grep -q '"usbPassthrough"' "$sample"
	check_ok "$sample"
}

@test "the upstream config.json passes, warning about what it ignores" {
	[ -f "$UPSTREAM/config.json" ] || skip "no $UPSTREAM/config.json"
	local f=$UPSTREAM/config.json
	check_ok "$f"
	run "$STATD" --check-config -c "$f"
	assert_success
	refute_output --partial "acpiPassthrough"
	refute_output --partial "usbAuthorization"
	refute_output --partial "general.api"
}

@test "upstream keys we do not implement warn once each, naming the path" {
	local f=$CONFIGS/valid-full.json
	run "$STATD" --check-config -c "$f"
	assert_success
	assert_output --partial "$f: ok"
	for path in general.statePath \
		vms[1].autoOvmf; do
		assert_output --partial "$f: $path: ignored (vhotplug does not implement it yet)"
		[ "$(grep -cF "$f: $path: ignored" <<<"$output")" -eq 1 ]
	done
	assert_output --partial "$f: general.modprobe: ignored (driverPath rules look modules up with libkmod"
	# Acted on: no warning.
	refute_output --partial pciIommuAddAll
	refute_output --partial skipOnSuspend
	refute_output --partial general.api
	refute_output --partial usbAuthorization
}

@test "every problem is reported on stderr, not just the first" {
	local f=$CONFIGS/bad-many.json
	run -1 --separate-stderr "$STATD" --check-config -c "$f"
	assert_output ""
	[ "$(grep -c "^$f: " <<<"$stderr")" -ge 5 ]
}

@test "missing file" {
	run -1 "$STATD" --check-config -c "$BATS_TEST_TMPDIR/nope.json"
	assert_output --partial "$BATS_TEST_TMPDIR/nope.json: No such file or directory"
}

@test "bad: unknown key, with a hint" {
	check_bad bad-unknown-key.json \
		'usbPassthrough[0].allow[1].vendorID: unknown key (did you mean "vendorId"?)'
}

@test "bad: unknown top-level key" {
	check_bad bad-unknown-toplevel.json \
		'usbPasthrough: unknown key (did you mean "usbPassthrough"?)'
}

@test "bad: USB key in a PCI rule" {
	check_bad bad-pci-usb-key.json 'pciPassthrough[0].allow[0].productId: unknown key'
}

@test "bad: vendorId with 3 hex digits" {
	check_bad bad-vendorid-short.json \
		'usbPassthrough[0].allow[0].vendorId: expected 4 hex digits, got "46d"'
}

@test "bad: productId not hex" {
	check_bad bad-productid-nothex.json \
		'usbPassthrough[0].allow[0].productId: expected 4 hex digits, got "zzzz"'
}

@test "bad: regex that does not compile" {
	check_bad bad-regex.json \
		'usbPassthrough[0].allow[0].productName: bad regular expression "([a-": '
}

@test "bad: regex with a back-reference, saying why" {
	check_bad bad-regex-backref.json \
		'usbPassthrough[0].allow[0].productName: bad regular expression "(ab*)x\\1": back-references (\1 to \9) are not supported, as matching them can take seconds per device'
}

# many_rules FILE N RULE: a config of N copies of RULE in one USB rule set.
many_rules() {
	local i
	{
		printf '{"vms": [{"name": "vm1", "type": "qemu", "socket": "/run/vm1.sock"}],\n'
		printf ' "usbPassthrough": [{"targetVm": "vm1", "allow": [\n'
		for ((i = 1; i < $2; i++)); do
			printf '%s,\n' "$3"
		done
		printf '%s\n]}]}\n' "$3"
	} >"$1"
}

@test "bounds: a config over 1 MiB is refused, naming the file and the bound" {
	local f=$BATS_TEST_TMPDIR/big.json
	printf '{}' >"$f"
	truncate -s 1048577 "$f"
	run -1 "$STATD" --check-config -c "$f"
	assert_output "$f: larger than 1048576 bytes (1 MiB), the most a config may be"
}

@test "bounds: 4096 rules pass, 4097 are an error naming the file and the bound" {
	local f=$BATS_TEST_TMPDIR/rules.json
	many_rules "$f" 4096 '{"vendorId": "0001"}'
	check_ok "$f"
	many_rules "$f" 4097 '{"vendorId": "0001"}'
	run -1 "$STATD" --check-config -c "$f"
	assert_output --partial "$f: usbPassthrough[0].allow: more than 4096 rules in the config, the most it may have"
}

@test "bounds: regular expressions each allowed but too many together are an error" {
	local f=$BATS_TEST_TMPDIR/regex.json
	# 152 nodes each (lib/config/regex-cost.c): the 1316th passes 200,000.
	many_rules "$f" 1400 '{"productName": "(ab?){30}x"}'
	run -1 "$STATD" --check-config -c "$f"
	assert_output --partial "$f: usbPassthrough[0].allow[1315].productName: the config's regular expressions together exceed 200000 nodes, the most it may have"
}

@test "bad: interfaceClass above 255" {
	check_bad bad-class-range.json \
		'usbPassthrough[0].allow[0].interfaceClass: expected an integer from 0 to 255, got 300'
}

@test "bad: negative deviceClass" {
	check_bad bad-class-negative.json \
		'usbPassthrough[0].allow[0].deviceClass: expected an integer from 0 to 255, got -1'
}

@test "bad: removable value" {
	check_bad bad-removable.json \
		'usbPassthrough[0].allow[0].removable[1]: unknown value "sometimes"'
}

@test "bad: targetVm naming no VM" {
	check_bad bad-target-unknown-vm.json \
		'usbPassthrough[0].targetVm: no VM named "vm3" in vms'
}

@test "bad: allowedVms naming no VM" {
	check_bad bad-allowedvms-unknown-vm.json \
		'usbPassthrough[0].allowedVms[1]: no VM named "vm3" in vms'
}

@test "bad: evdevPassthrough neither array nor object" {
	check_bad bad-evdev-type.json 'evdevPassthrough: expected an array or an object'
}

@test "bad: PCI address" {
	check_bad bad-pci-address.json \
		'pciPassthrough[0].allow[0].address: expected a PCI address like "0000:00:14.3", got "00:14.3"'
}

@test "bad: wrong JSON types" {
	check_bad bad-wrong-type.json \
		'usbPassthrough[0].skipOnSuspend: expected true or false' \
		'usbPassthrough[0].allow[0].port: expected an integer'
	check_bad bad-vm-name-type.json 'vms[0].name: expected a string'
}

@test "bad: duplicate VM name" {
	check_bad bad-duplicate-vm.json 'vms[1].name: duplicate VM name "vm1"'
}

@test "bad: VM type" {
	check_bad bad-vm-type.json 'vms[0].type: unknown value "xen" (expected "qemu" or "crosvm")'
}

@test "bad: VM without socket" {
	check_bad bad-vm-no-socket.json 'vms[0].socket: missing (required)'
}

@test "bad: VM socket that is empty" {
	check_bad bad-vm-socket-empty.json 'vms[0].socket: empty'
}

@test "bad: VM socket that is relative" {
	check_bad bad-vm-socket-relative.json \
		'vms[0].socket: "run/office.qmp" is a relative path: give an absolute one'
}

@test "bad: VM socket longer than a unix socket path can be" {
	check_bad bad-vm-socket-long.json \
		'vms[0].socket: 115 bytes long: a unix socket path can have at most 107'
}

@test "bad: VM name that is empty" {
	check_bad bad-vm-name-empty.json 'vms[0].name: empty'
}

@test "bad: ids and names of the wrong JSON type say what the original does with them" {
	check_bad bad-vendorid-number.json \
		'pciPassthrough[0].allow[0].vendorId: expected a string of 4 hex digits, got int (the original vhotplug silently never matches it)' \
		'usbPassthrough[0].allow[0].productName: expected a string, got int (the original vhotplug fails the whole lookup of every device that reaches this rule)'
}

@test "bad: general.api values" {
	check_bad bad-api.json 'general.api.port: expected an integer' \
		'general.api.transports[1]: unknown transport "usb"' \
		'general.api.allowedCids[1]: expected a vsock CID' \
		'general.api.unixSocketMode: expected a string of octal digits'
}

@test "bad: usbAttachBy" {
	check_bad bad-usb-attach-by.json \
		'vms[0].usbAttachBy: unknown value "serial" (expected "busaddr", "vidpid" or "port")'
}

@test "bad: qmpTimeoutMs out of range" {
	check_bad bad-qmp-timeout.json \
		'general.qmpTimeoutMs: expected an integer from 1 to 600000, got 0'
}

@test "bad: JSON syntax error names line and column" {
	local f=$CONFIGS/bad-syntax.json
	run -1 "$STATD" --check-config -c "$f"
	assert_output --partial "$f:3:37: JSON syntax error: "
}

@test "bad: truncated JSON" {
	local f=$CONFIGS/bad-truncated.json
	run -1 "$STATD" --check-config -c "$f"
	assert_output --partial "$f:4:1: JSON syntax error: "
}

@test "bad: data after the top-level object" {
	local f=$CONFIGS/bad-trailing-data.json
	run -1 "$STATD" --check-config -c "$f"
	assert_output --partial "$f:4:1: JSON syntax error: unexpected data after the top-level object"
}

@test "bad: empty file and non-object root" {
	check_bad bad-empty.json 'empty file'
	check_bad bad-root-array.json 'expected a JSON object at the top level'
}

@test "every bad config fails with exit 1 and only FILE-prefixed errors" {
	for f in "$CONFIGS"/bad-*.json; do
		run -1 --separate-stderr "$STATD" --check-config -c "$f"
		assert_output ""
		[ -n "$stderr" ]
		while IFS= read -r line; do
			[[ $line == "$f:"* ]]
		done <<<"$stderr"
	done
}

@test "the example config that make install puts in docdir passes, without a warning" {
	check_ok "$top_srcdir/examples/vhotplug.json"
	assert_equal "$stderr" ""
}
