"""schema.org ClaimReview: what Google Fact Check Tools and partners' crawlers read.

`claimreview_for` is the one place a published claim becomes JSON-LD: the export feed and the
public claim pages both use it, so the two never disagree. `records_from_document` reads
partners' ClaimReview (one object, a list, a DataFeed, or an HTML page's ld+json blocks) into
the flat records the importer validates.

Privacy: only the published wording of a claim (`factdb.public.public_wording`: a reviewer's rewording when
there is one, never the sender's original then) and the clarification go out, through
`mask_personal`. Who asked about a claim, and a private person a message was forwarded from,
never do. Links: only http(s) addresses go into `url`, `appearance` and `citation`
(`inert.is_web_url`), whatever an old import left in the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from factdb.clarifications import sources_of
from factdb.interchange import ratings
from factdb.interchange.inert import is_web_url
from factdb.media.public_pictures import picture_url
from factdb.models import Claim, Clarification
from factdb.privacy import mask_personal
from factdb.public import public_wording

__all__ = [
    "claimreview_for",
    "missing_public_url_warning",
    "public_id",
    "public_id_of",
    "public_wording",
    "records_from_document",
    "review_url",
]

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def _date(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def public_id(claim: Claim, *, org_name: str, public_url: str | None) -> str:
    """The id a claim carries in exports, `crowdcheck match` and anything else an outsider
    reads: a partner's own id for claims imported from them (so round trips and re-imports meet
    the same row), else one naming this deployment (docs/interchange.md, "One id")."""
    assert claim.id is not None
    return public_id_of(claim.id, claim.external_id, org_name=org_name, public_url=public_url)


def public_id_of(claim_id: int, external_id: str | None, *, org_name: str, public_url: str | None) -> str:
    """`public_id` from the two columns, for callers that read no whole Claim."""
    if external_id:
        return external_id
    if public_url:
        return f"{public_url.rstrip('/')}/claims/{claim_id}"
    slug = _SLUG_RE.sub("-", org_name.lower()).strip("-") or "crowdcheck"
    return f"{slug}:claim:{claim_id}"


def missing_public_url_warning(public_url: str | None) -> str | None:
    """What an operator must be told once when ClaimReview is made without a public site."""
    if public_url:
        return None
    return (
        "CROWDCHECK_PUBLIC_URL is not set, so ClaimReview (export and feed) has no page of ours "
        "to point to: each fact-check's url is its first source instead, its identifier is "
        "'<org>:claim:N' and will change once the URL is set (partners will see new claims), "
        "and citizens' answers carry no link. Set CROWDCHECK_PUBLIC_URL to the public site's "
        "address before sharing a feed."
    )


def is_imported(claim: Claim, clarification: Clarification) -> bool:
    # Imported clarifications have no reviewer (author_id) and the claim a partner's id.
    return bool(claim.external_id) and clarification.author_id is None


def review_url(
    claim: Claim, clarification: Clarification, *, public_url: str | None, page_lang: str | None = None
) -> str | None:
    """Where a person reads the fact-check: the partner's article for imported claims, else
    our public page (or the clarification's own link when we have no public site).

    `page_lang`: the page's `?lang=` that shows this clarification, for a translation (the
    original lives at the bare address)."""
    own_url = clarification.url if is_web_url(clarification.url) else None
    if is_imported(claim, clarification) and own_url:
        return own_url
    if public_url:
        page = f"{public_url.rstrip('/')}/claims/{claim.id}"
        return f"{page}?lang={page_lang}" if page_lang else page
    sources = web_sources(clarification)
    return own_url or (sources[0] if sources else None)


def web_sources(clarification: Clarification) -> list[str]:
    """The clarification's sources that are web addresses (the only ones we hand out)."""
    return [s for s in sources_of(clarification) if is_web_url(s)]


def _claim_author(claim: Claim) -> dict[str, str] | None:
    # Only a channel or group a message was forwarded from is public; a person who forwarded
    # it (possibly the citizen asking) is never named. Unknown stays absent (the property is
    # optional) rather than a made-up "Person: Unknown" a reader could take for a fact.
    try:
        prov = json.loads(claim.provenance) if claim.provenance else {}
    except ValueError:
        prov = {}
    if isinstance(prov, dict) and prov.get("type") in ("channel", "chat") and prov.get("from"):
        return {"@type": "Organization", "name": mask_personal(str(prov["from"]))}
    return None


