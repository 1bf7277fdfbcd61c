"""One colour per deadline category, for Excel fills and charts alike (hex RGB)."""

from __future__ import annotations

from storage.aggregate.categories import Category

CATEGORY_COLOURS: dict[Category, str] = {
    Category.DONE_ON_TIME: "2E7D32",  # green
    Category.DONE_LATE: "9E9D24",  # amber-green
    Category.IN_PROGRESS_ON_TIME: "1E88E5",  # blue
    Category.IN_PROGRESS_OVERDUE: "E53935",  # red
    Category.NOT_REPORTED: "9E9E9E",  # grey
}
# Colours dark enough for white text on them.
DARK = frozenset({"2E7D32", "1E88E5", "E53935", "9E9D24"})
