"""Settings are split by environment: base (shared), dev, test and prod.

Select one with ``DJANGO_SETTINGS_MODULE``; every value that differs between machines is read
from the environment (see ``.env.example``).
"""
