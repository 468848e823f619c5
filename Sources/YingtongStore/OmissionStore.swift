import GRDB
import GRDBSQLite
import YingtongModel

/// One entry of the 应统尽统排查清单 (FORMATS §6 `omission`).
public struct OmissionEntry: Sendable, Hashable {
    public var uscc: String
    public var period: Int
    public var name: String?
    public var regionCode: String?
    public var reported: Bool
    public var rules: [String]
    public var reportedRDExp: Milli?
    public var evidenceJSON: String
    public var evidenceZh: String
    public var estimatedMissing: Milli
    public var method: String
    public var basis: String?

    public init(uscc: String, period: Int, name: String?, regionCode: String?, reported: Bool, rules: [String],
                reportedRDExp: Milli?, evidenceJSON: String, evidenceZh: String, estimatedMissing: Milli,
                method: String, basis: String?) {
        self.uscc = uscc
        self.period = period
        self.name = name
        self.regionCode = regionCode
        self.reported = reported
        self.rules = rules
        self.reportedRDExp = reportedRDExp
        self.evidenceJSON = evidenceJSON
        self.evidenceZh = evidenceZh
        self.estimatedMissing = estimatedMissing
        self.method = method
        self.basis = basis
    }
}

/// The enterprises some omission rule pointed at, and what the store knows of each.
public struct OmissionSubject: Sendable {
    public var uscc: String
    public var period: Int
    public var rules: [String]
    /// The 107-2 record's values (nil: the unit sent nothing).
    public var record: [String: StoredValue]?
    public var name: String?
    public var regionCode: String?
}

/// An enterprise an omission rule pointed at, noted by the stage that evaluated the rule: the rule stage holds the
/// enterprise's 107-2 values in its block, so the omission list need not find and sort them again.
public struct NotedOmissionSubject: Sendable {
    /// What the noting stage knew of the unit's 107-2 record for the period.
    public enum Record: Sendable {
        /// It sent one: these values (the fields the list compares), its name and region.
        case sent([String: Milli], name: String?, regionCode: String?)
        /// It sent nothing (the units-that-sent-nothing stage).
        case none
        /// Not known where noted (a finding made after its block): the list looks the record up.
        case unknown
    }
    public var uscc: String
    public var period: Int
    public var rules: [String]
    public var record: Record

    public init(uscc: String, period: Int, rules: [String], record: Record) {
        self.uscc = uscc
        self.period = period
        self.rules = rules
        self.record = record
    }
}

extension RunWriter {
    static let notedSubjectsSQL = """
        CREATE TEMP TABLE IF NOT EXISTS yt_omission_subject (
          uscc TEXT NOT NULL, period INTEGER NOT NULL, rules TEXT NOT NULL,
          state INTEGER,        -- 1 sent (values below), 0 sent nothing, NULL not known
          name TEXT, region_code TEXT, vals TEXT,
          PRIMARY KEY (uscc, period)) WITHOUT ROWID
        """

    /// Starts noting this run's omission subjects (see `note(omissionSubjects:)`), forgetting any noted before.
    public func beginNotingOmissionSubjects() throws {
        try withDatabase { db in
            try db.execute(sql: Self.notedSubjectsSQL)
            try db.execute(sql: "DELETE FROM yt_omission_subject")
        }
    }

