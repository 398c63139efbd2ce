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


def test_gpus_without_a_counter_integrate_sampled_power():
    nvml = nvml_mock(energy_mj=None, instant_mw=200_000)
    meter = NvmlMeter(0, sample_period_s=0.001, pynvml=nvml)
    try:
        assert meter.name == "nvml-power-integration"
        start = meter.energy_j()
        time.sleep(0.2)
        gained = meter.energy_j() - start
        assert gained == pytest.approx(200.0 * 0.2, rel=0.25)
    finally:
        meter.close()


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
    state = NvmlMeter(0, pynvml=nvml).state()
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
