"""Two programmes side by side on the command line: each command takes one, or shows each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness import REPO, run_cli, write_config

SECOND = REPO / "programmes" / "ha-noi-hoa-binh-2019.toml"
HY, HB = "ha-noi-hung-yen-2019", "ha-noi-hoa-binh-2019"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A store with the Hưng Yên programme and the Hòa Bình one imported beside it."""
    path = write_config(tmp_path)
    assert run_cli(path, "import")[0] == 0
    assert run_cli(path, "import", str(SECOND))[0] == 0
    return path


def _json(config: Path, *args: str) -> object:
    code, out = run_cli(config, *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_items_of_one_programme_by_alias_or_code_and_of_all(config: Path) -> None:
    by_alias = _json(config, "items", "--programme", "hb")
    assert isinstance(by_alias, list) and by_alias
    assert {row["programme"] for row in by_alias} == {HB}
    assert {row["programme_label"] for row in by_alias} == {"HB"}
    assert _json(config, "items", "--programme", HB) == by_alias
    every = _json(config, "items")
    assert isinstance(every, list)
    assert [row["programme"] for row in every if row["code"] == "III.1"] == [HY, HB]

    code, out = run_cli(config, "items")
    assert code == 0
    assert f"HY ({HY})" in out and f"HB ({HB})" in out


def test_an_unknown_programme_gets_one_line_with_the_known_ones(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("items", "summary", "agencies"):
        code, out = run_cli(config, command, "--programme", "NB")
        err = capsys.readouterr().err
        assert (code, out) == (2, "")
        assert err.count("\n") == 1, err
        assert "Không có chương trình “NB”" in err
        assert f"HY ({HY}), HB ({HB})" in err
    code, _ = run_cli(config, "export", str(config.parent / "x.xlsx"), "--programme", "NB")
    assert code == 2 and not (config.parent / "x.xlsx").exists()


def test_summary_has_one_section_per_programme(config: Path) -> None:
    both = _json(config, "summary", "--limit", "0")
    assert isinstance(both, list)
    assert [(s["programme"], s["programme_label"]) for s in both] == [(HY, "HY"), (HB, "HB")]
    hy, hb = both
    assert hy["overall"]["count"] == 97  # every assignment of HY, none of HB
    assert {f["code"] for f in hb["by_field"]} >= {"1.1", "2.2", "3"}
    assert not {f["code"] for f in hb["by_field"]} & {"2.5", "2.9"}  # HY's fields
    assert {x["code"] for x in hb["by_locality"]} == {"HN", "HB"}
    assert hb["period"]["key"].startswith("2019-H")  # Hòa Bình reports every six months
    assert hy["period"]["key"] == "2019-12"

    only = _json(config, "summary", "--programme", "HB", "--limit", "0")
    assert isinstance(only, list) and [s["programme"] for s in only] == [HB]
    assert only[0]["overall"] == hb["overall"]

    code, out = run_cli(config, "summary")
    assert code == 0
    assert out.index("Chương trình HY") < out.index("Chương trình HB")
    assert out.count("Tổng quan") == 2


def test_agencies_show_their_part_in_each_programme(config: Path) -> None:
    rows = _json(config, "agencies")
    assert isinstance(rows, list)
    by_code = {r["code"]: r for r in rows}
    health = {p["label"]: p for p in by_code["HN-YT"]["programmes"]}
    assert (health["HY"]["lead"], health["HY"]["support"]) == (1, 1)  # 2.7.a; 2.2.a
    assert (health["HB"]["lead"], health["HB"]["support"]) == (2, 0)
    planning = {p["label"]: p for p in by_code["HN-KHDT"]["programmes"]}
    assert planning["HY"]["coordinates"] and planning["HB"]["coordinates"]
    assert by_code["HN-UBND"]["leadership"] == ["HY", "HB"]
    assert [p["label"] for p in by_code["HY-GTVT"]["programmes"]] == ["HY"]

    hb_only = _json(config, "agencies", "--programme", "HB")
    assert isinstance(hb_only, list)
    assert {r["locality"] for r in hb_only} == {"HN", "HB"}
    assert "HY-GTVT" not in {r["code"] for r in hb_only}

    code, out = run_cli(config, "agencies")
    assert code == 0
    assert "HY: chủ trì 1, phối hợp 1" in out
    assert "HB: chủ trì 2, phối hợp 0" in out
