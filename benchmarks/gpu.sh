#!/usr/bin/env bash
# The GPU benchmark in one script: every model's img/s in fp32 / bf16 / fp16, eager and compiled, beside the plain
# loop, with peak memory, FLOPs per image and the fraction of the matmul peak; then a 2-process torchrun run.
# Writes benchmarks/results/*_cuda.json (GPU_RESULTS=DIR elsewhere) (on a machine without CUDA: *_cpu-smoke.json at small sizes, which is what
# CI runs so that the script keeps working). Budget on a CUDA machine: under 8 minutes; every section has a timeout
# and the results are written model by model, so a section cut short keeps what it measured.
#
#   bash benchmarks/gpu.sh            # CUDA when available, else the CPU smoke sizes
#   bash benchmarks/gpu.sh --smoke    # the small sizes, whatever the device
#
# Installs nothing when `.venv` already imports gentool and torch; otherwise it creates `.venv` and installs the
# torch wheel (TORCH_SPEC, default torch==2.13.0; TORCH_INDEX_URL for a CUDA build) and the project, nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1

if ! "$PY" -c "import torch, gentool" 2>/dev/null; then
    python3 -m venv .venv
    PY=.venv/bin/python
    "$PY" -m pip install -q ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "${TORCH_SPEC:-torch==2.13.0}"
    "$PY" -m pip install -q -e ./core $(for p in plugins/*/; do printf -- "-e ./%s " "${p%/}"; done)
fi

GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
OUT=${GPU_RESULTS:-benchmarks/results}
mkdir -p "$OUT"
if [[ $GPUS -gt 0 && $SMOKE -eq 0 ]]; then
    DEVICE=cuda TAG=cuda STEPS=100 REPEAT=2 THREADS=8
    MODELS=""                                   # every installed model
    PRECISIONS="bf16 fp16 fp32"
    COMPILE_PRECISIONS=${GPU_COMPILE_PRECISIONS:-bf16}  # compiling every model costs ~10-40 s each: one precision fits
    EAGER_S=80 COMPILE_S=180 RUN_S=60           # 3 x 80 + 180 + 60 = 480 s at most
else
    DEVICE=cpu TAG=cpu-smoke STEPS=3 REPEAT=1 THREADS=2
    MODELS="--models gan"
    PRECISIONS="bf16"                           # autocast and the plain loop's too; fp32 is trainer_overhead's default
    COMPILE_PRECISIONS=""                       # compiling on 2 CPU cores takes minutes: trainer_overhead.py does it
    EAGER_S=60 COMPILE_S=0 RUN_S=60
fi
echo "gpu.sh: device $DEVICE ($GPUS GPUs), results in $OUT/*_$TAG.json"
started=$(date +%s)

run_section() {  # seconds, then the command; a timeout is reported, not fatal
    local limit=$1
    shift
    timeout "$limit" "$@" || echo "gpu.sh: section stopped (exit $?): $*" >&2
}

# 1. eager in every precision, one file per precision (img/s, plain loop, peak memory, FLOPs, fraction of peak)
for p in $PRECISIONS; do
    run_section "$EAGER_S" "$PY" benchmarks/trainer_overhead.py $MODELS --modes eager --device "$DEVICE" \
        --precision "$p" --steps "$STEPS" --repeat "$REPEAT" --threads "$THREADS" \
        --out "$OUT/trainer_overhead_${p}_$TAG.json"
done

# 2. a 2-process torchrun run: nccl on two GPUs, gloo on the CPU (two ranks cannot share one GPU under nccl)
if [[ $DEVICE == cpu || $GPUS -ge 2 ]]; then
    DIST_DIR=$(mktemp -d)
    dist_started=$(date +%s.%N)
    run_section "$RUN_S" env OMP_NUM_THREADS=1 "$PY" -m torch.distributed.run --standalone --nproc_per_node 2 \
        -m gentool run --model gan --steps $((STEPS * 2)) --device "$DEVICE" --out "$DIST_DIR/run" \
        --set trainer.sample_every=100000 --set trainer.checkpoint_every=100000
    "$PY" - "$DIST_DIR/run/summary.json" "$OUT/torchrun_$TAG.json" "$dist_started" <<'EOF'
import json, sys, time
from pathlib import Path
summary = Path(sys.argv[1])
row = {"wall_seconds": round(time.time() - float(sys.argv[3]), 1)}
if summary.exists():
    s = json.loads(summary.read_text())
    row |= {k: s[k] for k in ("world_size", "steps", "train_seconds", "images_per_second", "peak_memory_mb", "device")}
else:
    row["error"] = "the torchrun run wrote no summary.json (see its output above)"
Path(sys.argv[2]).write_text(json.dumps(row, indent=2) + "\n")
print("torchrun:", row)
EOF
    rm -rf "$DIST_DIR"
else
    echo '{"skipped": "one GPU: nccl needs a GPU per rank"}' > "$OUT/torchrun_$TAG.json"
fi

# 3. compiled (compile time reported apart from img/s); GPU_COMPILE_PRECISIONS="bf16 fp16 fp32" for all three
if [[ $COMPILE_S -gt 0 ]]; then
    for p in $COMPILE_PRECISIONS; do
        run_section "$COMPILE_S" "$PY" benchmarks/trainer_overhead.py $MODELS --modes compile --device "$DEVICE" \
            --precision "$p" --steps "$STEPS" --repeat 1 --threads "$THREADS" \
            --out "$OUT/trainer_compile_${p}_$TAG.json"
    done
fi
echo "gpu.sh: done in $(( $(date +%s) - started )) s"
