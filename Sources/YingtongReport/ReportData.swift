import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// Everything the people-facing reports say about one committed run, read from the store.
///
/// Findings are read aggregated (per rule and severity, per enterprise) so the size of the report does not grow
/// with the number of violations; the detail is read per enterprise for its own feedback page.
///
/// ```swift
/// let data = try ReportData.load(store: store, period: 2023)
/// print(data.ruleHits.map(\.rule))
/// ```
public struct ReportData: Sendable {
    public struct Run: Sendable {
        public var id: Int64
        public var pipeline: String
        public var regionCode: String
        public var period: Int
        public var startedAt: String
        public var finishedAt: String?
        public var yingtongVersion: String
        public var inputs: [RunInput]
        public var rulePacks: [RulePack]
        public var counts: [String: Int]
    }

    public struct RuleHit: Sendable, Hashable {
        public var rule: String
        public var severity: Severity
        public var violations: Int
        public var enterprises: Int
    }

    public struct EnterpriseFindings: Sendable, Hashable {
        public var uscc: String
        public var period: Int
        public var name: String?
        public var errors: Int
        public var warnings: Int
        public var infos: Int
        public var explained: Int
    }

    public var run: Run
    public var recordsByStatus: [String: Int]
    public var quarantineCount: Int
    public var quarantineByCode: [(code: String, count: Int)]
    public var ruleHits: [RuleHit]
    public var indicators: [IndicatorRow]
    /// Indicators of the same period from other regions' runs in the store (a city run), newest run per region.
    public var peerIndicators: [IndicatorRow]
    /// The head of the 应统尽统 list (largest estimate first, at most the `omissionRows` asked for); the whole list
    /// is in 应统尽统排查清单.csv.
    public var omissions: [OmissionEntry]
    /// The top omissions' keys (`uscc|period`) that have findings, hence a 反馈单 and a row in the list pages.
    public var omissionsWithFindings: Set<String>
    public var omissionCount: Int
    public var omissionTotal: Milli
    /// Enterprises with findings; they are read a page at a time with ``forEachEnterprise(_:run:_:)``.
    public var enterpriseCount: Int

    /// The newest committed run for `period` (and `region`/`pipeline` when given).
    public static func findRun(store: Store, period: Int, region: String? = nil, pipeline: String? = nil) throws -> Int64 {
        let runs = try store.runs().filter {
            $0.period == period && $0.status == "ok" && (region == nil || $0.regionCode == region)
                && (pipeline == nil || $0.pipeline == pipeline)
        }
        guard let run = runs.first else {
            var what = "报告期 \(period)"
            if let region { what += "、地区 \(region)" }
            if let pipeline { what += "、流水线 \(pipeline)" }
            throw YingtongError("E-REPORT-RUN", "数据库 \(store.path) 中没有\(what)的已完成运行")
        }
        return run.id
    }

    /// The rule packs a run applied (`run.rule_packs`), without loading the rest of the report.
    public static func rulePacks(store: Store, run id: Int64) throws -> [RulePack] {
        let text = try store.read { db in
            try String.fetchOne(db, sql: "SELECT rule_packs FROM run WHERE id = ?", arguments: [id])
        } ?? "[]"
        return (try? JSONDecoder().decode([RulePack].self, from: Data(text.utf8))) ?? []
    }

    public static func load(store: Store, run id: Int64, omissionRows: Int = 200) throws -> ReportData {
        try store.read { db in try load(db, store: store, run: id, omissionRows: omissionRows) }
    }