def claimreview_for(
    claim: Claim,
    clarification: Clarification,
    *,
    org_name: str,
    public_url: str | None,
    page_lang: str | None = None,
    org_url: str | None = None,
    pictures: Sequence[int] = (),
) -> dict[str, Any]:
    """One ClaimReview (with `@context`, ready to embed in a page) for a published claim.

    Its `author` is the organisation publishing the check: `org_name` with `org_url`
    (CROWDCHECK_ORG_URL), else the public site, as its url; never a reviewer or a person.

    `pictures`: ids of the claim's public pictures (`factdb.media.public_pictures`), each an
    `ImageObject` in `itemReviewed.appearance` at its address under `public_url`; none without
    a public URL (callers pass them only when CROWDCHECK_PUBLIC_URL is configured)."""
    verdict = clarification.verdict
    url = review_url(claim, clarification, public_url=public_url, page_lang=page_lang)
    author: dict[str, Any]
    if is_imported(claim, clarification) and clarification.author_name:
        # A partner's fact-check stays theirs: republishing it under our name would be
        # misattribution (and Fact Check Tools expects the publisher to be the author).
        author = {"@type": "Organization", "name": clarification.author_name}
    else:
        author = {"@type": "Organization", "name": org_name}
        if org_url or public_url:
            author["url"] = org_url or public_url
    item: dict[str, Any] = {"@type": "Claim"}
    claim_author = _claim_author(claim)
    if claim_author:
        item["author"] = claim_author
    if claim.first_seen:
        item["datePublished"] = _date(claim.first_seen)
    if is_web_url(claim.source_url) and claim.source_url != clarification.url:
        # The claim's own appearance; an imported row's only URL is the fact-check itself.
        item["appearance"] = [{"@type": "CreativeWork", "url": claim.source_url}]
    if public_url and pictures:
        # contentUrl, not url: readers of `appearance[0].url` (our importer too) take the
        # claim's source from a CreativeWork, never from a picture.
        images = [{"@type": "ImageObject", "contentUrl": picture_url(public_url, p)} for p in pictures]
        item["appearance"] = [*item.get("appearance", []), *images]
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "identifier": public_id(claim, org_name=org_name, public_url=public_url),
        # the reviewers' public wording when they wrote one (factdb.public), masked
        "claimReviewed": public_wording(claim),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": ratings.RATING_VALUES.get(verdict, 3),
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": ratings.LABELS.get(verdict, verdict),
        },
        "itemReviewed": item,
        "author": author,
        "datePublished": _date(clarification.published_at),
        "inLanguage": clarification.lang,
        "reviewBody": mask_personal(clarification.summary),
    }
    if claim.headline and is_imported(claim, clarification):
        # schema.org: the headline of the review article. The partner's headline is the title
        # of the partner's article, which `url` and `author` name here; a review our reviewers
        # wrote is another article, whose title that is not.
        review["headline"] = mask_personal(claim.headline)
    if url:
        review["url"] = url
    sources = web_sources(clarification)
    if sources:
        review["citation"] = sources
    return review


# --- reading partners' ClaimReview ----------------------------------------------------------

