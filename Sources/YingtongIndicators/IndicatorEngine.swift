import Foundation
import Synchronization
import GRDB
import YingtongModel
import YingtongStore

/// The pipeline settings that change how indicators are computed (DOMAIN §0.1).
///
/// ```yaml
/// indicators:
///   rd_expenditure: internal      # or cost_total: which R&D expenditure feeds rd_intensity
///   rd_active: cost_positive      # or has_valid_project
/// targets: {rd_intensity: 2.5, rd_fte: 800}
/// ```
public struct IndicatorSettings: Sendable, Hashable {
    public enum RDExpenditure: String, Sendable, Hashable, CaseIterable {
        /// F2 内部支出口径: r7 − r14 − r10 − r11 + r20.
        case `internal` = "internal"
        /// Row 7 研究开发费用口径.
        case costTotal = "cost_total"
    }

    public enum RDActive: String, Sendable, Hashable, CaseIterable {
        /// 有研发活动 = a non-rejected 107-2 record with row 7 > 0.
        case costPositive = "cost_positive"
        /// 有研发活动 = at least one non-rejected 107-1 project (the county tool's strict variant).
        case hasValidProject = "has_valid_project"
    }

    public var rdExpenditure: RDExpenditure
    public var rdActive: RDActive
    /// Targets per indicator code, in the indicator's shown unit (亿元, %, 人年…).
    public var targets: [String: Decimal]
    /// The macro indicator codes of GDP and employed persons (FORMATS §4), in case a pipeline maps others.
    public var gdpIndicator: String
    public var employedIndicator: String
    /// The counties of a multi-region (city) run; empty for a county run. See ``RegionScope``.
    public var regions: [String] = []
    /// Weights of the three ranks in 研发三项综合排名 (DOMAIN §2.1): indicator code → weight.
    public var compositeWeights: [String: Decimal] = CompositeRanking.defaultWeights
    /// Whether the run built a 应统尽统 list (its rule packs have `worklist: omission` rules): without one, the
    /// omission figures are missing, not zero.
    public var omissionListBuilt = false

    public init(rdExpenditure: RDExpenditure = .internal, rdActive: RDActive = .costPositive,
                targets: [String: Decimal] = [:], gdpIndicator: String = "GDP", employedIndicator: String = "EMPLOYED") {
        self.rdExpenditure = rdExpenditure
        self.rdActive = rdActive
        self.targets = targets
        self.gdpIndicator = gdpIndicator
        self.employedIndicator = employedIndicator
    }
}

/// Where the previous period's indicator values come from: the `previous` store of the pipeline, which may be
/// the very file the run writes into (its committed state is read, never the run in progress).
public struct PreviousStore: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Opens the previous cycle's store read-only; nil when the file does not exist (a first cycle has no
    /// previous store — its rows then carry no previous value rather than failing the run).
    public init?(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        store = try Store(path: path, readOnly: true)
    }

    /// Indicator code → value of the newest committed run for `regionCode` and `period` (nil values kept:
    /// "known to be missing" is different from "no previous run").
    public func values(regionCode: String, period: Int, preferringPipeline pipeline: String?) throws -> [String: Decimal?] {
        var out: [String: Decimal?] = [:]
        for row in try store.indicators(regionCode: regionCode, period: period, preferringPipeline: pipeline) {
            out[row.code] = .some(row.value)
        }
        return out
    }
}

/// Computes the county indicators of DOMAIN §2.1 with SQL over one run's rows, inside the run's transaction.
///
/// Money is summed as SQLite integers (元) and turned into `Decimal` 亿元 exactly; quantities stored as REAL
/// are summed as `ROUND(x·1000)` integers, so no total ever passes through binary floating point. Quotients
/// (shares, intensities, FTE ÷ 12) are rounded half-up to ``fractionDigits`` decimal places; display rounding
/// is the report's business. Records and projects with status `rejected` never count (强制性审核: excluded
/// until corrected). An input that is missing gives a row with a NULL value and the reason in `note` — a
/// figure is never invented.
///
/// ```swift
/// let engine = IndicatorEngine(settings: IndicatorSettings(targets: ["rd_intensity": 2.5]))
/// let rows = try engine.computeAndStore(writer, previous: PreviousStore(store: previousStore))
/// try writer.commit()
/// ```
public struct IndicatorEngine: Sendable {
    public static let fractionDigits = 6
    public let settings: IndicatorSettings
    public let dictionary: FieldDictionary
    public let industries: IndustryClassification

