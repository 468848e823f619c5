import Foundation
import GRDB
import YingtongModel

/// How one dictionary field is kept in a SQLite column (FORMATS §6, DOMAIN §0.1 "money precision").
///
/// Money is exact: the column holds `Milli.raw` of 千元, which is an integer number of 元. Counts are integers
/// when integral; a non-integral count (a V005 finding) is kept as REAL rather than rounded away, so the
/// evidence survives. Quantities and ratios are REAL: they are never summed as money is, and `ROUND(x*1000)`
/// recovers the exact milli because every stored value has at most three decimals and fits 2⁵³.
public enum FieldStorage: String, Sendable {
    case moneyYuan = "money_yuan"
    case count
    case real
    case text

    public init(_ type: FieldType) {
        switch type {
        case .money: self = .moneyYuan
        case .count: self = .count
        case .quantity, .ratio: self = .real
        case .code, .text, .date, .flag, .period: self = .text
        }
    }

    var sqlType: String {
        switch self {
        case .moneyYuan, .count: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        }
    }

    /// The note written to `field_catalog.storage`, for people reading the database with other tools.
    public var noteZh: String {
        switch self {
        case .moneyYuan: "INTEGER，单位元（= 千元 × 1000，精确到元，无浮点误差）"
        case .count: "INTEGER（整数计数）；非整数的计数（V005）以 REAL 原样保存"
        case .real: "REAL（最多三位小数；ROUND(x*1000) 可精确还原）"
        case .text: "TEXT"
        }
    }
}

/// One column of a form table: either a fixed identity/provenance column or a dictionary field.
struct FormColumn: Sendable {
    let name: String
    let sqlType: String
    /// The dictionary field, nil for the fixed columns.
    let field: FieldDefinition?
    var storage: FieldStorage? { field.map { FieldStorage($0.type) } }
}

/// The shapes of the form tables, generated from the field dictionary so that a field added to
/// `fields.yaml` becomes a column without anyone listing it here.
struct FormSchema: Sendable {
    let table: String
    let historyTable: String?
    let form: Form
    /// Fixed columns first (identity and provenance, bound from the batch's own arrays), then dictionary fields.
    let fixed: [FormColumn]
    let fields: [FormColumn]
    var all: [FormColumn] { fixed + fields }

    /// The same table seen through the fixed columns and only the named fields (a narrower read).
    func holding(_ names: Set<String>) -> FormSchema {
        FormSchema(table: table, historyTable: historyTable, form: form, fixed: fixed,
                   fields: fields.filter { names.contains($0.name) })
    }

    static func make(_ form: Form, dictionary: FieldDictionary) -> FormSchema {
        let identity: [FormColumn] = [
            .init(name: "run_id", sqlType: "INTEGER NOT NULL", field: nil),
            .init(name: "uscc", sqlType: "TEXT NOT NULL", field: nil),
            .init(name: "period", sqlType: "INTEGER NOT NULL", field: nil),
            .init(name: "name", sqlType: "TEXT", field: nil),
            .init(name: "region_code", sqlType: "TEXT", field: nil),
            .init(name: "industry_code", sqlType: "TEXT", field: nil),
            .init(name: "form_version", sqlType: "TEXT", field: nil),
            .init(name: "submitted_at", sqlType: "TEXT", field: nil),
            // Normalized UTC ISO-8601 text of submitted_at (SubmissionTime): what resubmission ordering compares.
            .init(name: "submitted_key", sqlType: "TEXT", field: nil),
            .init(name: "sequence", sqlType: "INTEGER NOT NULL", field: nil),
            .init(name: "source_index", sqlType: "INTEGER NOT NULL", field: nil),
            .init(name: "line", sqlType: "INTEGER NOT NULL", field: nil),
            .init(name: "line_end", sqlType: "INTEGER", field: nil),
            .init(name: "element_path", sqlType: "TEXT", field: nil),
            .init(name: "status", sqlType: "TEXT NOT NULL DEFAULT 'clean'", field: nil),
        ]
        let fields = dictionary.fields(of: form).map {
            FormColumn(name: $0.code, sqlType: FieldStorage($0.type).sqlType, field: $0)
        }
        switch form {
        case .activity: return FormSchema(table: "record", historyTable: "record_history", form: form, fixed: identity, fields: fields)
        case .projects: return FormSchema(table: "project", historyTable: "project_history", form: form, fixed: identity, fields: fields)
        case .roster: return FormSchema(table: "roster", historyTable: nil, form: form, fixed: identity, fields: fields)
        case .macro:
            // Macro values are long-form rows (region, period, indicator, value, unit), not a wide form table.
            return FormSchema(table: "macro", historyTable: nil, form: form, fixed: [], fields: [])
        case .torch:
            return FormSchema(table: "torch_record", historyTable: nil, form: form, fixed: identity, fields: fields)
        case .hte, .tsme, .taxDeduction, .techContract, .rdInstitution, .patent, .govFunding,
             .hteCandidates, .tsmeApplications, .techLoan, .platform:
            // registry.hte → registry_hte: one table per registry, rows as sent (a registry is evidence, not a
            // report: no resubmission history).
            return FormSchema(table: form.rawValue.replacingOccurrences(of: ".", with: "_"), historyTable: nil,
                              form: form, fixed: identity, fields: fields)
        }
    }

