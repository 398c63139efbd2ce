#!/usr/bin/env bash
# One prepared GPU lease: probe, campaign, tests, benchmark, all within a time budget.
#
#   bash scripts/gpu_session.sh [--budget SECONDS] [--submissions DIR] [--entries 'GLOB,...']
#                               [--scenario offline|single-stream] [STAGE...]
#
# Stages, in this order whatever order they are given in (default: all four):
#   probe      first-contact probe of NVML and the GPU (< 30 s), $OUT/probe.json; always run
#   campaign   leaderboard measure, protocol v2, cheapest first, --resume, with most of the budget
#   tests      pytest -m gpu, -v -x --tb=short with a per-test timeout (if time is left)
#   benchmark  benchmarks/energy_protocol.py, v1 against v2 (if time is left)
#
# Everything is validated before any work; --help prints this and does nothing else. On exit,
# whatever happened (a stage killed at the budget, an error), the records and logs are exported
# to $OUT (default ./gpu-out): records.tar.gz (import here with `leaderboard records import`),
# logs.tar.gz, probe.json and summary.txt. Wheels the image lacks travel in .whl/ (see
# scripts/fetch_gpu_wheels.sh); they are installed with --no-deps and their requirements checked.
# The Python is $LB_PYTHON (default python3); LB_WHEELS_DIR (.whl) and LB_SITE_DIR (/tmp/site)
# move the wheels and their install folder. Nothing here changes the GPU's settings.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "gpu_session.sh: $1 (see --help)" >&2; exit 2; }

budget_s=570
submissions=submissions
entries=""
scenario=offline
declare -A wanted=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --budget) [ $# -ge 2 ] || die_usage "--budget needs seconds"
                  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 60 ] || die_usage "--budget '$2': whole seconds, at least 60"
                  budget_s=$2; shift 2 ;;
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
[ "${#wanted[@]}" -gt 0 ] || wanted=([probe]=1 [campaign]=1 [tests]=1 [benchmark]=1)
wanted[probe]=1  # v2's parameters come from it; it costs seconds

