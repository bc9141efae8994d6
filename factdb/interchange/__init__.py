"""Claims in and out: JSON Lines, CSV and schema.org ClaimReview (see docs/interchange.md)."""
