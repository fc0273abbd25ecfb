"""A whole LP solved by dual simplex and by barrier at once, in two child processes: the
first to finish wins and the other is stopped.

Neither algorithm is reliably the faster on the models this project builds (HiGHS, one
thread each, on the 2-core development machine; seconds to the LP optimum):

| model (columns) | barrier | dual simplex |
| --- | --- | --- |
| generated medium, balanced, seed 1 (103,409) | 16.0 | 18.2 |
| generated medium, fixed-cost, seed 1 | 23.9 | not solved in 60 |
| alt generator medium seed 1 (192,685) | not solved in 60 | 23.3 |
| alt generator medium seed 2 | 13.1 | 5.5 |
| alt generator medium seed 3 | 39.4 | 4.2 |

One algorithm chosen in advance missed its share of the limit on some of these (alt
medium seed 1 with barrier: no LP, no guidance and a plan 300 times the LP bound in
60 s). Two processes cost a second copy of the model in memory and, on a machine
whose cores are busy, up to half the speed of each; the race's time is that of the
faster algorithm. HiGHS does not answer MathOpt's interrupter, so the loser is killed.

The child (`python -m solvers.lp_race MODEL PARAMS RESULT`) reads a `ModelProto` and a
`SolveParametersProto` from files, solves with HiGHS and writes the `SolveResultProto`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ortools.math_opt import model_pb2, parameters_pb2, result_pb2
from ortools.math_opt.python import mathopt

from solvers.lpmodel import Answer, ArrayModel, answer_from_result, seconds, solve_proto

# Below this many columns one LP takes well under the second a child needs to start.
RACE_MIN_COLUMNS = 20_000
ALGORITHMS = (mathopt.LPAlgorithm.DUAL_SIMPLEX, mathopt.LPAlgorithm.BARRIER)
# How often the parent looks at its children.
POLL = 0.02
# Seconds a child may run past the deadline it was given (its answer may come just
# after its own time limit), at most this share of the time the wait was given.
GRACE, GRACE_SHARE = 1.0, 0.1


class LpRace:
    """The children of one race, started at once and answering through `wait`: a method
    may start the race early (solvers/methods.py `LpGuided.construct`) and do other work
    in this process (the bounds) while they run. `close()` stops them and removes their
    files; `wait` closes the race when it returns."""

    def __init__(self, am: ArrayModel, proto: model_pb2.ModelProto,
                 params: mathopt.SolveParameters, run_until: float | None,
                 algorithms: tuple[mathopt.LPAlgorithm, ...] = ALGORITHMS) -> None:
        self.am, self.proto, self.params = am, proto, params
        self._tmp = tempfile.TemporaryDirectory(prefix="imc-lp-")
        model_path = Path(self._tmp.name, "model.pb")
        model_path.write_bytes(proto.SerializeToString())
        self.children: list[tuple[subprocess.Popen[bytes], Path, str]] = []
        self.answered = False
        self.best: Answer | None = None
        try:
            for algorithm in algorithms:
                p = _params(params, algorithm, run_until)
                ppath = Path(self._tmp.name, f"{algorithm.name}.params.pb")
                ppath.write_bytes(p.to_proto().SerializeToString())
                out = Path(self._tmp.name, f"{algorithm.name}.result.pb")
                proc = subprocess.Popen(
                    [sys.executable, "-m", "solvers.lp_race", str(model_path), str(ppath),
                     str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": _path()},
                    preexec_fn=_die_with_parent)
                self.children.append((proc, out, algorithm.name))
        except OSError:
            # Not started here: `wait` solves the LP in this process.
            self.close()

    def poll(self) -> Answer | None:
        """Optimality or infeasibility proven by a child, else None (the best other answer
        a child gave is kept in `best`)."""
        for child in list(self.children):
            proc, out, _name = child
            if proc.poll() is None:
                continue
            self.children.remove(child)
            if proc.returncode != 0 or not out.exists():
                continue
            self.answered = True
            result = result_pb2.SolveResultProto()
            result.ParseFromString(out.read_bytes())
            ans = answer_from_result(self.am, result)
            if ans.reason in (mathopt.TerminationReason.OPTIMAL,
                              mathopt.TerminationReason.INFEASIBLE):
                return ans
            if self.best is None or (ans.x is not None and self.best.x is None):
                self.best = ans
        return None

    def wait(self, deadline: float | None) -> Answer:
        """The first answer proving optimality or infeasibility, until `deadline` (a
        time.perf_counter() value; a child past it by GRACE seconds, or GRACE_SHARE of the
        wait where that is less, is stopped); falls back to one solve in this process
        where no child could run. Closes the race."""
        grace = GRACE if deadline is None else min(
            GRACE, GRACE_SHARE * max(0.0, deadline - time.perf_counter()))
        try:
            while self.children:
                ans = self.poll()
                if ans is not None:
                    return ans
                if deadline is not None and time.perf_counter() > deadline + grace:
                    break
                time.sleep(POLL)
        finally:
            self.close()
        if not self.answered and (deadline is None or time.perf_counter() < deadline):
            # Neither child answered (they could not start or run here): the LP in this
            # process.
            return solve_proto(self.am, self.proto, mathopt.SolverType.HIGHS,
                               _params(self.params, ALGORITHMS[0], deadline))
        return self.best or Answer(reason=mathopt.TerminationReason.NO_SOLUTION_FOUND,
                                   primal_bound=float("inf"), dual_bound=-float("inf"))

    def close(self) -> None:
        for proc, _out, _name in self.children:
            proc.kill()
            proc.wait()
        self.children.clear()
        self._tmp.cleanup()


def race_lp(am: ArrayModel, proto: model_pb2.ModelProto, params: mathopt.SolveParameters,
            deadline: float | None) -> Answer:
    """The LP `proto` (made by `am.to_proto(relax=True)`) by each of ALGORITHMS in a child
    process, until one proves optimality or infeasibility or `deadline` (a
    time.perf_counter() value) passes; `params` without an algorithm. Falls back to one
    solve in this process where the children cannot be started."""
    return LpRace(am, proto, params, deadline).wait(deadline)


def _params(params: mathopt.SolveParameters, algorithm: mathopt.LPAlgorithm,
            deadline: float | None) -> mathopt.SolveParameters:
    p = mathopt.SolveParameters(random_seed=params.random_seed, lp_algorithm=algorithm)
    if deadline is not None:
        p.time_limit = seconds(deadline - time.perf_counter())
    elif params.time_limit is not None:
        p.time_limit = params.time_limit
    return p


def _die_with_parent() -> None:
    """In the child, before it runs: killed when the parent dies (Linux), so that a
    solve killed mid-race (a cancelled service job, SIGKILL) leaves no LP running."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _path() -> str:
    """PYTHONPATH for the child: the folder this package is imported from first, so that
    the child runs the same code."""
    root = str(Path(__file__).resolve().parent.parent)
    rest = os.environ.get("PYTHONPATH")
    return root if not rest else f"{root}{os.pathsep}{rest}"


def main() -> None:
    from ortools.math_opt.core.python import solver as _solver

    model_path, params_path, out_path = sys.argv[1:4]
    proto = model_pb2.ModelProto()
    proto.ParseFromString(Path(model_path).read_bytes())
    params = parameters_pb2.SolveParametersProto()
    params.ParseFromString(Path(params_path).read_bytes())
    init = mathopt.StreamableSolverInitArguments()
    result = _solver.solve(proto, mathopt.SolverType.HIGHS.value, init.to_proto(), params,
                           mathopt.ModelSolveParameters().to_proto(), None,
                           mathopt.CallbackRegistration().to_proto(), None, None)
    tmp = Path(out_path + ".part")
    tmp.write_bytes(result.SerializeToString())
    # Renamed once whole: the parent reads a result only when the child has exited, but
    # a child killed while writing must leave nothing that looks like one.
    tmp.rename(out_path)


if __name__ == "__main__":
    main()