    public init(settings: IndicatorSettings = .init(), dictionary: FieldDictionary = .standard,
                industries: IndustryClassification = .standard) {
        self.settings = settings
        self.dictionary = dictionary
        self.industries = industries
    }

    /// Computes the run's indicators and writes them into `indicator` (same transaction).
    @discardableResult
    public func computeAndStore(_ writer: RunWriter, previous: PreviousStore?) throws -> [IndicatorRow] {
        let rows = try compute(writer, previous: previous)
        try writer.insert(indicators: rows)
        return rows
    }

    /// Computes the run's indicators without writing them.
    public func compute(_ writer: RunWriter, previous: PreviousStore?) throws -> [IndicatorRow] {
        let info = writer.info
        try writer.finishLoading()
        // Read the previous period before entering the write transaction's closure: the previous store may be
        // the same file, read through another connection.
        let prev = try previous?.values(regionCode: info.regionCode, period: info.period - 1,
                                        preferringPipeline: info.pipeline) ?? [:]
        if !settings.regions.isEmpty {
            return try computeRegions(writer, previous: previous)
        }
        return try writer.withDatabase { db in
            try compute(db: db, run: writer.runID, regionCode: info.regionCode, period: info.period, previous: prev)
        }
    }

    /// Computes the indicators of run `run` on an open database (inside or outside a run transaction).
    public func compute(db: Database, run: Int64, regionCode: String, period: Int,
                        previous: [String: Decimal?]) throws -> [IndicatorRow] {
        try compute(db: db, run: run, scope: .whole(regionCode), period: period, previous: previous)
    }

