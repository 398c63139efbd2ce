"""ImageNet inference-energy leaderboard: submissions, scoring and the static site."""

__version__ = "0.1.0"
