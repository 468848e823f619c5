import Foundation
import Testing
import YingtongIngest
import YingtongModel
@testable import YingtongXML

private let mesNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
private let genNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"
private let ssNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
private let footerNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer"
private let comNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"

/// The observations every layout below encodes: 2 regions × 2 indicators × 2 years.
private struct Cell: Hashable { let region: String; let indicator: String; let year: String; let value: String }
private let regions = ["330122", "330127"]
private let indicators = [("GDP", "CNY", "4"), ("EMPLOYED", "PS", "0")]
private let years = ["2022", "2023"]
private func value(_ r: String, _ i: String, _ y: String) -> String {
    "\(Int(r)! % 1000 * 10 + (i == "GDP" ? 7 : 3)).\(y.suffix(1))"
}
private func unitAttrs(_ i: String) -> (String, String) { indicators.first { $0.0 == i }.map { ($0.1, $0.2) }! }

private func header(_ root: String, dimAtObs: String, prefix: String = "mes") -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <\(prefix):\(root) xmlns:\(prefix)="\(mesNS)" xmlns:g="\(genNS)" xmlns:ss="\(ssNS)" xmlns:ns1="urn:sdmx:yingtong:macro:1.0">
      <\(prefix):Header>
        <\(prefix):ID>M1</\(prefix):ID>
        <\(prefix):Structure structureID="MACRO" dimensionAtObservation="\(dimAtObs)"/>
      </\(prefix):Header>

    """
}

/// Layout 1: generic, series keyed by region and indicator, time at observation, unit attributes on the series.
private func genericSeries() -> String {
    var s = header("GenericData", dimAtObs: "TIME_PERIOD")
    s += "  <mes:DataSet structureRef=\"MACRO\">\n"
    for r in regions { for (i, m, mult) in indicators {
        s += "    <g:Series>\n      <g:SeriesKey><g:Value id=\"REF_AREA\" value=\"\(r)\"/><g:Value id=\"INDICATOR\" value=\"\(i)\"/></g:SeriesKey>\n"
        s += "      <g:Attributes><g:Value id=\"UNIT_MEASURE\" value=\"\(m)\"/><g:Value id=\"UNIT_MULT\" value=\"\(mult)\"/></g:Attributes>\n"
        for y in years {
            s += "      <g:Obs>\n        <g:ObsDimension value=\"\(y)\"/>\n        <g:ObsValue value=\"\(value(r, i, y))\"/>\n      </g:Obs>\n"
        }
        s += "    </g:Series>\n"
    } }
    return s + "  </mes:DataSet>\n</mes:GenericData>\n"
}

/// Layout 2: generic, flat (AllDimensions), every attribute on the observation; other prefixes.
private func genericFlat() -> String {
    var s = header("GenericData", dimAtObs: "AllDimensions", prefix: "message")
        .replacingOccurrences(of: "xmlns:g=", with: "xmlns:generic=")
    s += "  <message:DataSet structureRef=\"MACRO\">\n"
    for y in years { for r in regions { for (i, m, mult) in indicators {
        s += "    <generic:Obs><generic:ObsKey><generic:Value id=\"TIME_PERIOD\" value=\"\(y)\"/><generic:Value id=\"REF_AREA\" value=\"\(r)\"/><generic:Value id=\"INDICATOR\" value=\"\(i)\"/></generic:ObsKey>"
        s += "<generic:ObsValue value=\"\(value(r, i, y))\"/><generic:Attributes><generic:Value id=\"UNIT_MULT\" value=\"\(mult)\"/><generic:Value id=\"UNIT_MEASURE\" value=\"\(m)\"/></generic:Attributes></generic:Obs>\n"
    } } }
    return s + "  </message:DataSet>\n</message:GenericData>\n"
}

/// Layout 3: structure-specific cross-section, REF_AREA at observation, no prefix on the data elements.
private func crossSection() -> String {
    var s = header("StructureSpecificData", dimAtObs: "REF_AREA")
    s += "  <mes:DataSet ss:structureRef=\"MACRO\" ss:dataScope=\"DataStructure\">\n"
    for (i, m, mult) in indicators { for y in years {
        s += "    <Series INDICATOR=\"\(i)\" TIME_PERIOD=\"\(y)\" UNIT_MEASURE=\"\(m)\" UNIT_MULT=\"\(mult)\">\n"
        for r in regions { s += "      <Obs REF_AREA=\"\(r)\" OBS_VALUE=\"\(value(r, i, y))\"/>\n" }
        s += "    </Series>\n"
    } }
    return s + "  </mes:DataSet>\n</mes:StructureSpecificData>\n"
}

/// Layout 4: structure-specific time series, the unit attributes carried by a group per indicator.
private func withGroups() -> String {
    var s = header("StructureSpecificTimeSeriesData", dimAtObs: "TIME_PERIOD")
    s += "  <mes:DataSet ss:structureRef=\"MACRO\">\n"
    for (i, m, mult) in indicators {
        s += "    <ns1:Group xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"ns1:IndicatorGroup\" INDICATOR=\"\(i)\" UNIT_MEASURE=\"\(m)\" UNIT_MULT=\"\(mult)\"/>\n"
    }
    for r in regions { for (i, _, _) in indicators {
        s += "    <ns1:Series REF_AREA=\"\(r)\" INDICATOR=\"\(i)\">\n"
        for y in years { s += "      <ns1:Obs TIME_PERIOD=\"\(y)\" OBS_VALUE=\"\(value(r, i, y))\"/>\n" }
        s += "    </ns1:Series>\n"
    } }
    return s + "  </mes:DataSet>\n</mes:StructureSpecificTimeSeriesData>\n"
}

/// Layout 5: generic time series with a group keyed by indicator (GroupKey + Attributes).
private func genericWithGroups() -> String {
    var s = header("GenericTimeSeriesData", dimAtObs: "TIME_PERIOD")
    s += "  <mes:DataSet structureRef=\"MACRO\">\n"
    for (i, m, mult) in indicators {
        s += "    <g:Group type=\"IndicatorGroup\"><g:GroupKey><g:Value id=\"INDICATOR\" value=\"\(i)\"/></g:GroupKey>"
        s += "<g:Attributes><g:Value id=\"UNIT_MEASURE\" value=\"\(m)\"/><g:Value id=\"UNIT_MULT\" value=\"\(mult)\"/></g:Attributes></g:Group>\n"
    }
    for r in regions { for (i, _, _) in indicators {
        s += "    <g:Series><g:SeriesKey><g:Value id=\"REF_AREA\" value=\"\(r)\"/><g:Value id=\"INDICATOR\" value=\"\(i)\"/></g:SeriesKey>\n"
        for y in years { s += "      <g:Obs><g:ObsDimension value=\"\(y)\"/><g:ObsValue value=\"\(value(r, i, y))\"/></g:Obs>\n" }
        s += "    </g:Series>\n"
    } }
    return s + "  </mes:DataSet>\n</mes:GenericTimeSeriesData>\n"
}

private func observations(_ xml: String) throws -> [SDMXObservation] {
    let reader = try SDMXObservationReader(path: try temporaryFile("sdmx.xml", xml))
    var out: [SDMXObservation] = []
    while let o = try reader.next() { out.append(o) }
    return out
}

private func readMacro(_ xml: String, mapping: SDMXMapping = SDMXMapping()) throws -> (CollectingSink, LineAccount) {
    var sink = CollectingSink()
    var reader = SDMXReader(source: SourceFile(index: 1, path: try temporaryFile("macro.xml", xml), role: "macro"),
                            mapping: mapping)
    let account = try reader.read(batchSize: 3, into: &sink)
    return (sink, account)
}

@Suite("SDMX-ML 2.1")
struct SDMXTests {
    @Test func fourLayoutsGiveIdenticalRows() throws {
        var expected: Set<[String: String]> = []
        for r in regions { for (i, _, mult) in indicators { for y in years {
            expected.insert(["region_code": r, "period": y, "indicator": i, "value": value(r, i, y),
                             "unit": i == "GDP" && mult == "4" ? "万元" : "人"])
        } } }
        var expectedObs: Set<[String: String]> = []
        for r in regions { for (i, m, mult) in indicators { for y in years {
            expectedObs.insert(["REF_AREA": r, "INDICATOR": i, "TIME_PERIOD": y, "OBS_VALUE": value(r, i, y),
                                "@UNIT_MEASURE": m, "@UNIT_MULT": mult])
        } } }
        let layouts = ["generic series": genericSeries(), "generic flat": genericFlat(),
                       "cross-section": crossSection(), "groups (structure-specific)": withGroups(),
                       "groups (generic)": genericWithGroups()]
        for (name, xml) in layouts {
            let (sink, account) = try readMacro(xml)
            let rows = sink.rows(of: .macro)
            #expect(rows.count == 8, "\(name)")
            #expect(Set(rows) == expected, "\(name)")
            #expect(sink.quarantined.isEmpty, "\(name)")
            #expect(account.records == 8 && account.balanced, "\(name)")
            #expect(sink.batches.allSatisfy { $0.count <= 3 })

            let obs = try observations(xml)
            var flat: Set<[String: String]> = []
            for o in obs {
                var d = o.dimensions.dictionary
                d["OBS_VALUE"] = o.value
                for (k, v) in o.attributes { d["@" + k] = v }
                flat.insert(d)
            }
            #expect(flat == expectedObs, "\(name)")
        }
    }

    @Test func observationCarriesLocationAndKeyOrder() throws {
        let obs = try observations(genericSeries())
        #expect(obs.count == 8)
        #expect(obs[0].dimensions.keys == ["REF_AREA", "INDICATOR", "TIME_PERIOD"])
        #expect(obs[0].elementPath == "/GenericData/DataSet[1]/Series[1]/Obs[1]")
        #expect(obs[3].elementPath == "/GenericData/DataSet[1]/Series[2]/Obs[2]")
        #expect(obs[0].line == 11 && obs[0].lineEnd == 14)
        #expect(obs[0].dataSet == 1)
        let flat = try observations(genericFlat())
        #expect(flat[0].dimensions.keys == ["TIME_PERIOD", "REF_AREA", "INDICATOR"])
        #expect(flat[0].elementPath == "/GenericData/DataSet[1]/Obs[1]")
    }

    @Test func attributesMergeDownFromDatasetToObservation() throws {
        let xml = header("StructureSpecificData", dimAtObs: "TIME_PERIOD") + """
          <mes:DataSet ss:structureRef="MACRO" COMMENT="dataset" TITLE="全县宏观" OBS_STATUS="E">
            <Group INDICATOR="GDP" COMMENT="group" UNIT_MULT="8" UNIT_MEASURE="CNY"/>
            <Group INDICATOR="EMPLOYED" UNIT_MULT="0" UNIT_MEASURE="PS"/>
            <Series REF_AREA="330122" INDICATOR="GDP" TITLE="series">
              <Obs TIME_PERIOD="2023" OBS_VALUE="1.2" OBS_STATUS="A"/>
              <Obs TIME_PERIOD="2022" OBS_VALUE="1.1"/>
            </Series>
          </mes:DataSet>
        </mes:StructureSpecificData>

        """
        let obs = try observations(xml)
        #expect(obs.count == 2)
        #expect(obs[0].attributes == ["COMMENT": "group", "TITLE": "series", "OBS_STATUS": "A", "UNIT_MULT": "8", "UNIT_MEASURE": "CNY"])
        #expect(obs[1].attributes["OBS_STATUS"] == "E", "the dataset's attribute applies when the observation has none")
        #expect(obs[0].dimensions.dictionary == ["REF_AREA": "330122", "INDICATOR": "GDP", "TIME_PERIOD": "2023"])
        let (sink, _) = try readMacro(xml)
        #expect(sink.rows(of: .macro).first?["unit"] == "亿元")
    }

    @Test func genericDatasetAttributesMergeToo() throws {
        let xml = header("GenericData", dimAtObs: "TIME_PERIOD") + """
          <mes:DataSet structureRef="MACRO">
            <g:Attributes><g:Value id="UNIT_MEASURE" value="CNY"/><g:Value id="UNIT_MULT" value="0"/></g:Attributes>
            <g:Series><g:SeriesKey><g:Value id="REF_AREA" value="330122"/><g:Value id="INDICATOR" value="GDP"/></g:SeriesKey>
              <g:Obs><g:ObsDimension value="2023"/><g:ObsValue value="5"/><g:Attributes><g:Value id="UNIT_MULT" value="4"/></g:Attributes></g:Obs>
              <g:Obs><g:ObsDimension value="2022"/><g:ObsValue value="NaN"/></g:Obs>
            </g:Series>
          </mes:DataSet>
        </mes:GenericData>

        """
        let (sink, account) = try readMacro(xml)
        let rows = sink.rows(of: .macro)
        #expect(rows.map { $0["unit"] } == ["万元", "元"])
        #expect(rows[1]["value"] == nil, "NaN is missing, not a number")
        #expect(account.balanced)
    }

    @Test func severalDatasetsInOneMessage() throws {
        let xml = header("StructureSpecificData", dimAtObs: "TIME_PERIOD").replacingOccurrences(
            of: "</mes:Header>", with: "  <mes:Structure structureID=\"XS\" dimensionAtObservation=\"REF_AREA\"/>\n  </mes:Header>") + """
          <mes:DataSet ss:structureRef="MACRO" UNIT_MEASURE="CNY" UNIT_MULT="4">
            <Series REF_AREA="330122" INDICATOR="GDP"><Obs TIME_PERIOD="2023" OBS_VALUE="10"/></Series>
          </mes:DataSet>
          <mes:DataSet ss:structureRef="XS" UNIT_MEASURE="PS">
            <Series INDICATOR="EMPLOYED" TIME_PERIOD="2023"><Obs REF_AREA="330122" OBS_VALUE="5"/><Obs REF_AREA="330127" OBS_VALUE="6"/></Series>
          </mes:DataSet>
        </mes:StructureSpecificData>

        """
        let obs = try observations(xml)
        #expect(obs.map(\.dataSet) == [1, 2, 2])
        #expect(obs[2].elementPath == "/StructureSpecificData/DataSet[2]/Series[1]/Obs[2]")
        #expect(obs[2].dimensions.dictionary == ["INDICATOR": "EMPLOYED", "TIME_PERIOD": "2023", "REF_AREA": "330127"])
        #expect(obs[0].attributes["UNIT_MULT"] == "4" && obs[1].attributes["UNIT_MULT"] == nil,
                "one dataset's attributes do not leak into the next")
        let (sink, _) = try readMacro(xml)
        #expect(sink.rows(of: .macro).map { $0["unit"] } == ["万元", "人", "人"])
    }

    @Test func footerOnlyMessageIsAnErrorWithTheFootersText() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <message:GenericData xmlns:message="\(mesNS)" xmlns:footer="\(footerNS)" xmlns:common="\(comNS)">
          <message:Header><message:ID>ERR</message:ID></message:Header>
          <message:Footer>
            <footer:Message code="413" severity="Error">
              <common:Text xml:lang="zh">查询结果过大，请缩小范围</common:Text>
            </footer:Message>
          </message:Footer>
        </message:GenericData>
        """
        let path = try temporaryFile("footer.xml", xml)
        let reader = try SDMXObservationReader(path: path)
        do {
            _ = try reader.next()
            Issue.record("a footer-only message must be an error")
        } catch let e as YingtongError {
            #expect(e.code == "E-SDMX-FOOTER")
            #expect(e.messageZh.contains("413") && e.messageZh.contains("查询结果过大，请缩小范围"))
        }
        #expect(reader.footer.first?.code == "413")
        var sink = CollectingSink()
        var macro = SDMXReader(source: SourceFile(index: 0, path: path, role: "macro"))
        #expect(throws: YingtongError.self) { try macro.read(batchSize: 10, into: &sink) }
    }

    @Test func unmappableObservationIsQuarantinedAlone() throws {
        let xml = header("StructureSpecificData", dimAtObs: "TIME_PERIOD") + """
          <mes:DataSet ss:structureRef="MACRO">
            <Series REF_AREA="330122" INDICATOR="GDP" UNIT_MEASURE="USD" UNIT_MULT="6"><Obs TIME_PERIOD="2023" OBS_VALUE="1"/></Series>
            <Series INDICATOR="GDP" UNIT_MEASURE="CNY" UNIT_MULT="4"><Obs TIME_PERIOD="2023" OBS_VALUE="2"/></Series>
            <Series REF_AREA="330122" INDICATOR="B1GQ" UNIT_MEASURE="CNY" UNIT_MULT="4"><Obs TIME_PERIOD="2023" OBS_VALUE="3"/></Series>
          </mes:DataSet>
        </mes:StructureSpecificData>

        """
        var mapping = SDMXMapping()
        mapping.indicatorCodes = ["B1GQ": "GDP"]
        let (sink, account) = try readMacro(xml, mapping: mapping)
        #expect(sink.quarantined.map(\.code) == ["E-SDMX-UNIT", "E-SDMX-KEY"])
        #expect(sink.quarantined[0].elementPath == "/StructureSpecificData/DataSet[1]/Series[1]/Obs[1]")
        #expect(sink.rows(of: .macro) == [["region_code": "330122", "period": "2023", "indicator": "GDP", "value": "3", "unit": "万元"]])
        #expect(account.records == 1 && account.quarantinedRecords == 2 && account.balanced)

        mapping.defaults["region_code"] = "330100"
        let (again, _) = try readMacro(xml, mapping: mapping)
        #expect(again.rows(of: .macro).map { $0["region_code"] } == ["330100", "330122"])
    }

    @Test func truncatedMessageKeepsEarlierObservations() throws {
        let full = genericSeries()
        let cut = String(full.prefix(full.utf8.count * 2 / 3))
        let (sink, account) = try readMacro(cut)
        let complete = cut.components(separatedBy: "</g:Obs>").count - 1
        #expect(sink.rows(of: .macro).count == complete)
        #expect(sink.quarantined.map(\.code) == ["E-XML-MALFORMED"])
        #expect(account.balanced)
    }

    @Test(arguments: ["UTF-8", "UTF-16"])
    func faultInTheMiddleKeepsEveryObservationBeforeIt(encoding: String) throws {
        // The fault sits in the 7th observation, well inside libxml2's first parse chunk.
        var lines = genericSeries().components(separatedBy: "\n")
        let obsStarts = lines.indices.filter { lines[$0].contains("<g:Obs>") }
        lines[obsStarts[6] + 2] = "        <g:ObsValue value=\"1\" value=\"2\"/>"
        var text = lines.joined(separator: "\n")
        var data = Data(text.utf8)
        if encoding == "UTF-16" {
            text = text.replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"UTF-16\"")
            data = Data([0xFF, 0xFE])
            for u in text.utf16 { data.append(UInt8(u & 0xFF)); data.append(UInt8(u >> 8)) }
        }
        var sink = CollectingSink()
        var reader = SDMXReader(source: SourceFile(index: 1, path: try temporaryFile("mid.xml", data), role: "macro"))
        let account = try reader.read(batchSize: 100, into: &sink)
        #expect(sink.rows(of: .macro).count == 6)
        #expect(sink.quarantined.map(\.code) == ["E-XML-MALFORMED"])
        let lastKept = try #require(sink.provenance(of: .macro).last)
        #expect(lastKept.elementPath == "/GenericData/DataSet[1]/Series[3]/Obs[2]")
        #expect(sink.quarantined.first?.line == lastKept.lineEnd + 1, "the block starts right after the 6th observation")
        #expect(sink.quarantined.first?.messageZh.contains("第 \(obsStarts[6] + 3) 行") == true)
        #expect(account.records == 6 && account.balanced)
    }

    @Test func notSDMXIsAnError() throws {
        let path = try temporaryFile("x.xml", "<RDReport xmlns=\"urn:yingtong:rd:1\"/>")
        let reader = try SDMXObservationReader(path: path)
        #expect(throws: YingtongError.self) { _ = try reader.next() }
    }
}

