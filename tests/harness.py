"""Shared set-up for flow tests: a migrated SQLite template with the real programme."""

from __future__ import annotations

import shutil
from pathlib import Path

from storage.clock import Clock
from storage.db import Database, make_engine, upgrade
from storage.programme import import_programme, load_programme_file

REPO = Path(__file__).resolve().parent.parent
PROGRAMME = REPO / "programmes" / "ha-noi-hung-yen-2019.toml"


def build_template(folder: Path, clock: Clock) -> Path:
    """Migrate a SQLite file and import the default programme into it, once per session."""
    path = folder / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    db = Database(engine)
    with db.unit_of_work() as session:
        import_programme(session, load_programme_file(PROGRAMME), clock.now())
    db.dispose()
    return path


def copy_database(template: Path, folder: Path) -> Database:
    """A private copy of the template for one test."""
    target = folder / "tiendo.sqlite3"
    shutil.copyfile(template, target)
    return Database.open(f"sqlite:///{target}")
