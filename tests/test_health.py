"""What `tiendo run` records for `tiendo status`: on SQLite and PostgreSQL, time passed in."""

from __future__ import annotations

from datetime import timedelta

from storage.db import Database
from storage.health import health, mark, note_dropped
from tests.conftest import hanoi

NOON = hanoi(2019, 12, 2, 12, 0)


def problems_at(db: Database, hours: float) -> dict[str, dict[str, object]]:
    with db.unit_of_work() as session:
        found = health(session, NOON + timedelta(hours=hours))
    return {p.code: p.values for p in found.problems() if p.code != "no_programme"}


def test_a_platform_is_a_problem_while_it_is_down(db: Database) -> None:
    with db.unit_of_work() as session:
        mark(session, "zalo", "ok", NOON - timedelta(hours=1))
        mark(session, "zalo", "down", NOON, "Zalo getUpdates failed [400]: Bad Request")
        mark(session, "zalo", "down", NOON + timedelta(minutes=5), "again")  # still since noon
    down = problems_at(db, 1)["component_down"]
    assert down["component"] == "zalo" and down["since"] == NOON and down["detail"] == "again"
    with db.unit_of_work() as session:
        mark(session, "zalo", "ok", NOON + timedelta(hours=2))
    assert problems_at(db, 3) == {}
    with db.unit_of_work() as session:
        mark(session, "zalo", "stopped", NOON + timedelta(hours=4))
    assert problems_at(db, 5) == {}


def test_dropped_replies_count_in_a_burst_and_stay_visible_for_a_day(db: Database) -> None:
    with db.unit_of_work() as session:
        note_dropped(session, "telegram", NOON)
        note_dropped(session, "telegram", NOON + timedelta(hours=1))
    dropped = problems_at(db, 2)["replies_dropped"]
    assert dropped == {"component": "telegram", "count": 2, "last": NOON + timedelta(hours=1)}
    assert "replies_dropped" in problems_at(db, 24.5)
    assert problems_at(db, 25.5) == {}  # a day after the last one
    with db.unit_of_work() as session:
        note_dropped(session, "telegram", NOON + timedelta(hours=30))  # a new burst
    assert problems_at(db, 31)["replies_dropped"]["count"] == 1
