"""Chinese must render wherever a machine draws it (browser screenshots, PDFs): set-up installs a CJK font."""
import shutil
import subprocess

import pytest


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig is not installed")
def test_the_machine_has_a_font_that_covers_simplified_chinese():
    # Chromium and WeasyPrint both find their fallback fonts through fontconfig.
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK SC" in fonts, "no CJK font: run `python3 dev.py test` as root or apt-get install fonts-noto-cjk"
