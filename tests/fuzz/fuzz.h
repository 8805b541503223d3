/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A fuzz target: libFuzzer calls it with each input (make fuzz, clang), and
 * tests/fuzz/replay.c calls it with each file of its corpus (make check, CC).
 * It must not leak, exit or keep state that changes what the next input does.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
