#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 10) and prints, per
# target, the executions and the crashes.  Exits non-zero when any target
# crashed (or could not be built or run).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Environment:
#   FUZZ_BUILD   build directory (default: build-fuzz in the source tree);
#                configured with clang-14 when it does not exist yet
#   FUZZ_JOBS    parallel fuzzing processes per target (default 1)
#   FUZZ_WORK    where the growing corpora and crash files go (default:
#                $FUZZ_BUILD/fuzz-work); the committed seeds are only read
#
# A crash input is copied to tests/fuzz/crashes/<target>-<sha1> so that it
# can be committed and replayed with: BUILD/tests/fuzz/fuzz-X FILE
set -uo pipefail

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_EACH="${1:-10}"
shift || true
BUILD="${FUZZ_BUILD:-$SRC/build-fuzz}"
JOBS="${FUZZ_JOBS:-1}"
WORK="${FUZZ_WORK:-$BUILD/fuzz-work}"
ALL=(rfb-message connection handshake websocket options monitor clipboard encoders)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi

if [ ! -f "$BUILD/build.ninja" ]; then
  echo "== configuring $BUILD with clang-14"
  CC=clang-14 CXX=clang++-14 meson setup "$BUILD" "$SRC" -Db_lundef=false >"$BUILD.setup.log" 2>&1 || {
    cat "$BUILD.setup.log"; echo "fuzz: meson setup failed"; exit 2; }
fi
if ! grep -q "clang" "$BUILD/meson-logs/meson-log.txt" 2>/dev/null; then
  echo "fuzz: $BUILD is not a clang build directory"; exit 2
fi
build_targets=()
for t in "${TARGETS[@]}"; do build_targets+=("tests/fuzz/fuzz-$t"); done
echo "== building ${build_targets[*]}"
ninja -C "$BUILD" "${build_targets[@]}" >"$BUILD/fuzz-build.log" 2>&1 || {
  tail -40 "$BUILD/fuzz-build.log"; echo "fuzz: build failed"; exit 2; }

mkdir -p "$WORK" "$SRC/tests/fuzz/crashes"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0}"

status=0
total_execs=0
printf '%-14s %12s %9s %8s %s\n' target executions exec/s crashes note
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz-$t"
  if [ ! -x "$bin" ]; then
    printf '%-14s %12s %9s %8s %s\n' "$t" - - - "not built (libvncclient missing?)"
    continue
  fi
  corpus="$WORK/corpus-$t"
  art="$WORK/artifacts-$t/"
  mkdir -p "$corpus" "$art"
  seeds="$SRC/tests/fuzz/corpus/$t"
  log="$WORK/$t.log"
  dict=()
  [ -f "$SRC/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/dict/$t.dict")
  rm -f "$log" "$WORK/$t".job*.log
  if [ "$JOBS" -gt 1 ]; then
    # -fork mode: one supervisor, JOBS workers; the stats line reports all.
    (cd "$WORK" && timeout -k 10 $((SECONDS_EACH + 60)) "$bin" "${dict[@]}" -fork="$JOBS" \
        -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=3072 -max_len=65536 \
        -artifact_prefix="$art" -print_final_stats=1 "$corpus" "$seeds") >"$log" 2>&1
  else
    (cd "$WORK" && timeout -k 10 $((SECONDS_EACH + 60)) "$bin" "${dict[@]}" \
        -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=3072 -max_len=65536 \
        -artifact_prefix="$art" -print_final_stats=1 "$corpus" "$seeds") >"$log" 2>&1
  fi
  rc=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  if [ "$execs" = 0 ]; then
    # fork mode or an early stop: the last status line has the count.
    execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    execs=${execs:-0}
  fi
  # The rate libFuzzer last reported (a crash may end a run early).
  rate=$(grep -Eo 'exec/s: *[0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$')
  rate=${rate:-0}
  crashes=0
  note=""
  for f in "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-*; do
    [ -e "$f" ] || continue
    crashes=$((crashes + 1))
    sum=$(sha1sum "$f" | cut -c1-16)
    kind=$(basename "$f" | cut -d- -f1)
    cp "$f" "$SRC/tests/fuzz/crashes/$t-$kind-$sum"
    note="$note $kind:tests/fuzz/crashes/$t-$kind-$sum"
    rm -f "$f"
  done
  if [ $crashes -eq 0 ] && [ $rc -ne 0 ]; then
    crashes=1
    note=" exit status $rc, see $log"
  fi
  [ $crashes -gt 0 ] && status=1
  total_execs=$((total_execs + execs))
  printf '%-14s %12s %9s %8s%s\n' "$t" "$execs" "$rate" "$crashes" "$note"
done
echo "total executions: $total_execs"
if [ $status -ne 0 ]; then
  echo "fuzz: CRASHES FOUND (logs in $WORK)"
fi
exit $status
