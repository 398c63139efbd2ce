#!/usr/bin/env bash
# One prepared GPU lease: probe and campaign (tests, benchmark when named), inside the call's deadline.
#
#   bash scripts/gpu_session.sh [--deadline-s SECONDS] [--submissions DIR] [--entries 'GLOB,...']
#                               [--scenario offline|single-stream] [STAGE...]
#
# Stages, in this order whatever order they are given in (default: probe campaign):
#   probe      first-contact probe of NVML and the GPU (< 30 s), $OUT/probe.json; always run
#   campaign   leaderboard measure, protocol v2, cheapest first, --resume: the rest of the time
#   tests      pytest -m gpu, -v -x --tb=short with a per-test timeout (only when named)
#   benchmark  benchmarks/energy_protocol.py, v1 against v2 (only when named)
#
# --deadline-s is the device call's own limit (default 600: its timeout_s), counted from this
# script's start. Every stage is planned to end MARGIN (30 s) before it: timeout's SIGKILL comes
# at most 10 s after a stage's SIGTERM, the exit trap's final export takes a few seconds, and 15 s
# are slack, so the trap runs before the call kills everything. Records never wait for the trap:
# a background exporter (python -m leaderboard.measure.lease_export) rewrites $OUT/records.tar.gz,
# summary.txt and logs.tar.gz atomically every LB_EXPORT_EVERY_S (10) seconds, so a SIGKILL of
# the whole lease at any moment leaves in $OUT every record finished 30 s before it. A record
# that import would refuse is left out and listed in summary.txt; where the validator cannot be
# imported at all, the raw record files are packed in the same importable format, unchecked.
#
# $OUT (default ./gpu-out) holds records.tar.gz (import here with `leaderboard records import`),
# logs.tar.gz, probe.json and summary.txt, nothing else (logs are kept outside it meanwhile).
# Everything is validated before any work; --help prints this and does nothing else. Wheels the
# image lacks travel in .whl/ (scripts/fetch_gpu_wheels.sh: pydantic and timm pinned to the
# catalog's version); they are installed with --no-deps and their requirements and pins checked.
# The Python is $LB_PYTHON (default python3); LB_WHEELS_DIR (.whl) and LB_SITE_DIR (/tmp/site)
# move the wheels and their install folder; LB_GPU_TESTS (files) and LB_GPU_TESTS_K (a -k
# expression) narrow the tests stage. Nothing is downloaded (HF_HUB_OFFLINE=1) and nothing
# here changes the GPU's settings.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "gpu_session.sh: $1 (see --help)" >&2; exit 2; }

deadline_s=600
margin_s=30          # kill-after 10 s + final export (a few s) + 15 s slack; see --help
kill_after_s=10
submissions=submissions
entries=""
scenario=offline
declare -A wanted=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --deadline-s) [ $# -ge 2 ] || die_usage "--deadline-s needs seconds"
                  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 90 ] || \
                      die_usage "--deadline-s '$2': whole seconds, at least 90 (the device call's timeout_s)"
                  deadline_s=$2; shift 2 ;;
        --budget) die_usage "--budget is gone: give --deadline-s, the device call's own timeout_s" ;;
        --submissions) [ $# -ge 2 ] && [ -d "$2" ] || die_usage "--submissions needs an existing folder"
                       submissions=$2; shift 2 ;;
        --entries) [ $# -ge 2 ] && [ -n "$2" ] || die_usage "--entries needs ids or globs"
                   entries=$2; shift 2 ;;
        --scenario) [ $# -ge 2 ] && [[ "$2" =~ ^(offline|single-stream)$ ]] || \
                        die_usage "--scenario is offline or single-stream"
                    scenario=$2; shift 2 ;;
        probe|campaign|tests|benchmark) wanted[$1]=1; shift ;;
        *) die_usage "unknown argument '$1'; stages are probe, campaign, tests, benchmark" ;;
    esac
