"""The datasheet figures behind the plausibility floor, one row per GPU family, with sources.

:mod:`leaderboard.record_rules` refuses a record whose J/image is below what the GPU can
physically do (FLOPs per image over the family's best FLOP/J x a margin) or whose images/s x
FLOPs per image is above the family's peak FLOP/s. This module holds those two figures per
family and where each comes from; the Methodology page prints the table.

Which figure: NVIDIA's datasheets print tensor throughput "with sparsity" (2:4 structured
sparsity, marked with an asterisk), twice the dense rate. A floor must never refuse a true
record, so each row takes the highest figure the datasheet prints for a precision this project
measures or plans (FP8 or INT8, with sparsity): no model counted in dense FLOPs at FP32, TF32,
FP16, BF16, INT8 or FP8 can exceed it. INT4 figures (A100, Ada) are left out because no record
can be INT4 (:data:`leaderboard.vocabulary.Precision` and ``QUANTISED_PRECISIONS``). Where a
board's power is a configurable range, the low end is taken (more operations per joule).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuPeak:
    """A GPU family's largest datasheet tensor throughput and its best operations per joule.

    Attributes:
        peak_tflops: The largest figure the datasheet prints (FP8 or INT8, with sparsity) for
            the family's fastest form factor, in TFLOP/s (TOP/s for INT8).
        efficient_tflops: The same precision's figure for the form factor whose figure over
            board power is highest.
        efficient_power_w: That form factor's board power (TDP, or the low end of its
            configurable range).
        figures: The datasheet figures as printed, per form factor.
        document: The NVIDIA document the figures are from.
        url: Where NVIDIA publishes that document.
        checked_against: The copies the figures were checked against (NVIDIA's own pages could
            not be read from where the table was checked; these quote them).
        unverified: What no copy confirmed, and why the figure is kept; empty when all was.
    """

    peak_tflops: float
    efficient_tflops: float
    efficient_power_w: float
    figures: str
    document: str = ""
    url: str = ""
    checked_against: tuple[str, ...] = ()
    unverified: str = ""

    @property
    def peak_flops(self) -> float:
        """The throughput ceiling in FLOP/s."""
        return self.peak_tflops * 1e12

    @property
    def flops_per_j(self) -> float:
        """The best operations per joule the datasheet allows."""
        return self.efficient_tflops * 1e12 / self.efficient_power_w

    @property
    def source(self) -> str:
        """The document and its figures, as a refusal message quotes them."""
        return f"{self.document}: {self.figures}" if self.document else self.figures


# Keyed by a token of the board's hardware slug (``nvidia-h100-80gb-hbm3`` -> ``h100``).
GPU_PEAKS: dict[str, GpuPeak] = {
    "h100": GpuPeak(
        3958, 3026, 300,
        "FP8 Tensor Core with sparsity 3,958 TFLOPS (SXM, up to 700 W); 3,341 TFLOPS (NVL, "
        "350-400 W); 3,026 TFLOPS (PCIe, 300-350 W)",
        "NVIDIA H100 Tensor Core GPU datasheet",
        "https://resources.nvidia.com/en-us-hopper-architecture/nvidia-h100-datasheet",
        ("https://glennklockwood.com/garden/processors/h100",
         "https://gpu.blog/gpus/nvidia-h100-nvl",
         "https://manuals.plus/m/d4b5dc21484df3ba8fbe84918338461cc074a3fcebcc13423eadc2b10ac3bda4",
         "https://hmc-tech.com/gpu/nvidia-h100-vs-nvidia-h200-sxm-vs-nvidia-gb200"),
        "the PCIe board's 300 W low end appears only in a third-party note (\"PCIe H100 | "
        "300-350W\"); NVIDIA's H100 PCIe product brief PB-11133-001 gives 350 W as its maximum. "
        "It is kept because it is the more generous: 3,026 / 300 W = 10.09 TFLOP/J against "
        "3,341 / 350 W = 9.55 for the NVL."),
    "h200": GpuPeak(
        3958, 3958, 700,
        "FP8 Tensor Core with sparsity 3,958 TFLOPS (SXM, up to 700 W); 3,341 TFLOPS (NVL, "
        "up to 600 W)",
        "NVIDIA H200 Tensor Core GPU datasheet",
        "https://nvdam.widen.net/s/nb5zzzsjdf/hpc-datasheet-sc23-h200-datasheet-3002446",
        ("https://lzwjava.github.io/nvidia-h200-gpu-specs-en",
         "https://www.saulelectric.com/nvidia-h200.html",
         "https://onestopsystems.com/pages/one-stop-systems-blog"),
        "the NVL's 3,341 TFLOPS and 600 W are confirmed only by notes that quote NVIDIA's H200 "
        "product page (https://www.nvidia.com/en-us/data-center/h200/); they do not set the "
        "floor (3,341 / 600 W = 5.57 TFLOP/J is below the SXM's 5.65)."),
    "a100": GpuPeak(
        1248, 1248, 250,
        "INT8 Tensor Core with sparsity 1,248 TOPS (SXM 400 W; PCIe 80 GB 300 W; PCIe 40 GB "
        "250 W)",
        "NVIDIA A100 Tensor Core GPU datasheet",
        "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
        "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf",
        ("https://glennklockwood.com/garden/processors/A100",
         "https://www.thundercompute.com/blog/nvidia-a100-specs-full-guide",
         "https://upb-pc2.atlassian.net/wiki/spaces/PC2DOK/pages/1900609/"
         "NVIDIA+A100+40GB+with+NVLINK")),
    "l4": GpuPeak(
        485, 485, 72,
        "FP8 and INT8 Tensor Core with sparsity 485 TFLOPS / TOPS, 72 W",
        "NVIDIA L4 Tensor Core GPU datasheet",
        "https://www.nvidia.com/en-us/data-center/l4/",
        ("https://grokipedia.com/page/NVIDIA_L4_vs_L40S",
         "https://store.sourcecode.com/en-us/bg-bucket-compare/125/9820",
         "https://fpsbench.com/compare/gpu/nvidia-l4-vs-nvidia-tesla-m40")),
    "l40s": GpuPeak(
        1466, 1466, 350,
        "FP8 Tensor Core with sparsity 1,466 TFLOPS, 350 W",
        "NVIDIA L40S datasheet",
        "https://www.nvidia.com/en-us/data-center/l40s/",
        ("https://www.mullet.se/product.html?product_id=355414",
         "https://omegaco.ae/shop/gpu-cards-edge-ai/nvidia-l40s",
         "https://grokipedia.com/page/NVIDIA_L4_vs_L40S")),
    "4090": GpuPeak(
        1321.2, 1321.2, 450,
        "GeForce RTX 4090: peak FP8 Tensor (FP16 accumulate) with sparsity 1,321.2 TFLOPS, "
        "450 W total graphics power",
        "NVIDIA Ada GPU Architecture whitepaper",
        "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf",
        ("https://holynerdvana.blogspot.com/2022/10/nvidia-geforce-rtx-4090-specifications.html",
         "https://www.thefpsreview.com/gpu-family/nvidia-geforce-rtx-4090-gpu-family-specifications"),
        "the copies round the figure to 1,321 TFLOPS; 1,321.2 (twice the 660.6 dense figure that "
        "GPU spec compilations quote from the whitepaper) is kept as the larger."),
}


def _unknown_gpu() -> GpuPeak:
    # For a board not in the table: the fastest and the most efficient GPU there, so an
    # unknown GPU is never held to a tighter floor or ceiling than a known one.
    best = max(GPU_PEAKS.values(), key=lambda p: p.flops_per_j)
    return GpuPeak(max(p.peak_tflops for p in GPU_PEAKS.values()), best.efficient_tflops,
                   best.efficient_power_w, "the fastest and the most efficient GPU in the table")


UNKNOWN_GPU = _unknown_gpu()


def gpu_peak(hardware: str) -> GpuPeak | None:
    """The table's figures for a board's hardware slug, or ``None`` when not listed."""
    tokens = hardware.split("-")
    for key, peak in GPU_PEAKS.items():
        if key in tokens:
            return peak
    return None
