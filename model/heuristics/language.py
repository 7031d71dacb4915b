"""Wording signals: emotive, speculative, absolutist, conspiratorial and personal language."""

from __future__ import annotations

from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics._util import phrases
from misinfo_risk.model.heuristics.registry import register
from misinfo_risk.model.text import Hit

_SENSATIONAL = phrases(
    "sensational_terms",
    [
        "(shocking|shocked|shock|stunning|stunned|chilling|chilled|horrifying|horrific|horrified|terrifying|terrified)",
        "(outrageous|outraged|outrage|bombshell|explosive|devastating|devastated|jaw-dropping|jaw dropping|mind-blowing|mind blowing)",
        "(unbelievable|incredible|insane|crazy|disgusting|disgraceful|despicable|heartbreaking|sickening|appalling)",
        "(slams|slammed|blasts|blasted|rips|ripped into|destroys|obliterates|eviscerates|humiliates|humiliated|epic|meltdown)",
        "(furious|fury|brutal|brutally|horrible|nightmare|catastrophic|catastrophe|apocalyptic|dangerously|rogue|sinister|evil)",
        "(dramatic|dramatically|alarming|alarmingly|frightening|scary|panic|chaos|crisis|disaster|disastrous|bizarre)",
    ],
)


@register("sensational_terms.v1")
def sensational_terms(doc: Doc) -> list[Hit]:
    """Uses sensational or emotive wording, e.g. "chilling", "bombshell" or "go rogue"."""
    return doc.phrases(_SENSATIONAL)


# v2: only the speculative forms; "could be", "may have", "appears to" are in most careful reporting.
_HEDGING_V2 = phrases(
    "hedging_v2",
    [
        "(allegedly|supposedly|purportedly|rumored|rumoured|rumor has it|rumour has it)",
        "(is|are|was|were) (believed|thought|rumored|rumoured|suspected) to",
        "(it is|it's) (believed|thought|rumored|rumoured) that",
        "(speculation|speculate|speculated|speculating|unconfirmed reports)",
    ],
)


@register("hedging.v2")
def hedging_v2(doc: Doc) -> list[Hit]:
    """Rests claims on rumour or supposition, e.g. "is believed to", "supposedly", "rumor has it"."""
    return doc.phrases(_HEDGING_V2)


# v2: emphatic certainty only; "never", "always", "everyone" and "no one" are in every kind of prose.
_ABSOLUTIST_V2 = phrases(
    "absolutist_v2",
    [
        "(undeniable|undeniably|unquestionably|indisputable|indisputably|irrefutable|guaranteed|totally|absolutely|completely)",
        "(without a doubt|without any doubt|without question|beyond doubt|beyond any doubt|100 percent|100%|every single one)",
    ],
)


@register("absolutist_language.v2")
def absolutist_language_v2(doc: Doc) -> list[Hit]:
    """Insists on certainty, e.g. "undeniable", "100 percent", "without a doubt"."""
    return doc.phrases(_ABSOLUTIST_V2)


_CONSPIRACY = phrases(
    "conspiracy",
    [
        "(what|things|something) they (don't|do not) want you to (know|see|hear)",
        "(they|the media) (don't|do not|won't|will not) (want you to know|tell you)",
        "(the truth about|the real truth|the real story|wake up|sheeple|deep state|globalist|globalists|globalist elite)",
        "(the elites|the elite|false flag|cover-up|coverup|cover up|mainstream media|lamestream|msm|new world order)",
        "(puppet masters|shadow government|hidden agenda|secret agenda|in the shadows|behind closed doors|big pharma|controlled opposition)",
        "(exposed|unmasked|the establishment|rigged system|they are hiding|being hidden|is hiding the)",
    ],
)


@register("conspiracy_framing.v1")
def conspiracy_framing(doc: Doc) -> list[Hit]:
    """Frames events as a hidden plot, e.g. "what they don't want you to know", "deep state"."""
    return doc.phrases(_CONSPIRACY)


_SHARE = phrases(
    "call_to_share",
    [
        "(please share|share this|share if you|share it|share with your|like and share|share and like)",
        "(spread the word|pass it on|pass this on|tell everyone|tell your friends|make this go viral)",
        "(before it's deleted|before it is deleted|before it gets deleted|before they delete|before it's taken down)",
        "(sign the petition|click here|read more here|watch the video below|watch below|call your representative)",
    ],
)


@register("call_to_share.v1")
def call_to_share(doc: Doc) -> list[Hit]:
    """Urges readers to share or act, e.g. "share this before it's deleted"."""
    return doc.phrases(_SHARE)