done
[ "${#wanted[@]}" -gt 0 ] || wanted=([probe]=1 [campaign]=1)
wanted[probe]=1  # v2's parameters come from it; it costs seconds
every_s=${LB_EXPORT_EVERY_S:-10}
[[ "$every_s" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die_usage "LB_EXPORT_EVERY_S '$every_s': seconds"

py=${LB_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || die_usage "no Python '$py' (set LB_PYTHON)"
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out" || exit 2
# Logs live outside $OUT (only a few files come back from it); the exporter packs them in.
logs=$(mktemp -d "${TMPDIR:-/tmp}/gpu-session-logs.XXXXXX") || exit 2
start_s=$SECONDS
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Seconds left before the margin: what a stage may still plan to use.
left_s() { echo $(( deadline_s - margin_s - (SECONDS - start_s) )); }
exporter_pid=""
export_args=()

finish() {  # always runs on exit: stop the loop, one final pass, say where things are
    trap - EXIT INT TERM
    [ -z "$exporter_pid" ] || { kill "$exporter_pid" 2>/dev/null; wait "$exporter_pid" 2>/dev/null; }
    echo "== export"
    if [ "${#export_args[@]}" -gt 0 ]; then
        "$py" -m leaderboard.measure.lease_export "${export_args[@]}" --once 2>&1 \
            || echo "final export failed; $out keeps the exporter's last pass"
        cat "$out/summary.txt" 2>/dev/null
    fi
    rm -rf "$logs"
    echo "done in $(( SECONDS - start_s )) s of $deadline_s; $out holds records.tar.gz, logs.tar.gz, probe.json, summary.txt"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The project runs from this checkout (no install: the image may lack what a build needs).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export_args=(--submissions "$submissions" --out "$out" --logs "$logs" --probe "$out/probe.json")
wheels=${LB_WHEELS_DIR:-.whl}
site_dir=${LB_SITE_DIR:-/tmp/site}
if [ -d "$wheels" ] && compgen -G "$wheels/*.whl" >/dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site_dir" "$wheels"/*.whl > "$logs/wheels.log" 2>&1 || { cat "$logs/wheels.log"; exit 1; }
    # First: the carried pins (timm) shadow the image's own versions.
    export PYTHONPATH="$site_dir:$PYTHONPATH"
fi
validator_ok=1
"$py" scripts/check_carried_wheels.py "$site_dir" 2>&1 | tee "$logs/wheels-check.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { validator_ok=""; echo "== the validator cannot run here: probe only"; }
{ command -v nvidia-smi >/dev/null && nvidia-smi; "$py" -c "import sys; print(sys.version)"; } > "$logs/env.txt" 2>&1

# The exporter runs from here to the end, beside every stage, in this process group (a kill of
# the lease kills it too; it also stops when this script is gone).
"$py" -m leaderboard.measure.lease_export "${export_args[@]}" --every-s "$every_s" \
    >> "$logs/export.log" 2>&1 &
exporter_pid=$!

run_stage() {  # name min_seconds reserve_seconds command...
    local name="$1" min_s="$2" reserve_s="$3"; shift 3
    local limit_s=$(( $(left_s) - reserve_s ))
    if [ "$limit_s" -lt "$min_s" ]; then
        echo "== $name: skipped ($limit_s s available, needs $min_s)"; return
    fi
    echo "== $name (up to $limit_s s, ends by $(( SECONDS - start_s + limit_s + kill_after_s )) s of $deadline_s)"
    local begin=$SECONDS
    # SIGTERM at the limit: the campaign kills its worker and exits; SIGKILL $kill_after_s s later.
    # --foreground keeps the stage in this process group, so a kill of the lease reaches it.
    timeout --foreground --kill-after="$kill_after_s" "$limit_s" "$@" > "$logs/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc after $(( SECONDS - begin )) s"
    tail -n 25 "$logs/$name.log"
}

# The plan: the probe gets at most 60 s (it takes under 30), the named later stages keep their
# minimums (tests 150 s, benchmark 200 s), the campaign the rest; all end by deadline - margin.
later_s=0
[ -n "${wanted[tests]:-}" ] && later_s=$(( later_s + 150 ))
[ -n "${wanted[benchmark]:-}" ] && later_s=$(( later_s + 200 ))
echo "== plan: deadline ${deadline_s} s, margin ${margin_s} s, ${later_s} s kept for tests/benchmark," \
     "records to $out every ${every_s} s"
probe_s=$(( $(left_s) - later_s - 45 ))
[ "$probe_s" -le 60 ] || probe_s=60
run_stage probe 10 $(( $(left_s) - probe_s )) "$py" -m leaderboard.measure.probe --out "$out/probe.json"
selection=(--all)
[ -z "$entries" ] || { IFS=',' read -ra selection <<< "$entries"; }
probe_arg=()
[ -f "$out/probe.json" ] && probe_arg=(--probe-file "$out/probe.json")
if [ -n "${wanted[campaign]:-}" ] && [ -n "$validator_ok" ]; then
    # No new model starts in the last quarter (at most 30 s) of the stage: a model that runs
    # past its end is stopped by the stage's limit, its worker with it.
    campaign_s=$(( $(left_s) - later_s ))
    run_stage campaign 45 "$later_s" \
        "$py" -c "from leaderboard.cli import main; main()" measure "${selection[@]}" \
        --submissions "$submissions" --scenario "$scenario" --protocol v2 --order cheapest \
        --resume "${probe_arg[@]}" --log-dir "$logs/campaign" --timeout-per-model 180 \
        --time-budget "$(( campaign_s - (campaign_s / 4 < 30 ? campaign_s / 4 : 30) ))"
fi
if [ -n "${wanted[tests]:-}" ] && [ -n "$validator_ok" ]; then
    per_test=()
    "$py" -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout 90)
    later_s=$(( later_s - 150 ))
    LB_PROBE_FILE="$out/probe.json" run_stage tests 120 "$later_s" "$py" -m pytest -m gpu -v -x --tb=short \
        -p no:cacheprovider "${per_test[@]}" ${LB_GPU_TESTS_K:+-k "$LB_GPU_TESTS_K"} \
        ${LB_GPU_TESTS:-tests/test_gpu.py tests/test_profile_sweep.py tests/test_accuracy.py}
fi
if [ -n "${wanted[benchmark]:-}" ] && [ -n "$validator_ok" ]; then
    # Two models, v1 and v2 twice each and a 20 s reference: about 3 minutes on an H200.
    run_stage benchmark 200 0 "$py" benchmarks/energy_protocol.py \
        --entries resnet50.a1_in1k,vit_base_patch16_224.augreg2_in21k_ft_in1k --reference-s 20 \
        "${probe_arg[@]}"
fi
