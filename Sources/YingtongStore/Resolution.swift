import GRDB
import YingtongModel

// Resubmissions and statuses are resolved in SQL at the end of the load, not in Swift while reading: memory
// then stays bounded by the batch size (no dictionary of all USCCs), and SQLite's sort is what decides
// "latest" for a million records.

extension RunWriter {
    /// Keeps, for every (uscc, period), only the latest submission; the others move to the history tables.
    ///
    /// - 107-2 records: the winner has the greatest `submitted_key` (submission time normalized to UTC text;
    ///   missing or unreadable sorts earliest), ties broken by the greatest `sequence` (latest arrival).
    /// - 107-1 projects: an enterprise's project *set* wins as a whole. Rows form one submission group when
    ///   they share (uscc, period, source file, submission time); the group with the greatest time, then the
    ///   greatest sequence among its rows, wins. (Two submissions of one enterprise in one file with the same
    ///   or no time cannot be told apart and are kept together.)
    /// - Violations found on a loser (matched by uscc, period, source file and line; for projects also by
    ///   project name) get `superseded = 1`, so they no longer decide statuses or counts but stay for audit.
    /// - `authoritative`: source indexes whose submissions win over all others whatever their time (the
    ///   statistics bureau's export, when the pipeline says the bureau is authoritative); among them, and among
    ///   the others, the rules above decide.
    @discardableResult
    public func resolveResubmissions(authoritative: [Int32] = []) throws -> ResubmissionCounts {
        try finishLoading()
        let run = runID
        let rec = store.schemas[.activity]!, proj = store.schemas[.projects]!
        let first = authoritative.isEmpty ? "0" : "(source_index IN (\(authoritative.map(String.init).joined(separator: ","))))"
        return try withDatabase { db in
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS yt_loser (rid INTEGER PRIMARY KEY)")

            // ── 107-2 records ──
            try db.execute(sql: "DELETE FROM yt_loser")
            try db.execute(sql: """
                INSERT INTO yt_loser (rid)
                SELECT rid FROM (
                  SELECT r.id AS rid,
                         ROW_NUMBER() OVER (PARTITION BY r.uscc, r.period
                                            ORDER BY \(first.replacingOccurrences(of: "source_index", with: "r.source_index")) DESC,
                                                     r.submitted_key DESC, r.sequence DESC) AS rn
                  FROM record r
                  JOIN (SELECT uscc, period FROM record WHERE run_id = ?1
                        GROUP BY uscc, period HAVING COUNT(*) > 1) d
                    ON d.uscc = r.uscc AND d.period = r.period
                  WHERE r.run_id = ?1
                ) WHERE rn > 1
                """, arguments: [run])
            let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM yt_loser") ?? 0
            var violations = 0
            if records > 0 {
                try db.execute(sql: """
                    UPDATE violation SET superseded = 1 WHERE id IN (
                      SELECT v.id FROM yt_loser l JOIN record r ON r.id = l.rid
                      JOIN violation v ON v.run_id = ?1 AND v.source_index = r.source_index AND v.line = r.line
                                      AND v.uscc = r.uscc AND v.period = r.period AND v.project_name IS NULL)
                    """, arguments: [run])
                violations += db.changesCount
                try moveLosers(db, schema: rec)
            }

            // ── 107-1 project sets ──
            try db.execute(sql: "DELETE FROM yt_loser")
            try db.execute(sql: """
                INSERT INTO yt_loser (rid)
                SELECT p.id FROM project p
                JOIN (
                  SELECT uscc, period, source_index, submitted_key FROM (
                    SELECT q.uscc, q.period, q.source_index, q.submitted_key,
                           ROW_NUMBER() OVER (PARTITION BY q.uscc, q.period
                                              ORDER BY \(first.replacingOccurrences(of: "source_index", with: "q.source_index")) DESC,
                                                       q.submitted_key DESC, MAX(q.sequence) DESC) AS rn
                    FROM project q
                    -- Only enterprises with more than one submission group need ranking; finding them walks
                    -- the covering project_key index in order, without sorting the whole table.
                    JOIN (SELECT uscc, period FROM project WHERE run_id = ?1 GROUP BY uscc, period
                          HAVING MIN(source_index) <> MAX(source_index)
                              OR MIN(IFNULL(submitted_key, '')) <> MAX(IFNULL(submitted_key, ''))) d
                      ON d.uscc = q.uscc AND d.period = q.period
                    WHERE q.run_id = ?1
                    GROUP BY q.uscc, q.period, q.source_index, q.submitted_key
                  ) WHERE rn > 1
                ) g ON g.uscc = p.uscc AND g.period = p.period AND g.source_index = p.source_index
                   AND g.submitted_key IS p.submitted_key
                WHERE p.run_id = ?1
                """, arguments: [run])
            let projects = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM yt_loser") ?? 0
            if projects > 0 {
                try db.execute(sql: """
                    UPDATE violation SET superseded = 1 WHERE id IN (
                      SELECT v.id FROM yt_loser l JOIN project p ON p.id = l.rid
                      JOIN violation v ON v.run_id = ?1 AND v.source_index = p.source_index AND v.line = p.line
                                      AND v.uscc = p.uscc AND v.period = p.period
                                      AND v.project_name IS p.project_name)
                    """, arguments: [run])
                violations += db.changesCount
                try moveLosers(db, schema: proj)
            }
            return ResubmissionCounts(records: records, projects: projects, violations: violations)
        }
    }

