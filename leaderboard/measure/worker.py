"""The measuring worker: ``python -m leaderboard.measure.worker [--protocol v1|v2]``.

Started by the campaign, it opens the meter (taking the process baseline before any CUDA
context), creates its CUDA context, prints a ``ready`` line (hardware, GPU, idle power) and then
measures model after model: one JSON task per stdin line, one JSON result per stdout line::

    {"entry_id": ..., "scenario": ..., "status": ..., "skipped": ..., "energy_j": ...,
     "record_path": ..., "reasons": [...], "error": ..., "fatal": ...}

Protocol v2 keeps its idle reading (re-measured when older than ``idle_max_age_s``) and a drift
reference: the first model measured, re-measured once ``--drift-every-s`` seconds have passed
since it was last measured (by time, not by models: a campaign of cheap models should not pay
for it more often) and recorded in each record. Before each v2 model the device cools down
(power back within 10% of idle, or ``--cool-down-max-s``). Protocol v1 measures its own idle
per model and the campaign gives it one task per process, with the last idle power it saw
(``idle_power_w``) to cool down to first. A task with ``reference_s`` also gets a
reference window of that length (:func:`leaderboard.measure.windows.measure_reference`).

A model that fails costs one error result. A CUDA error poisons the context: the worker
reports it (``fatal``) and exits 1, and the campaign starts a fresh one. No usable meter: a
``ready: false`` line and exit 3. End of stdin ends the worker; so does its parent's death
(:mod:`leaderboard.measure.lifetime`).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from leaderboard.measure.lifetime import die_with_parent
from leaderboard.measure.meters import METER_COUNTER, METER_KINDS, MeterUnavailable
from leaderboard.measure.protocol_v1 import V1Run
from leaderboard.measure.protocol_v2 import V2Run, config_from_probe
from leaderboard.measure.windows import COOL_DOWN_MAX_S
from leaderboard.vocabulary import EXIT_FAILED, EXIT_NO_METER, EXIT_OK, HEADLINE_SCENARIO

OVERRIDES_ENV = "LEADERBOARD_V2_OVERRIDES"
"""JSON object of :class:`~leaderboard.measure.protocol_v2.V2Config` fields to override (the
CPU rehearsal shortens warm-up and windows this way; the records say so)."""
EXIT_CUDA_ERROR = EXIT_FAILED
"""A CUDA error left the context unusable: the campaign starts a fresh worker."""


def build_parser() -> argparse.ArgumentParser:
    """The worker's command line."""
    parser = argparse.ArgumentParser(prog="python -m leaderboard.measure.worker",
                                     description="Measure models sent on stdin.")
    parser.add_argument("--protocol", default="v2", choices=["v1", "v2"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--submissions", type=Path, default=Path("submissions"))
    parser.add_argument("--weights-mode", default="random-init", choices=["random-init", "pretrained"])
    parser.add_argument("--meter", default=METER_COUNTER, choices=METER_KINDS)
    parser.add_argument("--probe-file", type=Path, default=None,
                        help="The first-contact probe's JSON; v2's parameters derive from it.")
    parser.add_argument("--drift-every-s", type=float, default=300.0,
                        help="Re-measure the drift reference (the first model) once this many "
                             "seconds have passed since it was last measured.")
    parser.add_argument("--cool-down-max-s", type=float, default=COOL_DOWN_MAX_S,
                        help="Before each model wait until power is within 10%% of idle, or "
                             "this long (0: never).")
    return parser


def _emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
    sys.stdout.flush()


def is_cuda_error(exc: BaseException) -> bool:
    """True for an error that leaves the CUDA context unusable (not out-of-memory)."""
    from leaderboard.measure.workload import is_out_of_memory

    if is_out_of_memory(exc):
        return False
    name = type(exc).__name__
    return name == "AcceleratorError" or (isinstance(exc, RuntimeError) and "CUDA error" in str(exc))


class Worker:
    """The state one worker keeps between models."""

    def __init__(self, args: argparse.Namespace):
        from leaderboard.measure.meters import open_meter
        from leaderboard.measure.runner import open_session

        self.args = args
        self.v1 = args.protocol == "v1"
        probe = json.loads(args.probe_file.read_text("utf-8")) if args.probe_file else None
        overrides = json.loads(os.environ.get(OVERRIDES_ENV) or "{}")
        self.config = config_from_probe(probe, **overrides)
        if overrides:  # recorded in every record, and part of the skip key
            text = json.dumps(overrides, sort_keys=True)
            self.config = dataclasses.replace(self.config,
                                              source=f"{self.config.source} + overrides {text}")
        # The meter first: its process baseline must precede our CUDA context.
        self.meter = open_meter(args.device, args.meter)
        self.session = open_session(args.device, self.meter)
        self._create_context()
        # v1 measures idle itself, per model; v2 once per worker (and when it grows stale).
        self.idle = None if self.v1 else self._measure_idle()
        self.models = 0
        self.reference: tuple[str, str] | None = None
        self.reference_first_j: float | None = None
        self.since_reference = 0
        self.reference_at_s = time.perf_counter()
        self.run: V1Run | V2Run = V1Run() if self.idle is None else \
            V2Run(self.idle, self.config, cool_down_max_s=args.cool_down_max_s)

    def _create_context(self) -> None:
        if self.args.device.startswith("cuda"):
            import torch

            torch.zeros(1, device=self.args.device)
            torch.cuda.synchronize(self.args.device)

    def _measure_idle(self) -> Any:
        from leaderboard.measure.windows import measure_idle

        idle = measure_idle(self.meter, self.config.idle_s, self.config.poll_period_s)
        if idle is None:
            raise MeterUnavailable(f"the energy counter did not move during {self.config.idle_s:g} s "
                                   "of idle; this meter cannot measure here")
        return idle

    def ready_line(self) -> dict[str, Any]:
        """What the campaign learns at start: hardware, idle power, protocol parameters."""
        if self.idle is None:
            return {"ready": True, "hardware": self.session.hardware,
                    "gpu_name": self.session.device_label, "idle_power_w": None,
                    "window_mode": "v1-windows", "parameters_from": "protocol v1"}
        return {"ready": True, "hardware": self.session.hardware, "gpu_name": self.session.device_label,
                "idle_power_w": self.idle.power_w, "window_mode": self.config.window_mode,
                "parameters_from": self.config.source}

    def _refresh(self) -> None:
        """v2: idle re-measured when stale; the drift reference once --drift-every-s has passed."""
        if not isinstance(self.run, V2Run) or self.idle is None:
            return
        if time.perf_counter() - self.idle.measured_at_s > self.config.idle_max_age_s:
            self.idle = self._measure_idle()
            self.run.idle = self.idle
        due = time.perf_counter() - self.reference_at_s >= self.args.drift_every_s
        if self.reference is not None and due:
            self.since_reference = 0
            self.reference_at_s = time.perf_counter()
            latest = self._measure_reference()
            if latest is not None and self.reference_first_j:
                from leaderboard.records import DriftCheck

                state = self.session.state_now()
                self.run.latest_drift = DriftCheck(
                    reference_entry=self.reference[0], first_j_per_image=self.reference_first_j,
                    latest_j_per_image=latest, ratio=latest / self.reference_first_j,
                    models_since=0,
                    temperature_c=float(state.temperature_c) if state and state.temperature_c
                    is not None else None)

    def _measure_reference(self) -> float | None:
        from leaderboard.measure.runner import measure_entry
        from leaderboard.submission import load_valid_submission

        assert self.reference is not None
        entry_id, scenario = self.reference
        submission = load_valid_submission(self.args.submissions, entry_id)
        outcome = measure_entry(submission, self.args.submissions, scenario=scenario,
                                device=self.args.device, protocol=self.run, session=self.session,
                                force=True)
        energy = outcome.record.energy
        return energy.gross_j_per_image if energy is not None else None

    def measure(self, task: dict[str, Any]) -> dict[str, Any]:
        """Measure one task and write its record; the result line."""
        from leaderboard.measure.runner import measure_and_write
        from leaderboard.submission import load_valid_submission

        self._refresh()
        if isinstance(self.run, V2Run) and self.run.latest_drift is not None:
            self.run.latest_drift = self.run.latest_drift.model_copy(
                update={"models_since": self.since_reference})
        entry_id, scenario = str(task["entry_id"]), str(task.get("scenario", HEADLINE_SCENARIO))
        submission = load_valid_submission(self.args.submissions, entry_id)
        weights_path = Path(task["weights_path"]) if task.get("weights_path") else None
        self.run.reference_s = float(task.get("reference_s") or 0.0)
        if isinstance(self.run, V1Run):  # a fresh worker: the campaign says what idle was
            idle_w = task.get("idle_power_w")
            self.run.idle_w = float(idle_w) if isinstance(idle_w, int | float) else None
            self.run.cool_down_max_s = self.args.cool_down_max_s
        try:
            outcome = measure_and_write(
                submission, self.args.submissions, scenario=scenario, device=self.args.device,
                weights_mode=self.args.weights_mode, weights_path=weights_path,
                force=bool(task.get("force")), protocol=self.run, session=self.session)
        finally:
            self.run.reference_s = 0.0
        record = outcome.record
        if not outcome.skipped:
            self.models += 1
            self.since_reference += 1
            if self.reference is None and record.energy is not None and record.status == "ok":
                self.reference, self.reference_first_j = (entry_id, scenario), record.energy.gross_j_per_image
                self.reference_at_s = time.perf_counter()
        return {"entry_id": entry_id, "scenario": scenario, "status": record.status,
                "skipped": outcome.skipped,
                "energy_j": record.energy.gross_j_per_image if record.energy else None,
                "idle_power_w": record.energy.idle_power_w if record.energy else None,
                "record_path": str(outcome.path), "reasons": list(record.reasons), "error": None}

    def close(self) -> None:
        """Close the meter."""
        self.meter.close()


def _free(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> int:
    """Run the worker until stdin ends; returns the exit code."""
    die_with_parent()
    args = build_parser().parse_args(argv)
    try:
        worker = Worker(args)
    except MeterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        _emit({"ready": False, "status": "meter-unavailable", "error": str(exc)})
        return EXIT_NO_METER
    _emit(worker.ready_line())
    try:
        for raw in sys.stdin:
            if not raw.strip():
                continue
            task = json.loads(raw)
            base = {"entry_id": task.get("entry_id"), "scenario": task.get("scenario"),
                    "status": "error", "skipped": False, "energy_j": None, "record_path": None,
                    "reasons": []}
            try:
                _emit(worker.measure(task))
            except MeterUnavailable as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
                _emit({**base, "status": "meter-unavailable", "error": str(exc)})
                return EXIT_NO_METER
            except Exception as exc:  # noqa: BLE001 - one model's failure is one error result
                traceback.print_exc(file=sys.stderr)
                sys.stderr.flush()
                fatal = is_cuda_error(exc)
                _emit({**base, "error": f"{type(exc).__name__}: {exc}", "fatal": fatal})
                if fatal:
                    return EXIT_CUDA_ERROR
            _free(args.device)
    finally:
        worker.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