    /// Reads on a connection the caller holds (the run's own writer, before it commits). Nothing here grows with
    /// the number of findings or omissions: those are aggregated, cut at `omissionRows`, or streamed later.
    public static func load(_ db: Database, store: Store, run id: Int64, omissionRows: Int = 200) throws -> ReportData {
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else {
                throw YingtongError("E-REPORT-RUN", "数据库 \(store.path) 中没有运行 \(id)")
            }
            let decoder = JSONDecoder()
            func decode<T: Decodable>(_ type: T.Type, _ column: String, _ fallback: T) -> T {
                let text: String = row[column] ?? ""
                return (try? decoder.decode(T.self, from: Data(text.utf8))) ?? fallback
            }
            let run = Run(id: id, pipeline: row["pipeline"], regionCode: row["region_code"], period: row["period"],
                          startedAt: row["started_at"], finishedAt: row["finished_at"],
                          yingtongVersion: row["yingtong_version"], inputs: decode([RunInput].self, "inputs", []),
                          rulePacks: decode([RulePack].self, "rule_packs", []),
                          counts: decode([String: Int].self, "counts", [:]))
            var statuses: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM record WHERE run_id = ? GROUP BY status",
                                      arguments: [id]) {
                statuses[r["status"]] = r["n"]
            }
            let quarantine = try Row.fetchAll(db, sql: """
                SELECT code, COUNT(*) AS n FROM quarantine WHERE run_id = ? GROUP BY code ORDER BY n DESC, code
                """, arguments: [id]).map { (code: $0["code"] as String, count: $0["n"] as Int) }
            let floor = try RunRange.floor(db, table: "violation", run: id)
            let hits = try Row.fetchAll(db, sql: """
                SELECT rule, severity, COUNT(*) AS n, COUNT(DISTINCT uscc) AS e FROM violation
                WHERE id > ?2 AND +run_id = ?1 AND superseded = 0 GROUP BY rule, severity
                """, arguments: [id, floor]).map { r in
                RuleHit(rule: r["rule"], severity: Severity(rawValue: r["severity"]) ?? .info, violations: r["n"],
                        enterprises: r["e"])
            }.sorted { ($0.severity, $0.violations, $1.rule) > ($1.severity, $1.violations, $0.rule) }
            let enterpriseCount = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT 1 FROM violation WHERE id > ?2 AND +run_id = ?1 AND superseded = 0
                                      GROUP BY uscc, period)
                """, arguments: [id, floor]) ?? 0
            // Other regions of the same period: the newest run per region (a city or province run has several).
            let peerRuns = try Int64.fetchAll(db, sql: """
                SELECT MAX(r.id) FROM run r WHERE r.period = ? AND r.status = 'ok' AND r.region_code <> ?
                  AND EXISTS (SELECT 1 FROM indicator i WHERE i.run_id = r.id)
                GROUP BY r.region_code
                """, arguments: [run.period, run.regionCode])
            // A multi-region run (a city's counties) holds several regions' rows itself: the table shows the run's
            // own region (all rows when none is its own), the charts compare the others.
            let all = try IndicatorRow.fetchAll(db, run: id)
            let own = all.contains { $0.regionCode == run.regionCode } ? all.filter { $0.regionCode == run.regionCode } : all
            var peers = all.filter { $0.regionCode != run.regionCode && own.count < all.count }
            for p in peerRuns { peers += try IndicatorRow.fetchAll(db, run: p).filter { r in !peers.contains { $0.regionCode == r.regionCode && $0.code == r.code } } }
            var omissions: [OmissionEntry] = []
            try OmissionEntry.forEach(db, run: id, limit: omissionRows) { omissions.append($0) }
            var withFindings: Set<String> = []
            for o in omissions where try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM violation WHERE run_id = ? AND uscc = ? AND period = ? AND superseded = 0)
                """), arguments: [id, o.uscc, o.period]) == true {
                withFindings.insert("\(o.uscc)|\(o.period)")
            }
            let totals = try OmissionEntry.totals(db, run: id)
            return ReportData(run: run, recordsByStatus: statuses,
                              quarantineCount: quarantine.reduce(0) { $0 + $1.count }, quarantineByCode: quarantine,
                              ruleHits: hits, indicators: own, peerIndicators: peers,
                              omissions: omissions, omissionsWithFindings: withFindings, omissionCount: totals.count,
                              omissionTotal: totals.estimatedMissing, enterpriseCount: enterpriseCount)
    }

    /// The enterprises with findings, most errors first (then warnings, then USCC), one at a time: at a million
    /// enterprises the list has hundreds of thousands of rows, which the report writes page by page.
    public static func forEachEnterprise(_ db: Database, run id: Int64, enterprises: Int = 0, records: Int = 0,
                                         _ body: (EnterpriseFindings) throws -> Void) throws {
        // A unit is named by its first record in (uscc, period) order, as `record_key` lists them. When many units
        // have findings, those names are first copied in one ordered pass into a table keyed by USCC, which the
        // groups below then read in order: looking each one up in the record table fetched its row from a random
        // page (at 1,000,000 enterprises with registries, 780,000 lookups were most of the report's 14 s).
        // A connection that may not write even temporary tables (GRDB's query-only reads) keeps the lookups.
        let namesInOrder = Self.namesInOrder(enterprises: enterprises, records: records) && (try? db.execute(sql: """
            CREATE TEMP TABLE IF NOT EXISTS yt_first_name (uscc TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
            DELETE FROM yt_first_name;
            INSERT OR IGNORE INTO yt_first_name
            SELECT uscc, name FROM record WHERE id > ?2 AND +run_id = ?1 AND uscc IS NOT NULL ORDER BY uscc, period, id;
            """, arguments: [id, RunRange.floor(db, table: "record", run: id)])) != nil
        let recordName = namesInOrder ? "(SELECT f.name FROM yt_first_name f WHERE f.uscc = v.uscc)"
            : "(SELECT r.name FROM record r WHERE r.run_id = v.run_id AND r.uscc = v.uscc LIMIT 1)"
        // A unit that sent nothing and is on no roster is named by its omission entry (indexed by USCC since v5).
        let rows = try Row.fetchCursor(db, sql: """
            SELECT v.uscc, v.period,
                   SUM(v.severity = 'error') AS errors, SUM(v.severity = 'warning') AS warnings,
                   SUM(v.severity = 'info') AS infos, SUM(v.explanation IS NOT NULL) AS explained,
                   COALESCE(\(recordName),
                            (SELECT s.name FROM roster s WHERE s.run_id = v.run_id AND s.uscc = v.uscc LIMIT 1),
                            (SELECT o.name FROM omission o WHERE o.run_id = v.run_id AND o.uscc = v.uscc
                                                             AND o.name IS NOT NULL LIMIT 1)) AS name
            FROM violation v WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0
            GROUP BY v.uscc, v.period
            ORDER BY errors DESC, warnings DESC, v.uscc
            """, arguments: [id, try RunRange.floor(db, table: "violation", run: id)])
        while let r = try rows.next() {
            try body(EnterpriseFindings(uscc: r["uscc"], period: r["period"], name: r["name"], errors: r["errors"],
                                        warnings: r["warnings"], infos: r["infos"], explained: r["explained"]))
        }
    }

    /// Whether the enterprise list names its units from a copy of the first names in USCC order (one pass over
    /// the records) rather than by a lookup per unit: from one unit with findings in ten records. A run without
    /// rules has a few format findings and keeps the lookups.
    static func namesInOrder(enterprises: Int, records: Int) -> Bool {
        enterprises >= 10_000 && enterprises * 10 >= records
    }
}

