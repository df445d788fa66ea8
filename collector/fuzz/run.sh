#!/bin/sh
# Run every redaction fuzz target for a while (default 120 s each) on nightly:
#   cargo install cargo-fuzz && rustup toolchain install nightly
#   sh collector/fuzz/run.sh [seconds]
# A crash input is left in artifacts/<target>/ and fails this script; copy it
# to regressions/<target>/ so the stable test (collector/tests/secrets_fuzz.rs)
# keeps replaying it. Only libFuzzer's summary lines are printed.
set -e
cd "$(dirname "$0")"
secs=${1:-120}
for t in redact_text redact_yaml redact_json redact_toml redact_env redact_unit; do
  mkdir -p "corpus/$t"
  echo "== $t: $secs s"
  cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 |
    awk '/panicked at/ { n = 4 } n > 0 { n--; print substr($0, 1, 300); next }
        /^(stat::number_of_executed_units|stat::peak_rss_mb|Done|SUMMARY)|ERROR|leak/' || true
  if [ -n "$(ls -A "artifacts/$t" 2>/dev/null)" ]; then
    echo "fuzz: $t: crash inputs in collector/fuzz/artifacts/$t" >&2
    exit 1
  fi
done
