import GRDB
import YingtongModel

/// One unit another source names for the period.
public struct NamedUnit: Sendable, Hashable {
    public var uscc: String
    public var name: String?
    public var regionCode: String?
    public var sourceIndex: Int32
    public var line: Int32

    public init(uscc: String, name: String?, regionCode: String?, sourceIndex: Int32, line: Int32) {
        self.uscc = uscc
        self.name = name
        self.regionCode = regionCode
        self.sourceIndex = sourceIndex
        self.line = line
    }
}

// 应统尽统 starts from the units that sent nothing: the roster's units, the registries' enterprises and last
// cycle's reporters, minus this run's 107-2 records. The set is built in a temporary table by SQL (an
// anti-join on the record index), then read back in USCC order a block at a time, so memory stays bounded by
// the block even when a province's roster lists a million units.
extension RunWriter {
    /// Names of this run's reporters whose USCC fails its check (few: read whole, checked in Swift).
    public func namesOfMalformedUSCCReports() throws -> Set<String> {
        let run = runID
        return try withDatabase { db in
            var out = Set<String>()
            let rows = try Row.fetchCursor(db, sql: "SELECT uscc, name FROM record WHERE run_id = ? AND name IS NOT NULL", arguments: [run])
            while let r = try rows.next() {
                let u: String = r[0]
                if USCC.problem(u) != nil { out.insert(r[1]) }
            }
            return out
        }
    }

    /// Starts a fresh list of named units for this run.
    public func beginNamedUnits() throws {
        try withDatabase { db in
            try db.execute(sql: """
                CREATE TEMP TABLE IF NOT EXISTS yt_named (uscc TEXT NOT NULL, name TEXT, region_code TEXT,
                                                          source_index INTEGER NOT NULL, line INTEGER NOT NULL);
                DELETE FROM yt_named;
                """)
        }
    }

    /// A unit with a 107-2 record in this run is not a candidate, whichever source names it. The test runs while the
    /// source's rows are read: copying every roster and registry row into the temporary table first cost a million
    /// inserts at a million enterprises.
    private static func sentNothing(key: String = "uscc") -> String {
        "NOT EXISTS (SELECT 1 FROM record r WHERE r.run_id = u.run_id AND r.uscc = u.\(quoted(key)))"
    }

    /// The rowids of this run's rows of `table` whose `key` names a unit without a 107-2 record (the run bound as
    /// `?1`). `index`, on (run_id, key), is read in key order and covers the test, so the record index is probed in
    /// order too, and only the rows of units that sent nothing (a few percent) are then fetched. The roster read
    /// whole in table order had made every probe random (5.2 → 11.3 s at a million enterprises); read whole in key
    /// order, every row came from a random page. At 300,000 enterprises with registries, on a committed store:
    /// roster 0.50 → 0.29 s, tax deduction list 0.17 → 0.08 s.
    private static func unsentRows(table: String, key: String, index: String) -> String {
        """
        SELECT c.rowid FROM \(table) c INDEXED BY \(index)
        WHERE c.run_id = ?1 AND IFNULL(c.\(quoted(key)), '') <> ''
          AND NOT EXISTS (SELECT 1 FROM record r WHERE r.run_id = ?1 AND r.uscc = c.\(quoted(key)))
        """
    }

    /// Adds the roster's units (all of them: the roster is the list of units obliged to report) that sent nothing.
    public func addRosterUnits() throws {
        let run = runID
        try withDatabase { db in
            try db.execute(sql: """
                INSERT INTO yt_named SELECT uscc, name, region_code, source_index, line FROM roster u
                WHERE u.rowid IN (\(Self.unsentRows(table: "roster", key: "uscc", index: "roster_key")))
                """, arguments: [run])
        }
    }

