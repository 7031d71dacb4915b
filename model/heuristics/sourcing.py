"""Attribution signals: who says so, and whether anyone on record was asked."""

from __future__ import annotations

from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics._util import overlaps, phrases
from misinfo_risk.model.heuristics.registry import register
from misinfo_risk.model.text import Hit

_SAY = "(say|says|said|indicate|indicates|indicated|suggest|suggests|suggested|claim|claims|claimed|believe|believed|allege|alleged|told|tell|tells|report|reported|reveal|reveals|revealed|confirm|confirmed|warn|warned|insist|insisted|argue|argued|fear|feared|dished|spilled|added)"

_UNNAMED = phrases(
    "unnamed_sources",
    [
        f"(sources|insiders|experts|analysts|observers|critics|rumors|rumours) {_SAY}",
        f"(some|many|several|other|top|leading) (sources|insiders|experts|analysts|observers|critics|scientists|officials) {_SAY}",
        f"(anonymous|unnamed|unidentified|senior|intelligence) (sources|officials|source|official) {_SAY}",
        f"(a|an|one|another|the) (source|insider|tipster|pal|confidant|spy) {_SAY}",
        "(a|an|one|another) (source|insider|friend|pal|family friend|person) close to",
        "(sources|insiders|someone|people|friends|those) close to (the|him|her|them|his|their)",
        "(people|person|someone|sources|a source|those) (familiar|acquainted) with",
        "according to (sources|insiders|a source|an insider|one source|some reports|reports|experts|some experts|unnamed|anonymous|people familiar|multiple sources|several sources)",
        "(it is|it's|it has been|it was) (said|understood|whispered|claimed)",
        "(word is|rumor has it|rumour has it|we are told|we're told|i am told|i'm told|we hear|we've heard)",
        "(reports suggest|reports indicate|some say|some believe|many believe|many say|people are saying)",
    ],
)


@register("unnamed_sources.v1")
def unnamed_sources(doc: Doc) -> list[Hit]:
    """Rests claims on unnamed or vague sources, e.g. "sources indicate" or "insiders say"."""
    return doc.phrases(_UNNAMED)


_SOUGHT = phrases(
    "sought_comment",
    [
        "(declined|refused|declining|refusing) to (comment|be interviewed|elaborate|discuss)",
        "did not (immediately|) (respond|reply) to (a|an|our|the|repeated|multiple|several|) (request|requests|email|emails|inquiry|inquiries|call|calls|message|messages)",
        "(has|have|had) not (responded|replied) to (a|an|our|the|repeated|multiple|several|) (request|requests|email|emails|inquiry|inquiries|call|calls|message|messages)",
        "did not (return|answer) (a|our|) (call|calls|message|messages|email|emails|request|requests)",
        "could not (immediately|) be reached (for comment|)",
        "(not|was not|were not|wasn't|weren't) (immediately|) available for comment",
        "(when|after being) (reached|contacted|asked) (by|for comment|about)",
        "in response to (a|our|an) (request|inquiry|question)",
        "(request|requests) for comment",
        "no comment",
    ],
)

_ABSENT = phrases(
    "absent_official_comment",
    [
        "(has|have|had) yet to (comment|respond|confirm|react|publicly comment|comment publicly|comment officially|officially comment|issue a statement|make a statement|release a statement|address)",
        "(has|have|had) not (yet|) (commented|responded|confirmed|reacted|publicly commented|commented publicly|officially commented|issued a statement|made a statement|released a statement|spoken out|addressed the)",
        "(has|have|had) (not|yet to) (been|be) (officially|independently|) (confirmed|verified)",
        "(no|without) (official|public|formal) (comment|confirmation|statement|response|word)",
        "(remained|remains|remain|stayed|stays|kept|keeps|keeping|staying|remaining) (silent|quiet|mum|tight-lipped)",
        "(is|are|was|were) (yet to|not yet) (confirmed|verified)",
        "(has|have) (made|issued|given) no (comment|statement)",
        "yet to (comment|respond|confirm)",
        "(unconfirmed|not been confirmed|cannot be confirmed|could not be confirmed)",
    ],
)


@register("sought_comment.v1", sign=-1)
def sought_comment(doc: Doc) -> list[Hit]:
    """Reports that a response was sought, e.g. "declined to comment" (often a sign of diligence)."""
    return doc.phrases(_SOUGHT)


@register("absent_official_comment.v1")
def absent_official_comment(doc: Doc) -> list[Hit]:
    """Notes that officials have not commented or confirmed, e.g. "has yet to comment"."""
    sought = doc.phrases(_SOUGHT)
    return [h for h in doc.phrases(_ABSENT) if not overlaps(h, sought)]


_DAYS = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ON_RECORD = phrases(
    "on_record_statement",
    [
        "(said|says|announced|confirmed|stated|wrote|added) in a (statement|press release|news release|letter|filing|blog post|tweet|post)",
        "(a|the) (spokesperson|spokesman|spokeswoman|press secretary|representative|rep) (for|from|said|says|told|confirmed|added)",
        "told (reporters|journalists|the associated press|reuters|the press|a news conference|a press conference)",
        "(at|during) a (news|press) (conference|briefing)",
        "(said|says|told) in an interview",
        "in an interview with",
        f"(said|told|announced|wrote|confirmed) (on|late|early|late on|early on) {_DAYS}",
        f"on {_DAYS} (said|told|announced|confirmed)",
        "(court|police|official) (records|documents|filings|figures|data) (show|showed|shows)",
    ],
)


@register("on_record_statement.v1", sign=-1)
def on_record_statement(doc: Doc) -> list[Hit]:
    """Cites an on-record statement, e.g. "said in a statement" or "told reporters on Tuesday"."""
    return doc.phrases(_ON_RECORD)


_ACCUSATION = phrases(
    "accusation",
    [
        "(accused|accuses|accusing) (of|him|her|them|the)",
        "(allegations|allegation) (of|that|against)",
        "(scandal|cover-up|coverup|conspiracy|fraud|embezzlement|espionage|corruption|treason|crimes|illegal|illegally|criminal|theft|stolen|heist|bribe|bribes|bribery|rigged|rigging)",
    ],
)
_RESPONSE = phrases(
    "response",
    [
        "(denied|denies|deny|denying|rejected|rejects|dismissed|dismisses|disputed|disputes) (the|any|all|that|it|these|those|wrongdoing|allegations|claims|accusations|charges|report|reports)",
        "(responded|responds|replied|replies|reacted|reacts) (to|in|by|with)",
    ],
)


@register("unanswered_accusation.v1")
def unanswered_accusation(doc: Doc) -> list[Hit]:
    """Makes accusations of wrongdoing but reports no response, denial or comment from anyone."""
    if doc.phrases(_RESPONSE) or doc.phrases(_SOUGHT) or doc.phrases(_ON_RECORD):
        return []
    return doc.phrases(_ACCUSATION)
