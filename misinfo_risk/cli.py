"""The `misinfo-risk` command: score, train, evaluate, reproduce, serve, batch, model-info.

Subcommands import their heavy parts lazily, so `misinfo-risk score` never loads the web stack
and `misinfo-risk serve` never loads training code.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from misinfo_risk.model.errors import ArtifactError, BaseRateError, InvalidArticle
from misinfo_risk.model.types import MAX_ARTICLE_CHARS, Article, RiskAssessment

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_ARTIFACT = 0, 1, 2, 3


def _read_input(args: argparse.Namespace) -> Any:
    """Article fields from --text, a file (.json object or plain text) or stdin (parse_article checks them)."""
    if args.text is not None:
        return {"text": args.text, "title": args.title}
    from_stdin = args.file in (None, "-")
    suffix = "" if from_stdin else Path(args.file).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".csv", ".tsv", ".parquet"):
        # read as plain text, a whole file of articles would be scored as one, JSON syntax and all
        raise InvalidArticle(
            "file",
            f"{args.file} holds many articles; `misinfo-risk score` reads one. "
            f"Score it with `misinfo-risk batch {args.file} --output results.jsonl`",
            "invalid",
        )
    if from_stdin:
        raw = sys.stdin.read()
        name = "<stdin>"
    else:
        path = Path(args.file)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidArticle("file", f"cannot read {path}: {exc}", "invalid") from exc
        name = str(path)
    # stdin ("-" or no file) holding a JSON object is read as one, the same whichever way it was named
    if args.json or suffix == ".json" or (from_stdin and raw.lstrip().startswith("{")):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidArticle("file", f"{name} is not valid JSON: {exc}", "invalid") from exc
        if isinstance(data, dict) and args.title is not None:
            data["title"] = args.title
        # a JSON string is the text; anything else that is not an object is refused as such (not as "text: ...")
        return {"text": data, "title": args.title} if isinstance(data, str) else data
    return {"text": raw, "title": args.title}


PRETTY_SENTENCES = 3
PRETTY_SENTENCE_CHARS = 100


def render_pretty(result: RiskAssessment, article: Article | None = None) -> str:
    """A readable summary of an assessment for people at a terminal (`article`: the one scored, to quote it)."""
    if not result.assessed or result.level is None or result.score is None:
        detail = result.reason_detail or "the model cannot read this text."
        return "\n".join(
            [
                f"Not assessed: {detail[:1].lower()}{detail[1:]}   model {result.model_version}",
                f"Reason: {result.reason}. No risk score is given for text the model cannot read; that is not a low risk.",
            ]
        )
    calibrated = result.score_calibrated
    if calibrated is not None and result.base_rate is not None and result.score != calibrated:
        lines = [
            f"Risk: {result.level.upper()} ({result.score:.2f} at a base rate of {result.base_rate:.1%}; "
            f"{calibrated:.2f} as calibrated)   model {result.model_version}",
            "The score is re-expressed for that share of misleading articles; the level is read from the calibrated score.",
        ]
    else:
        lines = [f"Risk: {result.level.upper()} ({result.score:.2f})   model {result.model_version}"]
    lines += [
        "A triage score, not a verdict: it says how much this reads like known fake or misleading news.",
    ]
    if result.language is not None:
        from misinfo_risk.model.reading import language_name

        lang = result.language
        lines.append(f"Language: {language_name(lang.detected)} ({lang.detected}, {lang.confidence:.2f})")
    if result.genre is not None:
        lines.append(f"Genre: {result.genre.explanation}")
    for warning in result.warnings:
        lines.append(f"Warning ({warning.code}): {warning.message}")
    lines.append("")
    if result.signals:
        lines.append("Signals (contribution to the log-odds; + raises the risk):")
        for signal in result.signals:
            quotes = ", ".join(f'"{e.text}"' for e in signal.evidence[:6])
            more = f" (+{signal.count - 6} more)" if signal.count > 6 else ""
            lines.append(f"  {signal.name:<26} {signal.contribution:+.2f}  x{signal.count}  {quotes}{more}")
            lines.append(f"  {'':<26} {signal.description}")
    else:
        lines.append("No heuristic signals fired.")
    if result.top_terms:
        lines += ["", "Terms that moved the score most:"]
        lines += [f"  {t.term!r:<26} {t.contribution:+.3f}" for t in result.top_terms]
    riskiest = result.riskiest_sentences(PRETTY_SENTENCES) if article is not None else []
    if article is not None and riskiest:
        lines += ["", "Sentences that raised the risk most (their words and signals, in log-odds):"]
        for sentence in riskiest:
            where = "title " if sentence.section == "title" else ""
            lines.append(f'  {sentence.contribution:+.2f}  {where}"{sentence.quote(article, PRETTY_SENTENCE_CHARS)}"')
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
    from misinfo_risk.model.scorer import load_scorer
    from misinfo_risk.model.types import parse_article

    article = parse_article(_read_input(args), max_chars=args.max_chars)
    result = load_scorer(args.artifact, sha256=args.model_sha256).score(article, base_rate=args.base_rate)
    sys.stdout.write((render_pretty(result, article) if args.pretty else result.model_dump_json(indent=2)) + "\n")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score labelled files with one or more artifacts; print the comparison, write the report folder."""
    if args.data_root is not None or args.artifact is not None or args.no_retrain:
        sys.stderr.write(
            "misinfo-risk evaluate: --data-root, --artifact and --no-retrain belong to the reproduction check, "
            "now `misinfo-risk reproduce`; running it.\n"
        )
        return cmd_reproduce(args)
    if not args.data:
        sys.stderr.write("misinfo-risk evaluate: give the labelled files to evaluate on with --data FILE...\n")
        return EXIT_ERROR
    try:
        from misinfo_risk.training.compare import render_table, score_labelled
        from misinfo_risk.training.data import DataError
        from misinfo_risk.training.labelled import read_labelled
    except ImportError as exc:
        sys.stderr.write(f"misinfo-risk evaluate reads files with the batch extra: pip install 'misinfo-risk[batch]' ({exc})\n")
        return EXIT_ERROR
    if args.report is not None and importlib.util.find_spec("matplotlib") is None:
        sys.stderr.write("misinfo-risk evaluate: --report draws plots with matplotlib: pip install 'misinfo-risk[train]'\n")
        return EXIT_ERROR
    try:
        data = read_labelled(args.data, label=args.label, columns=args.column or (), max_chars=args.max_chars)
    except DataError as exc:
        sys.stderr.write(f"misinfo-risk evaluate: {exc}\n")
        return EXIT_ERROR
    runs = [score_labelled(model, data) for model in (args.model or [None])]
    sys.stdout.write(render_table(runs, data) + "\n")
    if args.report is not None:
        from misinfo_risk.training.compare_report import write_report

        written = write_report(runs, data, args.report, list(args.data))
        sys.stdout.write(f"report: {written[0]} ({len(written)} files in {args.report})\n")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    """The real-data gate: the artifact's model card is reproduced from its training files (retrained by default)."""
    from misinfo_risk.model.artifact import shipped_artifact_dir
    from misinfo_risk.training.check import card_data_files, check_artifact
    from misinfo_risk.training.data import DataError

    directory = args.artifact or shipped_artifact_dir()
    if args.data is None and args.data_root is None:
        sys.stderr.write("misinfo-risk reproduce: give --data-root DIR (or the card's files with --data FILE...)\n")
        return EXIT_ERROR
    data = args.data if args.data is not None else card_data_files(directory, args.data_root)
    try:
        problems = check_artifact(directory, data, retrain=not args.no_retrain)
        if args.data_root is not None and args.artifact is None:
            problems += _check_reading(args.data_root, retrain=not args.no_retrain)
    except DataError as exc:
        sys.stderr.write(f"misinfo-risk reproduce: {exc}\n")
        return EXIT_ERROR
    if problems:
        sys.stderr.write(f"FAIL: {len(problems)} figure(s) in {directory}/model_card.json not reproduced:\n")
        sys.stderr.write("".join(f"  {p}\n" for p in problems[:50]))
        return EXIT_ERROR
    sys.stdout.write(f"OK: every figure in {directory}/model_card.json was reproduced from the data\n")
    return EXIT_OK


