#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Log engine append benchmark (issue 3): MB/s of ~1 MiB zstd batches appended
# with fsync=always to 1 and to 6 partitions, next to `dd conv=fdatasync` of
# the same amount on the same disk, their ratio (target >= 0.85), and the
# append->durable latency of 16 KiB batches at 2,000 batches/s.
#
#   bash bench/bench_store_append.sh            (or: make bench BENCH=bench_store_append)
#   SLUICE_BENCH_DIR=/mnt/disk MB=2048 bash bench/bench_store_append.sh
#
# Runs under flock /tmp/sluice-heavy.lock so it never overlaps other heavy
# jobs on the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=${SLUICE_TOP:-$(cd "$here/.." && pwd)}
shared=${SLUICE_SHARED:-$top/../shared}
bin=${SLUICE_BENCH_BIN:-$top/build/bench}
dir=${SLUICE_BENCH_DIR:-$top/build/benchtmp}
mb=${MB:-1024}
corpus=$dir/corpus-96M.txt

[ -x "$bin/store_append" ] || make -C "$top" -s "build/bench/store_append"
bin=${SLUICE_BENCH_BIN:-$top/build/bench}
mkdir -p "$dir"
[ -s "$corpus" ] || /usr/bin/python3 "$shared/bench/gen_corpus.py" "$corpus" 96M 2>/dev/null

run() {
    echo "disk: $(df -h --output=source,fstype "$dir" | tail -n 1)"
    local ddout ddmbps
    ddout=$(dd if=/dev/zero of="$dir/dd.bin" bs=1M count="$mb" conv=fdatasync 2>&1 | tail -n 1)
    rm -f "$dir/dd.bin"
    echo "dd: $ddout"
    # dd prints "... copied, 2.35 s, 457 MB/s" (or GB/s)
    ddmbps=$(printf '%s\n' "$ddout" | awk -F', ' '{split($NF, a, " "); v = a[1]; if (a[2] == "GB/s") v *= 1000; print v}')
    out=$("$bin/store_append" --dir "$dir" --corpus "$corpus" --mb "$mb")
    printf '%s\n' "$out" | grep -v '^RESULT'
    for p in 1 6; do
        v=$(printf '%s\n' "$out" | awk -v k="store_append_mbps_${p}p" '$1 == "RESULT" && $2 == k {print $3}')
        ratio=$(awk -v a="$v" -v b="$ddmbps" 'BEGIN {printf "%.2f", a / b}')
        echo "ratio ${p} partition(s) / dd: $v / $ddmbps = $ratio (target >= 0.85)"
        echo "RESULT store_append_ratio_${p}p $ratio"
    done
    printf '%s\n' "$out" | grep '^RESULT'
    echo "RESULT dd_fdatasync_mbps $ddmbps"
}

flock /tmp/sluice-heavy.lock bash -c "$(declare -f run); bin='$bin' dir='$dir' corpus='$corpus' mb='$mb' run"
