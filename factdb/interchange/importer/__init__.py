"""`crowdcheck import`: partners' fact-checks (JSON Lines, CSV, ClaimReview) into claims.

Every record becomes a published Claim keyed by `external_id` plus one current Clarification.
Re-importing updates both in place, so a partner's corrected feed can be loaded again and again.
A bad record is reported with where it is and why, and skipped; the rest is kept.

Speed: 10^6 claims must load in minutes, so records are validated and normalised in chunks
(in worker processes for big files: `normalize()` is the dominant cost), and written with Core
bulk statements, one transaction per chunk, with one look-up of existing ids per chunk.
JSON Lines and CSV are streamed; a ClaimReview document is one JSON value and is parsed whole.

Modules: one reader per format (from_jsonl, from_csv, from_claimreview) yields chunks of raw
items; records validates them into rows; writer writes rows; run drives it all; report holds
what they share.
"""

from factdb.interchange.importer.report import ImportFailed, ImportReport, Problem, ProgressLike
from factdb.interchange.importer.run import FORMATS, detect_format, import_file, import_records, import_stream

__all__ = [
    "FORMATS",
    "ImportFailed",
    "ImportReport",
    "Problem",
    "ProgressLike",
    "detect_format",
    "import_file",
    "import_records",
    "import_stream",
]
