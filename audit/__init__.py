"""A tamper-evident CloudTrail-style record of who changed what."""
