import Foundation
import GRDB
import YingtongModel
import YingtongRules
import YingtongStore

/// The rule language's external data for one block of enterprises, fetched from the stores just before the block
/// is evaluated: `prev(field)` from the previous cycle's store, `lookup(roster, field)` from this run's roster.
///
/// Fetched per block (one query per needed field, keyed by the block's USCCs), so memory is bounded by the block,
/// not by the province. Registries (`listed`, other `lookup`s) are not bound yet: rules that need them are
/// reported as not applicable with that reason.
final class StoreBindings: RuleBindings, @unchecked Sendable {
    // @unchecked: filled by `prepare` on the validating thread before each evaluate, read only during it.
    private let previous: Store?
    private let previousRun: Int64?
    private var previousCache: [String: [String: Milli]] = [:]
    private var rosterCache: [String: [String: Milli]] = [:]
    private var blockUSCCs: [String] = []
    private let writer: RunWriter
    private let rosterFields: Set<String>
    private let activityFields: Set<String>

    init(writer: RunWriter, previous: Store?, previousRun: Int64?, dictionary: FieldDictionary = .standard) {
        self.writer = writer
        self.previous = previous
        self.previousRun = previousRun
        rosterFields = Set(dictionary.fields(of: .roster).map(\.code))
        activityFields = Set(dictionary.fields(of: .activity).filter { $0.type.isNumeric }.map(\.code))
    }

    /// The newest committed run of `region` for `period`, preferring `pipeline`.
    static func run(in store: Store, region: String, period: Int, pipeline: String) throws -> Int64? {
        try store.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT id FROM run WHERE region_code = ? AND period = ? AND status = 'ok'
                ORDER BY (pipeline = ?) DESC, id DESC LIMIT 1
                """, arguments: [region, period, pipeline])
        }
    }

    func prepare(uscc: [String]) {
        blockUSCCs = uscc
        previousCache.removeAll(keepingCapacity: true)
        rosterCache.removeAll(keepingCapacity: true)
    }

    private func values(_ db: Database, table: String, run: Int64, field: String, storage: (DatabaseValue) -> Milli?) throws -> [String: Milli] {
        var out: [String: Milli] = [:]
        let unique = Array(Set(blockUSCCs))
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(unique.count, start + 900)])
            start += chunk.count
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT uscc, \"\(field)\" FROM \(table) WHERE run_id = ? AND uscc IN (\(marks))",
                                        arguments: StatementArguments([run] + chunk))
            for row in rows {
                let v: DatabaseValue = row[1]
                if let m = storage(v) { out[row[0]] = m }
            }
        }
        return out
    }

    func previous(_ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard let previous, let previousRun, activityFields.contains(field) else { return nil }
        if previousCache[field] == nil {
            let storage = FieldStorage(FieldDictionary.standard.field(field)?.type ?? .quantity)
            previousCache[field] = (try? previous.read { db in
                try values(db, table: "record", run: previousRun, field: field) { StoredValue.milli($0, storage: storage) }
            }) ?? [:]
        }
        let t = previousCache[field]!
        return uscc.map { t[$0] }
    }

    func listed(_ registry: String, uscc: [String], period: [Int]) -> [Bool]? { nil }

    func lookup(_ registry: String, _ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard registry == "roster", rosterFields.contains(field) else { return nil }
        if rosterCache[field] == nil {
            let storage = FieldStorage(FieldDictionary.standard.field(field)?.type ?? .quantity)
            let run = writer.runID
            rosterCache[field] = (try? writer.withDatabase { db in
                try values(db, table: "roster", run: run, field: field) { StoredValue.milli($0, storage: storage) }
            }) ?? [:]
        }
        let t = rosterCache[field]!
        return uscc.map { t[$0] }
    }
}
