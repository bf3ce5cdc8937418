"""年度监测报告 and 中期评估报告 as .docx (python-docx), from what `reports.collect` gathered.

Laid out as a document the bureau can send on (GB/T 9704-2012 conventions): A4, margins 37/35/28/26 mm,
title in 方正小标宋简体 二号, body in 仿宋_GB2312 三号, level-1 headings 黑体 and level-2 headings 楷体_GB2312
(as Word's Heading 1/2 styles, so the navigation pane and the table of contents work), page numbers "— 1 —"
at the outside edge. The indicator table sits on a landscape page with fixed column widths, a repeated header
row and rows that never split across pages. Where the 公文 fonts are not installed, `reports.pdf` renders with
Noto Serif/Sans CJK SC in their place.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections import Counter
from decimal import Decimal
from typing import Any

from django.utils import timezone

from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES
from planning.models import Plan

from .charts import completion_chart, status_chart
from .collect import ProgressNote, ReportData
from .models import ReportKind

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"

TITLE_SIZE = 22  # 二号
BODY_SIZE = 16  # 三号
CAPTION_SIZE = 14  # 四号
TABLE_SIZE = 10.5  # 五号
LINE = 29  # exact line pitch: 22 lines in the 225 mm type area

# The indicator table: header, width (mm), whether the cell holds a number (kept on one line).
INDICATOR_COLUMNS_MM = (10, 50, 16, 16, 19, 31, 19, 18, 19, 27)
CONCERNS_SHOWN = 40


def _plain(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _sentence(label: str, text: str) -> str:
    """ "存在问题：…。" from a text as typed (its lines joined, one full stop at the end); "" for no text."""
    body = "；".join(line.strip().rstrip("。；;") for line in text.splitlines() if line.strip())
    return f"{label}：{body}。" if body else ""


def progress_text(notes: list[ProgressNote], year: int, *, narrative: bool = True) -> str:
    """A task's approved progress as the report says it: 工作进展, 存在问题 and 下步打算, region by region, naming the
    year where the latest approved progress is older than the report's."""
    parts = []
    for note in notes:
        said = "".join(
            _sentence(label, text)
            for label, text in (
                ("工作进展", note.narrative if narrative else ""),
                ("存在问题", note.problems),
                ("下步打算", note.next_steps),
            )
        )
        if not said:
            continue
        older = "" if note.year == year else f"{note.year}年"
        where = f"{note.region}（{older}）" if note.region and older else note.region or older
        parts.append(f"{where}，{said}" if where else said)
    return "".join(parts)


def report_time(plan: Plan) -> datetime.datetime:
    """The time a document states (its date and properties): once the plan's final evaluation is finalised (always so
    for an archived plan) the finalisation time, so the same data gives the same document; else now."""
    return plan.evaluation_finalised_at or timezone.now()


def target_cell(indicator: Any, target: Decimal | None) -> str:
    """A target as the tables state it: the original, and the adjusted one in force (规划调整) when they differ."""
    original = _plain(indicator.target_value) + indicator.target_qualifier
    if target is None or target == indicator.target_value:
        return original
    return f"{original}（调整为{_plain(target)}{indicator.target_qualifier}）"


def cite(plan: Plan, *, with_body: bool = False) -> str:
    """A plan cited by title and date: 《乐山市“十四五”教育发展规划》（2022年6月）."""
    issued = plan.issued_on_text or (_date(plan.issued_on) if plan.issued_on else "")
    parts = [plan.issuing_body] if with_body and plan.issuing_body else []
    if issued:
        parts.append(issued)
    return f"《{plan.title}》" + (f"（{'，'.join(parts)}）" if parts else "")


def report_title(data: ReportData) -> str:
    kind_label = str(dict(ReportKind.choices)[data.kind])
    return f"{data.year}年{kind_label}" if data.kind == ReportKind.ANNUAL else kind_label


def build_docx(data: ReportData) -> bytes:
    return _Builder(data).build()


