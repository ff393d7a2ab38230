"""Browser tests (Playwright + Debian Chromium). A package, so its conftest does not shadow tests/conftest.py."""
