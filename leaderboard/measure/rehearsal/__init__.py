"""A rehearsal of a GPU lease on a CPU: a fake H200 NVML and torch's "cuda" running on the CPU.

Put ``leaderboard/measure/rehearsal/site`` first on ``PYTHONPATH`` and every Python process
started under it imports the fake ``pynvml`` (:mod:`.fake_nvml`) and, once torch is imported,
the shim (:mod:`.cuda_shim`) that runs "cuda" work on the CPU. The fake behaves like an H200
under gVisor where it matters to the validator: the energy counter steps every 20-100 ms with a
report lag, the sensor integrates 25 ms of every 100 ms, the plain power reading is a 1 s
average while the ``POWER_INSTANT`` field is instantaneous, idle is about 90 W and the limit
700 W; once this process has a CUDA context the process list shows a host PID that is not in
our PID namespace. Environment switches (all optional):

* ``LB_FAKE_NVML_PIDS``: ``host`` (default, gVisor's nvproxy), ``vm`` (a Firecracker VM: the
  PID of every live process of ours holding a CUDA context, the pytest process beside the
  campaign's worker too; they meet in the folder ``LB_FAKE_NVML_CONTEXTS``, made on first use
  and inherited by children), ``own`` (this process's PID only) or ``neighbour`` (our parent's
  PID, a visible foreign process);
* ``LB_FAKE_NVML_UNSUPPORTED``: comma-separated NVML function names that raise NOT_SUPPORTED;
* ``LB_FAKE_NVML_LAG``: ``constant`` (default, 10 ms) or ``varying`` (0-300 ms);
* ``LB_FAKE_NVML_BUSY_W``: power drawn above idle by a fully busy "GPU" (default 450).

"GPU" load is this process's CPU time: the power at any moment is idle plus ``BUSY_W`` times
the fraction of one core the process used, so a model's energy follows the work it does.
Nothing here is a measurement of a GPU: records made under it say ``NVIDIA H200`` and must
never be published (the lease script and benchmark say "rehearsal" wherever they run on it).
"""

from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent / "site"
"""The folder to put first on ``PYTHONPATH`` for a rehearsal."""
