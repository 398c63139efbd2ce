"""One model in one process: ``python -m leaderboard.measure.worker --entry ID --scenario S``.

The campaign (:mod:`leaderboard.measure.campaign`) starts one of these per (entry, scenario) so
that a crash, an out-of-memory kill or a segfault costs one model, not the sweep. The worker
prints exactly one JSON line on stdout::

    {"entry_id": ..., "scenario": ..., "status": ..., "skipped": ..., "energy_j": ...,
     "record_path": ..., "reasons": [...], "error": ...}

Exit codes: 0 a record was written or an unchanged one kept (ok, unstable, refused, skipped);
3 no usable energy meter (message on stderr); 1 anything else (traceback on stderr).
``--probe`` opens the meter, prints ``{"hardware": SLUG, "gpu_name": NAME}`` and loads no model.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from leaderboard.measure.lifetime import die_with_parent
from leaderboard.measure.meters import MeterUnavailable
from leaderboard.vocabulary import EXIT_FAILED, EXIT_NO_METER, EXIT_OK, HEADLINE_SCENARIO, SCENARIOS


def build_parser() -> argparse.ArgumentParser:
    """The worker's command line."""
    parser = argparse.ArgumentParser(prog="python -m leaderboard.measure.worker",
                                     description="Measure one entry in one scenario.")
    parser.add_argument("--entry", help="Entry id (folder under --submissions).")
    parser.add_argument("--scenario", default=HEADLINE_SCENARIO, choices=SCENARIOS)
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu.")
    parser.add_argument("--submissions", type=Path, default=Path("submissions"))
    parser.add_argument("--weights-mode", default="random-init", choices=["random-init", "pretrained"])
    parser.add_argument("--weights-path", type=Path, default=None,
                        help="Local weights file (pretrained mode).")
    parser.add_argument("--force", action="store_true", help="Measure even an unchanged entry.")
    parser.add_argument("--meter", default=None,
                        help="GPU meter kind: nvml-total-energy (default) or nvml-power-integration.")
    parser.add_argument("--reference-s", type=float, default=0.0,
                        help="Also measure a tick-aligned reference window this long (0: none).")
    parser.add_argument("--probe", action="store_true",
                        help="Only open the meter and print the hardware slug.")
    return parser


def probe(device: str) -> dict[str, str]:
    """The hardware slug and device name of ``device``, from its meter; loads no model.

    Uses the runner's naming so the campaign looks for (and writes error records at) the same
    ``<hardware>--<scenario>.json`` the runner writes.

    Raises:
        MeterUnavailable: No usable meter for the device.
    """
    from leaderboard.measure.meters import open_meter
    from leaderboard.measure.runner import cpu_name, hardware_slug

    meter = open_meter(device)
    try:
        state = getattr(meter, "state", None)
        name = state().name if callable(state) else "cpu"
    finally:
        meter.close()
    return {"hardware": hardware_slug(name), "gpu_name": cpu_name() if name == "cpu" else name}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Check the submission, measure it and describe the record written (or kept)."""
    from leaderboard.measure.meters import open_meter
    from leaderboard.measure.protocol_v1 import V1Run
    from leaderboard.measure.runner import measure_and_write
    from leaderboard.records import record_path
    from leaderboard.submission import load_valid_submission

    submission = load_valid_submission(args.submissions, args.entry)
    outcome = measure_and_write(
        submission, args.submissions, scenario=args.scenario, device=args.device,
        weights_mode=args.weights_mode, weights_path=args.weights_path, force=args.force,
        meter=open_meter(args.device, args.meter) if args.meter else None,
        protocol=V1Run(reference_s=args.reference_s),
    )
    record, skipped = outcome.record, outcome.skipped
    path = record_path(args.submissions, record.entry_id, record.hardware, record.scenario)
    return {
        "entry_id": record.entry_id,
        "scenario": record.scenario,
        "status": record.status,
        "skipped": skipped,
        "energy_j": record.energy.gross_j_per_image if record.energy else None,
        "record_path": str(path),
        "reasons": list(record.reasons),
        "error": None,
    }


def _emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the worker; returns the exit code."""
    die_with_parent()
    args = build_parser().parse_args(argv)
    if not args.probe and not args.entry:
        build_parser().error("--entry is required (or --probe)")
    base = {"entry_id": args.entry, "scenario": args.scenario, "status": "error", "skipped": False,
            "energy_j": None, "record_path": None, "reasons": []}
    try:
        if args.probe:
            _emit(probe(args.device))
        else:
            _emit(measure(args))
        return EXIT_OK
    except MeterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        _emit({**base, "status": "meter-unavailable", "error": str(exc)})
        return EXIT_NO_METER
    except Exception as exc:  # noqa: BLE001 - the campaign turns any failure into an error record
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        _emit({**base, "error": f"{type(exc).__name__}: {exc}"})
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
