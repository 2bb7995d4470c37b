#!/usr/bin/env python
"""Django's manage.py; the same as ``python -m b2binvoice``."""

from b2binvoice.__main__ import main

if __name__ == "__main__":
    main()