    func createSQL(table name: String) -> String {
        let cols = (["id INTEGER PRIMARY KEY"] + all.map { "\(quoted($0.name)) \($0.sqlType)" }).joined(separator: ",\n  ")
        return "CREATE TABLE \(name) (\n  \(cols)\n)"
    }

    /// A dictionary code that clashes with a fixed column would silently shadow identity data.
    func checkNames() throws {
        let fixedNames = Set(fixed.map(\.name))
        for c in fields {
            guard Schema.isSafeIdentifier(c.name) else {
                throw YingtongError("E-STORE-SCHEMA", "字段代码 \(c.name) 不能用作数据库列名（只允许小写字母、数字和下划线）")
            }
            if fixedNames.contains(c.name) || c.name == "id" {
                throw YingtongError("E-STORE-SCHEMA", "字段代码 \(c.name) 与 \(table) 表的固定列重名")
            }
        }
    }
}

@inline(__always) func quoted(_ identifier: String) -> String { "\"\(identifier)\"" }

/// The store's schema as ordered, named GRDB migrations (GUIDE: "migrations are code, ordered and named").
/// Keeps SQLite on the (run_id, uscc) index of the tables that also have a (run_id, name) one (v4): without
/// statistics it took the name index for whole-run scans, which then sorted and read rows at random.
public enum IndexHint {
    private static let hints: [Form: String] = Dictionary(uniqueKeysWithValues: ([.roster] + Schema.v3Forms).map {
        ($0, " INDEXED BY \(FormSchema.make($0, dictionary: .standard).table)_key")
    })

    /// The hint to put after a table's name in a whole-run query ("" for tables with no competing index).
    public static func key(_ form: Form) -> String { hints[form] ?? "" }
}

