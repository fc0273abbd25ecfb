"""Quote latency of the service, measured from outside: a generated registry with
committed requests, a real `broker serve` on 127.0.0.1, and HTTP clients quoting
requests the ledger has not seen, one at a time and from concurrent clients.

    python -m broker.service.bench [--size medium] [--committed 100] [--quotes 40]
                                   [--clients 16] [--db URL [--requests FILE]]
                                   [--baseline REV]

With `--baseline REV` the same quotes are asked, in turn, of a server of that git
revision (`git archive`) and of this tree's, on the same ledger, in the same run.

The figures in docs/service.md come from this command. Each quote is a different
request (the service remembers a quote per ledger version, so a repeat costs nothing;
that case is reported apart). The concurrent clients are made and connected before the
clock starts, as the services of a platform hold theirs.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

PLAN_BATCH = 20  # committed requests are planned this many at a time


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _summary(label: str, ms: list[float]) -> str:
    return (f"{label}: n={len(ms)}  p50 {_pct(ms, 0.5):7.1f} ms  p95 {_pct(ms, 0.95):7.1f} ms"
            f"  max {max(ms):7.1f} ms  mean {statistics.fmean(ms):7.1f} ms")


def reference_ms() -> float:
    """CPU milliseconds of a fixed pure-Python workload (least of three): the same tree
    measured 16-client p95 of 287-344 ms in one session and 216 ms in another, so figures
    from different machines are compared through this, not as they stand."""
    best = math.inf
    for _ in range(3):
        t0 = time.process_time()
        acc: dict[int, int] = {}
        for i in range(300_000):
            acc[i % 1009] = acc.get(i % 1009, 0) + i * i % 7
        sorted(str(v) for v in acc.values())
        best = min(best, time.process_time() - t0)
    return best * 1000


def prepare(url: str, size: str, seed: int, committed: int) -> list[dict[str, Any]]:
    """Import the registry, commit `committed` of its requests; returns the others."""
    from broker.ledger import Broker
    from scenarios.generate import generate

    doc = generate(size, seed)
    reqs = doc["requests"]
    with Broker(url) as b:
        b.import_scenario(doc)
        for i in range(0, committed, PLAN_BATCH):
            batch = reqs[i:min(i + PLAN_BATCH, committed)]
            b.submit(batch)
            res = b.plan([r["id"] for r in batch], time_limit=10)
            b.commit(res.plan_id)
        print(f"registry {doc['name']}: {len(doc['workshops'])} workshops, "
              f"{committed} committed requests, ledger version {b.ledger_version()}",
              flush=True)
    return list(reqs[committed:])


def _serve(tree: Path, url: str, port: int, log_path: Path,
           extra: list[str] | None = None) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    srv = subprocess.Popen([sys.executable, "-m", "broker", "serve", "--port", str(port),
                            "--db", url, *(extra or [])], stdout=log,
                           stderr=subprocess.STDOUT, cwd=tree,
                           env=dict(os.environ, PYTHONPATH=str(tree)))
    log.close()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return srv
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    srv.kill()
    raise SystemExit(f"the server of {tree} did not start: see {log_path}")


def measure(base: str, key: str, seq: list[dict[str, Any]], conc: list[dict[str, Any]],
            clients: int, per_client: int, warm: dict[str, Any]) -> dict[str, list[float]]:
    """Client-side latencies (ms) of one server: sequential new quotes, the time the
    server says it spent on them, repeats, and `clients` concurrent clients."""
    headers = {"Authorization": f"Bearer {key}"}
    out: dict[str, list[float]] = {"seq": [], "server": [], "again": [], "conc": []}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        c.post("/v1/quotes", json=warm).raise_for_status()  # the first quote loads the ledger
        for r in seq:
            t = time.perf_counter()
            resp = c.post("/v1/quotes", json=r)
            out["seq"].append((time.perf_counter() - t) * 1000)
            resp.raise_for_status()
            out["server"].append(resp.json()["seconds"] * 1000)
        for r in seq[:10]:
            t = time.perf_counter()
            c.post("/v1/quotes", json=r).raise_for_status()
            out["again"].append((time.perf_counter() - t) * 1000)
    lock = threading.Lock()
    # The clients are made and connected before the clock starts, as a platform's
    # services hold theirs: making 16 httpx clients is 0.56 s of CPU (an SSL context
    # each, even for http://), which fell on the same two cores as the first quotes.
    pool_clients = [httpx.Client(base_url=base, headers=headers, timeout=120)
                    for _ in range(clients)]
    try:
        for c in pool_clients:
            c.get("/healthz").raise_for_status()

        def client(i: int) -> None:
            for r in conc[i * per_client:(i + 1) * per_client]:
                t = time.perf_counter()
                pool_clients[i].post("/v1/quotes", json=r).raise_for_status()
                with lock:
                    out["conc"].append((time.perf_counter() - t) * 1000)

        t = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
        out["rate"] = [len(out["conc"]) / (time.perf_counter() - t)]
    finally:
        for c in pool_clients:
            c.close()
    return out


def _tree(rev: str, into: Path) -> Path:
    """`git archive REV` of this repository, unpacked."""
    import tarfile

    root = Path(__file__).resolve().parents[2]
    archive = into / "baseline.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(root), "archive", rev], stdout=f, check=True)
    tree = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--committed", type=int, default=100)
    ap.add_argument("--quotes", type=int, default=40, help="sequential quotes")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--per-client", type=int, default=3)
    ap.add_argument("--db", help="an empty database (default: a temporary SQLite file); "
                    "with --requests, a ledger prepared before")
    ap.add_argument("--requests", type=Path, help="JSON list of the requests to quote, "
                    "for a --db prepared before")
    ap.add_argument("--baseline", help="also measure this git revision's server, in turn "
                    "with this tree's, on the same ledger and requests")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--quote-processes", type=int,
                    help="passed to `broker serve` (default: its own, one per core)")
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    t0 = time.perf_counter()
    if args.requests is not None:
        import json

        rest = json.loads(args.requests.read_text())
    else:
        rest = prepare(url, args.size, args.seed, args.committed)
    need = args.quotes + args.clients * args.per_client
    if len(rest) < need:
        print(f"only {len(rest)} uncommitted requests for {need} quotes", file=sys.stderr)
        return 2
    print(f"prepared in {time.perf_counter() - t0:.1f} s", flush=True)

    from broker.ledger import Broker
    from broker.service.auth import KeyStore

    with Broker(url) as b:
        key = KeyStore(b.engine).create("planner", label="bench").key
    here = Path(__file__).resolve().parents[2]
    trees = [("this tree", here)]
    if args.baseline:
        trees.insert(0, (f"baseline {args.baseline}", _tree(args.baseline, Path(tmp.name))))
    seq, conc = rest[:args.quotes], rest[args.quotes:need]
    results = {}
    try:
        for name, tree in trees:
            extra = ([] if args.quote_processes is None
                     else ["--quote-processes", str(args.quote_processes)])
            srv = _serve(tree, url, args.port, Path(tmp.name) / "server.log", extra)
            try:
                results[name] = measure(f"http://127.0.0.1:{args.port}", key, seq, conc,
                                        args.clients, args.per_client, rest[-1])
            finally:
                srv.terminate()
                srv.wait(timeout=30)
        for name, r in results.items():
            print(f"{name}:")
            print(_summary("  one client, each request new   ", r["seq"]))
            print(_summary("    (time inside the server)     ", r["server"]))
            print(_summary("  one client, repeated requests  ", r["again"]))
            print(_summary(f"  {args.clients} concurrent clients, new       ", r["conc"])
                  + f"  ({r['rate'][0]:.1f} quotes/s)")
        print(f"machine: {os.cpu_count()} cores, load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}, "
              f"reference workload {reference_ms():.0f} ms of CPU")
    finally:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
