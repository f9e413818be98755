"""Data-subject rights under UU PDP (access, correction, erasure, consent withdrawal, objection) and
retention with legal hold (docs/privacy.md)."""
