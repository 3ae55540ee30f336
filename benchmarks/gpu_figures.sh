#!/usr/bin/env bash
# The GPU figures of the encoder and model issues in one device call, sized to fit ~9 minutes.
#
#   bash benchmarks/gpu_figures.sh prepare     # here (CPU, network): builds .gpu/ (ignored by git)
#   bash benchmarks/gpu_figures.sh run         # on the GPU machine, carrying .gpu; logs to $OUT
#   SMOKE=1 bash benchmarks/gpu_figures.sh run # the same commands at tiny sizes on the CPU
#
# `prepare` puts into .gpu/ what the GPU machine lacks (it has torch, transformers, peft, numpy,
# opencv, but no network): wheels of pose-format, omegaconf and antlr4 (all pure Python), rendered
# synthsign clips (.pose + .mp4, ~4,600 frames, xz-compressed: ~23 MB) and the default LLM's
# tokenizer (the 8B-shaped model has random weights; the tokenizer only renders the prompts).
# `run` measures, each step under its own time limit so that one slow step cannot eat the call:
#   1. train_efficiency: our stage-1 and stage-2 step against the bare frozen-LLM forward+backward on
#      a Llama-3-8B-shaped model, batch 8 x ~1,000 tokens (tokens/s ratio, MFU, peak memory);
#   2. pretrain_throughput: Sign2Vec base, DINO ViT-S/14, MAE ViT-B/16 at batch 64 (samples/s of the
#      whole loop and of the bare step, peak memory);
#   3. feature_extraction: frames/s of every stream (2,000 frames) and DINO against the naive loop,
#      and the time for one hour of 25 fps video through all four;
#   4. connectors: each connector's cost against input length (5-120 s, four streams) on the
#      8B shape; alone in its own call: ONLY=connectors bash benchmarks/gpu_figures.sh run
#      (ONLY: the steps to run, by name; default all).
# Not here (they need the default LLM's 98 MB GGUF, more than one call carries): the synthsign
# BLEU runs on the GPU (the connectors' are benchmarks/gpu_quality.sh, two calls) and
# benchmarks/prefix_sharing.py --device cuda.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
GPU=.gpu

if [ "$mode" = prepare ]; then
    set -e
    py=${PYTHON:-.venv/bin/python}
    rm -rf "$GPU" && mkdir -p "$GPU/whl"
    "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$GPU/whl" \
        pose-format==0.15.0 omegaconf==2.3.0
    "$py" -m pip wheel -q --no-deps -w "$GPU/whl" antlr4-python3-runtime==4.9.3  # published as an sdist only
    "$py" -m signllava data synth -o "$GPU/synth" --size tiny --render --no-documents -w 2 -q --overwrite
    tar -cJf "$GPU/data.tar.xz" -C "$GPU/synth" poses videos && rm -rf "$GPU/synth"
    "$py" -c "from transformers import AutoTokenizer; from signllava.model.llm import DEFAULT_LLM, resolve
AutoTokenizer.from_pretrained(resolve(DEFAULT_LLM)).save_pretrained('$GPU/tokenizer')"
    du -sh "$GPU"/*
    exit 0
fi
[ "$mode" = run ] || { echo "usage: $0 prepare|run" >&2; exit 2; }

OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
# the wheels go to their own folder, ahead of nothing else: the machine's numpy, torch etc. stay
"$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$GPU"/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
data=/tmp/gpudata && mkdir -p $data && tar -xJf "$GPU/data.tar.xz" -C $data || exit 1

if [ -n "${SMOKE:-}" ]; then  # the same commands at CPU sizes: checks the script, not the speed
    dev=cpu te="--shape tiny --batch 2 --frames 32 --steps 2 --warmup 1"
    pt="--batch 2 --steps 1 --objectives sign2vec,mae --sign2vec-size tiny --mae-size tiny"  # DINO's CPU step: 16 GB
    fe="--frames 64 --naive-frames 8 --size tiny --sign2vec-size tiny --mae-size tiny --crop-size 56"
    cx="--seconds 2,4 --repeats 1 --new-tokens 3 --variants mlp,xattn"
else
    dev=cuda te="--shape llama3-8b --batch 8 --frames 448 --steps 10 --warmup 2"
    pt="--batch 64 --steps 10 --warmup 2"
    fe="--frames 2000 --naive-frames 200"
    cx="--shape llama3-8b --streams 4 --repeats 2"
fi

step() {  # name, time limit (s), command...
    local name=$1 limit=$2
    shift 2
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
    echo "=== $name: $*" | tee "$OUT/$name.log"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee -a "$OUT/$name.log"
    echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$OUT/$name.log"
}

{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"
  "$py" -c "import torch, transformers, numpy; print('torch', torch.__version__, 'transformers', transformers.__version__, 'numpy', numpy.__version__)"
} | tee "$OUT/machine.log"
step train_stage1 150 "$py" benchmarks/train_efficiency.py --device $dev --stage 1 --tokenizer $GPU/tokenizer $te
step train_stage2 150 "$py" benchmarks/train_efficiency.py --device $dev --stage 2 --tokenizer $GPU/tokenizer $te
step pretrain 150 "$py" benchmarks/pretrain_throughput.py --device $dev --poses $data/poses --videos $data/videos $pt
step features 90 "$py" benchmarks/feature_extraction.py --device $dev --poses $data/poses --videos $data/videos $fe
step connectors 300 "$py" benchmarks/connectors.py cost --device $dev --tokenizer $GPU/tokenizer $cx \
    --json "$OUT/connectors.json" --plot "$OUT/connectors_cost.png"