_LD_JSON_RE = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type", [])
    values = value if isinstance(value, list) else [value]
    # "ClaimReview", "schema:ClaimReview", "https://schema.org/ClaimReview" are the same type.
    return [re.split(r"[/:#]", str(v))[-1] for v in values]


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _url(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id")
    return value.strip() or None if isinstance(value, str) else None


def _lang(value: Any) -> Any:
    value = _first(value)
    if isinstance(value, dict):  # {"@type": "Language", "name": "en"} / alternateName
        return value.get("alternateName") or value.get("name")
    return value


def _text(value: Any) -> Any:
    value = _first(value)
    if isinstance(value, dict):  # a JSON-LD value object: {"@value": "…", "@language": "es"}
        return value.get("@value")
    return value


def _headline(review: dict[str, Any]) -> dict[str, Any]:
    """The review article's title as the flat record's `title`, only when the markup has one:
    `headline` (schema.org: "headline of the article"), else `name`, where AFP's fact-check
    sites put the same title. No key at all when neither is there, so a re-import of markup
    without one leaves a stored headline alone."""
    present = [_text(review[k]) for k in ("headline", "name") if k in review]
    if not present:
        return {}
    return {"title": next((v for v in present if isinstance(v, str) and v.strip()), None)}


def flat_record(review: dict[str, Any]) -> dict[str, Any]:
    """A ClaimReview as the contract's flat record, plus the extras it carries."""
    rating = _first(review.get("reviewRating")) or {}
    rating = rating if isinstance(rating, dict) else {}
    item = _first(review.get("itemReviewed")) or {}
    item = item if isinstance(item, dict) else {}
    appearances = item.get("appearance") or item.get("firstAppearance") or []
    appearances = appearances if isinstance(appearances, list) else [appearances]
    source_url = next((u for u in (_url(a) for a in appearances) if u), None)
    identifier = review.get("identifier")
    citation = review.get("citation")
    return {
        "id": identifier if isinstance(identifier, str | int) else review.get("@id") or _url(review),
        "text": review.get("claimReviewed") or item.get("text") or item.get("name"),
        "rating": rating.get("alternateName") or rating.get("name"),
        "rating_value": rating.get("ratingValue"),
        "best_rating": rating.get("bestRating"),
        "worst_rating": rating.get("worstRating"),
        "summary": review.get("reviewBody") or review.get("description"),
        "url": _url(review),
        "source_url": source_url,
        "lang": _lang(review.get("inLanguage")),
        "published": review.get("datePublished"),
        "first_seen": item.get("datePublished"),
        "author": review.get("author"),
        "sources": [u for u in (_url(c) for c in citation) if u]
        if isinstance(citation, list)
        else _url(citation),
        **_headline(review),
    }


def _collect(obj: Any, out: list[dict[str, Any]], *, strict: bool) -> None:
    """Walk lists, @graph and DataFeeds; `strict` (inside a feed or list) reports elements that
    are not ClaimReview instead of skipping them as a web page's other markup."""
    if isinstance(obj, list):
        for element in obj:
            _collect(element, out, strict=strict)
        return
    if not isinstance(obj, dict):
        if strict:
            out.append({"__problem__": "not a JSON object"})
        return
    types = _types(obj)
    if "ClaimReview" in types:
        out.append(flat_record(obj))
    elif "@graph" in obj:
        _collect(obj["@graph"], out, strict=False)
    elif "DataFeed" in types or "dataFeedElement" in obj:
        _collect(obj.get("dataFeedElement", []), out, strict=True)
    elif "DataFeedItem" in types or ("item" in obj and not types):
        _collect(obj.get("item"), out, strict=True)
    elif not types and "text" in obj:
        out.append(obj)  # a plain contract record in a JSON list
    elif strict:
        out.append({"__problem__": f"not a ClaimReview (@type {'/'.join(types) or 'missing'})"})


# schema.org types whose `headline` is an article's title (a fact-check page's other markup)
_ARTICLE_TYPES = {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting"}


def _same_page(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/").lower()


def _article_headlines(obj: Any, out: dict[str, str]) -> None:
    """Article headlines by page URL (`url`, `@id`, `mainEntityOfPage`), anywhere in `obj`."""
    if isinstance(obj, list):
        for element in obj:
            _article_headlines(element, out)
    elif isinstance(obj, dict):
        headline = _text(obj.get("headline"))
        if _ARTICLE_TYPES & set(_types(obj)) and isinstance(headline, str) and headline.strip():
            for key in ("url", "@id", "mainEntityOfPage"):
                if url := _url(obj.get(key)):
                    out.setdefault(_same_page(url), headline)
            out.setdefault("", headline)  # the page's article, whatever its URL
        for value in obj.values():
            if isinstance(value, list | dict):
                _article_headlines(value, out)


def _titles_from_articles(documents: list[Any], records: list[dict[str, Any]], page: bool) -> None:
    """Most fact-check pages carry their title only on a NewsArticle beside the ClaimReview (the
    headline importer's survey: AFP puts it in the review's `name`, UOL in its `headline`, the
    others on the article). A review without a title of its own takes the headline of the
    article at its URL; on an HTML page with one review and one article, that article's."""
    untitled = [r for r in records if "title" not in r and "__problem__" not in r]
    if not untitled:
        return
    articles: dict[str, str] = {}
    for document in documents:
        _article_headlines(document, articles)
    for record in untitled:
        url = record.get("url")
        headline = articles.get(_same_page(url)) if isinstance(url, str) else None
        if headline is None and page and len(records) == 1 and len(set(articles.values())) == 1:
            headline = articles.get("")
        if headline is not None:
            record["title"] = headline


def records_from_document(data: bytes) -> list[dict[str, Any]]:
    """Flat records from a JSON(-LD) document or an HTML page; ValueError says why not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text.") from None
    out: list[dict[str, Any]] = []
    if text.lstrip().startswith("<"):
        blocks = _LD_JSON_RE.findall(text)
        documents = []
        for number, block in enumerate(blocks, start=1):
            try:
                documents.append(json.loads(block))
            except ValueError as exc:
                raise ValueError(f"ld+json block {number} of the page is not valid JSON: {exc}") from None
            _collect(documents[-1], out, strict=False)
        if not out:
            raise ValueError('The page has no ClaimReview in a <script type="application/ld+json">.')
        _titles_from_articles(documents, out, page=True)
        return out
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"The file is not valid JSON: {exc}") from None
    _collect(document, out, strict=isinstance(document, list))
    if not out:
        raise ValueError("The file has no ClaimReview (nor claims with a text field).")
    _titles_from_articles([document], out, page=False)
    return out