    /// Computes the indicators of one region of run `run`: the whole run (a county run) or the rows of a county or
    /// a city prefix (``RegionScope``).
    public func compute(db: Database, run: Int64, scope: RegionScope, period: Int,
                        previous: [String: Decimal?]) throws -> [IndicatorRow] {
        registerFunctions(db)
        let regionCode = scope.code
        let q = try Queries(db: db, run: run, period: period, pattern: scope.pattern)
        let tables = try IndicatorTables(db: db, run: run, period: period, scope: scope)
        var out: [Computed] = []

        // ── R&D expenditure (亿元) ──
        let sums = try q.recordSums(expressions: [
            "rd_exp_total",
            """
            rd_exp_total - COALESCE(rd_exp_outsourced, 0) - COALESCE(rd_exp_depreciation, 0)
              - COALESCE(rd_exp_intangible_amort, 0) + COALESCE(rd_new_fixed_assets, 0)
            """,
        ])
        let costTotal = sums[0], internalF2 = sums[1]
        let noRecords = "没有未被否决且填报了研究开发费用合计（第7行）的107-2记录"
        out.append(Computed(.rdExp, value: internalF2.map { yuanToYi($0) }, note: internalF2 == nil ? noRecords : nil))
        out.append(Computed(.rdExpCostTotal, value: costTotal.map { yuanToYi($0) }, note: costTotal == nil ? noRecords : nil))

        // ── R&D intensity (%) = chosen expenditure (千元) ÷ GDP (千元) × 100 ──
        let gdp = try q.macro(settings.gdpIndicator, regions: scope.macroRegions, type: .money, units: dictionary.units)
        let chosen = settings.rdExpenditure == .internal ? internalF2 : costTotal
        let basis = settings.rdExpenditure == .internal ? "口径：内部支出（F2）" : "口径：研究开发费用合计（第7行）"
        switch (chosen, gdp) {
        case (let e?, .value(let g)) where g > 0:
            out.append(Computed(.rdIntensity, value: round(Decimal(e) / 1000 / g * 100), note: basis))
        case (_, .value):
            out.append(Computed(.rdIntensity, value: nil, note: chosen == nil ? noRecords : "宏观数据 \(settings.gdpIndicator) 不为正数"))
        case (_, .missing(let why)):
            out.append(Computed(.rdIntensity, value: nil, note: why))
        }

        // ── R&D FTE (人年) ──
        // Σ person_months ÷ 12 over live projects whose enterprise has an accepted (not rejected) 107-2 record of
        // the period: projects of an enterprise whose 107-2 was quarantined or never sent are an incomplete
        // submission and wait for it, like the rejected ones (fixtures/demo-county/GOLDEN.md). An enterprise that sent no
        // 107-1 rows at all but a direct rd_fte (火炬-style sources, DOMAIN §0) contributes that figure instead,
        // so it is neither lost nor counted twice.
        let projectMonths = try Int64.fetchOne(db, sql: """
            SELECT SUM(CAST(ROUND(p.person_months * 1000) AS INTEGER)) FROM project p
            WHERE p.id > ?4 AND +p.run_id = ?1 AND p.period = ?2 AND p.status <> 'rejected' AND p.person_months IS NOT NULL
              AND EXISTS (SELECT 1 FROM yt_ind_record r WHERE r.uscc = p.uscc AND r.period = p.period AND r.live
                          AND (?3 IS NULL OR r.region LIKE ?3))
            """, arguments: [run, period, scope.pattern, q.projectFloor])
        let directFTE = try Int64.fetchOne(db, sql: """
            SELECT SUM(CAST(ROUND(r.rd_fte * 1000) AS INTEGER)) FROM record r
            WHERE r.id > ?4 AND +r.run_id = ?1 AND r.period = ?2 AND r.status <> 'rejected' AND r.rd_fte IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM project p WHERE p.run_id = r.run_id AND p.uscc = r.uscc AND p.period = r.period)
              AND \(Queries.inScope("r"))
            """, arguments: [run, period, scope.pattern, q.recordFloor])
        var fte: Decimal?
        if projectMonths != nil || directFTE != nil {
            fte = round(Decimal(projectMonths ?? 0) / 12_000 + Decimal(directFTE ?? 0) / 1000)
        }
        out.append(Computed(.rdFTE, value: fte, note: fte == nil ? "没有可用的107-1项目人员实际工作时间或全时当量" : nil))

        let employed = try q.macro(settings.employedIndicator, regions: scope.macroRegions, type: .count, units: dictionary.units)
        switch (fte, employed) {
        case (let f?, .value(let e)) where e > 0:
            out.append(Computed(.rdFTEPer10k, value: round(f / e * 10_000), note: nil))
        case (nil, _):
            out.append(Computed(.rdFTEPer10k, value: nil, note: "研发人员全时当量无法计算"))
        case (_, .value):
            out.append(Computed(.rdFTEPer10k, value: nil, note: "宏观数据 \(settings.employedIndicator) 不为正数"))
        case (_, .missing(let why)):
            out.append(Computed(.rdFTEPer10k, value: nil, note: why))
        }

        // ── above-scale industrial enterprises (家) ──
        let activity = IndicatorTables.activity(settings.rdActive)
        if tables.rosterRows == 0 {
            let why = "缺少名录数据（roster）"
            out.append(Computed(.indAboveScale, value: nil, note: why))
            out.append(Computed(.indRDActive, value: nil, note: why))
            out.append(Computed(.indRDActiveShare, value: nil, note: why))
        } else {
            // The roster is the run's 名录 whatever year it was drawn; units are counted once per USCC.
            let above = try tables.units(industrial: true)
            let active = try tables.units(industrial: true, where: activity)
            let rule = settings.rdActive == .costPositive ? "有研发活动：研究开发费用合计>0" : "有研发活动：至少一个有效研发项目"
            out.append(Computed(.indAboveScale, value: Decimal(above), note: nil))
            out.append(Computed(.indRDActive, value: Decimal(active), note: rule))
            out.append(above > 0
                ? Computed(.indRDActiveShare, value: round(Decimal(active) / Decimal(above) * 100), note: rule)
                : Computed(.indRDActiveShare, value: nil, note: "名录中没有规上工业企业"))
        }
        out += try coverageIndicators(db: db, q: q, tables: tables, scope: scope, activity: activity)
        out += try registryIndicators(db: db, tables: tables, scope: scope, run: run, period: period)

        return out.map { c in finish(c, regionCode: regionCode, period: period, previous: previous) }
    }

