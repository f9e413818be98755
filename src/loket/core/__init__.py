"""The institution's systems of record, seen through CorePort."""
