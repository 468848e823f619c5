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
    /// What each evidence registry holds on the unit (registry name → match; a registry without rows for it is
    /// absent), as the rule stage noted it; nil when it was not noted and must be looked up.
    public var evidence: [String: RegistryMatch]?
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
    /// What the evidence registries hold on the unit for the period (registry name → match; absent: no rows),
    /// when the noting stage had them at hand.
    public var evidence: [String: RegistryMatch]?

    public init(uscc: String, period: Int, rules: [String], record: Record, evidence: [String: RegistryMatch]? = nil) {
        self.uscc = uscc
        self.period = period
        self.rules = rules
        self.record = record
        self.evidence = evidence
    }
}

extension RunWriter {
    static let notedSubjectsSQL = """
        CREATE TEMP TABLE IF NOT EXISTS yt_omission_subject (
          uscc TEXT NOT NULL, period INTEGER NOT NULL, rules TEXT NOT NULL,
          state INTEGER,        -- 1 sent (values below), 0 sent nothing, NULL not known
          name TEXT, region_code TEXT, vals TEXT,
          evidence TEXT,        -- its registry matches (EvidenceText), NULL when not noted
          PRIMARY KEY (uscc, period)) WITHOUT ROWID
        """

    /// Starts noting this run's omission subjects (see `note(omissionSubjects:)`), forgetting any noted before.
    public func beginNotingOmissionSubjects() throws {
        try withDatabase { db in
            try db.execute(sql: Self.notedSubjectsSQL)
            try db.execute(sql: "DELETE FROM yt_omission_subject")
        }
    }

    /// Notes subjects for `forEachOmissionSubjectBlock`. Kept in (uscc, period) order by the table
    /// itself, so the list reads them in order without sorting the run's findings. A unit noted twice gathers both
    /// rule lists; if the two notes disagree on its record, the list looks the record up. Evidence is the same
    /// whichever stage notes it (the registries do not change during a run): the first note of it stands.
    public func note(omissionSubjects: [NotedOmissionSubject]) throws {
        guard !omissionSubjects.isEmpty else { return }
        try withDatabase { db in
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO yt_omission_subject (uscc, period, rules, state, name, region_code, vals, evidence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (uscc, period) DO UPDATE SET
                  rules = rules || ',' || excluded.rules,
                  state = CASE WHEN state IS excluded.state AND vals IS excluded.vals THEN state END,
                  vals = CASE WHEN state IS excluded.state AND vals IS excluded.vals THEN vals END,
                  evidence = COALESCE(evidence, excluded.evidence)
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
                    b.text(EvidenceText.sums(values))
                case .none:
                    b.int(0); b.text(nil); b.text(nil); b.text(nil)
                case .unknown:
                    b.int(nil); b.text(nil); b.text(nil); b.text(nil)
                }
                b.text(s.evidence.map(EvidenceText.encode))
                try b.step()
            }
        }
    }
}

/// A subject's noted evidence as one text: per registry its name, row count, sums and texts. The separators are
/// ASCII control characters, which a registry's values never need: one in a value (a stray byte in a CSV) is written
/// as a space rather than split the value. One column on the subject's row, not a row per registry: the rule stage
/// writes it for every subject, and the inserts were most of noting them.
enum EvidenceText {
    static let registrySeparator = UInt8(0x1C), part = UInt8(0x1E), field = UInt8(0x1D), value = UInt8(0x1F)

    static func encode(_ evidence: [String: RegistryMatch]) -> String {
        var out = ""
        for (name, m) in evidence.sorted(by: { $0.key < $1.key }) {
            if !out.isEmpty { out += "\u{1C}" }
            out += name + "\u{1E}" + String(m.rows) + "\u{1E}"
            out += sums(m.sums)
            out += "\u{1E}"
            // The texts stay joined as the registry read gave them: splitting them into values to join them again
            // was an allocation per value for every subject noted.
            out += m.joinedTexts.sorted { $0.key < $1.key }.map { field, joined in
                joined.isEmpty ? field : field + "\u{1F}" + clean(joined)
            }.joined(separator: "\u{1D}")
        }
        return out
    }

    /// Amounts as `field=raw;field=raw` (raw: Milli's exact integer), the form of a note's 107-2 values too.
    static func sums(_ sums: [String: Milli]) -> String {
        sums.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.raw)" }.joined(separator: ";")
    }

    static func sums<C: Collection<UInt8>>(from bytes: C) -> [String: Milli] where C.SubSequence: Collection<UInt8> {
        var out: [String: Milli] = [:]
        for pair in bytes.split(separator: UInt8(ascii: ";")) {
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")),
                  let raw = Int64(String(decoding: pair[pair.index(after: eq)...], as: UTF8.self)) else { continue }
            out[String(decoding: pair[..<eq], as: UTF8.self)] = Milli(raw: raw)
        }
        return out
    }

    /// A joined text with the other separators (U+001C–U+001E, stray control bytes in a CSV) as spaces; its
    /// U+001F stay, they separate its values.
    private static func clean(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x1C && $0 <= 0x1E }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { (0x1C...0x1E).contains($0.value) ? " " : $0 }))
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> [String: RegistryMatch] {
        func text<C: Collection<UInt8>>(_ c: C) -> String { String(decoding: c, as: UTF8.self) }
        var out: [String: RegistryMatch] = [:]
        for record in bytes.split(separator: registrySeparator, omittingEmptySubsequences: true) {
            let parts = record.split(separator: part, maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4 else { continue }
            var m = RegistryMatch()
            m.rows = Int(text(parts[1])) ?? 0
            m.sums = sums(from: parts[2])
            // Kept joined, as a registry read keeps them; `RegistryMatch.texts(_:)` splits the ones a list quotes.
            for f in parts[3].split(separator: field, omittingEmptySubsequences: true) {
                let name = f.firstIndex(of: value).map { f[..<$0] } ?? f[...]
                m.setJoinedText(text(name), name.endIndex == f.endIndex ? "" : text(f[f.index(after: name.endIndex)...]))
            }
            out[text(parts[0])] = m
        }
        return out
    }
}

