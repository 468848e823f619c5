import Foundation
import GRDB
import Logging
import PostgresNIO
import YingtongModel
import YingtongStore

/// Where the warehouse is: a `postgres://user:password@host:port/database` URL (FORMATS §6 "the same schema
/// in PostgreSQL").
public struct WarehouseLocation: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    /// Parses a libpq-style URL (`postgres://` or `postgresql://`); the password never appears in an error.
    public init(url: String) throws {
        guard let c = URLComponents(string: url), let scheme = c.scheme, ["postgres", "postgresql"].contains(scheme),
              let host = c.host, !host.isEmpty else {
            throw YingtongError("E-WAREHOUSE-URL", "PostgreSQL 地址应为 postgres://用户:密码@主机:端口/数据库")
        }
        self.host = host
        port = c.port ?? 5432
        user = c.user?.removingPercentEncoding ?? "postgres"
        password = c.password?.removingPercentEncoding
        let db = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = db.isEmpty ? user : db
    }

    /// Shown in logs and messages: without the password.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// What one load moved.
public struct WarehouseLoad: Sendable, Hashable {
    /// The run's id in the warehouse (its own sequence: ids of different SQLite stores never clash).
    public var warehouseRunID: Int64
    public var rows: [String: Int]
    public var totalRows: Int { rows.values.reduce(0, +) }
}

/// Loads runs of a SQLite store into PostgreSQL with the store's own schema.
///
/// The warehouse tables are made from the SQLite schema as it is (`PRAGMA table_info`: INTEGER → bigint,
/// REAL → double precision, TEXT → text), so a table or a dictionary column added to the store arrives without
/// a change here. Each load is **one PostgreSQL transaction**: it replaces the warehouse's run of the same
/// (pipeline, region, period) and everything hanging off it, then copies the run's rows with `COPY … FROM
/// STDIN`, streamed in chunks from a SQLite cursor. Rerunning a load gives the same rows; runs of other
/// pipelines, regions or periods — several counties' stores loading into one database — are never touched,
/// because row ids are the warehouse's own and `run_id` is rewritten to the warehouse's run id (the SQLite
/// store's id is kept as `store_run_id`). Loads from several processes are serialized by an advisory lock.
///
/// ```swift
/// let warehouse = PostgresWarehouse(location: try WarehouseLocation(url: "postgres://yt:yt@127.0.0.1/yingtong"))
/// let load = try await warehouse.load(store: store, runID: result.runID)
/// ```
public struct PostgresWarehouse: Sendable {
    public let location: WarehouseLocation
    /// Rows per COPY chunk read from SQLite.
    public var chunkRows = 5000
    let logger: Logger

    public init(location: WarehouseLocation) {
        self.location = location
        var l = Logger(label: "yingtong.warehouse")
        l.logLevel = .error
        logger = l
    }

    /// Lock id for `pg_advisory_xact_lock`: "YTWH" — loads wait for one another instead of racing on DDL.
    static let lockKey: Int64 = 0x5954_5748

