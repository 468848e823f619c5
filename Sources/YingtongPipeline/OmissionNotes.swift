import YingtongModel
import YingtongStore

/// The omission subjects found while a block is evaluated, noted for the 应统尽统 list when the block is done
/// (`RunWriter.note(omissionSubjects:)`). The block holds each subject's 107-2 values, so the list needs neither to
/// group the run's findings nor to sort its records again (at 1,000,000 enterprises with registries those two
/// sorts were about 4 s of the list's stage).
struct OmissionNotes {
    /// Whether the rule stages note each subject's evidence (always, but for the test that checks the list's own
    /// lookup of it gives the same list).
    @TaskLocal static var notesEvidence = true

    let rules: Set<String>
    /// The 107-2 fields the list compares (`OmissionBuilder.comparedFields`); the rule stage reads them.
    let fields: [String]
    private var pending: [Key: Set<String>] = [:]

    private struct Key: Hashable, Comparable {
        let uscc: String
        let period: Int
        static func < (a: Key, b: Key) -> Bool { (a.uscc, a.period) < (b.uscc, b.period) }
    }

    init(rules: Set<String>, fields: Set<String>) {
        self.rules = rules
        self.fields = fields.sorted()
    }

    mutating func add(_ violations: [Violation]) {
        guard !rules.isEmpty else { return }
        for v in violations where rules.contains(v.rule) {
            pending[Key(uscc: v.uscc, period: v.period), default: []].insert(v.rule)
        }
    }

    /// Notes what was found since the last call. A subject among `block`'s rows is noted with its record's values
    /// (`sent`) or as a unit that sent nothing (the units-that-sent-nothing stage's blocks), and with what the
    /// evidence registries hold on it (`bindings`, prepared for the block); any other, or one whose block lacks a
    /// compared field, is noted for the list to look up.
    mutating func flush(_ writer: RunWriter, block: RecordBatch?, sent: Bool, bindings: StoreBindings? = nil) throws {
        guard !pending.isEmpty else { return }
        var rowOf: [Key: Int] = [:]
        var columns: [(String, Int)] = []
        if let block {
            // Rows come in (uscc, period, id) order: the last row of a key is the one the store keeps.
            for i in 0..<block.count { rowOf[Key(uscc: block.uscc[i], period: block.period[i])] = i }
            columns = fields.compactMap { f in block.columnPosition(f).map { (f, $0) } }
        }
        let complete = columns.count == fields.count
        let sorted = pending.sorted(by: { $0.key < $1.key })
        var evidence: [String: [String: RegistryMatch]]?
        if let block, let bindings {
            let rows = sorted.compactMap { rowOf[$0.key] }
            evidence = bindings.evidence(for: rows.map { block.uscc[$0] }, names: rows.map { block.name[$0] })
        }
        var subjects: [NotedOmissionSubject] = []
        subjects.reserveCapacity(pending.count)
        for (key, rules) in sorted {
            var record = NotedOmissionSubject.Record.unknown
            if let block, let i = rowOf[key] {
                if !sent {
                    record = .none
                } else if complete {
                    var values: [String: Milli] = [:]
                    for (field, c) in columns { if let m = block.columns[c].milli(i) { values[field] = m } }
                    record = .sent(values, name: block.name[i], regionCode: block.regionCode[i])
                }
            }
            var noted = NotedOmissionSubject(uscc: key.uscc, period: key.period, rules: rules.sorted(), record: record)
            if let evidence, let bindings, rowOf[key] != nil {
                var kept: [String: RegistryMatch] = [:]
                for (registry, matches) in evidence {
                    guard var m = matches[key.uscc] else { continue }
                    let sums = bindings.evidenceSums[registry] ?? []
                    m.sums = m.sums.filter { sums.contains($0.key) }
                    kept[registry] = m
                }
                noted.evidence = kept
            }
            subjects.append(noted)
        }
        pending.removeAll(keepingCapacity: true)
        try writer.note(omissionSubjects: subjects)
    }
}
