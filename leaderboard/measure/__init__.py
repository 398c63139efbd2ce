"""The validator: re-measures inference energy and accuracy.

Only this package imports torch/timm/pynvml, and only inside functions that need them.
"""
