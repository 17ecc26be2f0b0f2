#!/usr/bin/env bash
# Hostile store input: build the libFuzzer targets in tests/fuzz/ (clang,
# ASan, UBSan) into this test's work directory and run each for
# FUZZ_SECONDS (default 20) on seeds generated from real store files. Any
# crash, leak, UB or harness finding fails that target. `make fuzz` is the
# long version (docs/fuzzing.md). Mounts nothing.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# The fuzzers build their own instrumented objects, so the sanitizer pass
# of `make test` would only repeat the same run.
case $BUILD in
*-san)
	ok "fuzzers: run once per suite, with the normal build"
	exit 0
	;;
esac
WORK=$(mktemp -d /tmp/recfs-test.XXXXXX) || bail "mktemp"

# clang and its libFuzzer runtime come from tools/deps.sh; this test
# installs nothing.
if ! command -v clang >/dev/null; then
	bail "clang available" "clang is missing: tools/deps.sh (make deps) should have installed clang and libclang-rt-14-dev"
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$WORK/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$WORK/probe" "$WORK/probe.c" >"$WORK/probe.log" 2>&1; then
	show "$(cat "$WORK/probe.log")"
	bail "clang links libFuzzer" "no libFuzzer runtime: tools/deps.sh (make deps) should have installed libclang-rt-14-dev"
fi
ok "clang with libFuzzer, ASan and UBSan"

targets=()
for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
	targets+=("$(basename "$f" .c)")
done
[ "${#targets[@]}" -gt 0 ] || bail "fuzz targets found" "none in tests/fuzz/"

if make -s -C "$ROOT" -j2 FUZZ_BUILD="$WORK/fuzz" fuzz-build >"$WORK/build.log" 2>&1; then
	ok "fuzz targets build (${targets[*]})"
else
	show "$(tail -n 20 "$WORK/build.log")"
	bail "fuzz targets build"
fi

for t in "${targets[@]}"; do
	out=$(sh "$ROOT/tests/fuzz/run.sh" "$WORK/fuzz" "$FUZZ_SECONDS" "$t" 2>&1)
	rc=$?
	line=$(grep -E '^(PASS|FAIL): ' <<<"$out" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		ok "$t: ${FUZZ_SECONDS}s, no finding"
		say "${line#PASS: }"
	else
		fail "$t: ${FUZZ_SECONDS}s" "${line#FAIL: }"
		show "$(grep -vE '^(PASS|FAIL): ' <<<"$out")"
		# The work directory goes at exit: keep the crashing inputs.
		if compgen -G "$WORK/fuzz/artifacts/$t/*" >/dev/null; then
			keep=$(mktemp -d "/tmp/recfs-fuzz-findings-$t.XXXXXX") &&
				cp "$WORK/fuzz/artifacts/$t"/* "$keep/" &&
				say "reproducers kept in $keep; replay one with: make fuzz-build &&" \
					"build-fuzz/$t FILE; keep it as tests/fuzz/regress/$t/NAME"
		fi
	fi
done