class _Builder:
    def __init__(self, data: ReportData) -> None:
        from docx import Document

        self.data = data
        self.document = Document()
        self.tables = 0
        self.figures = 0

    # --- low-level formatting ------------------------------------------------------------------------

    @staticmethod
    def set_fonts(element: Any, east_asia: str, latin: str = LATIN_FONT) -> None:
        """East Asian and Latin font on a run or style (rFonts), dropping theme fonts that would override them."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        if element.tag == qn("w:rPr"):  # the document defaults' rPr (a plain element)
            fonts = element.find(qn("w:rFonts"))
            if fonts is None:
                fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
                element.insert(0, fonts)
        else:
            fonts = element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            fonts.attrib.pop(qn(f"w:{attribute}"), None)
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
        fonts.set(qn("w:cs"), latin)
        fonts.set(qn("w:eastAsia"), east_asia)

    def run(
        self, paragraph: Any, text: str, font: str = BODY_FONT, size: float | None = None, bold: bool = False
    ) -> Any:
        from docx.shared import Pt

        run = paragraph.add_run(text)
        self.set_fonts(run._element, font)
        if size is not None:
            run.font.size = Pt(size)
        if bold:
            run.font.bold = True
        return run

    def style_fonts(self, name: str, font: str, size: float, *, indent: bool, keep_with_next: bool = False) -> Any:
        from docx.enum.text import WD_LINE_SPACING
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        style = self.document.styles[name]
        style.font.size = Pt(size)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        self.set_fonts(style.element, font)
        rpr = style.element.get_or_add_rPr()
        for child in rpr.findall(qn("w:szCs")):
            child.set(qn("w:val"), str(int(size * 2)))
        fmt = style.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE)
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        fmt.first_line_indent = Pt(size * 2) if indent else Pt(0)
        fmt.keep_with_next = keep_with_next
        return style

    def setup_styles(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn
        from docx.shared import Pt

        styles = self.document.styles
        # Chinese text: zh-CN language so Word picks the East Asian font for punctuation and digits' neighbours.
        doc_defaults = styles.element.find(qn("w:docDefaults"))
        default_rpr = doc_defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for old in default_rpr.findall(qn("w:lang")):
            default_rpr.remove(old)
        default_rpr.append(parse_xml(f'<w:lang {nsdecls("w")} w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'))
        self.set_fonts(default_rpr, BODY_FONT)

        normal = self.style_fonts("Normal", BODY_FONT, BODY_SIZE, indent=False)
        normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        # Widows and orphans are allowed: lines sit on the 22-line grid as in printed 公文.
        normal.paragraph_format.widow_control = False
        self.style_fonts("Heading 1", HEADING1_FONT, BODY_SIZE, indent=True, keep_with_next=True)
        self.style_fonts("Heading 2", HEADING2_FONT, BODY_SIZE, indent=True, keep_with_next=True)
        self.style_fonts("Heading 3", BODY_FONT, BODY_SIZE, indent=True, keep_with_next=True)
        # Word's built-in names for the table of contents' levels ("toc 1", shown as "TOC 1").
        for level in range(3):
            name = f"toc {level + 1}"
            if name not in [s.name for s in styles]:
                styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH).base_style = normal
            style = self.style_fonts(name, BODY_FONT, BODY_SIZE, indent=False)
            style.paragraph_format.left_indent = Pt(BODY_SIZE * 2 * level)
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
        caption = self.style_fonts("Caption", HEADING1_FONT, CAPTION_SIZE, indent=False)
        caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.paragraph_format.line_spacing = 1.0
        caption.paragraph_format.space_before = Pt(4)
        caption.paragraph_format.space_after = Pt(4)

    def setup_page(self) -> None:
        from docx.shared import Mm

        section = self.document.sections[0]
        section.page_height, section.page_width = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        # The page number's rule-line sits 7 mm below the type area.
        section.header_distance = Mm(15)
        section.footer_distance = Mm(22)
        self.document.settings.odd_and_even_pages_header_footer = True
        self.page_number(section.footer.paragraphs[0], odd=True)
        self.page_number(section.even_page_footer.paragraphs[0], odd=False)
        self.settings_update_fields()

    def page_number(self, paragraph: Any, *, odd: bool) -> None:
        """ "— 1 —" in 四号 宋体, one character in from the outside edge (odd pages right, even pages left)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        if odd:
            paragraph.paragraph_format.right_indent = Pt(CAPTION_SIZE)
        else:
            paragraph.paragraph_format.left_indent = Pt(CAPTION_SIZE)
        paragraph.paragraph_format.first_line_indent = Pt(0)
        self.run(paragraph, "— ", PAGE_NUMBER_FONT, CAPTION_SIZE)
        self.field(paragraph, "PAGE", "1", PAGE_NUMBER_FONT, CAPTION_SIZE)
        self.run(paragraph, " —", PAGE_NUMBER_FONT, CAPTION_SIZE)

    def field(self, paragraph: Any, instruction: str, shown: str, font: str, size: float) -> None:
        """A complex field (begin, instruction, separate, cached result, end)."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        for part in ("begin", None, "separate", shown, "end"):
            run = self.run(paragraph, "", font, size)
            if part is None:
                run._element.append(
                    parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve"> {instruction} </w:instrText>')
                )
            elif part in ("begin", "separate", "end"):
                run._element.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="{part}"/>'))
            else:
                run.text = part

    def settings_update_fields(self) -> None:
        """w:updateFields: Word refreshes the table of contents and page numbers when the file is opened."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        settings = self.document.settings.element
        for old in settings.findall(qn("w:updateFields")):
            settings.remove(old)
        element = parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>')
        # Schema order: updateFields precedes these.
        after = [
            "hdrShapeDefaults",
            "footnotePr",
            "endnotePr",
            "compat",
            "docVars",
            "rsids",
            "mathPr",
            "attachedSchema",
            "themeFontLang",
            "clrSchemeMapping",
            "doNotIncludeSubdocsInStats",
            "doNotAutoCompressPictures",
            "forceUpgrade",
            "captions",
            "readModeInkLockDown",
            "smartTagType",
            "schemaLibrary",
            "shapeDefaults",
            "doNotEmbedSmartTags",
            "decimalSymbol",
            "listSeparator",
        ]
        for child in settings:
            if child.tag in {qn(f"w:{name}") for name in after}:
                child.addprevious(element)
                break
        else:
            settings.append(element)
        for lang in settings.findall(qn("w:themeFontLang")):
            lang.set(qn("w:eastAsia"), "zh-CN")

    def properties(self) -> None:
        data = self.data
        now = report_time(data.plan)
        props = self.document.core_properties
        props.title = f"{data.plan.title}{report_title(data)}"
        props.subject = f"{data.plan.title}实施情况{dict(ReportKind.choices)[data.kind]!s}"
        props.author = data.plan.issuing_body
        props.last_modified_by = data.plan.issuing_body
        props.keywords = f"{data.plan.short_title}；{data.year}年；规划实施监测评估"
        props.category = str(dict(ReportKind.choices)[data.kind])
        props.comments = f"数据截至{data.year}年，依据已审核数据生成。"
        props.language = "zh-CN"
        props.created = now.replace(tzinfo=None) if timezone.is_aware(now) else now
        props.modified = props.created
        props.revision = 1

    # --- content blocks --------------------------------------------------------------------------------

    def saved(self) -> bytes:
        """The .docx bytes. The zip entries carry the document's own time (report_time), not the clock's, so the
        same data gives byte-for-byte the same file once the evaluation is finalised."""
        output = io.BytesIO()
        self.document.save(output)
        stamp = report_time(self.data.plan).astimezone(datetime.UTC)
        date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
        stamped = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(output.getvalue())) as source,
            zipfile.ZipFile(stamped, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for info in source.infolist():
                entry = zipfile.ZipInfo(info.filename, date_time=date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = info.external_attr
                target.writestr(entry, source.read(info.filename))
        return stamped.getvalue()

    def demo_warning(self) -> None:
        """The cover's warning that the figures include generated demo data (every kind of report says it)."""
        from docx.shared import RGBColor

        warning = self.paragraph(indent=False)
        self.run(
            warning,
            "特别说明：系统中当前含有系统生成的演示数据（非真实统计），本报告中的数值仅用于演示，不得作为工作依据。",
            HEADING1_FONT,
        ).font.color.rgb = RGBColor(0xB4, 0x23, 0x18)

    def paragraph(
        self, text: str = "", *, indent: bool = True, align: str | None = None, style: str | None = None
    ) -> Any:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = self.document.add_paragraph(style=style)
        if indent:
            p.paragraph_format.first_line_indent = Pt(BODY_SIZE * 2)
        if align is not None:
            p.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
        if text:
            self.run(p, text)
        return p

    def heading(self, text: str, level: int) -> Any:
        p = self.document.add_paragraph(style=f"Heading {level}")
        self.run(p, text, HEADING1_FONT if level == 1 else HEADING2_FONT if level == 2 else BODY_FONT)
        return p

    def caption(self, prefix: str, title: str) -> Any:
        if prefix == "表":
            self.tables += 1
            number = self.tables
        else:
            self.figures += 1
            number = self.figures
        p = self.document.add_paragraph(style="Caption")
        self.run(p, f"{prefix}{number}　{title}", HEADING1_FONT)
        # A table's caption stays with its table.
        p.paragraph_format.keep_with_next = prefix == "表"
        return p

    def figure(self, png: bytes, title: str, width_mm: float = 150) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Mm

        p = self.document.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.keep_with_next = True
        p.add_run().add_picture(io.BytesIO(png), width=Mm(width_mm))
        self.caption("图", title)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def table_of_contents(self, entries: list[tuple[int, str]]) -> None:
        """A TOC field (levels 1-3, hyperlinked); its cached text lists the headings until Word updates it."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        title = self.document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.run(title, "目　　录", HEADING1_FONT)
        first = last = None
        for level, text in entries:
            p = self.document.add_paragraph(style=f"toc {level}")
            if first is None:
                first = p
                for part, body in (("begin", None), (None, 'TOC \\o "1-3" \\h \\z \\u'), ("separate", None)):
                    run = self.run(p, "")
                    if part:
                        run._element.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="{part}"/>'))
                    else:
                        run._element.append(
                            parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve"> {body} </w:instrText>')
                        )
            self.run(p, text)
            last = p
        if last is None:
            return
        run = self.run(last, "")
        run._element.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>'))

    def section(self, *, landscape: bool) -> None:
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm

        section = self.document.add_section(WD_SECTION.NEW_PAGE)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
            # The portrait margins turned with the page: the binding edge stays where it was.
            section.top_margin, section.bottom_margin = Mm(28), Mm(26)
            section.left_margin, section.right_margin = Mm(37), Mm(35)
            section.footer_distance = Mm(14)
        else:
            section.orientation = WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.top_margin, section.bottom_margin = Mm(37), Mm(35)
            section.left_margin, section.right_margin = Mm(28), Mm(26)
            section.footer_distance = Mm(22)

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: tuple[float, ...], numeric: set[int]) -> Any:
        """Fixed column widths; header row repeated on every page; no row split; numbers never wrap."""
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn
        from docx.shared import Mm, Pt

        table = self.document.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        for old in tbl_pr.findall(qn("w:tblW")):
            tbl_pr.remove(old)
        tbl_pr.append(parse_xml(f'<w:tblW {nsdecls("w")} w:w="{int(Mm(sum(widths_mm)).twips)}" w:type="dxa"/>'))
        tbl_pr.append(
            parse_xml(
                f'<w:tblCellMar {nsdecls("w")}><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/>'
                "</w:tblCellMar>"
            )
        )

        def fill(cells: Any, values: list[str], header: bool) -> None:
            for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.paragraph_format.first_line_indent = Pt(0)
                p.paragraph_format.line_spacing = 1.0
                p.paragraph_format.space_before = Pt(1)
                p.paragraph_format.space_after = Pt(1)
                p.paragraph_format.widow_control = False
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if (index == 1 and not header) else WD_ALIGN_PARAGRAPH.CENTER
                self.run(p, text, HEADING1_FONT if header else BODY_FONT, TABLE_SIZE)
                if index in numeric and not header:
                    cell._tc.get_or_add_tcPr().append(parse_xml(f"<w:noWrap {nsdecls('w')}/>"))

        def row_properties(row: Any, header: bool) -> None:
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(parse_xml(f"<w:cantSplit {nsdecls('w')}/>"))
            if header:
                tr_pr.append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))

        fill(table.rows[0].cells, headers, header=True)
        row_properties(table.rows[0], header=True)
        for values in rows:
            row = table.add_row()
            fill(row.cells, values, header=False)
            row_properties(row, header=False)
        # Both the grid (LibreOffice reads it) and each cell (Word reads those).
        widths = [Mm(w) for w in widths_mm]
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
        return table

    # --- the report --------------------------------------------------------------------------------------

    def build(self) -> bytes:
        from docx.shared import Pt

        data = self.data
        self.setup_styles()
        self.setup_page()
        self.properties()
        plan = data.plan
        today = timezone.localtime(report_time(plan)).date()

        for text in (plan.title, report_title(data)):
            p = self.paragraph(indent=False, align="CENTER")
            p.paragraph_format.line_spacing = Pt(36)
            self.run(p, text, TITLE_FONT, TITLE_SIZE)
        self.paragraph(indent=False)
        note = self.paragraph(indent=False, align="CENTER")
        self.run(note, f"（数据截至{data.year}年，依据已审核数据）", HEADING2_FONT)
        if data.demo:
            self.demo_warning()
        self.paragraph(indent=False)

        concern_groups = self.concern_groups()
        entries: list[tuple[int, str]] = [(1, "一、总体情况"), (1, "二、主要指标完成情况"), (1, "三、需要关注的事项")]
        entries += [(2, title) for title, _items in concern_groups]
        entries.append((1, "四、专栏任务推进情况"))
        entries += [(2, title) for title in self.task_group_titles()]
        entries.append((1, "五、说明"))
        self.table_of_contents(entries)
        self.page_break()

        self.overview()
        self.indicators()
        self.concerns(concern_groups)
        self.tasks()
        self.notes()

        # Signature: the date right-aligned four characters in, the issuing body centred above it.
        self.paragraph()
        date = _date(today)

        def width(text: str) -> float:
            return sum(0.5 if ch.isascii() else 1 for ch in text)

        for text, indent in ((plan.issuing_body, 4 + (width(date) - width(plan.issuing_body)) / 2), (date, 4)):
            p = self.paragraph(text, indent=False, align="RIGHT")
            p.paragraph_format.right_indent = Pt(BODY_SIZE * max(indent, 0))
        return self.saved()

    def overview(self) -> None:
        data = self.data
        total = len(data.indicators)
        described = "，".join(f"{label}{n}项" for _k, label, n in data.counts if n)
        binding = [line for line in data.indicators if line.indicator.is_binding]
        elapsed = (data.year - data.plan.baseline_year) / (data.plan.period_end_year - data.plan.baseline_year)
        self.heading("一、总体情况", 1)
        intro = (
            f"截至{data.year}年，规划期已过{elapsed:.0%}。{total}项主要指标中，{described}。"
            if data.kind == ReportKind.ANNUAL
            else f"规划实施已过{elapsed:.0%}，按“时间过半、任务过半”的要求评估：{total}项主要指标中，{described}。"
        )
        if binding:
            intro += "约束性指标" + "、".join(f"{b.indicator.name}{b.label}" for b in binding) + "。"
        task_described = "，".join(f"{label}{n}项" for _k, label, n in data.task_counts if n)
        intro += f"专栏任务{sum(n for *_, n in data.task_counts)}项中，{task_described}。"
        self.paragraph(intro + f"主要指标进度分布见图{self.figures + 1}。")
        self.figure(status_chart(data.counts), "主要指标进度状态分布", width_mm=130)

    def indicators(self) -> None:
        data = self.data
        plan = data.plan
        self.section(landscape=True)
        self.heading("二、主要指标完成情况", 1)
        self.paragraph(f"主要指标完成情况见表{self.tables + 1}，完成度与按时间应完成的对比见图{self.figures + 1}。")
        self.caption("表", f"主要指标完成情况（截至{data.year}年）")
        headers = [
            "序号",
            "指标",
            "单位",
            "属性",
            f"{plan.baseline_year}年基期值",
            "最新值（年份）",
            f"{plan.period_end_year}年目标值",
            "完成度",
            "按时间应完成",
            "进度状态",
        ]
        rows = []
        for line in data.indicators:
            indicator, row = line.indicator, line.row
            latest = f"{_plain(row.latest_value)}（{row.latest_year}）" if row.latest_year else "—"
            rows.append(
                [
                    str(indicator.number),
                    indicator.name,
                    indicator.unit,
                    indicator.get_attribute_display(),
                    _plain(row.baseline_value if row.baseline_value is not None else indicator.baseline_value),
                    latest,
                    target_cell(indicator, row.target_value),
                    _pct(row.completion),
                    _pct(row.expected_completion),
                    line.label,
                ]
            )
        self.table(headers, rows, INDICATOR_COLUMNS_MM, numeric={0, 2, 3, 4, 5, 6, 7, 8, 9})
        self.section(landscape=False)
        self.figure(completion_chart(data.indicators), "主要指标完成度与按时间应完成（竖线）")

    def concern_groups(self) -> list[tuple[str, list[tuple[Any, str]]]]:
        shown = self.data.concerns[:CONCERNS_SHOWN]
        groups = [
            ("约束性指标", [c for c in shown if c[0].indicator_id and c[0].is_binding]),
            ("预期性指标", [c for c in shown if c[0].indicator_id and not c[0].is_binding]),
            ("专栏任务", [c for c in shown if not c[0].indicator_id]),
        ]
        numerals = "一二三四五六七八九十"
        present = [(title, items) for title, items in groups if items]
        return [(f"（{numerals[i]}）{title}", items) for i, (title, items) in enumerate(present)]

    def concerns(self, groups: list[tuple[str, list[tuple[Any, str]]]]) -> None:
        self.heading("三、需要关注的事项", 1)
        if not groups:
            self.paragraph("截至目前，没有未解除的进度预警。")
            return
        self.paragraph(f"截至{self.data.year}年，系统中未解除的进度预警共{len(self.data.concerns)}项，分列如下。")
        for title, items in groups:
            self.heading(title, 2)
            for index, (flag, note) in enumerate(items, 1):
                mark = "（约束性）" if flag.is_binding else ""
                unit = flag.lead_unit.name if flag.lead_unit else "未明确"
                text = f"{index}. {flag.subject}{mark}：{flag.reason}。牵头单位：{unit}。"
                if note:
                    text += f"填报说明：{note.rstrip('。')}。"
                if flag.task_id:
                    # Why a task is behind and what comes next, in the words of its approved progress.
                    text += progress_text(
                        self.data.notes_for(flag.task_id, flag.region_id), self.data.year, narrative=False
                    )
                self.paragraph(text)
        if len(self.data.concerns) > CONCERNS_SHOWN:
            self.paragraph(f"另有{len(self.data.concerns) - CONCERNS_SHOWN}项，详见系统“总览”页。")

    def task_group_titles(self) -> list[str]:
        numerals = "一二三四五六七八九十"
        return [f"（{numerals[i]}）{group}" for i, group in enumerate(self.data.tasks_by_group)]

    def tasks(self) -> None:
        self.heading("四、专栏任务推进情况", 1)
        for title, (_group, items) in zip(self.task_group_titles(), self.data.tasks_by_group.items(), strict=True):
            self.heading(title, 2)
            counts = Counter(display for _t, display, _l, _u in items)
            summary = "，".join(f"{DISPLAY_LABELS[k]}{n}项" for k, _label in DISPLAY_STATUSES if (n := counts.get(k)))
            behind = [
                (task, label, lead) for task, display, label, lead in items if display in ("lagging", "regressing")
            ]
            text = f"共{len(items)}项任务，{summary}。"
            if behind:
                text += "进度滞后或倒退的任务如下。"
            self.paragraph(text)
            for index, (task, label, lead) in enumerate(behind, 1):
                said = progress_text(self.data.notes_for(task.pk), self.data.year)
                self.paragraph(f"{index}. {task.label} {task.title}（{label}，牵头单位：{lead or '未明确'}）。{said}")

    def notes(self) -> None:
        data = self.data
        self.heading("五、说明", 1)
        self.paragraph(
            "1. 本报告由系统根据各单位填报并经审核通过的数据自动生成；状态按“完成度÷按时间应完成”的进度比划分："
            "低于0.6为滞后，0.6—0.95为需加快，0.95—1.05为基本符合预期，1.05以上为快于预期；低于基期为倒退。"
        )
        basis = f"2. 指标、目标和专栏任务依据{cite(data.plan, with_body=False)}"
        if data.related_plans:
            basis += "；部分任务的责任单位依据" + "、".join(cite(other, with_body=True) for other in data.related_plans)
        self.paragraph(basis + "。")
        self.paragraph(f"3. 趋势预测为基期与各年已审核数据的最小二乘直线外推至{data.plan.period_end_year}年。")