def _check_reading(root: Path, *, retrain: bool) -> list[str]:
    """The shipped genre model reproduces from its card's files; the shipped scorer reads the English data."""
    from misinfo_risk.model.artifact import shipped_genre_dir
    from misinfo_risk.training.check import MIN_ASSESSED_SHARE, assessed_share, check_genre_artifact

    problems = check_genre_artifact(shipped_genre_dir(), root) if retrain else []
    share, n, reasons = assessed_share(None, root)
    sys.stdout.write(f"assessed: {share:.2%} of {n:,} articles under {root} (not assessed: {reasons or 'none'})\n")
    if share < MIN_ASSESSED_SHARE:
        problems.append(f"only {share:.2%} of the articles under {root} were assessed; at least {MIN_ASSESSED_SHARE:.1%} must be")
    return problems


def cmd_model_info(args: argparse.Namespace) -> int:
    """Print the artifact's identity and digest (to pin with --model-sha256 / RISK_MODEL_SHA256); --seal writes it."""
    from misinfo_risk.model.artifact import load_card, seal_artifact, shipped_artifact_dir, shipped_genre_dir, verify_artifact

    directory = (args.artifact or shipped_artifact_dir()).resolve()
    card = load_card(directory)
    digest = seal_artifact(directory) if args.seal else verify_artifact(directory, args.model_sha256)
    info = {
        "artifact": str(directory),
        "version": card.version,
        "sha256": digest,
        "genre_artifact": str(shipped_genre_dir()),
        "genre_sha256": verify_artifact(shipped_genre_dir()),
    }
    sys.stdout.write(json.dumps(info, indent=2) + "\n")
    if args.seal:
        sys.stderr.write(f"sealed {directory}: its SHA256SUMS now covers every file in it\n")
    return EXIT_OK


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256_hex(value: str) -> str:
    """argparse type: a sha256 digest, 64 hexadecimal digits (returned in lower case)."""
    if not _SHA256.match(value.strip()):
        raise argparse.ArgumentTypeError(f"must be a sha256 digest (64 hexadecimal digits), not {value!r}")
    return value.strip().lower()


