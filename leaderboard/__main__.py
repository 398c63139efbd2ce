"""`python -m leaderboard`: the `leaderboard` command, where the script is not on PATH."""

from leaderboard.cli import main

if __name__ == "__main__":
    main()
