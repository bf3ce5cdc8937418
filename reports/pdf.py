"""A report .docx converted to PDF with LibreOffice (`soffice --headless --convert-to pdf`), to look at its layout.

The GB/T 9704 fonts the document names (仿宋_GB2312, 黑体, 楷体_GB2312, 方正小标宋简体) are rarely installed on a
server: reports/fonts/fonts.conf maps them to Noto Serif/Sans CJK SC for this conversion only. Each conversion uses
its own LibreOffice profile, so conversions may run side by side.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FONTS_CONF = Path(__file__).resolve().parent / "fonts" / "fonts.conf"


def office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: Path, outdir: Path | None = None, timeout: int = 300) -> Path:
    binary = office()
    if binary is None:
        raise FileNotFoundError("未安装 LibreOffice（apt-get install libreoffice-writer-nogui）")
    outdir = outdir or docx.parent
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                binary,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                str(docx),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    pdf = outdir / docx.with_suffix(".pdf").name
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice 未生成 {pdf}")
    return pdf