enum Schema {
    static func isSafeIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, (f >= UInt8(ascii: "a") && f <= UInt8(ascii: "z")) || f == UInt8(ascii: "_") else { return false }
        return s.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }

    /// Forms kept as one column per dictionary field. The first three were created by `v1-form-tables`; the
    /// registries by `v2-registries` (migrations are frozen once applied, so each lists its own forms).
    static let wideForms: [Form] = v1Forms + registryForms + v3Forms
    static let v1Forms: [Form] = [.activity, .projects, .roster]
    static let registryForms: [Form] = [.torch, .hte, .tsme, .taxDeduction, .techContract, .rdInstitution, .patent, .govFunding]
    /// The work report's optional lists (`v3-funnel-registries`).
    static let v3Forms: [Form] = [.hteCandidates, .tsmeApplications, .techLoan, .platform]


    /// Secondary indexes of the bulk-loaded tables. They are dropped while a run loads and rebuilt before
    /// resolution (see BatchLoader.swift for the measurement behind that choice).
    static let bulkIndexes: [(name: String, sql: String)] = [
        ("record_key", "CREATE INDEX IF NOT EXISTS record_key ON record(run_id, uscc, period)"),
        ("record_line", "CREATE INDEX IF NOT EXISTS record_line ON record(run_id, source_index, line)"),
        // Covers the search for enterprises with more than one 107-1 submission (no table lookups).
        ("project_key", "CREATE INDEX IF NOT EXISTS project_key ON project(run_id, uscc, period, source_index, submitted_key)"),
        ("project_line", "CREATE INDEX IF NOT EXISTS project_line ON project(run_id, source_index, line)"),
    ]

    /// The (run_id, name) indexes of the registry tables that hold no row (of any run), with their CREATE
    /// statements. A run drops them before its load and builds them after (``RunWriter/finishLoading()``): a name
    /// index takes every row at a random place, and building it from the loaded rows is a sort. At 1,000,000
    /// enterprises with registries the load went from 54.6 to 50.5 s and the build took 1.6 s. A table that
    /// already holds other runs keeps its index, as the record and project tables do: a build would cover every
    /// run the store keeps. The roster keeps its index too: building the million-row roster's index after the
    /// load saved 5.5 s at 1M but raised the run's peak RSS from 205 to 265 MB, past the 256 MB bound (the peak
    /// came later, in the indicator and report stages; the cause is not yet understood).
    static func nameIndexesOfEmptyTables(_ db: Database) throws -> [(name: String, sql: String)] {
        let tables = (registryForms + v3Forms).map { FormSchema.make($0, dictionary: .standard).table }
        var out: [(name: String, sql: String)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT name, tbl_name, sql FROM sqlite_master
            WHERE type = 'index' AND sql IS NOT NULL AND name GLOB '*_name' AND tbl_name IN (\(tables.map { "'\($0)'" }.joined(separator: ",")))
            ORDER BY name
            """) {
            let table: String = row["tbl_name"]
            if try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM \(quoted(table)))") ?? false {
                out.append((row["name"], row["sql"]))
            }
        }
        return out
    }

    static func migrator(dictionary: FieldDictionary) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-run-and-findings") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                  id INTEGER PRIMARY KEY,
                  pipeline TEXT NOT NULL,
                  region_code TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  started_at TEXT NOT NULL,
                  finished_at TEXT,
                  status TEXT NOT NULL DEFAULT 'running',
                  yingtong_version TEXT NOT NULL,
                  inputs TEXT NOT NULL DEFAULT '[]',
                  rule_packs TEXT NOT NULL DEFAULT '[]',
                  counts TEXT NOT NULL DEFAULT '{}',
                  settings TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX run_key ON run(pipeline, region_code, period);
                CREATE TABLE violation (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL,
                  rule TEXT NOT NULL,
                  severity TEXT NOT NULL,
                  level INTEGER NOT NULL,
                  uscc TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  project_name TEXT,
                  fields TEXT NOT NULL DEFAULT '[]',
                  observed TEXT NOT NULL,
                  expected TEXT,
                  imbalance TEXT,
                  message TEXT NOT NULL,
                  explanation TEXT,
                  source_index INTEGER NOT NULL,
                  line INTEGER NOT NULL,
                  superseded INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX violation_key ON violation(run_id, uscc, period);
                CREATE INDEX violation_line ON violation(run_id, source_index, line);
                CREATE TABLE explanation (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL,
                  uscc TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  rule TEXT NOT NULL,
                  text TEXT NOT NULL,
                  source_index INTEGER NOT NULL,
                  line INTEGER NOT NULL
                );
                CREATE INDEX explanation_key ON explanation(run_id, uscc, period, rule);
                CREATE TABLE quarantine (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL,
                  source_index INTEGER NOT NULL,
                  file TEXT NOT NULL,
                  line INTEGER NOT NULL,
                  line_end INTEGER NOT NULL,
                  "column" INTEGER,
                  byte_offset INTEGER,
                  element_path TEXT,
                  field TEXT,
                  raw TEXT NOT NULL,
                  code TEXT NOT NULL,
                  message TEXT NOT NULL
                );
                CREATE INDEX quarantine_run ON quarantine(run_id, source_index, line);
                CREATE TABLE macro (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL,
                  region_code TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  indicator TEXT NOT NULL,
                  value TEXT,            -- exact decimal text of the value as normalized
                  value_milli INTEGER,   -- the same value in thousandths, for exact arithmetic in SQL
                  unit TEXT,
                  source_index INTEGER NOT NULL,
                  line INTEGER NOT NULL
                );
                CREATE INDEX macro_key ON macro(run_id, region_code, period, indicator);
                CREATE TABLE indicator (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL,
                  region_code TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  code TEXT NOT NULL,
                  name_zh TEXT NOT NULL,
                  value TEXT,            -- exact decimal text (Foundation Decimal), NULL when an input is missing
                  unit TEXT NOT NULL,
                  prev_value TEXT,
                  change TEXT,
                  change_unit TEXT,
                  growth_rate TEXT,
                  target TEXT,
                  completion_rate TEXT,
                  rank INTEGER,
                  note TEXT              -- why value is NULL (缺少宏观数据 GDP…) or how it was derived
                );
                CREATE UNIQUE INDEX indicator_key ON indicator(run_id, region_code, period, code);
                CREATE INDEX indicator_lookup ON indicator(region_code, period, code);
                CREATE TABLE field_catalog (
                  code TEXT PRIMARY KEY,
                  name_zh TEXT NOT NULL,
                  form TEXT,
                  unit TEXT,
                  type TEXT NOT NULL,
                  storage TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v1-form-tables") { db in
            for form in v1Forms {
                let s = FormSchema.make(form, dictionary: dictionary)
                try s.checkNames()
                try db.execute(sql: s.createSQL(table: s.table))
                if let h = s.historyTable { try db.execute(sql: s.createSQL(table: h)) }
            }
            for (_, sql) in bulkIndexes { try db.execute(sql: sql) }
            try db.execute(sql: """
                CREATE INDEX record_history_run ON record_history(run_id);
                CREATE INDEX project_history_run ON project_history(run_id);
                CREATE INDEX roster_key ON roster(run_id, uscc);
                """)
        }
        m.registerMigration("v2-registries-and-omissions") { db in
            for form in registryForms {
                let s = FormSchema.make(form, dictionary: dictionary)
                try s.checkNames()
                try db.execute(sql: s.createSQL(table: s.table))
                // Registries are matched to reports by USCC, and by exact name when a report's USCC is broken.
                try db.execute(sql: "CREATE INDEX \(s.table)_key ON \(s.table)(run_id, uscc)")
                try db.execute(sql: "CREATE INDEX \(s.table)_name ON \(s.table)(run_id, name)")
            }
            try db.execute(sql: """
                CREATE INDEX registry_tech_contract_seller ON registry_tech_contract(run_id, seller_uscc);
                CREATE INDEX registry_tech_contract_buyer ON registry_tech_contract(run_id, buyer_uscc);
                CREATE INDEX registry_tech_contract_seller_name ON registry_tech_contract(run_id, seller_name);
                CREATE INDEX registry_tech_contract_buyer_name ON registry_tech_contract(run_id, buyer_name);
                -- 应统尽统排查清单 (FORMATS §6): a work list for the bureau, never a correction of enterprise data.
                CREATE TABLE omission (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                  uscc TEXT NOT NULL,
                  period INTEGER NOT NULL,
                  name TEXT,
                  region_code TEXT,
                  reported INTEGER NOT NULL,      -- 1: sent a 107-2 this period; 0: sent nothing
                  rules TEXT NOT NULL,            -- rule ids pointing at it, comma-separated, sorted
                  reported_rd_exp INTEGER,        -- 研究开发费用合计 as reported, 元 (NULL: nothing reported)
                  evidence TEXT NOT NULL,         -- JSON: registry → the values it holds for this enterprise
                  evidence_zh TEXT NOT NULL,      -- the same, for people
                  estimated_missing INTEGER NOT NULL,  -- 元
                  method TEXT NOT NULL,           -- how the estimate was made, in Chinese
                  basis TEXT                      -- the evidence the estimate rests on (registry name)
                );
                CREATE INDEX omission_run ON omission(run_id, estimated_missing DESC);
                """)
        }
        m.registerMigration("v3-funnel-registries") { db in
            for form in v3Forms {
                let s = FormSchema.make(form, dictionary: dictionary)
                try s.checkNames()
                try db.execute(sql: s.createSQL(table: s.table))
                try db.execute(sql: "CREATE INDEX \(s.table)_key ON \(s.table)(run_id, uscc)")
            }
        }
        m.registerMigration("v4-name-lookups") { db in
            // A report whose USCC fails its check digit is matched to the roster and these registries by exact
            // name; without an index each such lookup read the whole table, once per block (quadratic in the run).
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS roster_name ON roster(run_id, name)")
            for form in v3Forms {
                let s = FormSchema.make(form, dictionary: dictionary)
                if s.all.contains(where: { $0.name == "name" }) {
                    try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(s.table)_name ON \(s.table)(run_id, name)")
                }
            }
        }
        m.registerMigration("v5-omission-uscc") { db in
            // The report names a unit that sent nothing and is on no roster from its omission entry; the list is
            // indexed by amount only, so that lookup read the run's whole list once per enterprise.
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS omission_uscc ON omission(run_id, uscc, period)")
        }
        m.registerMigration("v6-violation-line-dropped") { db in
            // Only the resubmission step looked violations up by line, and it also knows their (uscc, period):
            // violation_key serves it. Keeping the line index cost a random insert per finding (1.2 million in a
            // million-enterprise run with registries), each a page fetched from the run's WAL.
            try db.execute(sql: "DROP INDEX IF EXISTS violation_line")
        }
        m.registerMigration("v7-omission-totals") { db in
            // The indicators count and sum a run's list for a period and region: the (run, uscc, period) index
            // alone left them a read of every entry with its evidence text (313,443 entries, 1.3 s at 1,000,000
            // enterprises with registries); carrying the region and the amount, the index answers them by itself.
            try db.execute(sql: "DROP INDEX IF EXISTS omission_uscc")
            try db.execute(sql: "CREATE INDEX omission_uscc ON omission(run_id, uscc, period, region_code, estimated_missing)")
        }
        return m
    }

    /// Adds a column for every dictionary field the tables lack. Migrations are frozen once applied, but the
    /// dictionary is data that grows (a new 107-2 row in a new form year): a store created by an older yingtong
    /// must accept the new field instead of failing the run.
    static func syncDictionaryColumns(_ db: Database, dictionary: FieldDictionary) throws {
        for form in wideForms {
            let s = FormSchema.make(form, dictionary: dictionary)
            try s.checkNames()
            for table in [s.table] + (s.historyTable.map { [$0] } ?? []) {
                let existing = Set(try db.columns(in: table).map(\.name))
                for c in s.fields where !existing.contains(c.name) {
                    try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(quoted(c.name)) \(c.sqlType)")
                }
            }
        }
    }

    static func catalogRows(_ dictionary: FieldDictionary) -> [[String?]] {
        var rows: [[String?]] = []
        for f in dictionary.identity + dictionary.fields {
            let storage = f.isIdentity ? "TEXT（标识列）" : FieldStorage(f.type).noteZh
            rows.append([f.code, f.name, f.form?.rawValue, f.unit, f.type.rawValue, storage])
        }
        for m in dictionary.macroIndicators {
            rows.append(["macro:\(m.code)", m.name, "macro", m.unit, m.type.rawValue,
                         "macro 表的一行：value 为精确十进制文本，value_milli 为千分之一单位的整数"])
        }
        return rows
    }

    /// Whether every dictionary field has its column and the catalog says what the dictionary says.
    static func isInSync(_ db: Database, dictionary: FieldDictionary) throws -> Bool {
        for form in wideForms {
            let s = FormSchema.make(form, dictionary: dictionary)
            for table in [s.table] + (s.historyTable.map { [$0] } ?? []) {
                let existing = Set(try db.columns(in: table).map(\.name))
                if s.fields.contains(where: { !existing.contains($0.name) }) { return false }
            }
        }
        let stored = try Row.fetchAll(db, sql: "SELECT code, name_zh, form, unit, type, storage FROM field_catalog ORDER BY code")
            .map { r in (0..<6).map { r[$0] as String? } }
        return stored == catalogRows(dictionary).sorted { ($0[0] ?? "") < ($1[0] ?? "") }
    }

    static func refreshFieldCatalog(_ db: Database, dictionary: FieldDictionary) throws {
        try db.execute(sql: "DELETE FROM field_catalog")
        let stmt = try db.makeStatement(sql: "INSERT INTO field_catalog (code, name_zh, form, unit, type, storage) VALUES (?, ?, ?, ?, ?, ?)")
        for row in catalogRows(dictionary) {
            try stmt.execute(arguments: StatementArguments(row))
        }
    }
}
