"""Parsers for the UNODC World Drug Report 2025 statistical annex files.

Pure Python (no Django): each parser takes a path or the file's bytes and returns frozen records
that keep the values as reported plus where they came from (file, sheet, row, cell), and a summary
of every row it skipped and why.
"""