/// One finding of an enterprise with what the reader needs to act on it.
public struct FeedbackItem: Sendable, Hashable {
    public struct FieldValue: Sendable, Hashable {
        public var code: String
        public var nameZh: String
        /// "107-2 第7行" or "107-1 列 项目人员" — where the field sits on the paper form.
        public var locationZh: String
        /// The value sent, with its unit, or "（未填报）".
        public var valueZh: String
    }

    public var rule: String
    public var ruleTitle: String?
    public var severity: Severity
    public var projectName: String?
    public var messageZh: String
    public var fields: [FieldValue]
    public var observed: String
    public var expected: String?
    public var imbalance: String?
    public var explanation: String?
    public var line: Int
    public var file: String?
}

extension ReportData {
    /// The findings of one enterprise, most severe first, each with its fields located on the form.
    public static func feedback(_ db: Database, store: Store, run: Int64, uscc: String, period: Int,
                                inputs: [RunInput], titles: [String: String]) throws -> [FeedbackItem] {
        let dictionary = store.dictionary
        // Cached statements: a report prepares these once, not once per enterprise (preparing `SELECT *` over
        // the 150-column record table was most of a 反馈单's cost).
        let record = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT * FROM record WHERE run_id = ? AND uscc = ? AND period = ? LIMIT 1
            """), arguments: [run, uscc, period])
        let formVersion = (record?["form_version"] as String?) ?? "2021"
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT rule, severity, project_name, fields, observed, expected, imbalance, message, explanation,
                       source_index, line
                FROM violation WHERE run_id = ? AND uscc = ? AND period = ? AND superseded = 0
                ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, rule, project_name, id
                """), arguments: [run, uscc, period])
            var projectCache: [String: Row] = [:]
            return try rows.map { r in
                let codes = (try? JSONDecoder().decode([String].self, from: Data((r["fields"] as String).utf8))) ?? []
                let project: String? = r["project_name"]
                var projectRow: Row?
                if let project {
                    if let cached = projectCache[project] { projectRow = cached } else {
                        projectRow = try Row.fetchOne(db.cachedStatement(sql: """
                            SELECT * FROM project WHERE run_id = ? AND uscc = ? AND period = ? AND project_name = ? LIMIT 1
                            """), arguments: [run, uscc, period, project])
                        projectCache[project] = projectRow
                    }
                }
                let observed = Self.observedValues(r["observed"])
                let fields: [FeedbackItem.FieldValue] = codes.compactMap { code in
                    guard let f = dictionary.field(code) else {
                        // A quantity the rule derives or looks up (人均人工费, 名录营业收入, 加计扣除基数…).
                        return FeedbackItem.FieldValue(code: code, nameZh: code, locationZh: "审核时计算或取自其他来源",
                                                       valueZh: observed[code] ?? "")
                    }
                    var value: String?
                    if f.form == .projects, let projectRow {
                        value = Self.value(projectRow, field: f)
                    } else if let record {
                        value = Self.value(record, field: f)
                    }
                    return FeedbackItem.FieldValue(code: code, nameZh: f.name,
                                                   locationZh: Self.location(f, version: formVersion),
                                                   valueZh: value ?? "（未填报）")
                }
                let source: Int = r["source_index"]
                return FeedbackItem(rule: r["rule"], ruleTitle: titles[r["rule"]],
                                    severity: Severity(rawValue: r["severity"]) ?? .info, projectName: project,
                                    messageZh: r["message"], fields: fields, observed: r["observed"],
                                    expected: r["expected"], imbalance: r["imbalance"], explanation: r["explanation"],
                                    line: r["line"], file: source >= 0 && source < inputs.count ? inputs[source].path : nil)
            }
    }

    /// `observed` as the rule engine writes it: `a=1, b=2; match=name` → [a: 1, b: 2, match: name].
    static func observedValues(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { out[pair[0]] = pair[1] }
        }
        return out
    }

    static func location(_ f: FieldDefinition, version: String) -> String {
        guard let form = f.form else { return "表头（单位基本情况）" }
        if let row = f.rows[version] ?? f.rows["2021"] { return "\(form.rawValue) 第\(row)行" }
        if form == .projects { return "107-1 栏目“\(f.name)”" }
        return form.rawValue
    }

    /// A stored value as sent, in the dictionary's canonical unit (money exactly, in 千元 with its 元 digits).
    static func value(_ row: Row, field f: FieldDefinition) -> String? {
        guard row.hasColumn(f.code), let dbv = row[f.code] as DatabaseValue?, !dbv.isNull else { return nil }
        if let m = StoredValue.milli(dbv, storage: FieldStorage(f.type)) { return m.description + (f.unit ?? "") }
        switch dbv.storage {
        case .string(let s): return s
        case .int64(let i): return String(i)
        default: return nil
        }
    }
}
