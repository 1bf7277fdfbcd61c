"""How categories, statuses and roles read on screen, in Excel and in charts: (vi, en)."""

from __future__ import annotations

from storage.aggregate.categories import Category
from storage.models import AssignmentRole, Status

CATEGORY_LABELS: dict[Category, tuple[str, str]] = {
    Category.DONE_ON_TIME: ("Hoàn thành đúng hạn", "Done on time"),
    Category.DONE_LATE: ("Hoàn thành quá hạn", "Done late"),
    Category.IN_PROGRESS_ON_TIME: ("Đang thực hiện trong hạn", "In progress, on time"),
    Category.IN_PROGRESS_OVERDUE: ("Đang thực hiện quá hạn", "In progress, overdue"),
    Category.NOT_REPORTED: ("Chưa báo cáo", "Not reported"),
}
CATEGORY_COLOURS: dict[Category, str] = {  # hex RGB, for Excel fills and charts
    Category.DONE_ON_TIME: "2E7D32",  # green
    Category.DONE_LATE: "9E9D24",  # amber-green
    Category.IN_PROGRESS_ON_TIME: "1E88E5",  # blue
    Category.IN_PROGRESS_OVERDUE: "E53935",  # red
    Category.NOT_REPORTED: "9E9E9E",  # grey
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.NOT_STARTED: ("Chưa triển khai", "Not started"),
    Status.IN_PROGRESS: ("Đang thực hiện", "In progress"),
    Status.DONE: ("Hoàn thành", "Done"),
    Status.BLOCKED: ("Vướng mắc", "Blocked"),
}
ROLE_LABELS: dict[str, tuple[str, str]] = {
    AssignmentRole.LEAD: ("Chủ trì", "Lead"),
    AssignmentRole.SUPPORT: ("Phối hợp", "Support"),
}
