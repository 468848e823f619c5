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
    /// The registries whose rows the 应统尽统 list quotes (with the roster, for revenue), read with their texts so
    /// that the rule stages can note each subject's evidence (`evidence(for:names:)`); empty without omission rules.
    private var evidenceTexts: [String: [String]] = [:]
    /// The sums the list uses of each of those registries (its amount; the roster's revenue): a note keeps only
    /// these.
    private(set) var evidenceSums: [String: Set<String>] = [:]
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

    /// Makes the registries of `evidence` (the omission list's, `OmissionBuilder.evidenceRegistries`, and the
    /// roster) part of every block's reads, with the texts the list quotes.
    func noteEvidence(_ evidence: [Registry]) {
        evidenceTexts = [:]
        evidenceSums = [:]
        for r in evidence {
            evidenceTexts[r.name] = r.evidence?.show ?? []
            evidenceSums[r.name] = Set(OmissionBuilder.listedSums(r))
        }
    }

    /// `ahead`: the block's registry matches, read with it (the rule stage's ordered blocks).
    func prepare(_ batch: RecordBatch, ahead: BlockRegistries? = nil) {
        blockUSCCs = batch.uscc
        blockKeys = Set(batch.uscc)
        blockNames = batch.name
        blockPeriods = Set(batch.period)
        previousCache.removeAll(keepingCapacity: true)
        registryCache = ahead?.matches ?? [:]
        matchedByName = ahead?.matchedByName ?? []
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

    /// Every registry row matching the block's enterprises: read ahead with the block when the rule stage asked
    /// for it (`RegistryReadAhead`), else looked up by key here.
    private func registryMatches(_ name: String) -> [String: RegistryMatch]? {
        if let cached = registryCache[name] { return cached }
        guard let registry = catalog.registry(name), available.contains(registry.form) else { return nil }
        do {
            let found = try writer.withDatabase { db in
                try RegistryReadAhead.matches(db, registry: registry, run: writer.runID, store: store,
                                              numeric: registry.lookupFields(dictionary),
                                              texts: evidenceTexts[name] ?? [], usccs: blockUSCCs,
                                              names: blockNames, periods: blockPeriods, stream: nil)
            }
            matchedByName.formUnion(found.byName)
            registryCache[name] = found.matches
            return found.matches
        } catch {
            failure = failure ?? error
            return nil
        }
    }

    /// A reader of `registries` (those the rules use) for the rule stage's ordered blocks, to run on the
    /// block-reading thread; the evidence registries come with them.
    func readAhead(_ registries: Set<String>) -> RegistryReadAhead {
        RegistryReadAhead(registries: registries.union(evidenceTexts.keys).sorted().compactMap { name in
            catalog.registry(name).flatMap { available.contains($0.form) ? $0 : nil }
        }, forRules: registries, texts: evidenceTexts, store: store, run: writer.runID, dictionary: dictionary)
    }

    /// What the evidence registries hold on `usccs` (some of the block's units, with their names) in the block's
    /// one period: registry name → USCC → match. Taken from the block's reads when they hold the registry, else
    /// looked up for these units only (the units-that-sent-nothing stage's blocks). Nil when the block spans
    /// several periods or a registry could not be read: the list then looks the evidence up itself.
    func evidence(for usccs: [String], names: [String?]) -> [String: [String: RegistryMatch]]? {
        guard !evidenceTexts.isEmpty, blockPeriods.count == 1, failure == nil else { return nil }
        var out: [String: [String: RegistryMatch]] = [:]
        for (name, texts) in evidenceTexts {
            if let cached = registryCache[name] { out[name] = cached; continue }
            guard let registry = catalog.registry(name), available.contains(registry.form) else { return nil }
            do {
                out[name] = try writer.withDatabase { db in
                    try RegistryReadAhead.matches(db, registry: registry, run: writer.runID, store: store,
                                                  numeric: OmissionBuilder.listedSums(registry), texts: texts,
                                                  usccs: usccs, names: names, periods: blockPeriods, stream: nil)
                }.matches
            } catch {
                failure = failure ?? error
                return nil
            }
        }
        return out
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

/// The registry matches of one block of enterprises, keyed by registry name, then USCC.
struct BlockRegistries: Sendable {
    var matches: [String: [String: RegistryMatch]] = [:]
    /// USCCs matched to some registry by exact name (their own USCC fails its check digit).
    var matchedByName: Set<String> = []
}

/// Reads the registries the rules need for each ordered block, on the thread that reads the blocks
/// (`RunWriter.forEachEnterpriseBlock`'s `ahead`). Each (registry, period) is one stream in USCC order.
final class RegistryReadAhead: @unchecked Sendable {
    // @unchecked: used by the block-reading thread only, between the pass's start and `close` after it ended.
    private let registries: [Registry]
    private let numeric: [[String]]
    private let texts: [[String]]
    /// Registries read for the rules; the others are read as evidence for the omission list only, and a match by
    /// name there does not mark the rules' findings as resting on one.
    private let forRules: Set<String>
    private let streams: RegistryStreams
    private let store: Store
    private let run: Int64

    init(registries: [Registry], forRules: Set<String>, texts: [String: [String]], store: Store, run: Int64,
         dictionary: FieldDictionary) {
        self.registries = registries
        self.forRules = forRules
        self.store = store
        self.run = run
        numeric = registries.map { $0.lookupFields(dictionary) }
        self.texts = registries.map { texts[$0.name] ?? [] }
        streams = RegistryStreams(store: store, run: run)
    }

    func read(_ db: Database, _ block: RecordBatch) throws -> BlockRegistries {
        var out = BlockRegistries()
        guard !registries.isEmpty else { return out }
        let periods = Set(block.period)
        let malformed = Self.malformedByName(usccs: block.uscc, names: block.name)
        for (i, registry) in registries.enumerated() {
            let numeric = numeric[i], texts = texts[i]
            let found = try Self.matches(db, registry: registry, run: run, store: store, numeric: numeric, texts: texts,
                                         usccs: block.uscc, names: block.name, malformed: malformed, periods: periods,
                                         stream: { period in
                                             try self.streams.stream(db, registry, period: period, numeric: numeric,
                                                                     texts: texts)
                                         })
            out.matches[registry.name] = found.matches
            if forRules.contains(registry.name) { out.matchedByName.formUnion(found.byName) }
        }
        return out
    }

    /// Ends the streams; the runner calls it when the ordered pass is done (or failed).
    func close() { streams.closeAll() }

    /// Every row of `registry` matching the enterprises, by USCC, then by exact name for USCCs that fail their
    /// check digit. With `stream`, the enterprises are a block in ascending USCC order following the previous
    /// ones, and each period's rows come from that period's stream (opened with the same `numeric` and `texts`);
    /// without, they are looked up by key. `texts`: columns whose values each match lists (omission evidence).
    /// `malformed`: the block's `malformedByName`, when the caller matches the same block against several
    /// registries (computed here otherwise).
    static func matches(_ db: Database, registry: Registry, run: Int64, store: Store, numeric: [String],
                        texts: [String] = [], usccs: [String], names: [String?], malformed: [String: [String]]? = nil,
                        periods: Set<Int>,
                        stream: ((Int) throws -> RegistryStream)?) throws -> (matches: [String: RegistryMatch], byName: Set<String>) {
        let query = RegistryQuery(registry: registry, run: run, store: store)
        var out: [String: RegistryMatch] = [:]
        var matchedByName = Set<String>()
        let byName = malformed ?? malformedByName(usccs: usccs, names: names)
        for period in periods.sorted() {
            let found = try stream.map { try $0(period).matches(wanted: usccs) }
                ?? query.matches(db, keys: Array(Set(usccs)), period: period, numeric: numeric, texts: texts)
            // One period is the usual block: its dictionary is taken whole rather than copied entry by entry.
            if out.isEmpty { out = found } else { out.merge(found) { _, new in new } }
            guard !byName.isEmpty else { continue }
            for (n, m) in try query.matches(db, keys: Array(byName.keys), byName: true, period: period, numeric: numeric,
                                            texts: texts) {
                for u in byName[n] ?? [] where out[u] == nil {
                    out[u] = m
                    matchedByName.insert(u)
                }
            }
        }
        return (out, matchedByName)
    }

    /// The USCCs that fail their check, by the exact name they came with (how the registries match them).
    static func malformedByName(usccs: [String], names: [String?]) -> [String: [String]] {
        var byName: [String: [String]] = [:]
        for (u, n) in zip(usccs, names) where USCC.problem(u) != nil {
            if let n, !n.isEmpty { byName[n, default: []].append(u) }
        }
        return byName
    }
}
