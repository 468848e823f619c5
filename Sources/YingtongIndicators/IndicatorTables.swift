import GRDB
import YingtongModel
import YingtongStore

/// Two narrow temporary tables the indicator queries join to, built with one ordered pass over the run's records
/// and one over its roster.
///
/// The indicators ask the same few questions again and again — does this unit have a live 107-2 record with
/// R&D, is it a 规上工业 unit of the roster — and asked of the wide record and roster rows through their
/// (run_id, uscc) indexes, each question fetched a whole row at random, from the WAL inside the run: most of the
/// indicator stage (300k enterprises: 1.7 s for the FTE query alone). Here each answer is a flag in a compact
/// B-tree.
///
/// - `yt_ind_record(uscc, period, region, live, live_rd, live_inst, rejected)`: per key and region, whether a
///   record that is not rejected exists (with row 7 > 0, with institutes at year end > 0), and whether a rejected
///   one does — the EXISTS questions exactly, also when a key has several records.
/// - `yt_ind_units(uscc, industrial)`: the scope's distinct roster units, and whether any of the unit's roster
///   rows says 规上 and names an industrial 行业代码.
struct IndicatorTables {
    let db: Database
    let run: Int64
    let period: Int
    let scope: RegionScope

    /// Roster rows in scope (with or without a USCC).
    private(set) var rosterRows = 0

    init(db: Database, run: Int64, period: Int, scope: RegionScope) throws {
        self.db = db
        self.run = run
        self.period = period
        self.scope = scope
        let recordFloor = try RunRange.floor(db, table: "record", run: run)
        let rosterFloor = try RunRange.floor(db, table: "roster", run: run)
        try db.execute(sql: """
            DROP TABLE IF EXISTS temp.yt_ind_record;
            CREATE TEMP TABLE yt_ind_record (
              uscc TEXT NOT NULL, period INTEGER NOT NULL, region TEXT NOT NULL,
              live INTEGER NOT NULL, live_rd INTEGER NOT NULL, live_inst INTEGER NOT NULL, rejected INTEGER NOT NULL,
              PRIMARY KEY (uscc, period, region)) WITHOUT ROWID;
            DROP TABLE IF EXISTS temp.yt_ind_units;
            CREATE TEMP TABLE yt_ind_units (uscc TEXT PRIMARY KEY, industrial INTEGER NOT NULL) WITHOUT ROWID;
            """)
        try db.execute(sql: """
            INSERT INTO yt_ind_record
            SELECT uscc, period, IFNULL(region_code, ''),
                   MAX(status <> 'rejected'), MAX(status <> 'rejected' AND COALESCE(rd_exp_total > 0, 0)),
                   MAX(status <> 'rejected' AND COALESCE(inst_count_eoy > 0, 0)), MAX(status = 'rejected')
            FROM record WHERE id > ?2 AND +run_id = ?1 AND uscc IS NOT NULL
            GROUP BY uscc, period, IFNULL(region_code, '')
            """, arguments: [run, recordFloor])
        try db.execute(sql: """
            INSERT INTO yt_ind_units
            SELECT ro.uscc, MAX(yt_truthy(ro.above_scale) AND yt_industrial(ro.industry_code))
            FROM roster ro WHERE ro.id > ?2 AND +ro.run_id = ?1 AND ro.uscc IS NOT NULL AND \(Queries.inScope("ro"))
            GROUP BY ro.uscc
            """, arguments: [run, rosterFloor, scope.pattern])
        rosterRows = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM roster ro WHERE ro.id > ?2 AND +ro.run_id = ?1 AND \(Queries.inScope("ro"))
            """, arguments: [run, rosterFloor, scope.pattern]) ?? 0
    }

    /// 有研发活动 for a unit `u` of yt_ind_units (period in ?2), by the pipeline's rd_active rule (DOMAIN §0.1).
    static func activity(_ rule: IndicatorSettings.RDActive) -> String {
        switch rule {
        case .costPositive:
            return "EXISTS (SELECT 1 FROM yt_ind_record r WHERE r.uscc = u.uscc AND r.period = ?2 AND r.live_rd)"
        case .hasValidProject:
            return """
                EXISTS (SELECT 1 FROM project p WHERE p.run_id = ?1 AND p.uscc = u.uscc AND p.period = ?2
                        AND p.status <> 'rejected'
                        AND NOT EXISTS (SELECT 1 FROM yt_ind_record r WHERE r.uscc = p.uscc AND r.period = p.period
                                        AND r.rejected))
                """
        }
    }

    /// Distinct roster units in scope, 规上工业 only when `industrial`, that also satisfy `condition` (on `u`).
    func units(industrial: Bool, where condition: String? = nil) throws -> Int {
        // The conditions read the run as ?1 and the period as ?2 (SQLite counts parameters up to the largest one).
        var sql = "SELECT COUNT(*) FROM yt_ind_units u WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL"
        if industrial { sql += " AND u.industrial" }
        if let condition { sql += " AND \(condition)" }
        return try Int.fetchOne(db, sql: sql, arguments: [run, period]) ?? 0
    }
}