    /// Adds the units a registry names for the period that sent nothing (rows of other counties excluded when
    /// they say so).
    public func addRegistryUnits(_ registry: Registry, period: Int, localRegions: [String]) throws {
        let query = RegistryQuery(registry: registry, run: runID, store: store)
        try withDatabase { db in
            let index = try query.keyIndex(db)
            let (sql, args) = query.unitsSQL(
                period: period, localRegions: localRegions, alias: "u",
                condition: index == nil ? Self.sentNothing(key: registry.key) : nil,
                rows: index.map { Self.unsentRows(table: query.schema.table, key: registry.key, index: $0) })
            try db.execute(sql: "INSERT INTO yt_named \(sql)", arguments: StatementArguments(args))
        }
    }

    /// Adds units from elsewhere (last cycle's reporters, read from the previous store).
    public func addNamedUnits(_ units: [NamedUnit]) throws {
        guard !units.isEmpty else { return }
        try withDatabase { db in
            let stmt = try db.cachedStatement(sql: "INSERT INTO yt_named VALUES (?, ?, ?, ?, ?)")
            for u in units {
                try stmt.execute(arguments: [u.uscc, u.name, u.regionCode, u.sourceIndex, u.line])
            }
        }
    }

    /// The units that sent nothing, as the last `forEachUnreportedBlock` found them (empty before one ran).
    static let unreportedTableSQL = """
        CREATE TEMP TABLE IF NOT EXISTS yt_unreported (uscc TEXT PRIMARY KEY, name TEXT, region_code TEXT,
                                                       source_index INTEGER, line INTEGER) WITHOUT ROWID
        """

    /// Calls `body` with blocks of the named units that have no 107-2 record in this run, in USCC order, each
    /// unit once: located at the row of the first source that names it (lowest source index, then line), so the
    /// file and line always point at one real row. The name and region come from that row too, or, where it has
    /// none, from another source's row. (Taking MIN of each column alone, as before, could pair one source's
    /// index with another source's line.)
    /// A unit whose report carries a malformed USCC (its name is in `reportedNames`) did report: it is matched
    /// by exact name, as the registry bindings match it.
    public func forEachUnreportedBlock(size: Int, reportedNames: Set<String> = [], _ body: ([NamedUnit]) throws -> Void) throws {
        let run = runID
        try withDatabase { db in
            try db.execute(sql: """
                CREATE TEMP TABLE IF NOT EXISTS yt_reported_name (name TEXT PRIMARY KEY) WITHOUT ROWID;
                DELETE FROM yt_reported_name;
                \(Self.unreportedTableSQL);
                DELETE FROM yt_unreported;
                """)
            let stmt = try db.cachedStatement(sql: "INSERT OR IGNORE INTO yt_reported_name VALUES (?)")
            for n in reportedNames { try stmt.execute(arguments: [n]) }
            try db.execute(sql: """
                INSERT INTO yt_unreported
                SELECT uscc, COALESCE(name, any_name), COALESCE(region_code, any_region), source_index, line FROM (
                  SELECT n.uscc, n.name, n.region_code, n.source_index, n.line, ROW_NUMBER() OVER w AS k,
                         MIN(n.name) OVER w AS any_name, MIN(n.region_code) OVER w AS any_region
                  FROM yt_named n
                  WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.run_id = ? AND r.uscc = n.uscc)
                    AND NOT EXISTS (SELECT 1 FROM yt_reported_name m WHERE m.name = n.name)
                  WINDOW w AS (PARTITION BY n.uscc ORDER BY n.source_index, n.line
                               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
                WHERE k = 1;
                """, arguments: [run])
        }
        var after = ""
        while true {
            let block: [NamedUnit] = try withDatabase { db in
                try Row.fetchAll(db, sql: """
                    SELECT uscc, name, region_code, source_index, line FROM yt_unreported
                    WHERE uscc > ? ORDER BY uscc LIMIT \(size)
                    """, arguments: [after]).map {
                    NamedUnit(uscc: $0[0], name: $0[1], regionCode: $0[2], sourceIndex: $0[3], line: $0[4])
                }
            }
            guard let last = block.last else { return }
            try body(block)
            after = last.uscc
            if block.count < size { return }
        }
    }
}