    /// Adds previous value, change, growth, target and completion to a computed value.
    func finish(_ c: Computed, regionCode: String, period: Int, previous: [String: Decimal?]) -> IndicatorRow {
        let d = c.definition
        var row = IndicatorRow(regionCode: regionCode, period: period, code: d.code, nameZh: d.nameZh, value: c.value,
                               unit: d.unit, note: c.note)
        row.prevValue = previous[d.code] ?? nil
        row.changeUnit = d.isShare ? "个百分点" : d.unit
        if let v = c.value, let p = row.prevValue {
            // For a share the change is a difference of percentages (个百分点), never a ratio (DOMAIN §2.1).
            row.change = v - p
            if !d.isShare, p != 0 { row.growthRate = round((v / p - 1) * 100) }
        }
        if let t = settings.targets[d.code] {
            row.target = t
            if let v = c.value, t != 0 { row.completionRate = round(v / t * 100) }
        }
        // Rank among regions needs several regions in one run; a county run has none to compare with.
        row.rank = nil
        return row
    }

    func round(_ x: Decimal) -> Decimal {
        var input = x
        var out = Decimal()
        NSDecimalRound(&out, &input, Self.fractionDigits, .plain)
        return out
    }

    /// 元 → 亿元 exactly (1 亿元 = 10⁸ 元); Decimal is base 10, so this quotient has no rounding.
    func yuanToYi(_ yuan: Int64) -> Decimal { Decimal(yuan) / 100_000_000 }

    private func registerFunctions(_ db: Database) {
        let industries = self.industries
        MemoizedPredicate { s in
            if case .valid(let code) = industries.parse(s) { return industries.isIndustrial(code) }
            return false
        }.register(db, as: "yt_industrial")
        MemoizedPredicate { Self.truthy.contains($0.trimmingCharacters(in: .whitespaces)) }.register(db, as: "yt_truthy")
    }

    /// How a 是/否 flag may arrive after normalization (FORMATS §2: 是/否, 有/无, Y/N, 1/0).
    static let truthy: Set<String> = ["是", "有", "Y", "y", "YES", "Yes", "yes", "1", "true", "TRUE", "True", "规上"]
}

/// A predicate over the few distinct texts of a column (是/否 flags, industry codes), computed once per text:
/// SQLite calls these functions once per roster row, and Foundation's trimming and the code parser per row were
/// a tenth of the indicator stage.
final class MemoizedPredicate: Sendable {
    private let compute: @Sendable (String) -> Bool
    private let cache = Mutex<[String: Bool]>([:])

    init(_ compute: @escaping @Sendable (String) -> Bool) { self.compute = compute }

    func callAsFunction(_ s: String) -> Bool {
        if let known = cache.withLock({ $0[s] }) { return known }
        let value = compute(s)
        cache.withLock { if $0.count < 100_000 { $0[s] = value } }
        return value
    }

    /// Registers the predicate as a one-argument SQL function (false for NULL and non-text).
    func register(_ db: Database, as name: String) {
        db.add(function: DatabaseFunction(name, argumentCount: 1, pure: true) { [self] values in
            guard let s = String.fromDatabaseValue(values[0]) else { return false }
            return self(s)
        })
    }
}

/// The first indicator set of DOMAIN §2.1.
public struct IndicatorDefinition: Sendable, Hashable {
    public let code: String
    public let nameZh: String
    public let unit: String
    /// A percentage whose change is 个百分点 and which has no growth rate.
    public var isShare: Bool { unit == "%" }

    public static let rdExp = IndicatorDefinition(code: "rd_exp", nameZh: "R&D经费（内部支出口径）", unit: "亿元")
    public static let rdExpCostTotal = IndicatorDefinition(code: "rd_exp_cost_total", nameZh: "研究开发费用合计", unit: "亿元")
    public static let rdIntensity = IndicatorDefinition(code: "rd_intensity", nameZh: "R&D经费投入强度（占GDP比重）", unit: "%")
    public static let rdFTE = IndicatorDefinition(code: "rd_fte", nameZh: "研发人员全时当量", unit: "人年")
    public static let rdFTEPer10k = IndicatorDefinition(code: "rd_fte_per_10k", nameZh: "每万名就业人员中研发人员数", unit: "人年/万人")
    public static let indAboveScale = IndicatorDefinition(code: "ind_above_scale", nameZh: "规上工业企业数", unit: "家")
    public static let indRDActive = IndicatorDefinition(code: "ind_rd_active", nameZh: "规上工业企业中有研发活动的企业数", unit: "家")
    public static let indRDActiveShare = IndicatorDefinition(code: "ind_rd_active_share", nameZh: "有研发活动的规上工业企业占比", unit: "%")

