"""A mistake in a hand-edited TOML file is pointed at by its key path and its line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from storage.tomlfile import TomlFile, TomlFileError, line_of

TEXT = """\
title = "x"                     # line 1

[telegram]                      # line 3
mode = "polling"
limits.daily = 3                # line 5: a dotted key

[telegram.webhook]              # line 7
"path" = "/t"                   # line 8: a quoted key

[[assignments]]                 # line 10
item = "2.5"
lead = [
  "HN-GTVT",
]

[[assignments]]                 # line 16
item = "2.6"                    # line 17
lead = ["HN-XD", "HY-XD"]       # line 18
"""


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("title",), 1),
        (("telegram",), 3),
        (("telegram", "mode"), 4),
        (("telegram", "limits", "daily"), 5),
        (("telegram", "webhook", "path"), 8),
        (("telegram", "webhook", "listen"), 7),  # missing: its table's header
        (("assignments", 0, "lead", 0), 12),  # an item of a list: its key's line
        (("assignments", 1), 16),
        (("assignments", 1, "item"), 17),
        (("assignments", 1, "lead", 1), 18),
        (("assignments", 1, "due"), 16),
        (("nowhere", "key"), None),
    ],
)
def test_the_line_of_a_key_path(loc: tuple[str | int, ...], line: int | None) -> None:
    assert tomllib.loads(TEXT)  # the example is a valid file
    assert line_of(TEXT, loc) == line


def test_a_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(TomlFileError) as caught:
        TomlFile.read(tmp_path)
    assert str(caught.value) == f"{tmp_path}: không đọc được / cannot read: Is a directory"
