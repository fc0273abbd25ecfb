"""A portfolio child (solvers/portfolio.py): reads a scenario as JSON on stdin and the
options as recorded by `SolveOptions.describe` in argv[1], writes the plan as JSON on
stdout. SIGINT stops its search; it then writes the best plan it has."""

from __future__ import annotations

import json
import signal
import sys
import time
from types import FrameType


def main() -> None:
    started = time.perf_counter()
    from models.io import scenario_from_dict
    from solvers.options import SolveOptions, StopFlag
    from solvers.pipeline import solve

    stop = StopFlag()

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_sigint)
    options = SolveOptions.from_description(json.loads(sys.argv[1]), threads=1,
                                            started=started, stop=stop)
    from solvers.engine_output import hidden

    sc = scenario_from_dict(json.loads(sys.stdin.read()))
    # Stdout carries the plan: an engine's own line there would make it unreadable.
    with hidden():
        print(solve(sc, options).to_json())


if __name__ == "__main__":
    main()
