#!/usr/bin/env python3
"""Writes the hostile-input corpus (issue 8 point 5) into Hostile/: CSV and XML files an enterprise or an
export tool could really send, each small. The files are committed; this script says how each was made.
Run from this folder: python3 make_hostile.py"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Hostile")
os.makedirs(OUT, exist_ok=True)

HEADER = "统一社会信用代码,单位详细名称,行政区划代码,行业代码,报告期,研究开发人员合计,研究开发费用合计（千元）"
ROW1 = "91330727MA2YDM6Y9J,示例县华锐精密机械有限公司,330727,C3481,2023,4,2009.1"
ROW2 = "91330727MA2NH61Y5P,示例县新材料有限公司,330727,C2641,2023,13,4764.7"
PROJ_HEADER = "统一社会信用代码,报告期,项目名称,项目来源,项目研究开发人员（人）,项目人员实际工作时间（人月）,项目经费"
PROJ_ROW = "91330727MA2YDM6Y9J,2023,机器视觉缺陷识别,1,4,27.5,1777"


def w(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def lines(*ls, end="\n"):
    return end.join(ls) + end


gb = lambda s: s.encode("gb18030")

# ── encodings ──────────────────────────────────────────────────────────────────────────────────────────────
w("csv-gb18030-clean.csv", gb(lines(HEADER, ROW1, ROW2)))
w("csv-utf8-bom.csv", b"\xef\xbb\xbf" + lines(HEADER, ROW1, ROW2).encode())
w("csv-utf16le-bom.csv", b"\xff\xfe" + lines(HEADER, ROW1).encode("utf-16-le"))
w("csv-mixed-utf8-gb18030.csv", lines(HEADER, ROW1).encode() + gb(lines(ROW2)))
w("csv-invalid-utf8-bytes.csv", lines(HEADER).encode() + ROW1.encode()[:30] + b"\xc3\x28" + ROW1.encode()[30:] + b"\n" + ROW2.encode() + b"\n")
w("csv-gb18030-truncated-char.csv", gb(lines(HEADER, ROW1)) + gb(ROW2)[:-3] + b"\xb0")
w("csv-cp936-euro.csv", gb(HEADER + "\n") + gb(ROW1.replace("示例县华锐精密机械有限公司", "欧元")) .replace("欧元".encode("gb18030"), b"\x80") + b"\n")
w("csv-bom-then-gb18030.csv", b"\xef\xbb\xbf" + gb(lines(HEADER, ROW1)))
w("csv-utf8-overlong-and-surrogate.csv", lines(HEADER).encode() + b"\xc0\xaf,\xed\xa0\x80\n" + ROW1.encode() + b"\n")
w("csv-latin1-header.csv", "Code,Nom,Région\n".encode("latin-1") + ROW1.encode() + b"\n")
w("csv-emoji-gb18030.csv", gb(lines(HEADER, ROW1.replace("示例县", "😀示例县"))))

# ── quoting ────────────────────────────────────────────────────────────────────────────────────────────────
w("csv-quote-never-closed.csv", lines(HEADER, '91330727MA2YDM6Y9J,"未闭合的名称,330727,C3481,2023,4,1', ROW2))
w("csv-quote-text-after-close.csv", lines(HEADER, '91330727MA2YDM6Y9J,"名称"多余,330727,C3481,2023,4,1', ROW2))
w("csv-quoted-newlines.csv", lines(HEADER, '91330727MA2YDM6Y9J,"第一行\n第二行\n第三行",330727,C3481,2023,4,1', ROW2))
w("csv-doubled-quotes.csv", lines(HEADER, '91330727MA2YDM6Y9J,"某""引号""公司",330727,C3481,2023,4,1'))
w("csv-quote-at-eof.csv", lines(HEADER, ROW1) + '91330727MA2NH61Y5P,"到文件末尾')
w("csv-unquoted-comma-in-name.csv", lines(HEADER, "91330727MA2YDM6Y9J,华锐,精密机械有限公司,330727,C3481,2023,4,2009.1", ROW2))
w("csv-crlf-mixed-lf-cr.csv", (HEADER + "\r\n" + ROW1 + "\n" + ROW2 + "\r\r\n").encode())

# ── ragged rows, truncation ────────────────────────────────────────────────────────────────────────────────
w("csv-ragged-short-rows.csv", lines(HEADER, "91330727MA2YDM6Y9J,短行", "91330727MA2YDM6Y9J", ROW2))
w("csv-ragged-long-rows.csv", lines(HEADER, ROW1 + ",多余1,多余2,多余3", ROW2 + ",,,"))
w("csv-truncated-mid-row.csv", lines(HEADER, ROW1).encode() + ROW2.encode()[:25])
w("csv-header-only.csv", lines(HEADER))
w("csv-empty.csv", b"")
w("csv-only-newlines.csv", b"\n\n\r\n\n")
w("csv-no-header.csv", lines(ROW1, ROW2))

# ── NUL bytes and binary junk ──────────────────────────────────────────────────────────────────────────────
w("csv-nul-bytes.csv", lines(HEADER).encode() + ROW1.encode().replace(b",", b",\x00", 2) + b"\n" + ROW2.encode() + b"\n")
w("csv-binary-junk.csv", bytes((i * 73 + 11) % 256 for i in range(3000)))
w("csv-zip-disguised.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(range(256)) * 4)
w("csv-control-chars.csv", lines(HEADER, ROW1.replace("示例县", "示例\x07\x1b[31m县")))

# ── Excel artefacts ────────────────────────────────────────────────────────────────────────────────────────
w("csv-excel-scientific-uscc.csv", gb(lines(HEADER, "9.13307E+17,科学计数法公司,330727,C3481,2023,4,1", ROW2)))
w("csv-excel-title-rows.csv", gb(lines("企业研究开发活动及相关情况（2023年）,,,,,,", "填报单位：示例县科技局,,,,,,", HEADER, "计量单位,,,,,人,千元", ROW1, "合计,,,,,17,6773.8", "单位负责人：张三  填表人：李四,,,,,,")))
w("csv-excel-formula-cells.csv", lines(HEADER, '91330727MA2YDM6Y9J,=HYPERLINK("http://x"),330727,C3481,2023,=1+1,@SUM(A1)'))
w("csv-excel-fullwidth-digits.csv", gb(lines(HEADER, "９１３３０７２７ＭＡ２ＹＤＭ６Ｙ９Ｊ,全角公司,３３０７２７,C3481,２０２３,４,２００９．１")))
w("csv-excel-placeholders.csv", gb(lines(HEADER, "91330727MA2YDM6Y9J,占位公司,330727,C3481,2023,-,/", "91330727MA2NH61Y5P,约数公司,330727,C2641,2023,约50,#N/A")))
w("csv-repeated-header-pages.csv", gb(lines(HEADER, ROW1, "", HEADER, ROW2)))
w("csv-projects-107-1.csv", gb(lines(PROJ_HEADER, PROJ_ROW, "91330727MA2YDM6Y9J,2023,,1,4,27.5,1777")))
w("csv-semicolon-separated.csv", lines(HEADER.replace(",", ";"), ROW1.replace(",", ";")))
w("csv-very-long-line.csv", lines(HEADER, "91330727MA2YDM6Y9J," + "长" * 20000 + ",330727,C3481,2023,4,1", ROW2))
w("csv-wide-row.csv", lines(HEADER, ",".join(["1"] * 5000), ROW2))

# ── XML ────────────────────────────────────────────────────────────────────────────────────────────────────
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<RDReport xmlns="urn:yingtong:rd:1" period="2023">\n'
ENT = ('  <Enterprise uscc="91330727MA2YDM6Y9J" name="示例县华锐精密机械有限公司" region="330727" industry="3481">\n'
       '    <Value field="rd_staff_total">4</Value>\n    <Value field="rd_exp_total">2009.1</Value>\n  </Enterprise>\n')
XML_TAIL = "</RDReport>\n"
w("xml-clean.xml", XML_HEAD + ENT + XML_TAIL)
w("xml-billion-laughs.xml", '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n<RDReport xmlns="urn:yingtong:rd:1" period="2023">&lol3;</RDReport>\n')
w("xml-xxe-file.xml", '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<RDReport xmlns="urn:yingtong:rd:1" period="2023">\n<Enterprise uscc="91330727MA2YDM6Y9J" name="&x;"/>\n</RDReport>\n')
w("xml-parameter-entity.xml", '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1/x.dtd"> %p;]>\n<RDReport xmlns="urn:yingtong:rd:1" period="2023"/>\n')
w("xml-truncated.xml", (XML_HEAD + ENT + ENT.replace("YDM6Y9J", "NH61Y5P"))[:-60])
w("xml-declared-gbk-is-utf8.xml", (XML_HEAD.replace("UTF-8", "GBK") + ENT + XML_TAIL).encode("utf-8"))
w("xml-declared-utf8-is-gb18030.xml", (XML_HEAD + ENT + XML_TAIL).encode("gb18030"))
w("xml-gb18030-declared.xml", (XML_HEAD.replace("UTF-8", "GB18030") + ENT + XML_TAIL).encode("gb18030"))
w("xml-utf16-bom.xml", b"\xff\xfe" + (XML_HEAD.replace("UTF-8", "UTF-16") + ENT + XML_TAIL).encode("utf-16-le"))
w("xml-unknown-encoding.xml", (XML_HEAD.replace("UTF-8", "X-NOPE-42") + ENT + XML_TAIL).encode())
w("xml-nul-byte.xml", (XML_HEAD + ENT).encode() + b"\x00\x00" + (ENT + XML_TAIL).encode())
w("xml-binary-junk.xml", b"<?xml version=\"1.0\"?>\n" + bytes((i * 151 + 7) % 256 for i in range(2000)))
w("xml-mismatched-tags.xml", XML_HEAD + ENT.replace("</Enterprise>", "</Enterprse>") + XML_TAIL)
w("xml-duplicate-field.xml", XML_HEAD + ENT.replace('<Value field="rd_exp_total">2009.1</Value>', '<Value field="rd_exp_total">1</Value><Value field="rd_exp_total">2</Value>') + XML_TAIL)
w("xml-scientific-uscc.xml", XML_HEAD + ENT.replace("91330727MA2YDM6Y9J", "9.13307E+17") + XML_TAIL)
w("xml-deep-nesting.xml", XML_HEAD + "<a>" * 300 + "</a>" * 300 + "\n" + XML_TAIL)
w("xml-huge-text.xml", XML_HEAD + ENT.replace("示例县华锐精密机械有限公司", "长" * 20000) + XML_TAIL)
w("xml-cdata-and-comments.xml", XML_HEAD + "<!-- 注释 -->\n" + ENT.replace(">2009.1<", "><![CDATA[2009.1]]><") + XML_TAIL)
w("xml-processing-instruction.xml", XML_HEAD + '<?evil cmd="rm -rf /"?>\n' + ENT + XML_TAIL)
w("xml-wrong-namespace.xml", XML_HEAD.replace("urn:yingtong:rd:1", "urn:other") + ENT + XML_TAIL)
w("xml-empty.xml", b"")
w("xml-garbage-after-root.xml", XML_HEAD + ENT + XML_TAIL + "<RDReport/>\n垃圾\n")
w("sdmx-xxe.xml", '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n<message:GenericData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message">&x;</message:GenericData>\n')
w("sdmx-truncated.xml", open(os.path.join(os.path.dirname(OUT), "..", "..", "fixtures", "sdmx", "macro-generic.xml"), "rb").read()[:1500])