    private func moveLosers(_ db: Database, schema: FormSchema) throws {
        let cols = (["id"] + schema.all.map(\.name)).map(quoted).joined(separator: ",")
        try db.execute(sql: """
            INSERT INTO \(schema.historyTable!) (\(cols)) SELECT \(cols) FROM \(schema.table)
            WHERE id IN (SELECT rid FROM yt_loser)
            """)
        try db.execute(sql: "DELETE FROM \(schema.table) WHERE id IN (SELECT rid FROM yt_loser)")
    }

    /// Which findings (`v`) are also matched to a 107-2 record by line: the format findings (level 0), made while
    /// reading, in line order, with the key as sent; the other findings only when their key names no record.
    static let matchedByLine = """
        (v.level = 0 OR NOT EXISTS (SELECT 1 FROM record k WHERE k.run_id = v.run_id AND k.uscc = v.uscc AND k.period = v.period))
        """

    /// Sets `record.status` and `project.status` from the run's live (not superseded) violations.
    ///
    /// A record's findings are the enterprise-level violations (no project name) joined on (uscc, period) or,
    /// as `matchedByLine` says, on (source file, line). Any error → `rejected`; else any warning without an
    /// explanation → `flagged`; else a warning with an explanation → `explained`; else `clean` (info findings do not count).
    /// A project's findings are those naming it, plus: an enterprise-level error (matched to the enterprise by
    /// key, or to its 107-2 record by line) rejects all of the enterprise's projects. Explanations sent with the data are first attached to the
    /// warnings they answer (same uscc, period and rule; the latest explanation wins); an error cannot be
    /// explained away — it must be corrected by a new submission.
    @discardableResult
    public func applyStatuses() throws -> StatusCounts {
        try finishLoading()
        let run = runID
        let resetStatuses = mayHoldNonCleanStatus
        let loadedNonClean = nonCleanRows
        let result = try withDatabase { db in
            let floor = try RunRange.floor(db, table: "violation", run: run)
            /// Counts per status from yt_worst (the non-clean rows); clean = all rows of the run − those.
            func tally(_ table: String) throws -> [RecordStatus: Int] {
                let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [run]) ?? 0
                var out: [RecordStatus: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT w, COUNT(*) AS n FROM yt_worst GROUP BY w") {
                    let w: Int = row["w"]
                    out[w == 3 ? .rejected : w == 2 ? .flagged : .explained] = row["n"]
                }
                let clean = total - out.values.reduce(0, +)
                if clean > 0 { out[.clean] = clean }
                return out
            }
            // Driven from the explanations (a few per run), not from the run's violations.
            try db.execute(sql: """
                UPDATE violation SET explanation = (
                  SELECT e.text FROM explanation e
                  WHERE e.run_id = violation.run_id AND e.uscc = violation.uscc AND e.period = violation.period
                    AND e.rule = violation.rule ORDER BY e.id DESC LIMIT 1)
                WHERE id IN (SELECT v.id FROM explanation e
                             CROSS JOIN violation v ON v.run_id = e.run_id AND v.uscc = e.uscc AND v.period = e.period
                             WHERE e.run_id = ?1 AND v.rule = e.rule AND v.severity = 'warning' AND v.explanation IS NULL)
                """, arguments: [run])

            try db.execute(sql: """
                CREATE TEMP TABLE IF NOT EXISTS yt_worst (id INTEGER PRIMARY KEY, w INTEGER NOT NULL);
                CREATE TEMP TABLE IF NOT EXISTS yt_loaded_not_clean (id INTEGER PRIMARY KEY);
                """)
            /// Sets each row of `table` to the worst status of its live findings (yt_worst): rows loaded with a
            /// status its findings no longer back go back to clean, and rows already right are not rewritten.
            func settle(_ table: String) throws {
                if resetStatuses {
                    try db.execute(sql: """
                        UPDATE \(table) SET status = 'clean' WHERE id > ?2 AND +run_id = ?1 AND status <> 'clean'
                          AND id NOT IN (SELECT id FROM yt_worst)
                        """, arguments: [run, try RunRange.floor(db, table: table, run: run)])
                } else if let ids = loadedNonClean[table], !ids.isEmpty {
                    // Only the rows loaded as not clean (their rowids, kept while loading) can hold a status to
                    // undo; scanning the whole table for them was most of this stage in a run without rules.
                    try db.execute(sql: "DELETE FROM yt_loaded_not_clean")
                    let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO yt_loaded_not_clean VALUES (?)")
                    for id in ids { try insert.execute(arguments: [id]) }
                    try db.execute(sql: """
                        UPDATE \(table) SET status = 'clean'
                        WHERE id IN (SELECT n.id FROM yt_loaded_not_clean n WHERE n.id NOT IN (SELECT id FROM yt_worst))
                        """)
                }
                // Driven from yt_worst in rowid order (an UPDATE … FROM yt_worst scanned the whole table's index),
                // writing only the rows whose status changes: most were loaded with the status their findings give.
                try db.execute(sql: """
                    UPDATE \(table) SET status = (SELECT CASE w WHEN 3 THEN 'rejected' WHEN 2 THEN 'flagged' ELSE 'explained' END
                                                  FROM yt_worst y WHERE y.id = \(table).id)
                    WHERE id IN (SELECT y.id FROM yt_worst y
                                 WHERE y.w IS NOT (SELECT CASE t.status WHEN 'rejected' THEN 3 WHEN 'flagged' THEN 2
                                                                        WHEN 'explained' THEN 1 END
                                                   FROM \(table) t WHERE t.id = y.id))
                    """)
            }
            try db.execute(sql: "DELETE FROM yt_worst")
            try db.execute(sql: """
                WITH hit AS (
                  SELECT r.id AS rid, v.severity, v.explanation FROM violation v
                  CROSS JOIN record r ON r.run_id = v.run_id AND r.uscc = v.uscc AND r.period = v.period
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NULL
                    AND v.severity IN ('error', 'warning')
                  UNION ALL
                  -- By line, as `matchedByLine` says. The rule stage writes its findings in USCC order, so
                  -- looking each of them up by line read the line index at random; testing every format finding's
                  -- key instead did the same to the key index (455,630 of them at 1,000,000 enterprises, and peak
                  -- RSS went from 210 to 228 MB).
                  SELECT r.id, v.severity, v.explanation FROM violation v
                  CROSS JOIN record r ON r.run_id = v.run_id AND r.source_index = v.source_index AND r.line = v.line
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NULL
                    AND v.severity IN ('error', 'warning')
                    AND \(Self.matchedByLine)
                )
                INSERT INTO yt_worst (id, w)
                SELECT rid, MAX(CASE WHEN severity = 'error' THEN 3 WHEN explanation IS NULL THEN 2 ELSE 1 END)
                FROM hit GROUP BY rid
                """, arguments: [run, floor])
            try settle("record")
            let records = try tally("record")

            try db.execute(sql: "DELETE FROM yt_worst")
            try db.execute(sql: """
                WITH hit AS (
                  SELECT p.id AS pid, v.severity, v.explanation FROM violation v
                  CROSS JOIN project p ON p.run_id = v.run_id AND p.uscc = v.uscc AND p.period = v.period
                                      AND p.project_name = v.project_name
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NOT NULL
                    AND v.severity IN ('error', 'warning')
                  UNION ALL
                  SELECT p.id, v.severity, v.explanation FROM violation v
                  CROSS JOIN project p ON p.run_id = v.run_id AND p.source_index = v.source_index AND p.line = v.line
                                      AND p.uscc = v.uscc
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NOT NULL AND v.severity IN ('error', 'warning')
                  UNION ALL
                  SELECT p.id, 'error', NULL FROM violation v
                  CROSS JOIN project p ON p.run_id = v.run_id AND p.uscc = v.uscc AND p.period = v.period
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NULL AND v.severity = 'error'
                  UNION ALL
                  -- An error matched to the 107-2 record by line (its key as sent may differ) rejects the
                  -- record's projects too; driven from the few errors, not from all records.
                  SELECT p.id, 'error', NULL FROM violation v
                  CROSS JOIN record r ON r.run_id = v.run_id AND r.source_index = v.source_index AND r.line = v.line
                  CROSS JOIN project p ON p.run_id = r.run_id AND p.uscc = r.uscc AND p.period = r.period
                  WHERE v.id > ?2 AND +v.run_id = ?1 AND v.superseded = 0 AND v.project_name IS NULL AND v.severity = 'error'
                    AND \(Self.matchedByLine)
                )
                INSERT INTO yt_worst (id, w)
                SELECT pid, MAX(CASE WHEN severity = 'error' THEN 3 WHEN explanation IS NULL THEN 2 ELSE 1 END)
                FROM hit GROUP BY pid
                """, arguments: [run, floor])
            try settle("project")
            let projects = try tally("project")

            return StatusCounts(records: records, projects: projects)
        }
        mayHoldNonCleanStatus = true
        nonCleanRows = [:]
        return result
    }
}