MODEL_SHA256_HELP = (
    "the sha256 the model artifact must have (its SHA256SUMS file's digest, printed by `misinfo-risk model-info`): "
    "any other artifact is refused"
)


def base_rate(value: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0.0 < number < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 (exclusive), e.g. 0.05, not {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="misinfo-risk", description="Misinformation-risk triage scoring for news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score one article from a file, stdin or --text")
    score.add_argument("file", nargs="?", help="a .json article object or a plain-text file; '-' or nothing reads stdin")
    score.add_argument("--text", help="the article text itself")
    score.add_argument("--title", help="the headline (for --text or plain-text input)")
    score.add_argument("--json", action="store_true", help="treat the input as a JSON article object")
    score.add_argument("--pretty", action="store_true", help="a readable summary instead of JSON")
    score.add_argument("--artifact", type=Path, help="artifact directory (default: the shipped model)")
    score.add_argument("--max-chars", type=int, default=MAX_ARTICLE_CHARS, help="longest text accepted")
    score.add_argument("--model-sha256", type=sha256_hex, metavar="HEX", help=MODEL_SHA256_HELP)
    score.add_argument(
        "--base-rate",
        type=base_rate,
        metavar="P",
        help="the share of misleading articles where this one comes from, e.g. 0.05: the score is re-expressed for it "
        "by Bayes' rule (the level stays that of the calibrated score); needs a model card with a prevalence",
    )

    sub.add_parser("train", help="rebuild an artifact from labelled data (see `misinfo-risk train --help`)", add_help=False)

    evaluate = sub.add_parser(
        "evaluate",
        help="measure one or more models on your own labelled JSONL or CSV files",
        description="Score labelled articles (a 'label' of 1 = fake or misleading, 0 = reliable; see README, 'Evaluate "
        "on your own data') with each --model and print ROC AUC, PR AUC, ECE and each level's precision, recall and "
        "false-positive rate side by side.",
    )
    evaluate.add_argument("--data", nargs="+", type=Path, metavar="FILE", help="labelled .jsonl or .csv files")
    evaluate.add_argument(
        "--model",
        action="append",
        type=Path,
        metavar="DIR",
        help="an artifact directory to evaluate; repeat to compare several (default: the shipped model)",
    )
    evaluate.add_argument("--report", type=Path, metavar="DIR", help="write report.md, plots, figures.json, scores.csv here")
    evaluate.add_argument("--label", default="label", metavar="NAME", help="field or column of the label (default: label)")
    evaluate.add_argument(
        "--column",
        action="append",
        metavar="FIELD=COLUMN",
        help="read an article field from another field or column, e.g. text=body (repeatable; as in misinfo-risk batch)",
    )
    evaluate.add_argument("--max-chars", type=int, default=MAX_ARTICLE_CHARS, help="longest text accepted (longer: skipped)")
    evaluate.add_argument("--data-root", type=Path, help="deprecated here: runs `misinfo-risk reproduce --data-root`")
    evaluate.add_argument("--artifact", type=Path, help="deprecated here: the artifact of `misinfo-risk reproduce`")
    evaluate.add_argument("--no-retrain", action="store_true", help="deprecated here: see `misinfo-risk reproduce`")

    reproduce = sub.add_parser(
        "reproduce",
        help="the real-data gate: re-evaluate (and retrain) an artifact and check every figure in its model card",
    )
    given = reproduce.add_mutually_exclusive_group(required=True)
    given.add_argument("--data", nargs="+", type=Path, help="the labelled JSONL files to check against (exactly the card's)")
    given.add_argument(
        "--data-root",
        type=Path,
        help="a folder of <set>/articles.jsonl: check against exactly the files the model card names, found under it",
    )
    reproduce.add_argument("--artifact", type=Path, help="artifact directory (default: the shipped model)")
    reproduce.add_argument("--no-retrain", action="store_true", help="only re-score the held-out split")

    info = sub.add_parser("model-info", help="print the model artifact's version and sha256 digest (to pin it)")
    info.add_argument("--artifact", type=Path, help="artifact directory (default: the shipped model)")
    info.add_argument("--model-sha256", type=sha256_hex, metavar="HEX", help="check the artifact against this digest")
    info.add_argument(
        "--seal", action="store_true", help="write the artifact's SHA256SUMS from its files as they are (an artifact you trust)"
    )
    sub.add_parser("serve", help="run the HTTP service (see `misinfo-risk serve --help`)", add_help=False)
    sub.add_parser("batch", help="score feeds and files in bulk (see `misinfo-risk batch --help`)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("train", "serve", "batch"):
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "score":
            return cmd_score(args)
        if args.command == "model-info":
            return cmd_model_info(args)
        if args.command == "reproduce":
            return cmd_reproduce(args)
        return cmd_evaluate(args)
    except InvalidArticle as exc:
        sys.stderr.write(f"misinfo-risk: invalid article: {exc}\n")
        return EXIT_INVALID
    except ArtifactError as exc:
        sys.stderr.write(f"misinfo-risk: {exc}\n")
        return EXIT_ARTIFACT
    except BaseRateError as exc:
        sys.stderr.write(f"misinfo-risk: --base-rate: {exc}\n")
        return EXIT_INVALID


def _delegate(command: str, rest: list[str]) -> int:
    """Subcommands with their own argument parsers live beside the code they run."""
    if command == "train":
        from misinfo_risk.training.__main__ import main as train_main

        return train_main(rest)
    if command == "serve":
        try:
            from misinfo_risk.service.__main__ import main as serve_main
        except ImportError as exc:
            sys.stderr.write(f"misinfo-risk serve needs the service extra: pip install 'misinfo-risk[service]' ({exc})\n")
            return EXIT_ERROR
        return int(serve_main(rest))
    try:
        from misinfo_risk.batch import main as batch_main
    except ImportError as exc:
        sys.stderr.write(f"misinfo-risk batch needs the batch extra: pip install 'misinfo-risk[batch]' ({exc})\n")
        return EXIT_ERROR
    return int(batch_main(rest))


if __name__ == "__main__":
    raise SystemExit(main())
