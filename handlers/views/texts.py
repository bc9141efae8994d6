"""Everything the bot says, rendered as Telegram HTML with every piece of user text escaped.

Citizens read these on a phone: one bubble, short, kind, in their language. Claim and summary
texts are wrapped in Unicode isolates (FSI … PDI) so right-to-left text cannot reorder our own
words around it.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

from factdb.models import ClaimStatus, Clarification
from handlers.views.i18n import N_, Translator

VERDICT_LABELS = {
    "false": ("❌", N_("False")),
    "misleading": ("⚠️", N_("Misleading")),
    "missing_context": ("🧩", N_("Missing context")),
    "mixed": ("⚖️", N_("Mixed")),
    "true": ("✅", N_("True")),
    "unproven": ("❔", N_("Unproven")),
    "satire": ("🎭", N_("Satire")),
    "not_a_claim": ("💬", N_("Not a checkable claim")),
}
# A claim's status, as the public pages and /stats name it.
STATUS_LABELS: dict[str, str] = {
    ClaimStatus.NEW: N_("New"),
    ClaimStatus.IN_REVIEW: N_("In review"),
    ClaimStatus.PUBLISHED: N_("Published"),
    ClaimStatus.RETRACTED: N_("Withdrawn"),
    ClaimStatus.SPAM: N_("Spam"),
    ClaimStatus.MERGED: N_("Merged"),
}
REVIEW_VERDICTS = ["false", "misleading", "missing_context", "true", "unproven", "satire", "not_a_claim"]
EXCERPT = 300


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def isolate(text: str) -> str:
    """Escape for HTML and isolate the direction of someone else's text. Their own embedding,
    override and isolate controls go first: a stray U+2069 would end our isolate early."""
    return "\u2068" + escape(_BIDI_CONTROLS.sub("", text), quote=False) + "\u2069"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _changed_item(t: Translator, item: str) -> str:
    """One difference from `factdb.matching.what_changed`, worded for the citizen."""
    mine, sep, theirs = item.partition(" (claim: ")
    if sep:
        return t._("“{mine}” (we checked: “{theirs}”)").format(
            mine=isolate(mine), theirs=isolate(theirs.removesuffix(")"))
        )
    return f"“{isolate(item)}”"


def verdict_label(t: Translator, verdict: str) -> str:
    emoji, label = VERDICT_LABELS.get(verdict, ("•", verdict))
    return f"{emoji} {t._(label)}"


def claim_page(public_url: str | None, claim_id: int) -> str | None:
    """The claim's public page, when the operator serves pages (CROWDCHECK_PUBLIC_URL)."""
    return f"{public_url}/claims/{claim_id}" if public_url else None


def url_link(url: str) -> str:
    """A link that shows its whole address (a page or a t.me link people may copy)."""
    return f'<a href="{escape(url, quote=True)}">{escape(url, quote=False)}</a>'


def _source_link(url: str) -> str:
    host = urlsplit(url).netloc or url
    return f'<a href="{escape(url, quote=True)}">{escape(host.removeprefix("www."), quote=False)}</a>'


def clarification(
    t: Translator,
    clar: Clarification,
    sources: list[str],
    *,
    translated: bool,
    public_link: str | None = None,
    changed: list[str] | None = None,
) -> str:
    lines = [f"<b>{escape(verdict_label(t, clar.verdict), quote=False)}</b> — {isolate(clar.summary)}"]
    urls = list(dict.fromkeys([*sources[:5], *([clar.url] if clar.url else [])]))
    links = [_source_link(u) for u in urls]
    if links:
        lines.append(t._("Sources: {links}").format(links=" · ".join(links)))
    if public_link:
        lines.append(t._("Full clarification: {link}").format(link=_source_link(public_link)))
    if changed:
        words = ", ".join(_changed_item(t, w) for w in changed[:6])
        lines.append("<i>" + t._("Your version differs in: {words}").format(words=words) + "</i>")
    if not translated:
        lines.append("<i>" + t._("This answer is not available in your language yet.") + "</i>")
    return "\n".join(lines)
