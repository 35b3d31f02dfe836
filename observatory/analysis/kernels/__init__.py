"""Pure computation kernels for the analysis app.

Nothing here imports Django: every function takes numbers, arrays or frozen dataclasses and returns
frozen dataclasses, so the estimators can be tested alone and reused by services, the API and the CLI.
"""
