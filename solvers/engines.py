"""Every module a solve may load after its first plan: solvers/pipeline.py imports them
where they are first needed, so that a first solve has its constructive plan before
OR-Tools has loaded. A process that needs an engine at once (a quote) or that forks or
freezes what it has loaded (the service, its fork server) imports this module first."""

import solvers.earliest  # noqa: F401
import solvers.facility  # noqa: F401
import solvers.lns  # noqa: F401
import solvers.methods  # noqa: F401
import solvers.pipeline  # noqa: F401
import solvers.portfolio  # noqa: F401
import solvers.restricted  # noqa: F401
import solvers.sensitivity  # noqa: F401
import solvers.support  # noqa: F401