    public func connect() async throws -> PostgresConnection {
        let config = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                      password: location.password, database: location.database,
                                                      tls: .disable)
        do {
            return try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        } catch {
            throw YingtongError("E-WAREHOUSE-CONNECT", "无法连接 PostgreSQL 数据仓库 \(location.redacted)：\(Self.describe(error))")
        }
    }

    /// Loads one committed run of `store` (its id in the SQLite store) in one transaction.
    public func load(store: Store, runID: Int64) async throws -> WarehouseLoad {
        let shapes = try store.read { db in try WarehouseSchema.read(db) }
        guard let runKey = try store.read({ db in
            try Row.fetchOne(db, sql: "SELECT pipeline, region_code, period FROM run WHERE id = ?", arguments: [runID])
        }) else {
            throw YingtongError("E-WAREHOUSE-RUN", "数据库 \(store.path) 中没有运行 \(runID)")
        }
        let pipeline: String = runKey["pipeline"], region: String = runKey["region_code"], period: Int = runKey["period"]
        let connection = try await connect()
        do {
            try await exec(connection, "BEGIN")
            let result: WarehouseLoad
            do {
                try await exec(connection, "SELECT pg_advisory_xact_lock(\(Self.lockKey))")
                for shape in shapes {
                    for sql in try await shape.ddl(existing: columns(connection, table: shape.name)) {
                        try await exec(connection, sql)
                    }
                }
                // Replace the warehouse's run of the same key: rerunning a load is idempotent.
                let old = try await connection.query(
                    "SELECT id FROM run WHERE pipeline = \(pipeline) AND region_code = \(region) AND period = \(period)",
                    logger: logger)
                var oldIDs: [Int64] = []
                for try await id in old.decode(Int64.self) { oldIDs.append(id) }
                for id in oldIDs {
                    for shape in shapes where shape.hasRunID {
                        try await exec(connection, "DELETE FROM \(shape.quotedName) WHERE run_id = \(id)")
                    }
                    try await exec(connection, "DELETE FROM run WHERE id = \(id)")
                }
                var rows: [String: Int] = [:]
                let runShape = shapes.first { $0.name == "run" }!
                let newID = try await insertRun(connection, shape: runShape, store: store, runID: runID)
                rows["run"] = 1
                for shape in shapes where shape.name != "run" {
                    if shape.hasRunID {
                        rows[shape.name] = try await copy(connection, shape: shape, store: store,
                                                          filter: "run_id = \(runID)", runID: newID)
                    } else {
                        // Catalog tables (field_catalog) describe the schema, not a run: the newest load's copy wins.
                        try await exec(connection, "DELETE FROM \(shape.quotedName)")
                        rows[shape.name] = try await copy(connection, shape: shape, store: store, filter: nil, runID: nil)
                    }
                }
                StageHook.reached("warehouse")   // crash-safety test: killed here, PostgreSQL rolls the load back
                try await exec(connection, "COMMIT")
                result = WarehouseLoad(warehouseRunID: newID, rows: rows)
            } catch {
                try? await exec(connection, "ROLLBACK")
                throw error
            }
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            if let e = error as? YingtongError { throw e }
            throw YingtongError("E-WAREHOUSE-LOAD", "载入 PostgreSQL 数据仓库 \(location.redacted) 失败（已回滚）：\(Self.describe(error))")
        }
    }

    func exec(_ c: PostgresConnection, _ sql: String) async throws {
        try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    /// Column name → PostgreSQL type name (`bigint`, `numeric`, `text`…) of a warehouse table; empty when it is new.
    func columns(_ c: PostgresConnection, table: String) async throws -> [String: String] {
        let rows = try await c.query("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """, logger: logger)
        var out: [String: String] = [:]
        for try await (name, type) in rows.decode((String, String).self) { out[name] = type }
        return out
    }

    /// The run row, with a warehouse id of its own; the SQLite id is kept in `store_run_id`.
    func insertRun(_ c: PostgresConnection, shape: WarehouseSchema.Table, store: Store, runID: Int64) async throws -> Int64 {
        let values = try store.read { db in
            try Row.fetchOne(db, sql: "SELECT \(shape.selectList) FROM run WHERE id = ?", arguments: [runID])
        }
        guard let values else { throw YingtongError("E-WAREHOUSE-RUN", "运行 \(runID) 不存在") }
        var binds = PostgresBindings()
        var placeholders: [String] = []
        for i in shape.copied.indices {
            placeholders.append("$\(i + 1)")
            switch (values[i] as DatabaseValue).storage {
            case .null: binds.appendNull()
            case .int64(let v): binds.append(v)
            case .double(let v): binds.append(v)
            case .string(let v): binds.append(v)
            case .blob(let v): binds.append(v.base64EncodedString())
            }
        }
        binds.append(runID)
        placeholders.append("$\(shape.copied.count + 1)")
        let sql = "INSERT INTO run (\(shape.copied.map(\.quoted).joined(separator: ", ")), store_run_id) VALUES (\(placeholders.joined(separator: ", "))) RETURNING id"
        let rows = try await c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw YingtongError("E-WAREHOUSE-LOAD", "插入运行记录未返回编号")
    }

    /// COPY of one table's rows (of one run, or all), streamed in chunks in id order.
    func copy(_ c: PostgresConnection, shape: WarehouseSchema.Table, store: Store, filter: String?, runID: Int64?) async throws -> Int {
        // copyFrom quotes the table and column names itself.
        var columns = shape.copied.map(\.name)
        if runID != nil { columns.insert("run_id", at: 0) }
        let prefix: String? = runID.map { "\($0)\t" }
        var total = 0
        let chunk = chunkRows
        try await c.copyFrom(table: shape.name, columns: columns, logger: logger) { writer in
            var after: Int64 = .min
            var offset = 0
            while true {
                let (bytes, count, last) = try store.read { db -> ([UInt8], Int, Int64) in
                    var sql = "SELECT \(shape.selectList)\(shape.hasID ? ", id" : "") FROM \(shape.quotedName)"
                    var conds: [String] = []
                    if let filter { conds.append(filter) }
                    if shape.hasID { conds.append("id > \(after)") }
                    if !conds.isEmpty { sql += " WHERE " + conds.joined(separator: " AND ") }
                    sql += shape.hasID ? " ORDER BY id LIMIT \(chunk)" : " LIMIT \(chunk) OFFSET \(offset)"
                    var out: [UInt8] = []
                    out.reserveCapacity(chunk * 256)
                    var n = 0
                    var lastID = after
                    let cursor = try Row.fetchCursor(db, sql: sql)
                    while let row = try cursor.next() {
                        if let prefix { out.append(contentsOf: prefix.utf8) }
                        for i in 0..<shape.copied.count {
                            if i > 0 { out.append(0x09) }
                            CopyText.append(row[i] as DatabaseValue, to: &out)
                        }
                        out.append(0x0A)
                        if shape.hasID { lastID = row[shape.copied.count] }
                        n += 1
                    }
                    return (out, n, lastID)
                }
                if count > 0 {
                    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
                    buffer.writeBytes(bytes)
                    try await writer.write(buffer)
                }
                total += count
                after = last
                offset += count
                if count < chunk { break }
            }
        }
        return total
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            return "\(e.code)"
        }
        return "\(error)"
    }
}

/// PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes for the separators.
enum CopyText {
    static func append(_ v: DatabaseValue, to out: inout [UInt8]) {
        switch v.storage {
        case .null: out.append(contentsOf: [0x5C, 0x4E])
        case .int64(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: "\(d)".utf8)
        case .string(let s): escape(s, to: &out)
        case .blob(let b): escape(b.base64EncodedString(), to: &out)
        }
    }

    static func escape(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x00: break  // PostgreSQL text cannot hold NUL; SQLite text from yingtong never has one.
            default: out.append(b)
            }
        }
    }
}
