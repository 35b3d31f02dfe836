"""SDMX 2.1 kernels: a small typed information model, REST query parsing and message writers.

Pure Python, no Django: the web layer maps files, queries and errors onto HTTP.
"""