    public static let all: [IndicatorDefinition] = [
        rdExp, rdExpCostTotal, rdIntensity, rdFTE, rdFTEPer10k, indAboveScale, indRDActive, indRDActiveShare,
        rdCoverage, hightechOutputShare, rdInstitutionCoverage, hteCount, hteNew, tsmeCount, techContractCount,
        techContractAmount, techContractIncome, techContractFirms, omissionCount, omissionAmount,
        htePool, hteRecommended, htePassed, tsmeRecommended, techLoanFirms, techLoanAmount, platformCount,
    ]
}

struct Computed {
    let definition: IndicatorDefinition
    let value: Decimal?
    let note: String?
    init(_ d: IndicatorDefinition, value: Decimal?, note: String?) {
        definition = d
        self.value = value
        self.note = note
    }
}

enum MacroValue {
    /// In the canonical unit of its type (千元 for money, 人 for counts).
    case value(Decimal)
    case missing(String)
}

struct Queries {
    let db: Database
    let run: Int64
    let period: Int
    /// `LIKE` pattern on region_code (`330727`, `3307%`), nil for the whole run; bound as `?3`.
    let pattern: String?

    /// The roster as `ro`, held to its USCC index (see IndexHint).
    static let roster = "roster ro" + IndexHint.key(.roster)

    /// The scope condition on a table alias's region_code, reading the pattern from parameter `?3`.
    static func inScope(_ alias: String) -> String { "(?3 IS NULL OR \(alias).region_code LIKE ?3)" }

    /// The rowid floors of the run's records and projects (``RunRange``): whole-run sums scan in table order.
    let recordFloor: Int64
    let projectFloor: Int64

    init(db: Database, run: Int64, period: Int, pattern: String?) throws {
        self.db = db
        self.run = run
        self.period = period
        self.pattern = pattern
        recordFloor = try RunRange.floor(db, table: "record", run: run)
        projectFloor = try RunRange.floor(db, table: "project", run: run)
    }

    /// Σ of integer (元) expressions over the run's non-rejected records that report row 7, in one pass; nil when
    /// none do.
    func recordSums(expressions: [String]) throws -> [Int64?] {
        let sums = expressions.enumerated().map { "SUM(\($1)) AS s\($0)" }.joined(separator: ", ")
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n, \(sums) FROM record r
            WHERE id > ?4 AND +run_id = ?1 AND period = ?2 AND status <> 'rejected' AND rd_exp_total IS NOT NULL
              AND \(Self.inScope("r"))
            """, arguments: [run, period, pattern, recordFloor])
        guard let row, (row["n"] as Int? ?? 0) > 0 else { return expressions.map { _ in nil } }
        return expressions.indices.map { row["s\($0)"] }
    }

    /// The macro value of `indicator` summed over `regions` (one county, or a city's counties: sums before ratios),
    /// converted to the canonical unit; missing when any region lacks it.
    func macro(_ indicator: String, regions: [String], type: FieldType, units: UnitTable) throws -> MacroValue {
        var total = Decimal(0)
        for region in regions {
            switch try macro(indicator, region: region, type: type, units: units) {
            case .value(let v): total += v
            case .missing(let why): return .missing(why)
            }
        }
        return .value(total)
    }

    /// The macro value of `indicator` for the region and period, converted to the canonical unit.
    func macro(_ indicator: String, region: String, type: FieldType, units: UnitTable) throws -> MacroValue {
        let rows = try Row.fetchAll(db, sql: """
            SELECT value_milli, unit FROM macro
            WHERE run_id = ? AND region_code = ? AND period = ? AND upper(indicator) = upper(?) AND value_milli IS NOT NULL
            """, arguments: [run, region, period, indicator])
        if rows.isEmpty { return .missing("缺少宏观数据 \(indicator)（\(region)，\(period)年）") }
        var values = Set<Decimal>()
        for r in rows {
            let milli: Int64 = r["value_milli"]
            let unit: String = r["unit"] ?? ""
            guard let f = units.factor(for: unit, type: type) else {
                return .missing("宏观数据 \(indicator) 的单位“\(unit)”无法换算")
            }
            values.insert(Decimal(milli) / 1000 * Decimal(f.numerator) / Decimal(f.denominator))
        }
        guard values.count == 1, let v = values.first else {
            return .missing("宏观数据 \(indicator) 有多个不同的值，无法确定采用哪一个")
        }
        return .value(v)
    }
}