extension RunWriter {
    /// Calls `body` with blocks of the enterprises the rule stages noted (`note(omissionSubjects:)`), in USCC order,
    /// with their 107-2 values when they sent a record: as noted beside them, or, for a subject noted without them,
    /// looked up by key (only `fields` of the record: a 150-column `SELECT *` decoded by name cost more than the
    /// rest). Units that sent nothing are named from the units-that-sent-nothing table.
    public func forEachOmissionSubjectBlock(fields: [String], size: Int, _ body: ([OmissionSubject]) throws -> Void) throws {
        let run = runID
        let schema = store.schemas[.activity]!
        let wanted = schema.fields.filter { fields.contains($0.name) }
        let columns = (["uscc", "period", "name", "region_code"] + wanted.map(\.name)).map(quoted).joined(separator: ", ")
        // The table's own key order: no sort.
        var subjects: SortedStatement?
        defer { subjects?.close(store: store) }
        try withDatabase { db in
            // Empty when nothing was noted, or no rule examined the units that sent nothing.
            try db.execute(sql: RunWriter.notedSubjectsSQL)
            try db.execute(sql: RunWriter.unreportedTableSQL)
            subjects = try SortedStatement(db, sql: """
                SELECT uscc, period, rules, state, name, region_code, vals, evidence FROM yt_omission_subject ORDER BY uscc, period
                """, arguments: [], keyColumn: 0, what: "审核结果")
        }
        while let stream = subjects, stream.currentKey != nil {
            let block: [OmissionSubject] = try withDatabase { db in
                var out: [OmissionSubject] = []
                /// Subjects noted without knowing their record (state NULL): looked up below.
                var unknown: [Int] = []
                while out.count < size, let uscc = stream.currentKey, let stmt = stream.stmt {
                    var subject = OmissionSubject(uscc: uscc, period: Int(sqlite3_column_int64(stmt, 1)),
                                                  rules: Set(Self.fields(stmt, 2, separator: UInt8(ascii: ","))).sorted(),
                                                  record: nil, name: nil, regionCode: nil)
                    if sqlite3_column_type(stmt, 3) == SQLITE_NULL {
                        unknown.append(out.count)
                    } else if sqlite3_column_int64(stmt, 3) == 1 {
                        let vals = sqlite3_column_text(stmt, 6).map {
                            UnsafeBufferPointer(start: $0, count: Int(sqlite3_column_bytes(stmt, 6)))
                        }
                        subject.record = (vals.map { EvidenceText.sums(from: $0) } ?? [:]).mapValues { .number($0) }
                        subject.name = sqlite3_column_text(stmt, 4).map { String(cString: $0) }
                        subject.regionCode = sqlite3_column_text(stmt, 5).map { String(cString: $0) }
                    }
                    if let e = sqlite3_column_blob(stmt, 7) {
                        subject.evidence = EvidenceText.decode(UnsafeBufferPointer(
                            start: e.assumingMemoryBound(to: UInt8.self), count: Int(sqlite3_column_bytes(stmt, 7))))
                    } else if sqlite3_column_type(stmt, 7) != SQLITE_NULL {
                        subject.evidence = [:]   // noted: no registry holds the unit
                    }
                    out.append(subject)
                    try stream.advance()
                }
                // The records of the subjects noted without them, in one query per 900 keys (a statement per
                // enterprise cost more to prepare, a 150-column SELECT *, than to run); a (uscc, period) sent twice
                // keeps its latest row.
                var found: [String: Row] = [:]
                try KeyChunks.forEach(Array(Set(unknown.map { out[$0].uscc }))) { chunk, m in
                    for r in try Row.fetchAll(db, sql: """
                        SELECT \(columns) FROM record WHERE run_id = ? AND uscc IN (\(m)) ORDER BY id
                        """, arguments: StatementArguments([run] as [DatabaseValueConvertible] + chunk)) {
                        found["\(r[0] as String)|\(r[1] as Int)"] = r
                    }
                }
                for i in unknown {
                    guard let r = found["\(out[i].uscc)|\(out[i].period)"] else { continue }
                    var values: [String: StoredValue] = [:]
                    for (k, c) in wanted.enumerated() {
                        let v: DatabaseValue = r[4 + k]
                        if !v.isNull, let storage = c.storage, let m = StoredValue.milli(v, storage: storage) {
                            values[c.name] = .number(m)
                        }
                    }
                    out[i].record = values
                    out[i].name = r[2]
                    out[i].regionCode = r[3]
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

    /// A text column's parts between `separator` bytes, cut from its bytes (the notes' rule lists and values are
    /// ASCII; cutting them as Swift characters was a fifth of the list's reading thread).
    private static func fields(_ stmt: OpaquePointer, _ column: Int32, separator: UInt8) -> [String] {
        guard let text = sqlite3_column_text(stmt, column) else { return [] }
        let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(stmt, column)))
        return bytes.split(separator: separator).map { String(decoding: UnsafeBufferPointer(rebasing: $0), as: UTF8.self) }
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
