"""Strict YAML loading: every refusal names the file and, where it has one, the line and column."""

from __future__ import annotations

import os

import pytest

from leaderboard.errors import Problem
from leaderboard.safe_yaml import MAX_FILE_BYTES, load_yaml_file, load_yaml_text

FILE = "sub/submission.yaml"


def refused(text: str) -> list[Problem]:
    data, problems, _ = load_yaml_text(text, FILE)
    # a mapping may still come back (so the schema check can report in the same run), but
    # never anything else
    assert data is None or isinstance(data, dict)
    assert problems
    assert all(p.file == FILE and p.severity == "error" and p.fix for p in problems)
    return problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def test_valid_file_loads_with_key_lines(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(
        "schema_version: 1\n"
        "model:\n"
        "  architecture: resnet50\n"
        "  weights:\n"
        "    hf_hub: {repo: timm/x, revision: null}\n"
        "tags:\n"
        "  - fast\n"
        "  - name: x\n"
        "    size: 2\n",
        encoding="utf-8",
    )
    data, problems, lines = load_yaml_file(path)
    assert problems == []
    assert data == {
        "schema_version": 1,
        "model": {"architecture": "resnet50", "weights": {"hf_hub": {"repo": "timm/x", "revision": None}}},
        "tags": ["fast", {"name": "x", "size": 2}],
    }
    assert lines == {
        ("schema_version",): 1,
        ("model",): 2,
        ("model", "architecture"): 3,
        ("model", "weights"): 4,
        ("model", "weights", "hf_hub"): 5,
        ("model", "weights", "hf_hub", "repo"): 5,
        ("model", "weights", "hf_hub", "revision"): 5,
        ("tags",): 6,
        ("tags", "0"): 7,
        ("tags", "1"): 8,
        ("tags", "1", "name"): 8,
        ("tags", "1", "size"): 9,
    }


def test_display_name_is_used_in_messages(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    _, problems, _ = load_yaml_file(path, display="submissions/x/submission.yaml")
    assert only(problems).format().startswith(
        "submissions/x/submission.yaml: line 2, column 1: error: duplicate key 'a'")


def test_utf8_bom_and_crlf_are_accepted():
    data, problems, lines = load_yaml_text("\ufeffa: 1\r\nb: 2\r\n", FILE)
    assert problems == []
    assert data == {"a": 1, "b": 2}
    assert lines == {("a",): 1, ("b",): 2}


@pytest.mark.parametrize(
    "text, key, location, first_line",
    [
        ("a: 1\nb: 2\na: 3\n", "a", "line 3, column 1", 1),
        ("a:\n  x: 1\n  y: 2\n  x: 3\n", "x", "line 4, column 3", 2),
        ("a:\n  - k: 1\n    k: 2\n", "k", "line 3, column 5", 2),
    ],
    ids=["top-level", "nested", "in-list"],
)
def test_duplicate_keys(text, key, location, first_line):
    problem = only(refused(text))
    assert problem.location == location
    assert problem.message == f"duplicate key '{key}' (first defined at line {first_line})"
    assert "silently use the last" in problem.fix


def test_duplicate_keys_are_found_on_the_strict_path_too():
    # An '&' anywhere (here in a quoted string) routes the text through the Python composer.
    problem = only(refused('note: "R&D"\nb: 1\nb: 2\n'))
    assert problem.location == "line 3, column 1"
    assert problem.message == "duplicate key 'b' (first defined at line 2)"


def test_anchor_and_alias_are_each_refused():
    problems = refused("base: &common 1\nother: *common\n")
    assert [(p.location, p.message) for p in problems] == [
        ("line 1, column 7", "anchor '&common' is not allowed"),
        ("line 2, column 8", "alias '*common' is not allowed"),
    ]


@pytest.mark.parametrize("merge", ["<<: {b: 2}", "<<: [{b: 2}]"])
@pytest.mark.parametrize("prefix", ["", 'note: "&"\n'], ids=["fast-path", "strict-path"])
def test_merge_keys_are_refused_on_both_paths(prefix, merge):
    offset = prefix.count("\n")
    problem = only(refused(f"{prefix}a: 1\n{merge}\n"))
    assert problem.location == f"line {offset + 2}, column 1"
    assert problem.message == "merge key '<<' is not allowed"


@pytest.mark.parametrize(
    "value, tag",
    [
        ("!!python/object:os.system 1", "python/object:os.system"),
        ('!!python/object/apply:os.system ["echo hi"]', "python/object/apply:os.system"),
        ("!!binary aGk=", "binary"),
        ("!custom value", "!custom"),
    ],
)
def test_non_standard_tags_are_refused(value, tag):
    problem = only(refused(f"ok: 1\nbad: {value}\n"))
    assert problem.location == "line 2, column 6"
    assert problem.message.startswith("tag '") and problem.message.endswith("' is not allowed")
    assert tag in problem.message


def test_standard_explicit_tag_is_accepted():
    data, problems, _ = load_yaml_text("a: !!str 80\n", FILE)
    assert problems == []
    assert data == {"a": "80"}


def test_multi_document_stream():
    problem = only(refused("a: 1\n---\nb: 2\n"))
    assert problem.location == "line 2, column 1"
    assert problem.message == "more than one YAML document in the file"
    assert "'---'" in problem.fix


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file(text):
    problem = only(refused(text))
    assert problem.message == "file is empty"
    assert "leaderboard schema" in problem.fix


@pytest.mark.parametrize("text, kind", [("- 1\n- 2\n", "list"), ("just text\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(text, kind):
    problem = only(refused(text))
    assert problem.message == f"top level is a {kind}, not a mapping"


@pytest.mark.parametrize(
    "text, location, phrase",
    [
        ("a: [1, 2\nb: 3\n", "line 2, column 2", "did not find expected ',' or ']'"),
        ("a: 1\n b: 2\n", "line 2, column 3", "mapping values are not allowed"),
        ("a:\n\t- 1\n", "line 2, column 1", "cannot start any token"),
    ],
    ids=["unclosed-flow", "bad-indent", "tab"],
)
def test_syntax_errors_have_line_and_column(text, location, phrase):
    problem = only(refused(text))
    assert problem.location == location
    assert problem.message.startswith("YAML syntax error: ")
    assert phrase in problem.message
    assert "indentation" in problem.fix


def test_unhashable_key_is_refused():
    problems = refused("? [1, 2]\n: 3\n")
    assert problems[0].location == "line 1, column 3"
    assert problems[0].message == "mapping key is a list, not text"


@pytest.mark.parametrize("prefix", ["", 'x: "!"\n'], ids=["fast-path", "strict-path"])
def test_deep_nesting_is_refused_not_a_crash(prefix):
    # Under the size limit but deep enough to exhaust Python's recursion limit.
    depth = 3_000
    problem = only(refused(prefix + "a: " + "[" * depth + "]" * depth + "\n"))
    assert problem.message == "values are nested too deeply"


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    data, problems, lines = load_yaml_file(path)
    problem = only(problems)
    assert data is None and lines == {}
    assert problem.file == str(path)
    assert problem.message == f"file is {MAX_FILE_BYTES + 4:,} bytes, over the 65,536-byte limit"
    assert "remove embedded data" in problem.fix


def test_file_exactly_at_the_size_limit_loads(tmp_path):
    path = tmp_path / "edge.yaml"
    body = "a: "
    path.write_text(body + "x" * (MAX_FILE_BYTES - len(body) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES
    data, problems, _ = load_yaml_file(path)
    assert problems == []
    assert len(data["a"]) == MAX_FILE_BYTES - 4


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Jos\u00e9\n".encode("latin-1"))
    data, problems, _ = load_yaml_file(path)
    problem = only(problems)
    assert data is None
    assert problem.location == "byte 9"
    assert problem.message == "file is not valid UTF-8"
    assert problem.fix == "save the file as UTF-8"


def test_missing_file(tmp_path):
    data, problems, _ = load_yaml_file(tmp_path / "nope.yaml")
    assert data is None
    assert only(problems).message.startswith("cannot read file: ")


def test_all_problems_of_one_file_are_reported_together():
    problems = refused("a: &x 1\nb: *x\nb: 2\nc: !foo 3\n")
    assert {(p.location, p.message) for p in problems} == {
        ("line 1, column 4", "anchor '&x' is not allowed"),
        ("line 2, column 4", "alias '*x' is not allowed"),
        ("line 3, column 1", "duplicate key 'b' (first defined at line 2)"),
        ("line 4, column 4", "tag '!foo' is not allowed"),
    }


# ---------------------------------------------------------------------------------------------
# Issue 13: alias bombs, YAML 1.1 scalars, non-finite numbers, files that are not files


def _alias_bomb(levels: int = 10, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_without_expanding_it():
    text = _alias_bomb()  # ~520 bytes that expand to 9**10 (3.5 billion) strings
    assert len(text) < 600
    data, problems, lines = load_yaml_text(text, FILE)
    # Nothing was expanded: every alias became one empty value, so the key-line walk saw
    # 10 keys and 9 items per list, not billions.
    assert len(lines) == 10 + 10 * 9
    assert data["a1"] == [None] * 9
    messages = [p.message for p in problems]
    assert "alias '*a0' is not allowed" in messages
    assert "anchor '&a9' is not allowed" in messages


def test_repeated_problems_are_capped_and_counted():
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * 500) + "]\n"
    problems = refused(text)
    aliases = [p for p in problems if p.message.startswith("alias")]
    assert len(aliases) == 10
    assert problems[-1].message == "490 more problem(s) of the kind 'alias' not listed"


@pytest.mark.parametrize(
    "value, reading",
    [("1:20", "here 80"), ("0x50", "here 80"), ("0xe0", "here 224"), ("010", "here 8"),
     ("0b101", "here 5"), ("1_000", "here 1000"), ("1:20.5", "here 80.5")],
)
@pytest.mark.parametrize("prefix", ["", 'note: "&"\n'], ids=["fast-path", "strict-path"])
def test_yaml_1_1_number_forms_are_refused_with_the_plain_number(prefix, value, reading):
    offset = prefix.count("\n")
    data, problems, _ = load_yaml_text(f"{prefix}top1: {value}\n", FILE)
    problem = only(problems)
    assert problem.location == f"line {offset + 1}, column 7"
    assert problem.message.startswith(f"'{value}' is a YAML 1.1 number form")
    assert problem.fix == (f"write the plain decimal number ({reading}), or quote the value if it "
                           "is text")
    assert data["top1"] == value  # the text, never a silently converted number


@pytest.mark.parametrize("value", ["on", "off", "yes", "No", "OFF"])
def test_yaml_1_1_booleans_are_refused(value):
    data, problems, _ = load_yaml_text(f"flag: {value}\n", FILE)
    problem = only(problems)
    assert problem.message == f"'{value}' is a YAML 1.1 boolean that other YAML readers read as text"
    assert problem.fix == f'write true or false, or quote it ("{value}") if it is text'
    assert data["flag"] == value


@pytest.mark.parametrize("value", ["2024-01-01", "2024-01-01 10:00:00"])
def test_dates_are_refused_as_text_to_quote(value):
    problem = only(refused(f"when: {value}\n"))
    assert problem.message == f"'{value}' reads as a YAML 1.1 date, not as text"
    assert problem.fix == f'quote it ("{value}")'


@pytest.mark.parametrize("value", [".inf", "-.inf", ".NaN", "1.0e+400"])
def test_non_finite_numbers_are_refused(value):
    problem = only(refused(f"params_m: {value}\n"))
    assert problem.location == "line 1, column 11"
    assert "finite number" in problem.fix


def test_plain_numbers_booleans_and_quoted_forms_still_load():
    data, problems, _ = load_yaml_text(
        'a: 80\nb: -1.5\nc: 1.5e+3\nd: true\ne: FALSE\nf: "0x50"\ng: "on"\nh: "2024-01-01"\n'
        "i: 0\nj: .5\nk: ~\n", FILE)
    assert problems == []
    assert data == {"a": 80, "b": -1.5, "c": 1500.0, "d": True, "e": False, "f": "0x50",
                    "g": "on", "h": "2024-01-01", "i": 0, "j": 0.5, "k": None}


def test_symlink_to_dev_zero_is_refused_without_reading_it(tmp_path):
    link = tmp_path / "submission.yaml"
    link.symlink_to("/dev/zero")
    data, problems, _ = load_yaml_file(link)
    assert data is None
    assert only(problems).message.startswith("is not a regular file")


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "submission.yaml"
    os.mkfifo(fifo)
    data, problems, _ = load_yaml_file(fifo)
    assert data is None
    assert only(problems).message.startswith("is not a regular file")


# ---------------------------------------------------------------------------------------------
# Issue 21, class 5: characters that hide text, huge integers, keys that are not text


@pytest.mark.parametrize("char, name", [("\u2028", "U+2028 (LINE SEPARATOR)"),
                                        ("\u2029", "U+2029 (PARAGRAPH SEPARATOR)"),
                                        ("\u0085", "U+0085 (NEXT LINE (NEL))"),
                                        ("\x1b", "U+001B (a control character)"),
                                        ("\u202e", "U+202E (a bidirectional text control)")])
def test_characters_that_hide_text_from_a_diff_are_refused_with_line_and_fix(char, name):
    # Inside a quoted string YAML reads U+2028 or U+0085 as a line break; a diff shows one line.
    problem = only(refused(f'a: 1\nsource: "measured{char}top1: 99.9"\n'))
    assert problem.location == "line 2, column 18"
    assert problem.message == (f"character {name} is not allowed: YAML may read it as a line "
                               "break or a diff may not show it")
    assert problem.fix == "delete it (retype the text around it); use plain spaces and line breaks"


def test_a_leading_byte_order_mark_is_still_fine():
    data, problems, _ = load_yaml_text("\ufeffa: 1\n", FILE)
    assert data == {"a": 1} and problems == []


def test_a_huge_integer_is_refused_before_conversion():
    # 5,000 digits: int() itself raises ValueError past 4,300 (a traceback on main).
    problem = only(refused("a: " + "9" * 5000 + "\n"))
    assert problem.location == "line 1, column 4"
    assert problem.message == "a number of 5,000 digits"
    assert "at most 64 digits" in problem.fix


def test_a_null_key_is_located():
    problems = refused("a: 1\nnull: 3\n~: 4\n")
    assert [(p.location, p.message) for p in problems] == [
        ("line 2, column 1", "mapping key is empty (null), not text"),
        ("line 3, column 1", "mapping key is empty (null), not text")]


def test_a_complex_key_does_not_hide_the_rest_of_the_file():
    data, problems, _ = load_yaml_text("a: 1\n? [x, y]\n: 2\nb: true\n", FILE)
    assert [(p.location, p.message) for p in problems] == [("line 2, column 3",
                                                            "mapping key is a list, not text")]
    assert data == {"a": 1, "b": True}  # the schema check still sees the rest
