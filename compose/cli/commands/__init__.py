"""One thin module per command; each exposes ``command``."""
