#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader of untrusted input (Sources/MonaFuzzHarnesses) with libFuzzer and
# AddressSanitizer, one harness at a time.
#
#   scripts/fuzz.sh [seconds-per-harness] [harness ...]     (default 60 s, every harness)
#   FUZZ_RUNS=1000000 scripts/fuzz.sh 3600 …                   (stop each harness after that many executions)
#
# Builds Sources/MonaFuzz into .build-fuzz (MONA_FUZZ=1 adds the target; --sanitize=fuzzer,address), seeds each
# corpus from Tests/Fixtures/fuzz-seeds/<harness>/ and the loader fixtures, keeps the corpus in
# .build-fuzz/corpus/<harness>/ between campaigns, and prints executions and findings per harness. Crashing,
# leaking, hanging or memory-exhausting inputs are copied to Tests/Fixtures/fuzz-regressions/<harness>/, which
# the ordinary test suite replays (FuzzRegressionTests) — fix the bug, then commit the input.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(safetensors npy npz torch onnx zip gzip ts arff ucr csv idx fasta wav yaml modeljson statejson metrics)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")

scratch=.build-fuzz
# FUZZ_EXE: a copy of the fuzzer to run (a campaign can then go on while the next fuzzer builds).
exe="${FUZZ_EXE:-$scratch/release/MonaFuzz}"
# FUZZ_SKIP_BUILD=1 reuses the fuzzer already built (the instrumented build takes long on a busy machine).
# The instrumentation options. They are recorded in $scratch/flags: when they change, the build products are
# removed first, because SwiftPM's incremental build does not recompile a source file for a new -Xswiftc option.
# (That is how the 7 December campaigns ran with the FASTA, WAV, CSV, .ts and ARFF readers uninstrumented: their
# objects dated from a build before the coverage option was added, and libFuzzer saw 27 edges for fasta and wav.)
flags="--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table"
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ] || [ ! -x "$exe" ]; then
    echo "building the fuzzer (MONA_FUZZ=1, -sanitize=fuzzer,address) into $scratch …"
    # SwiftPM passes `-sanitize=fuzzer -sanitize=address` to swiftc as two options, and swiftc keeps only the
    # last `-sanitize=`: the Swift objects got AddressSanitizer but no coverage counters (objdump: no __sancov
    # sections; only the C of Yams, compiled by clang, was instrumented), so libFuzzer was blind to the Swift
    # parsers. The coverage instrumentation is therefore requested from swiftc explicitly (-Xswiftc applies to
    # every Swift target, dependencies included).
    mkdir -p "$scratch"
    if [ "$(cat "$scratch/flags" 2>/dev/null)" != "$flags" ]; then
        rm -rf "$scratch/release" "$scratch"/*-unknown-linux-gnu "$scratch/build.db"
        # Recorded at once: whatever is built from here on has these options (a failed build resumes).
        echo "$flags" >"$scratch/flags"
    fi
    started=$(date +%s)
    # shellcheck disable=SC2086
    MONA_FUZZ=1 swift build -c release --scratch-path "$scratch" $flags --product MonaFuzz >"$scratch/build.log" 2>&1 || { tail -30 "$scratch/build.log"; echo "fuzz build failed (log: $scratch/build.log)"; exit 1; }
    echo "fuzz build took $(( $(date +%s) - started )) s"
fi

# Every object of the package's own modules that holds code must carry coverage counters; an uninstrumented
# reader would be fuzzed blind (libFuzzer then reports a few dozen edges and no growth).
blind=()
for o in "$scratch"/release/Mona*.build/*.o; do
    [ -f "$o" ] || continue
    sections=$(size -A "$o" 2>/dev/null)
    # Code of its own: the sanitizers' module constructors alone do not count (a file of declarations only).
    text=$(awk '$1 ~ /^\.text/ && $1 !~ /asan|sancov/ { s += $2 } END { print s + 0 }' <<<"$sections")
    if [ "$text" -gt 0 ] && ! grep -q __sancov_cntrs <<<"$sections"; then blind+=("$o"); fi
done
if [ ${#blind[@]} -gt 0 ]; then
    printf 'not instrumented for coverage (rebuild: rm -rf %s/release and run again):\n' "$scratch"
    printf '  %s\n' "${blind[@]}"
    exit 1
fi

# Loader fixtures that seed each text/binary data harness.
declare -A fixtures=([ts]='*.ts' [arff]='*.arff' [ucr]='*.txt *.tsv *.csv' [csv]='*.csv' [idx]='*idx*'
                     [fasta]='*.fasta' [wav]='*.wav' [gzip]='*.gz')

summary=()
total_findings=0
for h in "${harnesses[@]}"; do
    corpus="$scratch/corpus/$h"
    findings="$scratch/findings/$h"
    mkdir -p "$corpus" "$findings"
    seeds=()
    [ -d "Tests/Fixtures/fuzz-seeds/$h" ] && seeds+=("Tests/Fixtures/fuzz-seeds/$h")
    if [ -n "${fixtures[$h]:-}" ]; then
        seeddir="$scratch/fixture-seeds/$h"
        mkdir -p "$seeddir"
        for pattern in ${fixtures[$h]}; do
            for f in Tests/MonaDataTests/Fixtures/$pattern; do [ -f "$f" ] && cp "$f" "$seeddir/"; done
            # The "your own data" fixtures too (files named alike in different folders keep apart by a prefix).
            find Tests/Fixtures/own-data -type f -name "$pattern" | while read -r f; do
                cp "$f" "$seeddir/own-$(basename "$(dirname "$f")")-$(basename "$f")"
            done
        done
        seeds+=("$seeddir")
    fi
    log="$scratch/$h.log"
    before=$(ls "$findings" | wc -l)
    # Leak checking is off, in AddressSanitizer and in libFuzzer: the Swift runtime's metadata caches are never
    # freed and would be reported, and libFuzzer's own check re-runs every input whose mallocs and frees differ
    # (most Swift inputs), which cost a fifth of the time of the log-mel and inflate harnesses.
    runs=()
    [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
    # nice: the machine is shared; one harness at a time. The CPU time is recorded beside the wall time: on a
    # shared machine executions per second of wall time say more about the other processes than the harness.
    started=$(date +%s)
    MONA_FUZZ_HARNESS="$h" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 /usr/bin/time -f '%U %S' -o "$scratch/$h.time" \
        nice -n "${FUZZ_NICE:-10}" "$exe" "$corpus" "${seeds[@]}" \
        -max_total_time="$seconds" "${runs[@]}" -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=1024 -max_len=65536 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
    wall=$(( $(date +%s) - started ))
    cpu=$(awk 'END { printf "%.0f", $1 + $2 }' "$scratch/$h.time" 2>/dev/null)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    # Coverage reached (edges and features) from libFuzzer's last status line: counters in the thousands show
    # that the Swift code is instrumented.
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    after=$(ls "$findings" | wc -l)
    new=$((after - before))
    total_findings=$((total_findings + new))
    if [ "$new" -gt 0 ]; then
        mkdir -p "Tests/Fixtures/fuzz-regressions/$h"
        for f in "$findings"/*; do cp -n "$f" "Tests/Fixtures/fuzz-regressions/$h/"; done
    fi
    summary+=("$(printf '%-12s %12s executions  %6s s wall  %6s s CPU  cov %6s  ft %7s  %3d new findings  corpus %5d inputs' \
        "$h" "${execs:-?}" "$wall" "${cpu:-?}" "${cov:-?}" "${ft:-?}" "$new" "$(ls "$corpus" | wc -l)")")
    echo "${summary[-1]}"
done
echo
echo "fuzz summary ($seconds s per harness)"
printf '%s\n' "${summary[@]}"
echo "findings: $total_findings (copied to Tests/Fixtures/fuzz-regressions/<harness>/; logs in $scratch/<harness>.log)"
[ "$total_findings" -eq 0 ]
