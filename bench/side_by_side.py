"""In-process scoring speed of two checkouts side by side, in one run: this tree and an older commit.

    git worktree add /tmp/misinfo-old <commit>
    python -m bench.side_by_side --old /tmp/misinfo-old [--rounds 5]
    python -m bench.side_by_side --old /tmp/misinfo-old --instructions     # valgrind, repeatable

Both trees score the same ~5 KB articles (cut from ../shared/data once, in this process, and
handed to both) with their own shipped model, in alternating child processes pinned to one core:
old, new, old, new, ... Each child reports `Scorer.score` p50 and p99 over 1,000 articles and
`Scorer.score_many` articles/s in chunks of 100. The table gives each tree's median over the
rounds and the per-round new/old ratios (the VM's speed drifts; interleaving cancels most of it).

`--instructions` counts instead of timing: each tree scores 100 and then 300 articles (one by one, and
in chunks of 100) under `valgrind --tool=callgrind`, and the difference / 200 is the instructions per article
(start-up and warm-up cancel out). Instruction counts do not drift with the VM's load, which on
this machine moves a p50 by +-30% between runs; they do not see cache misses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import articles_5kb

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, sys, time
os.sched_setaffinity(0, {0})
import os
# the tree is the working directory: a tree from before the misinfo_risk namespace (issue 12) has top-level
# packages (importing misinfo_risk there would find the installed checkout's code instead)
if os.path.isdir("misinfo_risk/model"):
    from misinfo_risk.model.scorer import load_scorer
    from misinfo_risk.model.types import Article
else:
    from model.scorer import load_scorer
    from model.types import Article
articles = [Article(**json.loads(line)) for line in open(sys.argv[1], encoding="utf-8")]
scorer = load_scorer()
for a in articles[:200]:
    scorer.score(a)
single = []
for a in articles[:1000]:
    t0 = time.perf_counter()
    scorer.score(a)
    single.append(time.perf_counter() - t0)
single.sort()
t0 = time.perf_counter()
for i in range(0, len(articles), 100):
    scorer.score_many(articles[i : i + 100])
rate = len(articles) / (time.perf_counter() - t0)
code = sys.modules[load_scorer.__module__].__file__
print(json.dumps({"code": code, "p50": single[len(single) // 2], "p99": single[int(len(single) * 0.99)], "rate": rate}))
"""

_COUNT_CHILD = r"""
import json, sys
import os
# the tree is the working directory: a tree from before the misinfo_risk namespace (issue 12) has top-level
# packages (importing misinfo_risk there would find the installed checkout's code instead)
if os.path.isdir("misinfo_risk/model"):
    from misinfo_risk.model.scorer import load_scorer
    from misinfo_risk.model.types import Article
else:
    from model.scorer import load_scorer
    from model.types import Article
articles = [Article(**json.loads(line)) for line in open(sys.argv[1], encoding="utf-8")]
scorer = load_scorer()
n = int(sys.argv[2])
if sys.argv[3] == "single":
    for a in articles[:n]:
        scorer.score(a)
else:
    for i in range(0, n, 100):
        scorer.score_many(articles[i : min(i + 100, n)])
print(json.dumps(sys.modules[load_scorer.__module__].__file__))
"""


def _instructions(tree: Path, data: Path, n: int, out_dir: Path, mode: str) -> int:
    env = os.environ | {"PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = out_dir / f"callgrind.{tree.name}.{mode}.{n}"
    child = [sys.executable, "-c", _COUNT_CHILD, str(data), str(n), mode]
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *child]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True)
    code = json.loads(done.stdout.strip().splitlines()[-1])
    if not str(code).startswith(str(tree)):
        raise SystemExit(f"the child imported {code}, not the code in {tree}")
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise SystemExit(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")


def count_instructions(old: Path, data: Path) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, label in (("single", "`Scorer.score`, one by one"), ("many", "`Scorer.score_many`, chunks of 100")):
            per_article = {}
            for name, tree in (("old", old), ("new", ROOT)):
                low, high = _instructions(tree, data, 100, Path(tmp), mode), _instructions(tree, data, 300, Path(tmp), mode)
                per_article[name] = (high - low) / 200
                print(f"{mode} {name}: {per_article[name]:,.0f} instructions per article", file=sys.stderr)
            rows.append((label, per_article["old"], per_article["new"]))
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| instructions per 5 KB article (callgrind; 300 minus 100 articles) | old | new | new / old |")
    print("|---|---|---|---|")
    for label, old_n, new_n in rows:
        print(f"| {label} | {old_n:,.0f} | {new_n:,.0f} | {new_n / old_n:.3f} |")


def _run(tree: Path, data: Path) -> dict[str, float]:
    env = os.environ | {"PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(data)], cwd=tree, env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if not str(result["code"]).startswith(str(tree)):
        raise SystemExit(f"the child imported {result['code']}, not the code in {tree}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a worktree of the older commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead of timing")
    args = parser.parse_args(argv)
    articles = articles_5kb(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "articles.jsonl"
        data.write_text("".join(a.model_dump_json(include={"title", "text", "id"}) + "\n" for a in articles), encoding="utf-8")
        if args.instructions:
            count_instructions(args.old.resolve(), data)
            return
        rounds = []
        for r in range(args.rounds):
            old, new = _run(args.old.resolve(), data), _run(ROOT, data)
            rounds.append((old, new))
            print(
                f"round {r + 1}: p50 old {old['p50'] * 1e3:.3f} new {new['p50'] * 1e3:.3f} ms; "
                f"batch old {old['rate']:,.0f} new {new['rate']:,.0f} articles/s",
                file=sys.stderr,
            )
    size = statistics.mean(len(a.text) + len(a.title or "") for a in articles)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"articles: {len(articles)}, mean {size:,.0f} characters; {args.rounds} interleaved rounds, one core each")
    print("| measure | old (median) | new (median) | new - old | new / old per round (min-max) |")
    print("|---|---|---|---|---|")
    for key, label, scale, unit in (
        ("p50", "Scorer.score p50", 1e3, "ms"),
        ("p99", "Scorer.score p99", 1e3, "ms"),
        ("rate", "score_many, chunks of 100", 1, "articles/s"),
    ):
        olds = [o[key] * scale for o, _ in rounds]
        news = [n[key] * scale for _, n in rounds]
        ratios = [n / o for o, n in zip(olds, news, strict=True)]
        old_m, new_m = statistics.median(olds), statistics.median(news)
        fmt = "{:,.3f}" if unit == "ms" else "{:,.0f}"
        print(
            f"| {label} | {fmt.format(old_m)} {unit} | {fmt.format(new_m)} {unit} | {fmt.format(new_m - old_m)} {unit} | "
            f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) |"
        )


if __name__ == "__main__":
    main()
