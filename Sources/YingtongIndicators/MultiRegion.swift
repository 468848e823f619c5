import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// Which rows of a run an indicator is computed over.
///
/// A county run computes over the whole run (`whole`). A city run over several counties (`regions:` in the
/// pipeline file) computes every indicator once per county — the rows whose `region_code` is the county's — and
/// once for the city, over every row whose code starts with the city's prefix (`330700` → `3307…`). The city's
/// figures are sums before ratios: its R&D intensity is Σ R&D ÷ Σ GDP of its counties, never a mean of the
/// counties' intensities.
public struct RegionScope: Sendable, Hashable {
    /// The region the rows are stored under.
    public let code: String
    /// `LIKE` pattern on region_code; nil = the whole run.
    public let pattern: String?
    /// Regions whose macro values (GDP, employed persons) are summed for this scope.
    public let macroRegions: [String]

    public static func whole(_ code: String) -> RegionScope { RegionScope(code: code, pattern: nil, macroRegions: [code]) }

    public static func county(_ code: String) -> RegionScope { RegionScope(code: code, pattern: code, macroRegions: [code]) }

    /// A city or province over its counties: `330700` covers `3307%`, `330000` covers `33%`.
    public static func aggregate(_ code: String, counties: [String]) -> RegionScope {
        RegionScope(code: code, pattern: prefix(of: code) + "%", macroRegions: counties)
    }

    /// The code without its trailing `00` pairs: the part every subordinate region shares.
    public static func prefix(of code: String) -> String {
        var s = Substring(code)
        while s.count > 2 && s.hasSuffix("00") { s = s.dropLast(2) }
        return String(s)
    }
}

/// 研发三项综合排名 (DOMAIN §2.1): among the counties of one run, rank each of rd_intensity, rd_fte_per_10k and
/// ind_rd_active_share (descending), then rank counties by the weighted mean of the three ranks (smaller is
/// better), ties broken by the rank of rd_intensity.
public enum CompositeRanking {
    public static let code = "rd_three_rank"
    public static let nameZh = "研发三项综合排名"
    /// The value is the weighted mean of the three ranks; the row's `rank` is the composite rank.
    public static let unit = "平均位次"
    public static let defaultWeights: [String: Decimal] = ["rd_intensity": 1, "rd_fte_per_10k": 1, "ind_rd_active_share": 1]
    public static let components = ["rd_intensity", "rd_fte_per_10k", "ind_rd_active_share"]

    /// Competition ranks ("1224"), descending by value; a missing value has no rank.
    public static func ranks(_ values: [String: Decimal?]) -> [String: Int] {
        let known = values.compactMap { k, v in v.map { (k, $0) } }
        var out: [String: Int] = [:]
        for (k, v) in known {
            out[k] = 1 + known.filter { $0.1 > v }.count
        }
        return out
    }

    /// Composite rows for the counties, from their per-indicator ranks.
    static func rows(counties: [String], period: Int, ranks: [String: [String: Int]], weights: [String: Decimal],
                     round: (Decimal) -> Decimal) -> [IndicatorRow] {
        let used = components.filter { (weights[$0] ?? 0) > 0 }
        let totalWeight = used.reduce(Decimal(0)) { $0 + (weights[$1] ?? 0) }
        var scores: [String: Decimal] = [:]
        var notes: [String: String] = [:]
        for county in counties {
            let missing = used.filter { ranks[$0]?[county] == nil }
            if !missing.isEmpty || totalWeight == 0 {
                notes[county] = "缺少排名：\(missing.joined(separator: "、"))"
                continue
            }
            var sum = Decimal(0)
            for c in used { sum += Decimal(ranks[c]![county]!) * weights[c]! }
            scores[county] = round(sum / totalWeight)
        }
        let intensity = ranks["rd_intensity"] ?? [:]
        func key(_ c: String) -> (Decimal, Int) { (scores[c]!, intensity[c] ?? Int.max) }
        let weightText = used.map { "\($0)×\(weights[$0]!)" }.joined(separator: "，")
        return counties.map { county in
            var row = IndicatorRow(regionCode: county, period: period, code: code, nameZh: nameZh, value: scores[county],
                                   unit: unit, note: notes[county] ?? "三项排名加权平均（\(weightText)），并列时按R&D经费投入强度排名")
            if scores[county] != nil {
                let mine = key(county)
                row.rank = 1 + scores.keys.filter { other in
                    let k = key(other)
                    return k.0 < mine.0 || (k.0 == mine.0 && k.1 < mine.1)
                }.count
            }
            return row
        }
    }
}

extension IndicatorEngine {
    /// A multi-region run: every indicator per county and for the run's region (the city), the rank of each county
    /// per indicator, and 研发三项综合排名.
    func computeRegions(_ writer: RunWriter, previous: PreviousStore?) throws -> [IndicatorRow] {
        let info = writer.info
        let counties = settings.regions
        var scopes = counties.map(RegionScope.county)
        scopes.append(.aggregate(info.regionCode, counties: counties))
        var previousValues: [String: [String: Decimal?]] = [:]
        for s in scopes {
            previousValues[s.code] = try previous?.values(regionCode: s.code, period: info.period - 1,
                                                          preferringPipeline: info.pipeline) ?? [:]
        }
        var rows = try writer.withDatabase { db in
            try scopes.flatMap { s in
                try compute(db: db, run: writer.runID, scope: s, period: info.period, previous: previousValues[s.code] ?? [:])
            }
        }
        // Ranks among the counties (the city itself is not ranked against its own counties).
        let countySet = Set(counties)
        var ranks: [String: [String: Int]] = [:]
        for d in IndicatorDefinition.all {
            var values: [String: Decimal?] = [:]
            for r in rows where r.code == d.code && countySet.contains(r.regionCode) { values[r.regionCode] = .some(r.value) }
            ranks[d.code] = CompositeRanking.ranks(values)
        }
        for i in rows.indices where countySet.contains(rows[i].regionCode) {
            rows[i].rank = ranks[rows[i].code]?[rows[i].regionCode]
        }
        let composite = CompositeRanking.rows(counties: counties, period: info.period, ranks: ranks,
                                              weights: settings.compositeWeights, round: self.round)
        rows += composite.map { c in
            var r = c
            let prev = previousValues[c.regionCode]?[c.code] ?? nil
            r.prevValue = prev
            r.changeUnit = c.unit
            if let v = c.value, let p = prev { r.change = v - p }
            return r
        }
        return rows
    }
}
