"""Re-record the CPU profiler traces used by tests/test_profile_sweep.py.

    .venv/bin/python tests/data/traces/record_traces.py

Each trace is torch.profiler's Chrome trace of 2 batches of a timm test model on the CPU (one
thread), recorded with leaderboard.measure.profile's module labels, gzipped.
"""

import gzip
import json
from pathlib import Path

import timm
import torch

from leaderboard.measure.profile import record_trace
from leaderboard.measure.workload import Workload

HERE = Path(__file__).parent
MODELS = {"test_resnet": "cnn", "test_vit": "vit", "test_coatnet": "hybrid"}


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    for name in MODELS:
        model = timm.create_model(name, pretrained=False)
        size = model.pretrained_cfg["input_size"]
        workload = Workload(model, tuple(size), 2, "cpu", "fp32")
        trace, wall_us = record_trace(workload, batches=2, warmup_batches=1)
        trace["leaderboard"] = {"model": name, "batches": 2, "wall_us": wall_us,
                                "torch": torch.__version__, "timm": timm.__version__}
        with gzip.open(HERE / f"{name}.cpu.json.gz", "wt", encoding="utf-8") as handle:
            json.dump(trace, handle)
        print(name, len(trace["traceEvents"]), "events")


if __name__ == "__main__":
    main()
