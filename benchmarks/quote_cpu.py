"""CPU seconds of a fresh `broker quote` process, this tree against an older revision, in
the same run and on the same ledger (issue 11: 1.5-2.0 s per call on a medium registry
with 100 committed requests, most of it before the quote starts).

    python benchmarks/quote_cpu.py [--baseline REV] [--quotes 10]

The ledger is built first by the baseline tree (a generated medium registry, seed 1, its
first 100 requests committed; about a minute) in a temporary folder; this tree quotes on a
copy migrated to its own schema revision (`broker db upgrade`), so both price the same
bookings. Each request the ledger has not seen is quoted by both trees in turn, each in a
fresh `python -m broker quote` process; the CPU (user + system) of that process and its
children is read from `getrusage`. Both must give the same quote (cost, on time, earliest
on-time period, unmet and imported units; the wording may differ between revisions),
else the comparison says so. The baseline tree is `git archive REV` of this repository.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The revision before the quote's start-up was cut (gc.freeze of what imports load).
DEFAULT_BASELINE = "98cb283"
# What a quote line says, whatever its wording: cost, on time or not, the earliest on-time
# period, units unmet and imported.
FIGURES = re.compile(r"cost ([\d,]+)|(NOT on time|on time)|earliest on-time [^,\[]*?period "
                     r"(\d+)|(\d+) unmet|(\d+) imported")


def baseline_tree(rev: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev], stdout=f, check=True)
    tree = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def build_ledger(tree: Path, db: Path, size: str, seed: int, committed: int
                 ) -> list[dict[str, object]]:
    """Build the ledger at `db` with the code of `tree`; the requests left to quote."""
    rest = db.with_suffix(".rest.json")
    code = ("import json, sys; from broker.service.bench import prepare; "
            "json.dump(prepare(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])), "
            "open(sys.argv[5], 'w'))")
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{db}", size, str(seed),
                    str(committed), str(rest)], env=dict(os.environ, PYTHONPATH=str(tree)),
                   cwd=tree, check=True)
    out: list[dict[str, object]] = json.loads(rest.read_text())
    return out


def migrated_copy(db: Path, tree: Path) -> str:
    """A copy of the SQLite ledger `db` at the schema revision of `tree`."""
    copy = db.with_name(db.stem + "-migrated.db")
    shutil.copyfile(db, copy)
    url = f"sqlite:///{copy}"
    subprocess.run([sys.executable, "-m", "broker", "db", "upgrade", "--db", url],
                   env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree, check=True,
                   capture_output=True)
    return url


def quote_cpu(tree: Path, request: Path, url: str) -> tuple[float, str]:
    """CPU seconds of one `broker quote` process on `tree`, and its quote line."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-m", "broker", "quote", str(request), "--db", url],
                         capture_output=True, text=True, env=env, cwd=tree, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr.strip()
    figures = [next(g for g in m.groups() if g) for m in FIGURES.finditer(line)]
    return cpu, repr(figures or [line])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare")
    ap.add_argument("--quotes", type=int, default=10)
    ap.add_argument("--size", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--committed", type=int, default=100)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="quote-cpu-") as tmp_:
        tmp = Path(tmp_)
        old_tree = baseline_tree(args.baseline, tmp)
        db = tmp / "ledger.db"
        rest = build_ledger(old_tree, db, args.size, args.seed, args.committed)
        urls = {"old": f"sqlite:///{db}", "new": migrated_copy(db, ROOT)}
        rows = []
        for i, req in enumerate(rest[:args.quotes]):
            f = tmp / f"request-{i}.json"
            f.write_text(json.dumps(req))
            # Alternate which tree goes first, so neither always finds the caches warm.
            order = [("old", old_tree), ("new", ROOT)]
            if i % 2:
                order.reverse()
            got = {name: quote_cpu(tree, f, urls[name]) for name, tree in order}
            rows.append((req["id"], got["old"], got["new"]))
    print(f"{'request':<12} {'old s':>7} {'new s':>7}  same quote")
    for rid, (o_cpu, o_line), (n_cpu, n_line) in rows:
        print(f"{rid!s:<12} {o_cpu:7.3f} {n_cpu:7.3f}  "
              f"{'yes' if o_line == n_line else 'NO: ' + o_line + ' | ' + n_line}")
    olds = [r[1][0] for r in rows]
    news = [r[2][0] for r in rows]
    print(f"{'mean':<12} {statistics.mean(olds):7.3f} {statistics.mean(news):7.3f}")
    print(f"{'median':<12} {statistics.median(olds):7.3f} {statistics.median(news):7.3f}")
    print(f"baseline {args.baseline}, {len(rows)} quote(s) each; CPU seconds (user + system) "
          "of each fresh `broker quote` process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
