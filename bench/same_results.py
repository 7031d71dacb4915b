"""Do two checkouts give the same results? Every field of every result, for the same articles, side by side.

    git worktree add --detach /tmp/misinfo-old <commit>
    python -m bench.same_results --old /tmp/misinfo-old [--articles 1000]

For a change meant to make scoring faster without changing what it says. Each tree scores, in its own
child process with its own shipped models: every article of ../shared/data (or, without it, the tests'
data files), the tests' data files, and `--articles` ~5 KB articles (bench.corpus), one by one and in
chunks of 100. The results (`model_dump`) are compared field by field: strings, levels, offsets and counts
exactly, floats within 1e-9. Prints how many articles differ and the first differences; exits 1 if any do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.corpus import SHARED, articles_5kb
from misinfo_risk.model.types import Article

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-9

_CHILD = r"""
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
single = [scorer.score(a) for a in articles]
batch = [r for i in range(0, len(articles), 100) for r in scorer.score_many(articles[i : i + 100])]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(json.dumps(sys.modules[load_scorer.__module__].__file__) + "\n")
    for a, b in zip(single, batch, strict=True):
        out.write(json.dumps({"single": a.model_dump(mode="json"), "batch": b.model_dump(mode="json")}) + "\n")
"""


def _articles(n_5kb: int) -> list[Article]:
    files = sorted(SHARED.glob("*/articles.jsonl")) + sorted((ROOT / "tests" / "data").glob("*.jsonl"))
    out: list[Article] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for row in map(json.loads, fh):
                fields = {"title": row.get("title"), "text": row.get("text") or "", "language": row.get("language")}
                out.append(Article(**fields, id=str(len(out))))
    return out + [a.model_copy(update={"id": f"5kb-{a.id}"}) for a in articles_5kb(n_5kb)]


def _results(tree: Path, data: Path, out: Path) -> list[dict[str, Any]]:
    env = os.environ | {"PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-c", _CHILD, str(data), str(out)], cwd=tree, env=env, check=True)
    with out.open(encoding="utf-8") as fh:
        code = json.loads(fh.readline())
        if not str(code).startswith(str(tree)):
            raise SystemExit(f"the child imported {code}, not the code in {tree}")
        return [json.loads(line) for line in fh]


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Where two JSON values differ: floats by more than TOLERANCE, anything else at all."""
    if isinstance(old, float) or isinstance(new, float):
        same = (
            isinstance(old, int | float) and isinstance(new, int | float) and math.isclose(old, new, rel_tol=0, abs_tol=TOLERANCE)
        )
        return [] if same else [f"{path}: {old!r} != {new!r}"]
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            return [f"{path}: fields {sorted(old)} != {sorted(new)}"]
        return [d for key in old for d in differences(old[key], new[key], f"{path}.{key}")]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} items != {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: {old!r} != {new!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a worktree of the older commit")
    parser.add_argument("--articles", type=int, default=1000, help="how many ~5 KB articles besides the data files")
    args = parser.parse_args(argv)
    articles = _articles(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "articles.jsonl"
        data.write_text("".join(a.model_dump_json() + "\n" for a in articles), encoding="utf-8")
        old = _results(args.old.resolve(), data, Path(tmp) / "old.jsonl")
        new = _results(ROOT, data, Path(tmp) / "new.jsonl")
    differing = 0
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        found = differences(a, b, f"article {articles[i].id}")
        if found:
            differing += 1
            if differing <= 5:
                print("\n".join(found[:5]))
    assessed = sum(1 for r in new if r["single"]["assessed"])
    print(
        f"{len(articles)} articles ({assessed} assessed), each scored alone and in chunks of 100: "
        f"{differing} with a difference (floats beyond {TOLERANCE:g})"
    )
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
