"""Time `tiendo --help` and `tiendo items` as whole processes, the way an operator waits for them.

    python bench/cli_startup.py            # 9 runs of each, median and best
    python bench/cli_startup.py --runs 21

`items` runs against a fresh SQLite store with the default programme imported, so it prints
the real tree. The commands run as an installed package runs, with its modules' bytecode
cached (PYTHONDONTWRITEBYTECODE, if set, is dropped for them: recompiling the project's own
modules cost each start 40-60 ms). The load average is printed too: on a shared machine it
moves the figures more than anything here does. Targets: --help 0.3 s, items 0.6 s (median).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIENDO = Path(sys.executable).with_name("tiendo")
TARGETS = {"--help": 0.3, "items": 0.6}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "120"}


def timed(argv: list[str], cwd: Path) -> float:
    """Run one command to its end; return the wall-clock seconds."""
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    command = [str(TIENDO)] if TIENDO.exists() else [sys.executable, "-m", "bot.cli"]
    folder = Path(tempfile.mkdtemp(prefix="tiendo-cli-bench-"))
    try:
        config = folder / "config.toml"
        config.write_text(
            f'[app]\nprogramme = "{ROOT / "programmes" / "ha-noi-hung-yen-2019.toml"}"\n'
            f'data_dir = "{folder}"\n[database]\nurl = "sqlite:///{folder / "tiendo.sqlite3"}"\n',
            encoding="utf-8",
        )
        base = [*command, "--config", str(config)]
        subprocess.run(
            [*base, "import"], cwd=folder, check=True, stdout=subprocess.DEVNULL, env=ENV
        )
        timed([*base, "items"], folder)  # warm the page cache and the bytecode cache
        print(
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.runs} runs each"
        )
        for name, extra in (("--help", ["--help"]), ("items", ["items"])):
            times = sorted(timed([*base, *extra], folder) for _ in range(args.runs))
            median = statistics.median(times)
            verdict = "ok" if median <= TARGETS[name] else "over"
            print(
                f"tiendo {name:<7} median {median:.3f} s  best {times[0]:.3f} s  "
                f"worst {times[-1]:.3f} s  (target {TARGETS[name]:.1f} s: {verdict})"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
