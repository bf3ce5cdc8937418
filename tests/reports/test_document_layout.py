"""The .docx reads as a document a bureau would send: GB/T 9704 page and fonts, headings, a table of contents,
a table whose numbers never wrap, captions, proper properties, and no internal file names or doubled quotes."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Mm
from lxml import etree

from reports.collect import collect
from reports.document import BODY_FONT, HEADING1_FONT, HEADING2_FONT, TITLE_FONT, build_docx
from reports.pdf import docx_to_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
FILE_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def docx_bytes(plan, kind: str) -> bytes:  # type: ignore[no-untyped-def]
    return build_docx(collect(plan, 2023, kind))


def xml(content: bytes, part: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return etree.fromstring(archive.read(part))


def all_text(document) -> str:  # type: ignore[no-untyped-def]
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def nested_quotes(text: str) -> list[str]:
    """Places where a “ opens inside another “…” (doubled or nested quotation marks)."""
    found, depth = [], 0
    for index, char in enumerate(text):
        if char == "“":
            depth += 1
            if depth > 1:
                found.append(text[max(0, index - 15) : index + 15])
        elif char == "”":
            depth = max(0, depth - 1)
    return found


@pytest.mark.parametrize("kind", ["annual", "midterm"])
def test_page_setup_fonts_and_headings(plan, some_progress, kind) -> None:  # type: ignore[no-untyped-def]
    content = docx_bytes(plan, kind)
    document = Document(io.BytesIO(content))
    portrait = document.sections[0]

    def mm(*lengths):  # type: ignore[no-untyped-def]
        return tuple(round(length.mm) for length in lengths)

    assert mm(portrait.page_width, portrait.page_height) == (210, 297)
    assert mm(portrait.top_margin, portrait.bottom_margin, portrait.left_margin, portrait.right_margin) == (
        37,
        35,
        28,
        26,
    )
    # The wide indicator table has a landscape section of its own; the text returns to portrait after it.
    assert any(s.page_width > s.page_height for s in document.sections)
    assert mm(document.sections[-1].page_width) == (210,)

    styles = xml(content, "word/styles.xml")

    def east_asia(style_name: str) -> str | None:
        style = styles.find(f"w:style/w:name[@w:val='{style_name}']/..", NS)
        assert style is not None, style_name
        fonts = style.find("w:rPr/w:rFonts", NS)
        return None if fonts is None else fonts.get(f"{{{W}}}eastAsia")

    assert east_asia("Normal") == BODY_FONT
    assert east_asia("heading 1") == HEADING1_FONT
    assert east_asia("heading 2") == HEADING2_FONT
    body = xml(content, "word/document.xml")
    run_fonts = {f.get(f"{{{W}}}eastAsia") for f in body.iterfind(".//w:r/w:rPr/w:rFonts", NS)}
    assert {TITLE_FONT, BODY_FONT, HEADING1_FONT} <= run_fonts
    # No theme font left to override the named East Asian fonts.
    assert not body.findall(".//w:rFonts[@w:eastAsiaTheme]", NS)
    title = document.paragraphs[0]
    assert title.runs[0].font.size.pt == 22
    assert document.styles["Normal"].font.size.pt == 16

    headings = {
        name: [p.text for p in document.paragraphs if p.style.name == name] for name in ("Heading 1", "Heading 2")
    }
    assert headings["Heading 1"] == [
        "一、总体情况",
        "二、主要指标完成情况",
        "三、需要关注的事项",
        "四、专栏任务推进情况",
        "五、说明",
    ]
    assert "（一）实施全面育人五大提质行动" in headings["Heading 2"]


def test_table_of_contents_page_numbers_and_settings(plan, some_progress) -> None:  # type: ignore[no-untyped-def]
    content = docx_bytes(plan, "annual")
    body = xml(content, "word/document.xml")
    instructions = " ".join(t.text for t in body.iterfind(".//w:instrText", NS))
    assert 'TOC \\o "1-3" \\h \\z \\u' in instructions
    settings = xml(content, "word/settings.xml")
    assert settings.find("w:updateFields", NS).get(f"{{{W}}}val") == "true"
    assert settings.find("w:evenAndOddHeaders", NS) is not None
    document = Document(io.BytesIO(content))
    section = document.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.text == even.text == "— 1 —"  # the PAGE field's cached result between the dashes
    assert (odd.alignment, even.alignment) == (2, 0)  # right on odd pages, left on even ones
    for footer in ("word/footer1.xml", "word/footer2.xml"):
        assert "PAGE" in "".join(xml(content, footer).itertext())


def test_indicator_table_header_repeats_rows_do_not_split_numbers_do_not_wrap(plan, some_progress) -> None:  # type: ignore[no-untyped-def]
    content = docx_bytes(plan, "annual")
    body = xml(content, "word/document.xml")
    table = body.find(".//w:tbl", NS)
    rows = table.findall("w:tr", NS)
    assert rows[0].find("w:trPr/w:tblHeader", NS) is not None
    assert all(row.find("w:trPr/w:cantSplit", NS) is not None for row in rows)
    assert table.find("w:tblPr/w:tblLayout", NS).get(f"{{{W}}}type") == "fixed"
    grid = [int(col.get(f"{{{W}}}w")) for col in table.iterfind("w:tblGrid/w:gridCol", NS)]
    assert len(grid) == 10
    landscape_width = Mm(297 - 37 - 35).twips
    assert sum(grid) <= landscape_width
    # The latest value (with its year) cell keeps to one line.
    assert rows[1].findall("w:tc", NS)[5].find("w:tcPr/w:noWrap", NS) is not None
    document = Document(io.BytesIO(content))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert [c[:2] for c in captions] == ["图1", "表1", "图2"]
    # The table's caption sits above it; each figure's caption below its picture.
    paragraphs = list(body.iter(f"{{{W}}}p", f"{{{W}}}tbl"))
    table_index = paragraphs.index(table)
    assert "".join(paragraphs[table_index - 1].itertext()).startswith("表1")
    for index, element in enumerate(paragraphs):
        if element.find(".//w:drawing", NS) is not None:
            assert "".join(paragraphs[index + 1].itertext()).startswith("图")


def test_charts_are_300_dpi(plan, some_progress) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    document = Document(io.BytesIO(docx_bytes(plan, "annual")))
    for shape in document.inline_shapes:
        blob = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        assert round(Image.open(io.BytesIO(blob)).info["dpi"][0]) == 300


@pytest.mark.parametrize("kind", ["annual", "midterm"])
def test_properties_citations_and_quotes(plan, some_progress, kind) -> None:  # type: ignore[no-untyped-def]
    content = docx_bytes(plan, kind)
    document = Document(io.BytesIO(content))
    props = document.core_properties
    assert props.author == plan.issuing_body == "乐山市教育局"
    assert props.last_modified_by == plan.issuing_body
    assert props.title.startswith(plan.title)
    assert props.subject
    assert props.created.year == 2026
    text = all_text(document)
    assert "python-docx" not in text
    assert not FILE_NAME.search(text), FILE_NAME.search(text)
    assert "《乐山市“十四五”教育发展规划》（2022年6月）" in text
    assert "《新时代深化改革推进基础教育高质量发展实施方案》（乐山市人民政府办公室，2021年11月11日）" in text
    assert nested_quotes(text) == []
    assert nested_quotes(props.title) == []


def test_no_doubled_quotes_in_the_report_sources() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in [*root.joinpath("reports").rglob("*.py"), *root.joinpath("templates", "reports").rglob("*.html")]:
        source = path.read_text(encoding="utf-8")
        assert "““" not in source and "””" not in source, path
        assert "“%(" not in source and "“{" not in source.replace("“{n", ""), path


def test_the_page_message_does_not_double_the_quotes(
    leo, plan, some_progress, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(leo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:reports"), {"plan": plan.pk, "year": 2024, "kind": "annual"}, follow=True
        )
    page = response.content.decode()
    assert "已开始生成“十四五”教育发展规划 2024年年度监测报告，" in page
    assert nested_quotes(page) == []


@pytest.mark.parametrize("kind", ["annual", "midterm"])
def test_libreoffice_lays_the_report_out(plan, some_progress, soffice, kind, tmp_path) -> None:  # type: ignore[no-untyped-def]
    content = docx_bytes(plan, kind)
    docx = tmp_path / f"report-{kind}.docx"
    docx.write_bytes(content)
    pdf = docx_to_pdf(docx, tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 4 <= pages <= 30, pages
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [re.sub(r"\s+", "", line) for line in layout.splitlines()]
    document = Document(io.BytesIO(content))
    table = document.tables[0]
    for row in table.rows[1:]:
        cells = [cell.text for cell in row.cells]
        for index in (0, 2, 3, 4, 5, 6, 7, 8, 9):
            whole = cells[index].replace(" ", "")
            assert any(whole in line for line in lines), f"表格中“{whole}”被拆成了两行"
    # The table's page holds more than its header: its first data row is on the same page as the header.
    pages_text = layout.split("\f")
    header_page = next(i for i, page in enumerate(pages_text) if "进度状态" in page and "最新值" in page)
    assert re.sub(r"\s+", "", table.rows[1].cells[1].text) in re.sub(r"\s+", "", pages_text[header_page])
    # Headings survive in the PDF too.
    flat = "".join(lines)
    for heading in ("一、总体情况", "二、主要指标完成情况", "五、说明"):
        assert heading in flat
    assert "—1—" in flat and "—2—" in flat
