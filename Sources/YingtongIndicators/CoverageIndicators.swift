import Foundation
import GRDB
import YingtongModel
import YingtongStore

extension IndicatorDefinition {
    public static let hightechOutputShare = IndicatorDefinition(code: "hightech_output_share",
                                                                nameZh: "高新技术产业产值占规上工业总产值比重", unit: "%")
    public static let rdCoverage = IndicatorDefinition(code: "rd_coverage", nameZh: "R&D投入企业覆盖率", unit: "%")
}

extension IndicatorEngine {
    /// F8 and F7 (DOMAIN §2): the two roster-based shares beside F6.
    ///
    /// - hightech_output_share = Σ 工业总产值 of the roster's 规上工业 units whose 小类 is on the 高技术产业 list
    ///   (`reference.hightech_industries`, §5.5) ÷ Σ 工业总产值 of all 规上工业 units × 100. When the roster carries no
    ///   工业总产值, the macro figures HIGHTECH_OUTPUT ÷ IND_OUTPUT_ABOVE_SCALE are used instead, and the note says so.
    /// - rd_coverage = units of the roster (the county's 名录库: every 一套表 unit it lists) with R&D activity (the
    ///   pipeline's `rd_active` rule) ÷ all units of the roster × 100.
    func coverageIndicators(db: Database, q: Queries, tables: IndicatorTables, scope: RegionScope,
                            activity: String) throws -> [Computed] {
        let industries = self.industries
        MemoizedPredicate { s in
            if case .valid(let code) = industries.parse(s) { return industries.isHightech(code) }
            return false
        }.register(db, as: "yt_hightech")
        var out: [Computed] = []
        let units = try tables.units(industrial: false)
        if units == 0 {
            out.append(Computed(.rdCoverage, value: nil, note: "缺少名录数据（roster）"))
        } else {
            let active = try tables.units(industrial: false, where: activity)
            out.append(Computed(.rdCoverage, value: round(Decimal(active) / Decimal(units) * 100),
                                note: "总体：名录中全部单位（\(units) 家），有研发活动 \(active) 家"))
        }
        let output = try Row.fetchOne(db, sql: """
            SELECT COUNT(ro.gross_output) AS n, SUM(ro.gross_output) AS total,
                   SUM(CASE WHEN yt_hightech(ro.industry_code) THEN ro.gross_output ELSE 0 END) AS hightech
            FROM roster ro WHERE ro.id > ?2 AND +ro.run_id = ?1 AND yt_truthy(ro.above_scale) AND yt_industrial(ro.industry_code)
              AND \(Queries.inScope("ro"))
            """, arguments: [q.run, try RunRange.floor(db, table: "roster", run: q.run), scope.pattern])
        let n: Int = output?["n"] ?? 0
        if n > 0, let total: Int64 = output?["total"], total > 0 {
            let hightech: Int64 = output?["hightech"] ?? 0
            out.append(Computed(.hightechOutputShare, value: round(Decimal(hightech) / Decimal(total) * 100),
                                note: "口径：名录中规上工业企业工业总产值，高技术产业按 \(industries.hightechEdition)"))
        } else {
            let ht = try q.macro("HIGHTECH_OUTPUT", regions: scope.macroRegions, type: .money, units: dictionary.units)
            let all = try q.macro("IND_OUTPUT_ABOVE_SCALE", regions: scope.macroRegions, type: .money, units: dictionary.units)
            switch (ht, all) {
            case (.value(let h), .value(let a)) where a > 0:
                out.append(Computed(.hightechOutputShare, value: round(h / a * 100), note: "口径：宏观数据 HIGHTECH_OUTPUT ÷ IND_OUTPUT_ABOVE_SCALE"))
            case (.missing(let why), _), (_, .missing(let why)):
                out.append(Computed(.hightechOutputShare, value: nil, note: "名录没有工业总产值，且\(why)"))
            default:
                out.append(Computed(.hightechOutputShare, value: nil, note: "规上工业总产值不为正数"))
            }
        }
        return out
    }
}
