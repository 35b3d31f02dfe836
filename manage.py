#!/usr/bin/env python
"""Django's command-line utility; the documented entry point is the ``observatory`` console script."""

from observatory.cli import main

if __name__ == "__main__":
    main()
