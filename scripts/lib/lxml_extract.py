#!/usr/bin/env python3
"""The same extraction as YingtongXMLReader, done with lxml's iterparse: the baseline for scripts/bench-xml.

Per Enterprise: identity attributes, every Value (field, unit, text), every Project's attributes and Values,
every Note; elements are cleared as they complete so memory stays flat, as lxml's documentation advises.
"""
import sys
import time

from lxml import etree

NS = "{urn:yingtong:rd:1}"


def main(path):
    start = time.perf_counter()
    enterprises = rows = cells = notes = 0
    period = None
    for event, el in etree.iterparse(path, events=("start", "end"), resolve_entities=False, no_network=True,
                                     load_dtd=False, huge_tree=False):
        if event == "start":
            if el.tag == NS + "RDReport":
                period = el.get("period")
            continue
        if el.tag != NS + "Enterprise":
            continue
        identity = {k: el.get(k) for k in ("uscc", "name", "region", "industry", "period", "submittedAt")}
        if identity["period"] is None:
            identity["period"] = period
        values = {}
        for child in el:
            if child.tag == NS + "Value":
                values[child.get("field")] = ((child.text or "").strip(), child.get("unit"))
            elif child.tag == NS + "Project":
                project = dict(child.attrib)
                project_values = {v.get("field"): ((v.text or "").strip(), v.get("unit")) for v in child}
                rows += 1
                cells += len(project) + len(project_values) + len(identity)
            elif child.tag == NS + "Note":
                notes += 1
        enterprises += 1
        rows += 1
        cells += len(values) + sum(1 for v in identity.values() if v is not None)
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
    seconds = time.perf_counter() - start
    import os
    mb = os.path.getsize(path) / 1e6
    print(f"lxml {etree.LXML_VERSION}: {mb:.1f} MB in {seconds:.2f} s = {mb / seconds:.1f} MB/s; "
          f"enterprises {enterprises}, rows {rows}, cells {cells}, notes {notes}")


if __name__ == "__main__":
    main(sys.argv[1])