@Suite("SDMX observation JSON")
struct SDMXJSONTests {
    @Test func jsonLineKeepsDimensionOrderAndEscapes() throws {
        let obs = SDMXObservation(dimensions: ["REF_AREA": "330122", "INDICATOR": "GDP", "TIME_PERIOD": "2023"],
                                  value: "1.5", attributes: ["UNIT_MULT": "4", "COMMENT": "引号\"与\n换行"],
                                  line: 3, lineEnd: 3, elementPath: "/GenericData/DataSet[1]/Obs[1]", dataSet: 1)
        let line = obs.jsonLine
        #expect(line.hasPrefix(#"{"kind":"record","dimensions":{"REF_AREA":"330122","INDICATOR":"GDP","TIME_PERIOD":"2023"},"value":"1.5""#))
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let attrs = parsed?["attributes"] as? [String: String]
        #expect(attrs?["COMMENT"] == "引号\"与\n换行")
        #expect(parsed?["line"] as? Int == 3)
    }
}

@Suite("SDMX: bad input never crashes")
struct SDMXDamagedInputTests {
    @Test func truncationsAndCorruptionsAreAlwaysAccounted() throws {
        for base in [genericSeries(), crossSection(), withGroups()] {
            let bytes = Array(base.utf8)
            var variants: [[UInt8]] = []
            for cut in stride(from: 1, to: bytes.count, by: 97) { variants.append(Array(bytes[..<cut])) }
            let junk: [UInt8] = [0x00, 0x26, 0x3C, 0x22, 0xFF]
            for (i, at) in stride(from: 0, to: bytes.count, by: 113).enumerated() {
                var v = bytes
                v[at] = junk[i % junk.count]
                variants.append(v)
            }
            for v in variants {
                var sink = CollectingSink()
                let path = try temporaryFile("d.xml", Data(v))
                defer { try? FileManager.default.removeItem(atPath: path) }
                var reader = SDMXReader(source: SourceFile(index: 0, path: path, role: "macro"))
                do {
                    let account = try reader.read(batchSize: 5, into: &sink)
                    #expect(account.balanced)
                    #expect(account.records == sink.rows(of: .macro).count)
                } catch let e as YingtongError {
                    #expect(e.code.hasPrefix("E-SDMX") || e.code.hasPrefix("E-XML"), "\(e)")
                }
            }
        }
    }
}

