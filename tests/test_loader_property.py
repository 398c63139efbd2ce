"""Property: any bytes up to 64 KiB are refused or accepted within 2 s and 256 MB, never a traceback.

The checker (strict YAML loader, then the schema) is run on arbitrary bytes and on YAML-shaped
text built from the tokens attackers and clumsy contributors use (anchors, aliases, tags,
flow brackets, merge keys, YAML 1.1 scalars, deep nesting). Time is the process's CPU time;
memory is Python's peak allocation as tracemalloc counts it (the composer and constructor run
in Python; libyaml's own buffers are bounded by the 64 KiB input).
"""

from __future__ import annotations

import random
import time
import tracemalloc
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaderboard.errors import Problem
from leaderboard.safe_yaml import MAX_FILE_BYTES
from leaderboard.submission import check_submission_file
from leaderboard.timm_catalog import load_catalog

ARCHITECTURES = load_catalog().architectures
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 256 * 1024 * 1024

TOKENS = [
    "a", "id", "model", "claims", "top1", "weights", "hf_hub", "revision", ": ", ":", "-", " ",
    "  ", "\n", "\t", "&a", "&b", "*a", "*b", "!!python/object:os.system", "!x", "!!str", "<<",
    "[", "]", "{", "}", ",", "?", "'", '"', "#", "|", ">", "---", "...", "%YAML 1.1", "1:20",
    "0x50", "0o17", ".inf", ".nan", "on", "no", "2024-01-01", "1e400", "~", "null", "80.5",
    "\ufeff", "\x00", "\u2028", "\\", "%", "@", "`",
]

# Large inputs come from a seeded generator: hypothesis draws small examples (and caps its own
# buffer well under 64 KiB), while the interesting cases are big.
def _tokens(size_and_seed: tuple[int, int]) -> bytes:
    size, seed = size_and_seed
    return "".join(random.Random(seed).choices(TOKENS, k=size)).encode("utf-8")[:MAX_FILE_BYTES]


def _bytes(size_and_seed: tuple[int, int]) -> bytes:
    size, seed = size_and_seed
    return random.Random(seed).randbytes(size)


_seeds = st.integers(0, 2**32)
small_yaml_like = st.lists(st.sampled_from(TOKENS), max_size=400).map(
    lambda tokens: "".join(tokens).encode("utf-8"))
yaml_like = st.one_of(small_yaml_like, st.tuples(st.integers(0, 20_000), _seeds).map(_tokens))
repeated = st.tuples(st.sampled_from(TOKENS), st.sampled_from(TOKENS),
                     st.integers(1, 16_000)).map(
    lambda t: ((t[0] + t[1]) * t[2]).encode("utf-8")[:MAX_FILE_BYTES])
# Well-formed YAML documents (then mutated line by line), so the composer, the constructor and
# the schema see deep and wide structures, not only early syntax errors.
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(max_size=20), st.sampled_from(TOKENS))
_documents = st.recursive(
    _scalars, lambda inner: st.one_of(st.lists(inner, max_size=8),
                                      st.dictionaries(st.text(max_size=8), inner, max_size=8)),
    max_leaves=400)


def _mutated(args: tuple[object, bool, int, int]) -> bytes:
    document, flow, mutations, seed = args
    text = yaml.safe_dump({"id": "resnet50.a1_in1k", "body": document},
                          default_flow_style=flow, allow_unicode=True)
    lines = text.splitlines()
    rng = random.Random(seed)
    for _ in range(mutations):
        if lines:
            index = rng.randrange(len(lines))
            lines[index] = lines[index] + " " + rng.choice(TOKENS)
    return "\n".join(lines).encode("utf-8")[:MAX_FILE_BYTES]


structured = st.tuples(_documents, st.booleans(), st.integers(0, 5), _seeds).map(_mutated)
raw_bytes = st.one_of(st.binary(max_size=2048),
                      st.tuples(st.integers(0, MAX_FILE_BYTES), _seeds).map(_bytes))


def check_bytes(tmp_dir: Path, data: bytes) -> None:
    folder = tmp_dir / "resnet50.a1_in1k"
    folder.mkdir(exist_ok=True)
    path = folder / "submission.yaml"
    path.write_bytes(data)
    tracemalloc.start()
    # CPU time, not wall time: the bound is on the checker's work, and a CI machine shared with
    # other jobs must not make it flaky.
    started = time.process_time()
    try:
        submission, problems = check_submission_file(path, known_architectures=ARCHITECTURES)
    finally:
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s for {len(data)} bytes"
    assert peak < MAX_PEAK_BYTES, f"{peak / 2**20:.0f} MiB for {len(data)} bytes"
    assert all(isinstance(p, Problem) and p.file == str(path) and p.message for p in problems)
    # Accepted means no error; refused means at least one error, each with a fix.
    errors = [p for p in problems if p.severity == "error"]
    assert (submission is None) == bool(errors)
    assert all(p.fix for p in errors)


_settings = settings(max_examples=70, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.large_base_example,
                                            HealthCheck.function_scoped_fixture])


@_settings
@given(data=yaml_like)
def test_yaml_shaped_text_is_refused_or_accepted_quickly(tmp_path, data):
    check_bytes(tmp_path, data)


@_settings
@given(data=repeated)
def test_repeated_tokens_are_refused_or_accepted_quickly(tmp_path, data):
    check_bytes(tmp_path, data)


@_settings
@given(data=structured)
def test_mutated_documents_are_refused_or_accepted_quickly(tmp_path, data):
    check_bytes(tmp_path, data)


@_settings
@given(data=raw_bytes)
def test_arbitrary_bytes_are_refused_or_accepted_quickly(tmp_path, data):
    check_bytes(tmp_path, data)


def test_worst_cases_we_know_of(tmp_path):
    nested_aliases = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    cases = [
        nested_aliases,
        "a: &x 1\nb: [" + ", ".join(["*x"] * 20_000) + "]\n",
        "a: " + "[" * 30_000 + "]" * 30_000 + "\n",
        "a: " + "{b: " * 10_000 + "1" + "}" * 10_000 + "\n",
        "".join(f"k: {i}\n" for i in range(9_000)),  # 9,000 duplicate keys
        "x: " + "1:" * 30_000 + "1\n",  # a huge base-60 integer
        "x: 0x" + "f" * 60_000 + "\n",
        "- " * 30_000,
    ]
    for text in cases:
        check_bytes(tmp_path, text.encode("utf-8")[:MAX_FILE_BYTES])