    /// Notes subjects for `forEachOmissionSubjectBlock(noted: true)`. Kept in (uscc, period) order by the table
    /// itself, so the list reads them in order without sorting the run's findings. A unit noted twice gathers both
    /// rule lists; if the two notes disagree on its record, the list looks the record up.
    public func note(omissionSubjects: [NotedOmissionSubject]) throws {
        guard !omissionSubjects.isEmpty else { return }
        try withDatabase { db in
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO yt_omission_subject (uscc, period, rules, state, name, region_code, vals)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (uscc, period) DO UPDATE SET
                  rules = rules || ',' || excluded.rules,
                  state = CASE WHEN state IS excluded.state AND vals IS excluded.vals THEN state END,
                  vals = CASE WHEN state IS excluded.state AND vals IS excluded.vals THEN vals END
                """)
            var b = RawBinder(stmt, db: db)
            for s in omissionSubjects {
                b.text(s.uscc)
                b.int(Int64(s.period))
                b.text(s.rules.joined(separator: ","))
                switch s.record {
                case .sent(let values, let name, let region):
                    b.int(1)
                    b.text(name)
                    b.text(region)
                    b.text(values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.raw)" }.joined(separator: ";"))
                case .none:
                    b.int(0); b.text(nil); b.text(nil); b.text(nil)
                case .unknown:
                    b.int(nil); b.text(nil); b.text(nil); b.text(nil)
                }
                try b.step()
            }
        }
    }
}

extension RunWriter {
    /// Calls `body` with blocks of the enterprises that findings of `rules` point at (live findings only), in
    /// USCC order, with their 107-2 record when they sent one.
    /// Only `fields` of each record are read (a 150-column `SELECT *` decoded by name cost more than the rest).
    ///
    /// `recordsInOrder`: read the run's records as one sorted stream walked beside the subjects, instead of looking
    /// each block's records up by USCC. The lookups fetch every record from a random page, which is cheaper only
    /// while the subjects are few against the records (the caller knows how many findings there are).
    ///
    /// `noted`: the subjects are those the rule stages noted (`note(omissionSubjects:)`), read in order with the
    /// record values noted beside them; only a subject noted without them has its record looked up.
    public func forEachOmissionSubjectBlock(rules: Set<String>, fields: [String], size: Int, recordsInOrder: Bool = false,
                                            noted: Bool = false, _ body: ([OmissionSubject]) throws -> Void) throws {
        guard !rules.isEmpty else { return }
        let run = runID
        let schema = store.schemas[.activity]!
        let wanted = schema.fields.filter { fields.contains($0.name) }
        let columns = (["uscc", "period", "name", "region_code"] + wanted.map(\.name)).map(quoted).joined(separator: ", ")
        let marks = Array(repeating: "?", count: rules.count).joined(separator: ",")
        /// Puts a record's values (read through `value(column)`, columns as in `columns`) on its subject.
        func fill(_ subject: inout OmissionSubject, _ value: (Int) -> DatabaseValue) {
            var values: [String: StoredValue] = [:]
            for (k, c) in wanted.enumerated() {
                let v = value(4 + k)
                if !v.isNull, let storage = c.storage, let m = StoredValue.milli(v, storage: storage) {
                    values[c.name] = .number(m)
                }
            }
            subject.record = values
            subject.name = String.fromDatabaseValue(value(2))
            subject.regionCode = String.fromDatabaseValue(value(3))
        }
        // One ordered pass over the run's violations, grouped by SQLite's sorter and read a block at a time: paging
        // through the (run_id, uscc) index fetched every violation row of the run at random to test its rule.
        var subjects: SortedStatement?, records: SortedStatement?
        defer { subjects?.close(store: store); records?.close(store: store) }
        try withDatabase { db in
            // Empty when no rule examined the units that sent nothing (a pack may point at omissions without X10).
            try db.execute(sql: RunWriter.unreportedTableSQL)
            if noted {
                try db.execute(sql: RunWriter.notedSubjectsSQL)
                subjects = try SortedStatement(db, sql: """
                    SELECT uscc, period, rules, state, name, region_code, vals FROM yt_omission_subject ORDER BY uscc, period
                    """, arguments: [], keyColumn: 0, what: "审核结果")
                return
            }
            let floor = try RunRange.floor(db, table: "violation", run: run)
            subjects = try SortedStatement(db, sql: """
                SELECT uscc, period, group_concat(DISTINCT rule) FROM violation
                WHERE id > ?2 AND +run_id = ?1 AND superseded = 0 AND rule IN (\(marks))
                GROUP BY uscc, period ORDER BY uscc, period
                """, arguments: [run, floor] + rules.sorted(), keyColumn: 0, what: "审核结果")
            if recordsInOrder {
                // The same order as the subjects; a (uscc, period) sent twice keeps its latest row, as below.
                records = try SortedStatement(db, sql: """
                    SELECT \(columns) FROM record INDEXED BY record_line WHERE run_id = ? ORDER BY uscc, period, id
                    """, arguments: [run], keyColumn: 0, what: "运行数据")
            }
        }
        while let stream = subjects, stream.currentKey != nil {
            let block: [OmissionSubject] = try withDatabase { db in
                var out: [OmissionSubject] = []
                /// Subjects whose record is to be looked up: noted without one (state NULL), or all when not noted.
                var unknown: [Int] = []
                while out.count < size, let uscc = stream.currentKey, let stmt = stream.stmt {
                    let ruleList = sqlite3_column_text(stmt, 2).map { String(cString: $0) } ?? ""
                    var subject = OmissionSubject(uscc: uscc, period: Int(sqlite3_column_int64(stmt, 1)),
                                                  rules: Set(ruleList.split(separator: ",").map(String.init)).sorted(),
                                                  record: nil, name: nil, regionCode: nil)
                    if !noted || sqlite3_column_type(stmt, 3) == SQLITE_NULL {
                        unknown.append(out.count)
                    } else if sqlite3_column_int64(stmt, 3) == 1 {
                        var values: [String: StoredValue] = [:]
                        let vals = sqlite3_column_text(stmt, 6).map { String(cString: $0) } ?? ""
                        for pair in vals.split(separator: ";") {
                            guard let eq = pair.firstIndex(of: "="), let raw = Int64(pair[pair.index(after: eq)...]) else { continue }
                            values[String(pair[..<eq])] = .number(Milli(raw: raw))
                        }
                        subject.record = values
                        subject.name = sqlite3_column_text(stmt, 4).map { String(cString: $0) }
                        subject.regionCode = sqlite3_column_text(stmt, 5).map { String(cString: $0) }
                    }
                    out.append(subject)
                    try stream.advance()
                }
                if let records {
                    for i in out.indices {
                        let uscc = out[i].uscc, period = Int64(out[i].period)
                        while records.hasRow, let stmt = records.stmt, case let c = records.compareKey(uscc),
                              c < 0 || (c == 0 && sqlite3_column_int64(stmt, 1) < period) {
                            try records.advance()
                        }
                        while records.hasRow, let stmt = records.stmt, records.compareKey(uscc) == 0,
                              sqlite3_column_int64(stmt, 1) == period {
                            fill(&out[i]) { DatabaseValue(sqliteStatement: stmt, index: Int32($0)) }
                            try records.advance()
                        }
                    }
                } else {
                    // The block's records in one query per 900 keys: a statement per enterprise cost more to
                    // prepare (a 150-column SELECT *) than to run.
                    var found: [String: Row] = [:]
                    try KeyChunks.forEach(Array(Set(unknown.map { out[$0].uscc }))) { chunk, m in
                        for r in try Row.fetchAll(db, sql: "SELECT \(columns) FROM record WHERE run_id = ? AND uscc IN (\(m))",
                                                  arguments: StatementArguments([run] as [DatabaseValueConvertible] + chunk)) {
                            found["\(r[0] as String)|\(r[1] as Int)"] = r
                        }
                    }
                    for i in unknown {
                        if let r = found["\(out[i].uscc)|\(out[i].period)"] { fill(&out[i]) { r[$0] } }
                    }
                }
                // Units that sent nothing are named from the units-that-sent-nothing table.
                var unreported: [String: Row] = [:]
                try KeyChunks.forEach(Array(Set(out.filter { $0.record == nil }.map(\.uscc)))) { chunk, m in
                    for r in try Row.fetchAll(db, sql: "SELECT uscc, name, region_code FROM yt_unreported WHERE uscc IN (\(m))",
                                              arguments: StatementArguments(chunk)) {
                        unreported[r["uscc"]] = r
                    }
                }
                for i in out.indices where out[i].record == nil {
                    if let u = unreported[out[i].uscc] {
                        out[i].name = u["name"]
                        out[i].regionCode = u["region_code"]
                    }
                }
                return out
            }
            if block.isEmpty { return }
            try body(block)
        }
    }

    public func insert(omissions: [OmissionEntry]) throws {
        let run = runID
        try withDatabase { db in
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO omission (run_id, uscc, period, name, region_code, reported, rules, reported_rd_exp,
                                      evidence, evidence_zh, estimated_missing, method, basis)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            // Bound by hand as the form rows are (BatchLoader): GRDB's arguments cost more than the insert.
            var b = RawBinder(stmt, db: db)
            for o in omissions {
                b.int(run)
                b.text(o.uscc)
                b.int(Int64(o.period))
                b.text(o.name)
                b.text(o.regionCode)
                b.int(Int64(o.reported ? 1 : 0))
                b.text(o.rules.joined(separator: ","))
                b.int(o.reportedRDExp?.raw)
                b.text(o.evidenceJSON)
                b.text(o.evidenceZh)
                b.int(o.estimatedMissing.raw)
                b.text(o.method)
                b.text(o.basis)
                try b.step()
            }
        }
    }
}

extension Store {
    /// A committed run's 应统尽统 list, largest estimated missing amount first.
    public func omissions(run: Int64) throws -> [OmissionEntry] {
        try read { db in try OmissionEntry.fetch(db, run: run) }
    }
}

extension RunWriter {
    /// Each entry of this (uncommitted) run's 应统尽统 list, largest estimated missing amount first.
    public func forEachOmission(_ body: (OmissionEntry) throws -> Void) throws {
        let run = runID
        try withDatabase { db in try OmissionEntry.forEach(db, run: run, body) }
    }
}

extension OmissionEntry {
    static func fetch(_ db: Database, run: Int64) throws -> [OmissionEntry] {
        var out: [OmissionEntry] = []
        try forEach(db, run: run) { out.append($0) }
        return out
    }

    /// Each entry of a run's list, largest estimated missing amount first, read one row at a time: at a million
    /// enterprises the list holds hundreds of thousands of entries with their evidence text, which is not to be
    /// held whole by the exports and the report.
    public static func forEach(_ db: Database, run: Int64, limit: Int? = nil, _ body: (OmissionEntry) throws -> Void) throws {
        // The head of the list comes through the (run_id, estimated_missing) index; the whole list is one ordered
        // pass over the run's rows and a sort, not a row fetched at random per index entry (2.6 s for 94,000
        // entries inside a run).
        let rows = try limit.map { n in
            try Row.fetchCursor(db, sql: """
                SELECT * FROM omission WHERE run_id = ? ORDER BY estimated_missing DESC, uscc LIMIT \(n)
                """, arguments: [run])
        } ?? Row.fetchCursor(db, sql: """
            SELECT * FROM omission WHERE id > ?2 AND +run_id = ?1 ORDER BY estimated_missing DESC, uscc
            """, arguments: [run, try RunRange.floor(db, table: "omission", run: run)])
        while let r = try rows.next() {
            try body(OmissionEntry(
                uscc: r["uscc"], period: r["period"], name: r["name"], regionCode: r["region_code"],
                reported: (r["reported"] as Int) == 1,
                rules: (r["rules"] as String).split(separator: ",").map(String.init),
                reportedRDExp: (r["reported_rd_exp"] as Int64?).map { Milli(raw: $0) },
                evidenceJSON: r["evidence"], evidenceZh: r["evidence_zh"],
                estimatedMissing: Milli(raw: r["estimated_missing"]), method: r["method"], basis: r["basis"]))
        }
    }

    /// How many entries a run's list has and their estimated missing amounts summed (exact, 元).
    public static func totals(_ db: Database, run: Int64) throws -> (count: Int, estimatedMissing: Milli) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS n, COALESCE(SUM(estimated_missing), 0) AS total FROM omission WHERE run_id = ?
            """, arguments: [run])
        return (row?["n"] ?? 0, Milli(raw: row?["total"] ?? 0))
    }
}
