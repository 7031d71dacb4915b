"""Instructions per 5 KB article of the reading step (language) and the genre step, and their parts.

    python -m bench.reading_instructions [--parts]

Each mode runs in its own child process under `valgrind --tool=callgrind`, in one `functools.reduce`
call that scores 100 articles after a warm-up of 20 outside it; callgrind counts only inside that call
(`--collect-atstart=no --toggle-collect=functools_reduce --dump-after=functools_reduce`; nothing on the
scoring path calls `functools.reduce`): the count / 100 is the mode's instructions per article, without
start-up, imports or model loading. The garbage collector is off in the child (scoring pauses it anyway;
between articles it would run at moments that depend on what ran before). Several scorer modes in one
process moved each other's counts by up to ~150,000 per article, so each gets its own.
Instruction counts do not move with the machine's load (timings here move +-30%); they do not see
cache misses.

Whole-scorer modes (`Scorer.score` one by one; with `:many`, `score_many` in chunks of 20):
`bare` = the scorer with the reading step replaced by a fixed "English" answer and no genre model
(bench.reading_cost's stand-in); `reader` = the real reading step, no genre; `genre` = the stand-in
reading and the genre model; `shipped` = both. With `--parts`, the parts alone, on Docs prepared before
the counted call (tokens, phrase scan, dateline and the risk model's term matrix done, as the scorer has
them), all in one process: `sample` (word_sample), `identify` (sample + the fastText identifier), `read`
(the whole Reader.read), `cues` (every genre cue's hits), `cue_row` (the genre cue features: cues + person
rates), `genre_read` (GenreReader.read with the risk model's term matrix: cues, rates, probabilities,
the reading and its evidence).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import articles_5kb

ROOT = Path(__file__).resolve().parents[1]
SCORER_MODES = ("bare", "reader", "genre", "shipped")
PART_MODES = ("sample", "identify", "read", "cues", "cue_row", "genre_read")

_CHILD = r"""
import functools, gc, json, sys
from misinfo_risk.model.document import Doc
from misinfo_risk.model.reading import Reading, SAMPLE_CHARS, identify, word_sample
from misinfo_risk.model.scorer import load_scorer
from misinfo_risk.model.types import Article, LanguageReading
from misinfo_risk.model import genre as genre_module

articles = [Article(**json.loads(line)) for line in open(sys.argv[1], encoding="utf-8")]
n, modes = int(sys.argv[2]), sys.argv[3].split(",")
english = Reading(LanguageReading(detected="en", confidence=1.0))

class NoReading:
    def read(self, doc):
        return english

shipped, plain = load_scorer(), load_scorer(genre=False)
reader, genre = shipped._reader, shipped._genre

def prepared(a):
    doc = Doc(a)
    doc.tokens, doc.title_tokens, doc.phrases("x"), doc.dateline_tokens  # what the scorer computes anyway
    located = [shipped._body_terms.locate(doc.tokens, doc.dateline_tokens if shipped._skip_dateline else 0)]
    return doc, shipped._term_matrix([doc], located)

# each part takes a prepared (doc, term matrix), made before the counted call
PARTS = {
    "sample": lambda d: word_sample(d[0], SAMPLE_CHARS),
    "identify": lambda d: identify(word_sample(d[0], SAMPLE_CHARS)),
    "read": lambda d: reader.read(d[0]),
    "cues": lambda d: genre_module.cue_hits(d[0]),
    "cue_row": lambda d: genre._cues.values([d[0]]),
    "genre_read": lambda d: genre.read([d[0]], d[1]),
}

def each(work, items):
    for item in items:
        work(item)  # nothing kept: memory and the collector's work do not grow with the articles

gc.collect()
gc.disable()  # scoring pauses the collector anyway; between calls it would run at times that depend on the mode order
for mode in modes:
    name, _, batch = mode.partition(":")
    if name in PARTS:
        run = functools.partial(each, PARTS[name])
    else:
        scorer = shipped if name in ("genre", "shipped") else plain
        scorer._reader = NoReading() if name in ("bare", "genre") else reader
        if batch == "many":
            run = lambda items: each(scorer.score_many, [items[i : i + 20] for i in range(0, len(items), 20)])
        else:
            run = functools.partial(each, scorer.score)
    items = articles if name not in PARTS else [prepared(a) for a in articles]
    run(items[:20])
    functools.reduce(lambda _, chunk: run(chunk), [items[20 : 20 + n]], None)  # counted, then dumped
print(sys.modules[load_scorer.__module__].__file__)
"""


def count(tree: Path, data: Path, n: int, modes: list[str], out_dir: Path) -> dict[str, float]:
    """Instructions per article of each mode, all in one child process under callgrind (one dump per mode)."""
    env = os.environ | {"PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    out = out_dir / "callgrind.out"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--toggle-collect=functools_reduce",
        "--dump-after=functools_reduce",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-c",
        _CHILD,
        str(data),
        str(n),
        ",".join(modes),
    ]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    code = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if not code.startswith(str(tree)):
        raise SystemExit(f"the child imported {code!r}, not the code in {tree}:\n{done.stderr[-2000:]}")
    counts = {}
    for k, mode in enumerate(modes, start=1):
        totals = [line for line in (out_dir / f"callgrind.out.{k}").read_text().splitlines() if line.startswith("totals:")]
        counts[mode] = int(totals[0].split()[1]) / n
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--parts", action="store_true", help="also count the parts on a prepared Doc")
    parser.add_argument("--modes", nargs="*", help="only these modes (a scorer mode with ':many' for its batch variant)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="count this checkout's code (default: this one)")
    parser.add_argument("--articles", type=int, default=100, help="articles counted per mode")
    args = parser.parse_args(argv)
    scorer_modes = [f"{m}{suffix}" for m in SCORER_MODES for suffix in ("", ":many")]
    modes = args.modes or [*scorer_modes, *(PART_MODES if args.parts else ())]
    tree = args.tree.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "articles.jsonl"
        articles = articles_5kb(args.articles + 20)
        data.write_text("".join(json.dumps(a.model_dump(mode="json")) + "\n" for a in articles), encoding="utf-8")
        counts: dict[str, float] = {}
        # one process per scorer mode: in one process they moved each other's counts by up to ~150,000 per article
        groups = [[m] for m in modes if m not in PART_MODES] + [[m for m in modes if m in PART_MODES]]
        for k, group in enumerate(g for g in groups if g):
            out_dir = Path(tmp) / str(k)
            out_dir.mkdir()
            counts |= count(tree, data, args.articles, group, out_dir)
            print(", ".join(f"{m}: {counts[m]:,.0f}" for m in group), file=sys.stderr, flush=True)
    print(f"tree: {tree}")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"| instructions per 5 KB article (callgrind, {args.articles} articles) | count |")
    print("|---|---|")
    for mode, value in counts.items():
        print(f"| {mode} | {value:,.0f} |")
    for suffix in ("", ":many"):
        bare = counts.get(f"bare{suffix}")
        if bare is None:
            continue
        for mode in ("reader", "genre", "shipped"):
            if f"{mode}{suffix}" in counts:
                added = counts[f"{mode}{suffix}"] - bare
                print(f"| {mode}{suffix} - bare{suffix} | {added:+,.0f} ({added / bare:+.1%}) |")


if __name__ == "__main__":
    main()
