#!/bin/sh
# run_fuzzer.sh FUZZER SECONDS SEED_CORPUS: runs a libFuzzer target for SECONDS
# on a scratch copy of its seed corpus (new inputs land in the scratch copy, never
# in the repository), and prints the final stats (executions, coverage).
set -eu
fuzzer=$1 seconds=$2 seeds=$3
scratch="${fuzzer}-corpus"
mkdir -p "$scratch" "${fuzzer}-artifacts"
# libFuzzer's default exit code for a finding is 77, which meson reads as
# "skipped": make every finding (crash, timeout, leak, OOM) a failure.
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="${fuzzer}-artifacts/" "$scratch" "$seeds"
