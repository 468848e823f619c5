#!/usr/bin/env bash
# Benchmark of the synthetic-cycle generator (release build): wall time, throughput and peak memory for
# N enterprises (default 1,000,000). Usage: scripts/bench-generate.sh [N] [seed] [period] [outdir]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}; SEED=${2:-7}; PERIOD=${3:-2023}; OUT=${4:-$(mktemp -d /tmp/yingtong-synth.XXXXXX)}
swift build -c release --product yingtong >/dev/null
BIN=$(swift build -c release --show-bin-path)/yingtong
echo "writing $N enterprises to $OUT"
/usr/bin/time -f "wall=%es user=%Us sys=%Ss max_rss=%MKB" "$BIN" generate --enterprises "$N" --seed "$SEED" --period "$PERIOD" --out "$OUT"
du -sh "$OUT/$PERIOD"
# determinism at scale: a second run must give the same bytes
if [[ "${CHECK_DETERMINISM:-0}" == 1 ]]; then
  OUT2=$(mktemp -d /tmp/yingtong-synth.XXXXXX)
  "$BIN" generate --enterprises "$N" --seed "$SEED" --period "$PERIOD" --out "$OUT2" >/dev/null
  (cd "$OUT/$PERIOD" && sha256sum -- *) > /tmp/yingtong-synth.a
  (cd "$OUT2/$PERIOD" && sha256sum -- *) > /tmp/yingtong-synth.b
  diff /tmp/yingtong-synth.a /tmp/yingtong-synth.b && echo "same seed, same bytes"
  rm -rf "$OUT2"
fi
