"""What the bot says in groups and channels, and in the deep link that leads to a private chat."""

from __future__ import annotations

from html import escape

from factdb.models import Clarification
from handlers.views.i18n import Translator
from handlers.views.texts import excerpt, isolate, url_link, verdict_label

GROUP_SUMMARY = 200  # characters of the clarification in a group reply: the link has the rest


def deep_link(bot_username: str | None, claim_id: int) -> str | None:
    """`t.me/<bot>?start=claim_<id>`: opens the claim in a private chat with the bot."""
    return f"https://t.me/{bot_username}?start=claim_{claim_id}" if bot_username else None


def group_reply(t: Translator, clar: Clarification, link: str | None, *, translated: bool) -> str:
    """A short reply to a message in a group: verdict, the gist, and where to read more."""
    lines = [
        f"<b>{escape(verdict_label(t, clar.verdict), quote=False)}</b> — "
        f"{isolate(excerpt(clar.summary, GROUP_SUMMARY))}"
    ]
    if link:
        lines.append(t._("Fact-checked. Details: {link}").format(link=url_link(link)))
    if not translated:
        lines.append("<i>" + t._("This answer is not available in your language yet.") + "</i>")
    return "\n".join(lines)


def group_intro(t: Translator) -> str:
    return "\n".join(
        [
            t._(
                "Hi! I'm a fact-checking bot. In this group I only reply to messages that match a fact-check our reviewers have published, at most once a day for each."
            ),
            t._("I don't keep what you say here. To ask me about anything else, write to me privately."),
            t._(
                "Group admins: /groupmode off silences me, /groupmode on brings me back, /grouplanguage es sets my language."
            ),
        ]
    )


def group_mode_state(t: Translator, enabled: bool, lang: str | None) -> str:
    state = t._("on") if enabled else t._("off")
    language = lang or t._("the language of each message")
    return t._("Quiet fact-check replies are {state} in this group; language: {language}.").format(
        state=state, language=language
    )