py=${LB_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || die_usage "no Python '$py' (set LB_PYTHON)"
out="${OUT:-$PWD/gpu-out}"
logs="$out/logs"
mkdir -p "$logs" || exit 2
start_s=$SECONDS
export PYTHONUNBUFFERED=1
left_s() { echo $(( budget_s - (SECONDS - start_s) )); }
lb() { "$py" -c "from leaderboard.cli import main; main()" "$@"; }

summary() {  # the final table: records by status, seconds per record, probe
    "$py" - "$submissions" "$out/probe.json" "$logs/campaign.log" <<'PY' 2>&1
import collections, json, re, sys
from pathlib import Path
subs, probe_path, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
counts, seconds = collections.Counter(), []
for path in subs.glob("*/measurements/*.json"):
    try:
        counts[json.loads(path.read_text()).get("status", "?")] += 1
    except (OSError, ValueError):
        counts["unreadable"] += 1
if log.is_file():
    seconds = [float(m) for m in re.findall(r"(?:ok|unstable|refused|error)[^\n]*? (\d+\.\d) s", log.read_text())]
rows = [(f"records {k}", str(v)) for k, v in sorted(counts.items())] or [("records", "none")]
if seconds:
    seconds.sort()
    rows.append(("seconds per record", f"median {seconds[len(seconds) // 2]:.1f} over {len(seconds)}"))
try:
    probe = json.loads(probe_path.read_text())
    counter = probe.get("counter") or {}
    driver = ((probe.get("nvml") or {}).get("nvmlSystemGetDriverVersion") or {}).get("value")
    rows.append(("probe", f"counter {counter.get('status')}, update "
                 f"{(counter.get('update_period_s') or 0) * 1000:.0f} ms, lag {counter.get('lag')}, "
                 f"pids after context {probe.get('pids_after_context')}"))
    if driver and "rehearsal" in str(driver):
        rows.append(("REHEARSAL", "fake NVML and cuda-on-CPU: these records are not measurements"))
except (OSError, ValueError):
    rows.append(("probe", "no probe.json"))
width = max(len(k) for k, _ in rows)
print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
PY
}

export_all() {  # always runs on exit: a killed stage must not lose what was measured
    trap - EXIT INT TERM
    echo "== export"
    if ! lb records export "$out/records.tar.gz" --submissions "$submissions" > "$logs/export.log" 2>&1; then
        cat "$logs/export.log"
        # The validator could not run (e.g. a wheel gap): keep the raw files anyway.
        tar -czf "$out/records.tar.gz" -C "$submissions" --wildcards '*/measurements/*.json' \
            2>>"$logs/export.log" && echo "exported raw record files (records export failed)"
    else
        tail -n 1 "$logs/export.log"
    fi
    summary | tee "$out/summary.txt"
    tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"
    echo "done in $(( SECONDS - start_s )) s; $out holds records.tar.gz, logs.tar.gz, probe.json, summary.txt"
}
trap export_all EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

wheels=${LB_WHEELS_DIR:-.whl}
site_dir=${LB_SITE_DIR:-/tmp/site}
if [ -d "$wheels" ] && compgen -G "$wheels/*.whl" >/dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site_dir" "$wheels"/*.whl > "$logs/wheels.log" 2>&1 || { cat "$logs/wheels.log"; exit 1; }
    export PYTHONPATH="$site_dir${PYTHONPATH:+:$PYTHONPATH}"
fi
# The project runs from this checkout (no install: the image may lack what a build needs).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
validator_ok=1
"$py" scripts/check_carried_wheels.py "$site_dir" 2>&1 | tee "$logs/wheels-check.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { validator_ok=""; echo "== the validator cannot run here: probe only"; }
{ command -v nvidia-smi >/dev/null && nvidia-smi; "$py" -c "import sys; print(sys.version)"; } > "$logs/env.txt" 2>&1

run_stage() {  # name min_seconds reserve_seconds command...
    local name="$1" min_s="$2" reserve_s="$3"; shift 3
    local limit_s=$(( $(left_s) - reserve_s ))
    if [ "$limit_s" -lt "$min_s" ]; then
        echo "== $name: skipped ($limit_s s available, needs $min_s)"; return
    fi
    echo "== $name (up to $limit_s s)"
    local begin=$SECONDS
    # SIGTERM at the limit: the campaign kills its worker and exits; SIGKILL 10 s later.
    timeout --kill-after=10 "$limit_s" "$@" > "$logs/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc after $(( SECONDS - begin )) s"
    tail -n 25 "$logs/$name.log"
}

export_reserve_s=20
run_stage probe 10 "$export_reserve_s" "$py" -m leaderboard.measure.probe --out "$out/probe.json"
selection=(--all)
[ -z "$entries" ] || { IFS=',' read -ra selection <<< "$entries"; }
probe_arg=()
[ -f "$out/probe.json" ] && probe_arg=(--probe-file "$out/probe.json")
if [ -n "${wanted[campaign]:-}" ] && [ -n "$validator_ok" ]; then
    # Most of the budget; the later stages asked for keep their minimums (tests 120 s, the
    # benchmark 200 s). For the most records (100+ at ~5 s each), run `probe campaign` alone.
    # No new model starts in the last quarter (at most 30 s) of the stage: a model that runs
    # past its end is killed by the stage's limit, its worker with it, and the export follows.
    later_s=0
    [ -n "${wanted[tests]:-}" ] && later_s=$(( later_s + 120 ))
    [ -n "${wanted[benchmark]:-}" ] && later_s=$(( later_s + 200 ))
    campaign_s=$(( $(left_s) - export_reserve_s - later_s ))
    run_stage campaign 45 $(( export_reserve_s + later_s )) \
        "$py" -c "from leaderboard.cli import main; main()" measure "${selection[@]}" \
        --submissions "$submissions" --scenario "$scenario" --protocol v2 --order cheapest \
        --resume "${probe_arg[@]}" --log-dir "$logs/campaign" --timeout-per-model 180 \
        --time-budget "$(( campaign_s - (campaign_s / 4 < 30 ? campaign_s / 4 : 30) ))"
fi
if [ -n "${wanted[tests]:-}" ] && [ -n "$validator_ok" ]; then
    per_test=()
    "$py" -c "import pytest_timeout" 2>/dev/null && per_test=(--timeout 90)
    run_stage tests 120 "$export_reserve_s" "$py" -m pytest -m gpu -v -x --tb=short \
        -p no:cacheprovider "${per_test[@]}" tests/test_gpu.py tests/test_profile_sweep.py tests/test_accuracy.py
fi
if [ -n "${wanted[benchmark]:-}" ] && [ -n "$validator_ok" ]; then
    # Two models, v1 and v2 twice each and a 20 s reference: about 3 minutes on an H200.
    run_stage benchmark 200 "$export_reserve_s" "$py" benchmarks/energy_protocol.py \
        --entries resnet50.a1_in1k,vit_base_patch16_224.augreg2_in21k_ft_in1k --reference-s 20 \
        "${probe_arg[@]}"
fi
