#!/usr/bin/env python3
"""Build the CJK fonts bundled with traceapp from Debian's ``fonts-noto-cjk``.

Labels must render Chinese on a machine without any system fonts, and
reportlab can only embed TrueType (``glyf``) outlines, so this script:

1. takes the Simplified Chinese face (``Noto Sans CJK SC``) out of Debian's
   ``NotoSansCJK-{Regular,Bold}.ttc``;
2. subsets Regular to ASCII, Latin-1, general punctuation, CJK symbols and
   punctuation, fullwidth forms, all of GB2312 (6763 hanzi plus its symbol
   rows), a few extras and every character of the fixed label text; Bold
   gets the same minus GB2312 plus the words in BOLD_WORDS (it only sets
   headings, labels and codes, and the renderer falls back to Regular);
3. converts the CFF outlines to quadratic TrueType outlines (cu2qu);
4. synthesises the ballot boxes the face lacks (U+2610 ☐, U+2611 ☑) and maps
   U+2714 ✔ to the face's own check mark;
5. writes ``traceapp/labels/fonts/NotoSansSC-Subset-{Regular,Bold}.ttf`` and
   the web font ``traceapp/static/fonts/NotoSansSC-Subset.woff2``.

Output is byte-for-byte reproducible for a given source font and fontTools
version (timestamps are copied from the source, never "now").

Usage::

    python tools/build_font.py [--source-dir DIR] [--extra-chars FILE]

``--extra-chars`` adds every character of a UTF-8 text file (e.g. a list of
administrative-division names that use characters outside GB2312).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.transformPen import TransformPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTCollection, TTFont, newTable

REPO = Path(__file__).resolve().parent.parent
LABEL_FONT_DIR = REPO / "traceapp" / "labels" / "fonts"
WEB_FONT_DIR = REPO / "traceapp" / "static" / "fonts"
DEFAULT_SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")
SC_FACE_INDEX = 2  # JP, KR, SC, TC, HK, then the Mono faces
FAMILY = "Noto Sans SC Subset"
POSTSCRIPT_STEM = "NotoSansSC-Subset"
CU2QU_MAX_ERR = 1.0  # font units (UPM 1000): invisible at label sizes
CHECK_IN_BOX_SCALE = 0.72

# Unicode blocks kept whole (inclusive ranges).
BLOCKS = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x2000, 0x206F),  # general punctuation
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
)

# Units, maths and tick marks used on certificates, plus every character of
# the fixed label text in traceapp/labels/render.py (tests check the two
# stay in sync through ``missing_glyphs``).
EXTRA_CHARS = (
    "斤℃×−≤≥✓✔☐☑□■·•…№™±÷"
    "承诺达标合格证依据扫码查验真伪不使用禁用农药兽药停用和非法添加物"
    "常规残留超对的实性负责委托检测自我内部质量控制已撤销"
)

# The Bold face is only used for short fixed or caller-labelled strings
# (heading, status banner, field labels, the trace code), so it carries the
# non-hanzi blocks plus these words and stays small; the renderer falls back
# to Regular for any text Bold cannot set.
BOLD_WORDS = (
    "承诺达标合格证已撤销作废过期失效样张测试试用无效"
    "产品名称种类数量重量净含规格批次号产地来源生产者经营单位主体姓名"
    "联系电话方式地址开具日期采收收获屠宰出栏捕捞上市检验编码追溯"
)

# Characters the source face lacks, drawn from glyphs it has (see add_ballot_boxes).
SYNTHESISED = {0x2610, 0x2611, 0x2714}


def gb2312_chars() -> set[str]:
    """Every character encodable in GB2312 (symbol rows and 6763 hanzi)."""
    chars = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def charset(text: Iterable[str]) -> set[int]:
    """Code points to keep: the whole BLOCKS, EXTRA_CHARS and ``text``."""
    points = {cp for lo, hi in BLOCKS for cp in range(lo, hi + 1)}
    return points | {ord(ch) for ch in set(EXTRA_CHARS) | set(text)}


def load_sc_face(path: Path) -> TTFont:
    """Load the Simplified Chinese face out of a Noto CJK collection."""
    collection = TTCollection(str(path), recalcTimestamp=False)
    return collection.fonts[SC_FACE_INDEX]


def subset(font: TTFont, unicodes: Iterable[int]) -> None:
    """Subset ``font`` in place: no hinting, no layout or vertical tables."""
    options = Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    subsetter = Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)


def quadratic_glyphs(font: TTFont) -> dict:
    """Convert every CFF charstring to a TrueType glyph via cu2qu."""
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in font.getGlyphOrder():
        tt_pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(tt_pen, CU2QU_MAX_ERR, reverse_direction=True))
        glyphs[name] = tt_pen.glyph()
    return glyphs


def cff_to_glyf(font: TTFont) -> None:
    """Replace the CFF table with glyf/loca (the classic otf2ttf recipe)."""
    glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = quadratic_glyphs(font)
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    font.sfntVersion = "\x00\x01\x00\x00"
    glyf.compile(font)
    sync_side_bearings(font)
    font["maxp"] = truetype_maxp()
    set_post_format3(font)


def sync_side_bearings(font: TTFont) -> None:
    """Make hmtx left side bearings equal each glyph's xMin, as TrueType expects."""
    glyf, hmtx = font["glyf"], font["hmtx"]
    for name, (advance, _) in hmtx.metrics.items():
        glyph = glyf[name]
        hmtx[name] = (advance, glyph.xMin if glyph.numberOfContours else 0)