@Suite("SDMX as central banks send it")
struct SDMXRealWorldShapeTests {
    /// The shape of an ECB exchange-rate message: header with a nested common:Structure, xsi:type on the
    /// dataset, series carrying cross-domain attributes next to the dimensions.
    @Test func ecbStyleStructureSpecificMessage() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <message:StructureSpecificData xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" xmlns:footer="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer" xmlns:ns1="urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ECB:EXR(1.0):ObsLevelDim:TIME_PERIOD" xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <message:Header>
        <message:ID>b3b5a5c3</message:ID>
        <message:Test>false</message:Test>
        <message:Prepared>2024-05-02T10:00:00.000+02:00</message:Prepared>
        <message:Sender id="ECB"/>
        <message:Structure structureID="ECB_EXR1" namespace="urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ECB:EXR(1.0):ObsLevelDim:TIME_PERIOD" dimensionAtObservation="TIME_PERIOD">
        <common:Structure><URN>urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=ECB:ECB_EXR1(1.0)</URN></common:Structure>
        </message:Structure>
        </message:Header>
        <message:DataSet ss:dataScope="DataStructure" xsi:type="ns1:DataSetType" ss:structureRef="ECB_EXR1">
        <Series FREQ="A" CURRENCY="USD" CURRENCY_DENOM="EUR" EXR_TYPE="SP00" EXR_SUFFIX="A" TIME_FORMAT="P1Y" COLLECTION="A" DECIMALS="4" TITLE="US dollar/Euro" UNIT="USD" UNIT_MULT="0">
        <Obs TIME_PERIOD="2022" OBS_VALUE="1.0530" OBS_STATUS="A" OBS_CONF="F"/>
        <Obs TIME_PERIOD="2023" OBS_VALUE="1.0813" OBS_STATUS="A" OBS_CONF="F"/>
        </Series>
        </message:DataSet>
        </message:StructureSpecificData>
        """
        let reader = try SDMXObservationReader(path: try temporaryFile("ecb.xml", xml))
        var obs: [SDMXObservation] = []
        while let o = try reader.next() { obs.append(o) }
        #expect(obs.count == 2)
        #expect(obs[1].dimensions.keys == ["FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX", "TIME_PERIOD"])
        #expect(obs[1].value == "1.0813")
        #expect(obs[1].attributes == ["TIME_FORMAT": "P1Y", "COLLECTION": "A", "DECIMALS": "4", "TITLE": "US dollar/Euro",
                                      "UNIT": "USD", "UNIT_MULT": "0", "OBS_STATUS": "A", "OBS_CONF": "F"])
        #expect(obs[1].line == 15)
        #expect(obs[1].elementPath == "/StructureSpecificData/DataSet[1]/Series[1]/Obs[2]")
    }
}
