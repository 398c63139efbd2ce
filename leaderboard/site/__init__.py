"""The static-site builder: submissions and records -> tables, charts, pages -> mkdocs build.

Nothing here imports torch.
"""
