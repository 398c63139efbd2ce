"""Meters against an autospec-mocked pynvml and a fake powercap tree."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from unittest import mock

import pynvml
import pytest

from leaderboard.measure.meters import MeterUnavailable, NvmlMeter, RaplMeter, open_meter


def nvml_mock(energy_mj: int | None = 5_000_000, power_mw: int = 250_000,
              instant_mw: int | None = 300_000) -> mock.MagicMock:
    """pynvml with every function autospecced; real error and constant types."""
    nvml = mock.create_autospec(pynvml, instance=False)
    nvml.NVMLError = pynvml.NVMLError
    for name in ("NVML_FI_DEV_POWER_INSTANT", "NVML_CLOCK_SM", "NVML_CLOCK_MEM",
                 "NVML_TEMPERATURE_GPU"):
        setattr(nvml, name, getattr(pynvml, name))
    nvml.nvmlDeviceGetHandleByIndex.return_value = "handle"
    if energy_mj is None:
        nvml.nvmlDeviceGetTotalEnergyConsumption.side_effect = pynvml.NVMLError(
            pynvml.NVML_ERROR_NOT_SUPPORTED)
    else:
        nvml.nvmlDeviceGetTotalEnergyConsumption.return_value = energy_mj
    nvml.nvmlDeviceGetPowerUsage.return_value = power_mw
    if instant_mw is None:
        nvml.nvmlDeviceGetFieldValues.side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
    else:
        field = SimpleNamespace(nvmlReturn=0, value=SimpleNamespace(uiVal=instant_mw))
        nvml.nvmlDeviceGetFieldValues.return_value = [field]
    return nvml


def test_energy_counter_is_read_in_joules():
    nvml = nvml_mock(energy_mj=123_456)
    meter = NvmlMeter(0, pynvml=nvml)
    assert meter.name == "nvml-total-energy"
    assert meter.energy_j() == pytest.approx(123.456)
    nvml.nvmlDeviceGetTotalEnergyConsumption.assert_called_with("handle")


def test_instantaneous_power_is_preferred_over_the_averaged_reading():
    meter = NvmlMeter(0, pynvml=nvml_mock(instant_mw=310_000, power_mw=250_000))
    assert meter.power_w() == pytest.approx(310.0)
    meter = NvmlMeter(0, pynvml=nvml_mock(instant_mw=None, power_mw=250_000))
    assert meter.power_w() == pytest.approx(250.0)


def test_no_energy_counter_refuses_instead_of_silently_integrating_power():
    # Issue 11, failure 5: this used to fall back to integrating power without saying so.
    nvml = nvml_mock(energy_mj=None, instant_mw=200_000)
    with pytest.raises(MeterUnavailable, match="nvmlDeviceGetTotalEnergyConsumption") as info:
        NvmlMeter(0, pynvml=nvml)
    assert "--meter nvml-power-integration" in str(info.value)
    nvml.nvmlShutdown.assert_called_once()


def test_power_integration_is_an_explicit_choice_named_with_its_bias():
    nvml = nvml_mock(energy_mj=None, instant_mw=200_000, power_mw=150_000)
    meter = NvmlMeter(0, sample_period_s=0.001, pynvml=nvml, kind="nvml-power-integration")
    try:
        assert meter.name == "nvml-power-integration"
        assert "misses peaks" in meter.bias
        start = meter.energy_j()
        time.sleep(0.2)
        gained = meter.energy_j() - start
        # integrates the instantaneous 200 W field, not the 1 s-averaged 150 W reading
        assert gained == pytest.approx(200.0 * 0.2, rel=0.25)
    finally:
        meter.close()


def test_power_integration_never_uses_the_averaged_reading():
    nvml = nvml_mock(energy_mj=None, instant_mw=None, power_mw=150_000)
    with pytest.raises(MeterUnavailable, match="1 s-averaged"):
        NvmlMeter(0, pynvml=nvml, kind="nvml-power-integration")


@pytest.mark.parametrize("call", ["nvmlDeviceGetName", "nvmlDeviceGetUUID"])
def test_nvml_errors_while_opening_name_the_call(call):
    # Issue 11, failure 5: an NVML error in name/UUID used to escape as a traceback.
    nvml = nvml_mock()
    getattr(nvml, call).side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)
    with pytest.raises(MeterUnavailable, match=call):
        NvmlMeter(0, pynvml=nvml)
    nvml.nvmlShutdown.assert_called_once()


def _two_gpus(nvml):
    handles = {0: "h0", 1: "h1"}
    nvml.nvmlDeviceGetCount.return_value = 2
    nvml.nvmlDeviceGetHandleByIndex.side_effect = handles.__getitem__
    nvml.nvmlDeviceGetUUID.side_effect = {"h0": "GPU-aaaa-0000", "h1": "GPU-bbbb-1111"}.__getitem__
    return nvml


def test_cuda_visible_devices_maps_the_torch_index_to_the_right_gpu():
    # Issue 11, failure 7: cuda:0 under CUDA_VISIBLE_DEVICES=1 is NVML's GPU 1, not GPU 0.
    nvml = _two_gpus(nvml_mock())
    assert NvmlMeter(0, pynvml=nvml, environ={"CUDA_VISIBLE_DEVICES": "1"}).uuid == "GPU-bbbb-1111"
    nvml = _two_gpus(nvml_mock())
    meter = NvmlMeter(1, pynvml=nvml, environ={"CUDA_VISIBLE_DEVICES": "GPU-bbbb,GPU-aaaa"})
    assert meter.uuid == "GPU-aaaa-0000"
    nvml = _two_gpus(nvml_mock())
    assert NvmlMeter(1, pynvml=nvml, environ={}).uuid == "GPU-bbbb-1111"


def test_cuda_visible_devices_errors_are_clear():
    with pytest.raises(MeterUnavailable, match="cuda:1 is not visible"):
        NvmlMeter(1, pynvml=_two_gpus(nvml_mock()), environ={"CUDA_VISIBLE_DEVICES": "0"})
    with pytest.raises(MeterUnavailable, match="none of the 2 GPU"):
        NvmlMeter(0, pynvml=_two_gpus(nvml_mock()), environ={"CUDA_VISIBLE_DEVICES": "GPU-cccc"})


def test_the_process_baseline_is_taken_when_the_meter_opens():
    nvml = nvml_mock()
    nvml.nvmlDeviceGetComputeRunningProcesses.return_value = [SimpleNamespace(pid=77)]
    nvml.nvmlDeviceGetMemoryInfo.return_value = SimpleNamespace(used=512 * 2**20)
    meter = NvmlMeter(0, pynvml=nvml)
    assert meter.baseline.pids == frozenset({77})
    assert meter.baseline.memory_used_mib == pytest.approx(512.0)


def test_no_driver_is_a_clear_error():
    nvml = nvml_mock()
    nvml.nvmlInit.side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    with pytest.raises(MeterUnavailable, match="NVIDIA driver"):
        NvmlMeter(0, pynvml=nvml)


def test_missing_gpu_index_is_a_clear_error():
    nvml = nvml_mock()
    nvml.nvmlDeviceGetHandleByIndex.side_effect = pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
    with pytest.raises(MeterUnavailable, match="no NVIDIA GPU at index 3"):
        NvmlMeter(3, pynvml=nvml)
    nvml.nvmlShutdown.assert_called_once()


def test_state_reports_identity_throttling_processes_and_mig():
    nvml = nvml_mock()
    nvml.nvmlDeviceGetName.return_value = "NVIDIA H100 80GB HBM3"
    nvml.nvmlDeviceGetUUID.return_value = "GPU-abc"
    nvml.nvmlSystemGetDriverVersion.return_value = "580.65"
    nvml.nvmlDeviceGetEnforcedPowerLimit.return_value = 700_000
    nvml.nvmlDeviceGetClockInfo.return_value = 1980
    nvml.nvmlDeviceGetTemperature.return_value = 41
    nvml.nvmlDeviceGetCurrentClocksEventReasons.return_value = 0x4 | 0x40
    nvml.nvmlDeviceGetComputeRunningProcesses.return_value = [
        SimpleNamespace(pid=os.getpid()), SimpleNamespace(pid=999_999)]
    nvml.nvmlDeviceGetMigMode.return_value = [1, 1]
    state = NvmlMeter(0, pynvml=nvml, environ={}).state()
    assert state.name == "NVIDIA H100 80GB HBM3"
    assert state.power_limit_w == pytest.approx(700.0)
    assert state.throttle_reasons == ("sw_power_cap", "hw_thermal_slowdown")
    assert state.other_compute_pids == (999_999,)  # our own process is not "other"
    assert state.mig_enabled is True
    assert state.temperature_c == 41


def test_state_tolerates_queries_the_driver_does_not_support():
    nvml = nvml_mock()
    nvml.nvmlDeviceGetName.return_value = b"Tesla V100"
    nvml.nvmlDeviceGetUUID.return_value = b"GPU-x"
    unsupported = pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
    for name in ("nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetMigMode",
                 "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetComputeRunningProcesses"):
        getattr(nvml, name).side_effect = unsupported
    state = NvmlMeter(0, pynvml=nvml).state()
    assert state.name == "Tesla V100"
    assert state.power_limit_w is None and state.mig_enabled is False
    assert state.throttle_reasons == () and state.other_compute_pids == ()


def make_powercap(root, packages=((1_000_000, 10_000_000),)):
    for index, (energy_uj, max_uj) in enumerate(packages):
        zone = root / f"intel-rapl:{index}"
        zone.mkdir(parents=True)
        (zone / "energy_uj").write_text(f"{energy_uj}\n")
        (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
        sub = root / f"intel-rapl:{index}:0"  # subzones (core, dram) are not double counted
        sub.mkdir()
        (sub / "energy_uj").write_text("0\n")
    return root


def test_rapl_sums_packages_and_unwraps_the_counter(tmp_path):
    root = make_powercap(tmp_path, packages=((9_000_000, 10_000_000), (100, 10_000_000)))
    meter = RaplMeter(root)
    assert meter.energy_j() == pytest.approx(0.0)
    (root / "intel-rapl:0" / "energy_uj").write_text("500000\n")  # wrapped past 10 J
    (root / "intel-rapl:1" / "energy_uj").write_text("2000100\n")
    assert meter.energy_j() == pytest.approx(1.5 + 2.0)


def test_rapl_without_zones_is_a_clear_error(tmp_path):
    with pytest.raises(MeterUnavailable, match="no RAPL package zones"):
        RaplMeter(tmp_path)


def test_rapl_unreadable_counter_says_how_to_fix(tmp_path, monkeypatch):
    root = make_powercap(tmp_path)
    original = type(root).read_text

    def deny(path, *args, **kwargs):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return original(path, *args, **kwargs)

    monkeypatch.setattr(type(root), "read_text", deny)
    with pytest.raises(MeterUnavailable, match="not readable; run as root"):
        RaplMeter(root)


def test_open_meter_names_the_device_problem():
    with pytest.raises(MeterUnavailable, match="unknown device 'tpu'"):
        open_meter("tpu")


def test_open_meter_on_this_gpu_less_machine_refuses_instead_of_reading_zero():
    if os.path.exists("/dev/nvidiactl"):
        pytest.skip("an NVIDIA driver is present here")
    with pytest.raises(MeterUnavailable):
        open_meter("cuda")
