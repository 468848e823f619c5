import Foundation
import GRDB
import YingtongModel

/// The indicator table as an SDMX-ML 2.1 StructureSpecificData message (FORMATS §6), the form statistics
/// bureaus exchange macro data in — the same dataflow yingtong reads (FORMATS §4).
///
/// Every observation carries all its dimensions (`dimensionAtObservation="AllDimensions"`): `REF_AREA`
/// (行政区划代码), `INDICATOR` (the indicator code in upper case, `RD_INTENSITY`), `TIME_PERIOD` (year), the
/// measure `OBS_VALUE` (exact decimal text), and the attributes `UNIT_MEASURE` and `UNIT_MULT` (亿元 is `CNY`
/// × 10⁸). An indicator whose value is missing has no observation: SDMX has no "unknown" number, and the reason
/// stays in the store's `note`. When one region and period were computed by several runs (a county run and a
/// city run), the newest run's figure is the observation, so every key appears once.
public enum SDMXIndicatorWriter {
    public static let agency = "YINGTONG"
    public static let dsdID = "DSD_RD_INDICATORS"
    public static let version = "1.0"
    public static var dsdURN: String { "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=\(agency):\(dsdID)(\(version))" }

    /// SDMX unit codes and multipliers of the indicator units (DOMAIN §2.1 "unit shown").
    public static let units: [String: (measure: String, multiplier: Int)] = [
        "亿元": ("CNY", 8), "万元": ("CNY", 4), "千元": ("CNY", 3), "元": ("CNY", 0), "%": ("PC", 0),
        "人年": ("PERSON_YEARS", 0), "人年/万人": ("PERSON_YEARS_PER_10K_EMPLOYED", 0), "家": ("ENTERPRISES", 0),
        "项": ("CONTRACTS", 0), "个": ("NUMBER", 0), "人": ("PERSONS", 0), "位": ("RANK", 0), "平均位次": ("RANK", 0),
    ]

    public static func unit(_ u: String) -> (measure: String, multiplier: Int) { units[u] ?? ("NUMBER", 0) }

    /// Writes the indicators of `period` (every period when nil) to `path`; returns the number of observations.
    @discardableResult
    public static func write(_ db: Database, period: Int?, run: Int64? = nil, to path: String,
                             prepared: Date = Date()) throws -> Int {
        let out = try OutputFile(path: path)
        let stamp = ISO8601DateFormatter().string(from: prepared).replacingOccurrences(of: "Z", with: "")
        let structureID = "\(agency)_\(dsdID)_\(version.replacingOccurrences(of: ".", with: "_"))"
        let namespace = "\(dsdURN):ObsLevelDim:AllDimensions"
        try out.write("""
            <?xml version="1.0" encoding="UTF-8"?>
            <message:StructureSpecificData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" \
            xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common" \
            xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" \
            xmlns:ns1="\(namespace)" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <message:Header>
                <message:ID>YT_IND_\(period.map(String.init) ?? "ALL")</message:ID>
                <message:Test>false</message:Test>
                <message:Prepared>\(stamp)</message:Prepared>
                <message:Sender id="\(agency)"/>
                <message:Structure structureID="\(structureID)" namespace="\(namespace)" dimensionAtObservation="AllDimensions">
                  <common:Structure><URN>\(dsdURN)</URN></common:Structure>
                </message:Structure>
              </message:Header>
              <message:DataSet ss:structureRef="\(structureID)" xsi:type="ns1:DataSetType" ss:dataScope="DataStructure" ss:action="Information">

            """)
        var sql = """
            SELECT i.region_code, i.period, i.code, i.value, i.unit FROM indicator i
            WHERE i.value IS NOT NULL AND i.run_id = (SELECT MAX(j.run_id) FROM indicator j
                WHERE j.region_code = i.region_code AND j.period = i.period AND j.code = i.code)
            """
        var arguments: StatementArguments = []
        if let run {
            sql = "SELECT i.region_code, i.period, i.code, i.value, i.unit FROM indicator i WHERE i.value IS NOT NULL AND i.run_id = ?"
            arguments = [run]
        } else if let period {
            sql += " AND i.period = ?"
            arguments = [period]
        }
        sql += " ORDER BY i.period, i.region_code, i.id"
        var count = 0
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let r = try rows.next() {
            let value: String = r["value"]
            guard Cell.isPlainDecimal(value) else { continue }
            let u = unit(r["unit"])
            var line = "    <Obs REF_AREA="
            attribute(r["region_code"], into: &line)
            line += " INDICATOR="
            attribute((r["code"] as String).uppercased(), into: &line)
            line += " TIME_PERIOD=\"\(r["period"] as Int)\" OBS_VALUE=\"\(value)\" UNIT_MEASURE=\"\(u.measure)\" UNIT_MULT=\"\(u.multiplier)\"/>\n"
            try out.write(line)
            count += 1
        }
        try out.write("  </message:DataSet>\n</message:StructureSpecificData>\n")
        try out.close()
        return count
    }

    static func attribute(_ s: String, into out: inout String) {
        out += "\""
        XLSXWriter.escape(s, into: &out)
        out += "\""
    }
}
