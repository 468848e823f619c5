import Foundation
import GRDB
import YingtongModel
import YingtongRules
import YingtongStore

/// The rule language's external data for one block of enterprises, fetched from the stores just before the block
/// is evaluated: `prev(field)` from the previous cycle's store; `listed(registry)` and `lookup(registry, field)`
/// from this run's roster, registries and 火炬 data (`Reference/registries.yaml`).
///
/// Fetched per block (one query per registry and 900 keys), so memory is bounded by the block, not by the
/// province. An enterprise whose USCC fails its check digit is matched by exact name instead, and remembered in
/// `matchedByName` so that its findings say so.
final class StoreBindings: RuleBindings, @unchecked Sendable {
    // @unchecked: filled by `prepare` on the validating thread before each evaluate, read only during it.
    private let previous: Store?
    private let previousRun: Int64?
    private var previousCache: [String: [String: Milli]] = [:]
    private var registryCache: [String: [String: RegistryMatch]] = [:]
    private var blockUSCCs: [String] = []
    /// The block's distinct USCCs, the keys every registry is asked for.
    private var blockKeys: Set<String> = []
    private var blockNames: [String?] = []
    private var blockPeriods: Set<Int> = []
    private var blockInOrder = false
    /// One stream per (registry, period), opened by the first ordered block that needs it.
    private let streams: RegistryStreams
    private let writer: RunWriter
    private let store: Store
    private let catalog: RegistryCatalog
    private let dictionary: FieldDictionary
    private let activityFields: Set<String>
    /// Forms some source of this run sent: a registry nobody sent is unbound ("not applicable"), never "not
    /// listed" — without the HTE list, no enterprise is "missing from the HTE list".
    private let available: Set<Form>
    /// USCCs of the current block matched to some registry by name (their own USCC is malformed).
    private(set) var matchedByName: Set<String> = []
    /// A store error met while binding: the protocol cannot throw, so the runner checks this after each block —
    /// an unreadable store must stop the run, never turn rules into "not applicable".
    private(set) var failure: Error?

    init(writer: RunWriter, store: Store, previous: Store?, previousRun: Int64?, available: Set<Form>,
         catalog: RegistryCatalog = .standard, dictionary: FieldDictionary = .standard) {
        self.available = available
        self.writer = writer
        self.store = store
        self.previous = previous
        self.previousRun = previousRun
        self.catalog = catalog
        self.dictionary = dictionary
        streams = RegistryStreams(store: store, run: writer.runID)
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

    /// `inUSCCOrder`: this block follows the previous ones in ascending USCC order (the rule stage's blocks), so
    /// registries are read as streams instead of looked up key by key.
    func prepare(_ batch: RecordBatch, inUSCCOrder: Bool = false) {
        blockInOrder = inUSCCOrder
        blockUSCCs = batch.uscc
        blockKeys = Set(batch.uscc)
        blockNames = batch.name
        blockPeriods = Set(batch.period)
        previousCache.removeAll(keepingCapacity: true)
        registryCache.removeAll(keepingCapacity: true)
        matchedByName.removeAll(keepingCapacity: true)
    }

    func previous(_ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard let previous, let previousRun, activityFields.contains(field) else { return nil }
        if previousCache[field] == nil {
            do {
                previousCache[field] = try previous.read { db in
                    try Self.previousValues(db, run: previousRun, field: field, uscc: Array(blockKeys))
                }
            } catch {
                failure = failure ?? error
                return nil
            }
        }
        let t = previousCache[field]!
        return uscc.map { t[$0] }
    }

    /// Last cycle's values of one 107-2 field for some USCCs, in chunks the SQLite parameter limit allows.
    static func previousValues(_ db: Database, run: Int64, field: String, uscc: [String]) throws -> [String: Milli] {
        let storage = FieldStorage(FieldDictionary.standard.field(field)?.type ?? .quantity)
        var out: [String: Milli] = [:]
        try KeyChunks.forEach(uscc) { chunk, marks in
            let rows = try Row.fetchAll(db, sql: "SELECT uscc, \"\(field)\" FROM record WHERE run_id = ? AND uscc IN (\(marks))",
                                        arguments: StatementArguments([run] + chunk))
            for row in rows {
                let v: DatabaseValue = row[1]
                if let m = StoredValue.milli(v, storage: storage) { out[row[0]] = m }
            }
        }
        return out
    }

    /// Every registry row matching the block's enterprises, by USCC, then by name for malformed USCCs.
    private func registryMatches(_ name: String) -> [String: RegistryMatch]? {
        if let cached = registryCache[name] { return cached }
        guard let registry = catalog.registry(name), available.contains(registry.form) else { return nil }
        let query = RegistryQuery(registry: registry, run: writer.runID, store: store)
        let numeric = registry.lookupFields(dictionary)
        var out: [String: RegistryMatch] = [:]
        var byName: [String: [String]] = [:]
        for (u, n) in zip(blockUSCCs, blockNames) where USCC.problem(u) != nil {
            if let n, !n.isEmpty { byName[n, default: []].append(u) }
        }
        do {
            try writer.withDatabase { db in
                for period in blockPeriods.sorted() {
                    if blockInOrder, let first = blockUSCCs.first, let last = blockUSCCs.last {
                        let stream = try streams.stream(db, registry, period: period, numeric: numeric)
                        for (k, m) in try stream.matches(from: first, through: last, wanted: blockKeys) { out[k] = m }
                    } else {
                        for (k, m) in try query.matches(db, keys: Array(blockKeys), period: period, numeric: numeric) {
                            out[k] = m
                        }
                    }
                    guard !byName.isEmpty else { continue }
                    for (n, m) in try query.matches(db, keys: Array(byName.keys), byName: true, period: period, numeric: numeric) {
                        for u in byName[n] ?? [] where out[u] == nil {
                            out[u] = m
                            matchedByName.insert(u)
                        }
                    }
                }
            }
        } catch {
            failure = failure ?? error
            return nil
        }
        registryCache[name] = out
        return out
    }

    /// Ends the registry streams; the runner calls it when the ordered blocks are done (or failed).
    func closeStreams() {
        streams.closeAll()
    }

    func listed(_ registry: String, uscc: [String], period: [Int]) -> [Bool]? {
        guard let t = registryMatches(registry) else { return nil }
        return uscc.map { (t[$0]?.rows ?? 0) > 0 }
    }

    func lookup(_ registry: String, _ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard let t = registryMatches(registry) else { return nil }
        if field == "rows" { return uscc.map { Milli(units: Int64(t[$0]?.rows ?? 0)) } }
        return uscc.map { t[$0]?.sums[field] }
    }
}
