import Foundation
import Testing
import YingtongModel
import YingtongExport
@testable import YingtongPipeline

/// The pipeline keys of issue 6: regions, ranking weights, outputs.exports and outputs.postgres.
@Suite struct PipelineOutputsTests {
    func load(_ extra: String, outputs: String = "outputs: {dir: out}") throws -> PipelineDefinition {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("p.yaml").path
        let text = """
            pipeline: city
            region: "330700"
            period: 2023
            store: s.sqlite
            \(outputs)
            sources: [{role: roster, path: "*.csv"}]
            \(extra)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try PipelineDefinition.load(path: path)
    }

    func reason(_ extra: String, outputs: String = "outputs: {dir: out}") -> String? {
        do { _ = try load(extra, outputs: outputs); return nil } catch let e as YingtongError { return e.messageZh } catch { return "\(error)" }
    }

    @Test func regionsAndWeightsAreRead() throws {
        let d = try load("""
            regions: ["330702", "330723"]
            ranking: {weights: {rd_intensity: 2, rd_fte_per_10k: 0.5}}
            """)
        #expect(d.regions == ["330702", "330723"])
        #expect(d.rankingWeights == ["rd_intensity": 2, "rd_fte_per_10k": Decimal(string: "0.5")!])
    }

    @Test func regionsOutsideTheCityOrUnknownWeightsAreRefusedInChinese() {
        #expect(reason("regions: [\"330102\"]")?.contains("不属于 region 330700") == true)
        #expect(reason("regions: [\"330702\", \"330702\"]")?.contains("重复") == true)
        #expect(reason("regions: [\"3307\"]")?.contains("6位") == true)
        #expect(reason("ranking: {weights: {rd_exp: 1}}")?.contains("不是研发三项之一") == true)
        #expect(reason("ranking: {weights: {rd_intensity: -1}}")?.contains("非负数") == true)
    }

    @Test func exportsAndTheWarehouseAreRead() throws {
        let d = try load("", outputs: """
            outputs:
              dir: out
              exports: [{table: indicator, format: sdmx}, {tables: [record, run], format: xlsx, file: book.xlsx}, {table: record, format: csv, excel: true}]
              postgres: {env: YT_WAREHOUSE}
            """)
        #expect(d.exports == [ExportRequest(tables: ["indicator"], format: .sdmx),
                              ExportRequest(tables: ["record", "run"], format: .xlsx, file: "book.xlsx"),
                              ExportRequest(tables: ["record"], format: .csv, excel: true)])
        #expect(d.exports.map(\.defaultFileName) == ["indicator.xml", "book.xlsx", "record-excel.csv"])
        #expect(d.postgres == .environment("YT_WAREHOUSE"))
        #expect(try d.postgres?.resolve(["YT_WAREHOUSE": "postgres://a@h/d"]) == "postgres://a@h/d")
        #expect(throws: YingtongError.self) { try d.postgres?.resolve([:]) }
        #expect(reason("", outputs: "outputs: {dir: out, exports: [{table: record, format: pdf}]}")?.contains("format") == true)
        #expect(reason("", outputs: "outputs: {dir: out, exports: [{table: record, format: csv, file: ../x.csv}]}")?.contains("文件名") == true)
        #expect(reason("", outputs: "outputs: {dir: out, postgres: 5}")?.contains("postgres") == true)
    }
}
