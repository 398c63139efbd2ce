#!/usr/bin/env bash
# One prepared run of the GPU checks, for a lent GPU machine with a short lease.
#
#   bash scripts/gpu_session.sh [--budget SECONDS] STAGE...
#
# Stages, run in the order given while the budget (default 540 s) lasts; a stage that cannot
# start with its minimum time left is skipped and says so:
#   tests        pytest -m gpu (NVML meter, protocol, profile/sweep, nvJPEG accuracy path)
#   energy       benchmarks/energy_protocol.py on 4 models, 20 s reference
#   accuracy     benchmarks/accuracy_throughput.py (5,000 JPEGs, resnet50)
#   attribution  benchmarks/attribution_agreement.py on 5 models (activation/norm ablations)
#   profile      leaderboard profile on a spread of families, ablations on
#   sweep        leaderboard sweep (all 11 variants) on two entries
#   campaign     leaderboard measure --all --resume with the time left (offline)
#
# Logs and records go to $OUT (or ./gpu-out): logs.tar.gz and records.tar.gz (import here
# with `leaderboard records import`). The machine needs pydantic's wheels for Python 3.12:
# `bash scripts/fetch_gpu_wheels.sh` here first, then carry .whl (see that script).
set -uo pipefail
cd "$(dirname "$0")/.."

budget_s=540
if [ "${1:-}" = "--budget" ]; then budget_s="$2"; shift 2; fi
stages=("$@")
[ "${#stages[@]}" -gt 0 ] || stages=(tests energy accuracy attribution)
out="${OUT:-$PWD/gpu-out}"
logs="$out/logs"
mkdir -p "$logs"
start_s=$SECONDS
export PYTHONUNBUFFERED=1

if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
# The image's torch/timm/nvidia-ml-py stay; the project runs from this checkout (no install:
# the image's setuptools may lack what a wheel build needs, and nothing can be fetched there).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
lb=(python3 -c "from leaderboard.cli import main; main()")
{ nvidia-smi; python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"; } \
    > "$logs/env.txt" 2>&1
head -n 12 "$logs/env.txt"

left_s() { echo $(( budget_s - (SECONDS - start_s) )); }

run_stage() {  # name min_seconds command...
    local name="$1" min_s="$2"; shift 2
    local left; left=$(left_s)
    if [ "$left" -lt "$min_s" ]; then
        echo "== $name: skipped ($left s left, needs $min_s)"; return
    fi
    echo "== $name (up to $left s)"
    local begin=$SECONDS
    timeout --kill-after=10 "$left" "$@" > "$logs/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc after $(( SECONDS - begin )) s"
    tail -n 25 "$logs/$name.log"
}

spread="resnet50.a1_in1k,efficientnet_b0.ra_in1k,convnext_tiny.fb_in1k,vit_base_patch16_224.augreg2_in21k_ft_in1k,deit_small_patch16_224.fb_in1k,coatnet_0_rw_224.sw_in1k"
for stage in "${stages[@]}"; do
    case "$stage" in
        tests) run_stage tests 120 python3 -m pytest -m gpu -q -p no:cacheprovider \
            tests/test_gpu.py tests/test_profile_sweep.py tests/test_accuracy.py ;;
        energy) run_stage energy 240 python3 benchmarks/energy_protocol.py \
            --models resnet50,efficientnet_b0,vit_base_patch16_224,convnext_tiny --reference-s 20 ;;
        accuracy) run_stage accuracy 90 python3 benchmarks/accuracy_throughput.py ;;
        attribution) run_stage attribution 240 python3 benchmarks/attribution_agreement.py \
            --models resnet50,efficientnet_b0,convnext_tiny,vit_base_patch16_224,deit_small_patch16_224 ;;
        profile) run_stage profile 180 "${lb[@]}" profile ${spread//,/ } ;;
        sweep) run_stage sweep 240 "${lb[@]}" sweep resnet50.a1_in1k vit_base_patch16_224.augreg2_in21k_ft_in1k ;;
        campaign) run_stage campaign 120 "${lb[@]}" measure --all --resume \
            --time-budget "$(( $(left_s) - 60 ))" --log-dir "$logs/campaign" ;;
        *) echo "unknown stage '$stage'"; exit 2 ;;
    esac
done

"${lb[@]}" records export "$out/records.tar.gz" > "$logs/export.log" 2>&1 || cat "$logs/export.log"
tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"
echo "done in $(( SECONDS - start_s )) s; $out holds records.tar.gz and logs.tar.gz"