def truetype_maxp():
    """A version 1.0 maxp table for unhinted glyphs; glyph and point counts are
    recomputed by fontTools when the font is saved."""
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in (
        "numGlyphs",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, field, 0)
    return maxp


def set_post_format3(font: TTFont) -> None:
    """Drop glyph names (post format 3): smaller, and names are meaningless CIDs."""
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None


def glyph_bounds(glyph_set, name: str) -> tuple[float, float, float, float]:
    """Bounding box (xMin, yMin, xMax, yMax) of one glyph."""
    pen = BoundsPen(glyph_set)
    glyph_set[name].draw(pen)
    return pen.bounds


def draw_check_in_box(font: TTFont, box: str, check: str):
    """A new TrueType glyph: ``box`` with ``check`` scaled and centred in it."""
    glyph_set = font.getGlyphSet()
    bx0, by0, bx1, by1 = glyph_bounds(glyph_set, box)
    cx0, cy0, cx1, cy1 = glyph_bounds(glyph_set, check)
    scale = CHECK_IN_BOX_SCALE * (bx1 - bx0) / max(cx1 - cx0, cy1 - cy0)
    dx = (bx0 + bx1) / 2 - scale * (cx0 + cx1) / 2
    dy = (by0 + by1) / 2 - scale * (cy0 + cy1) / 2
    pen = TTGlyphPen(glyph_set)
    glyph_set[box].draw(pen)
    glyph_set[check].draw(TransformPen(pen, (scale, 0, 0, scale, dx, dy)))
    return pen.glyph()


def add_glyph(font: TTFont, name: str, glyph, advance: int) -> None:
    """Append a glyph to glyf/hmtx and the glyph order."""
    order = [*font.getGlyphOrder(), name]
    font.setGlyphOrder(order)
    font["glyf"].glyphOrder = order
    font["glyf"][name] = glyph
    glyph.recalcBounds(font["glyf"])
    font["hmtx"][name] = (advance, glyph.xMin)


def map_codepoint(font: TTFont, codepoint: int, glyph_name: str) -> None:
    """Point ``codepoint`` at ``glyph_name`` in every Unicode cmap subtable."""
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap[codepoint] = glyph_name


def add_ballot_boxes(font: TTFont) -> None:
    """Synthesise ☐ (= □), ☑ (□ with ✓ inside) and ✔ (= ✓)."""
    cmap = font.getBestCmap()
    box, check = cmap[0x25A1], cmap[0x2713]
    checked = draw_check_in_box(font, box, check)
    add_glyph(font, "uni2611", checked, font["hmtx"][box][0])
    map_codepoint(font, 0x2610, box)
    map_codepoint(font, 0x2611, "uni2611")
    map_codepoint(font, 0x2714, check)


def rename(font: TTFont, style: str) -> None:
    """Give the subset its own names, so it is never mistaken for the full face."""
    name = font["name"]
    for record in list(name.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            name.removeNames(nameID=record.nameID)
    full = f"{FAMILY} {style}"
    ps_name = f"{POSTSCRIPT_STEM}-{style}"
    name.setName(FAMILY, 1, 3, 1, 0x409)
    name.setName(f"{ps_name};traceapp", 3, 3, 1, 0x409)
    name.setName(full, 4, 3, 1, 0x409)
    name.setName(ps_name, 6, 3, 1, 0x409)


def build_face(source: Path, style: str, unicodes: set[int]) -> TTFont:
    """Subset, convert and patch one weight of the SC face."""
    font = load_sc_face(source)
    subset(font, unicodes - SYNTHESISED)
    cff_to_glyf(font)
    add_ballot_boxes(font)
    rename(font, style)
    return font


def save(font: TTFont, path: Path, flavor: str | None = None) -> None:
    """Write a font file and print its size and SHA-256 for the provenance log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = flavor
    font.save(str(path), reorderTables=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path.relative_to(REPO)}  {path.stat().st_size} bytes  sha256 {digest}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR)
    parser.add_argument("--extra-chars", type=Path, help="UTF-8 file of extra characters")
    args = parser.parse_args()
    extra = args.extra_chars.read_text(encoding="utf-8") if args.extra_chars else ""
    wanted = gb2312_chars() | set(extra) | region_name_chars()
    regular = build_face(source_file(args, "Regular"), "Regular", charset(wanted))
    save(regular, LABEL_FONT_DIR / f"{POSTSCRIPT_STEM}-Regular.ttf")
    save(regular, WEB_FONT_DIR / f"{POSTSCRIPT_STEM}.woff2", flavor="woff2")
    bold = build_face(source_file(args, "Bold"), "Bold", charset(BOLD_WORDS))
    save(bold, LABEL_FONT_DIR / f"{POSTSCRIPT_STEM}-Bold.ttf")


def region_name_chars() -> set[str]:
    """Every character of every place name in ``traceapp/data/regions.json`` (some, like 埇 or
    鄠, are outside GB2312), so any origin the app accepts prints without a blank box."""
    table = json.loads((REPO / "traceapp" / "data" / "regions.json").read_text("utf-8"))
    return {char for level in table.values() for name in level.values() for char in name}


def source_file(args: argparse.Namespace, style: str) -> Path:
    """Path of the Debian collection for one weight."""
    return args.source_dir / f"NotoSansCJK-{style}.ttc"


if __name__ == "__main__":
    main()
