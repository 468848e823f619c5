import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// Builds the 应统尽统排查清单 (DOMAIN §4, FORMATS §6): for every enterprise an omission rule pointed at, the
/// evidence each source holds and an estimate of the R&D it did not report.
///
/// The estimate is the largest gap between what a source implies and what the enterprise reported in the
/// matching 107-2 field — the tax bureau's deduction base against 研究开发费用合计, a 技术开发 contract bought
/// against 委托外部研究开发费用, 3% of revenue for a 高企, last cycle's figure — never below zero, with the
/// arithmetic written beside it. It is a work list for the bureau (四条红线: a bureau never corrects enterprise
/// data), so nothing here changes a record.
struct OmissionBuilder {
    let writer: RunWriter
    let store: Store
    let catalog: RegistryCatalog
    let available: Set<Form>
    let previous: Store?
    let previousRun: Int64?
    let dictionary: FieldDictionary = .standard

    /// A source's implied amount against what the enterprise reported. Its label is written only for the gap the
    /// estimate takes: building every gap's text was most of an entry's cost, and most gaps are never shown.
    private struct Gap {
        enum Kind {
            case amount(registry: Int, value: Milli)
            case revenueShare(registry: Int, revenue: Milli, share: Decimal)
            case previous
        }
        var kind: Kind
        var basis: String
        var implied: Milli
        var compareWith: String
        var reported: Milli
        var gap: Milli { implied - reported }
    }

    /// Each evidence registry's names for people, worked out once per list instead of once per entry.
    private struct Display {
        var title: String
        var show: [String]
        var amount: String?
        init(_ r: Registry, _ name: (String) -> String) {
            title = r.titleZh
            show = r.evidence?.show.map(name) ?? []
            amount = r.evidence?.amount.map(name)
        }
    }

    /// A block of subjects with what the sources hold on them, read ahead of the entries built from it.
    private struct Block {
        var subjects: [OmissionSubject]
        var found: [String: [String: RegistryMatch]]
        var revenue: [String: Milli]
        var previousRD: [String: Milli]
    }

    /// Builds and writes the entries of the subjects the rule stages noted (`OmissionNotes`); returns their count.
    func build(blockSize: Int) throws -> Int {
        var total = 0
        let registries = Self.evidenceRegistries(catalog, available: available)
        let displays = registries.map { Display($0, fieldName) }
        // Blocks and their evidence are read on a second thread while this one builds and writes the entries of
        // the block before (the stage ran on one core).
        let reader = Unchecked(self)
        try ReadAhead.run(produce: { emit in
            try reader.value.readBlocks(registries: registries, size: min(blockSize, 2000), emit: emit)
        }, consume: { (block: Block) in
            var entries: [OmissionEntry] = []
            entries.reserveCapacity(block.subjects.count)
            for s in block.subjects {
                entries.append(entry(for: s, registries: registries, displays: displays, found: block.found,
                                     revenue: block.revenue[s.uscc], previous: block.previousRD[s.uscc]))
            }
            try writer.insert(omissions: entries)
            total += entries.count
        })
        return total
    }

    /// The registries whose rows are evidence on the list, among those the run received.
    static func evidenceRegistries(_ catalog: RegistryCatalog, available: Set<Form>) -> [Registry] {
        catalog.registries.filter { $0.evidence != nil && available.contains($0.form) }
    }

    /// The 107-2 fields an entry compares with the evidence (what the rule stage notes of each subject).
    static func comparedFields(_ catalog: RegistryCatalog, available: Set<Form>) -> Set<String> {
        Set(["rd_exp_total"] + evidenceRegistries(catalog, available: available).compactMap { $0.evidence?.compareWith })
    }

    private func readBlocks(registries: [Registry], size: Int, emit: (Block) throws -> Void) throws {
        let roster = available.contains(.roster) ? catalog.registry("roster") : nil
        let compared = Self.comparedFields(catalog, available: available)
        // The subjects come in USCC order, so each (registry, period) is read as one sorted stream beside them:
        // looking each block's keys up through the index fetched registry rows at random (a third of this stage).
        let streams = RegistryStreams(store: store, run: writer.runID)
        defer { streams.closeAll() }
        try writer.forEachOmissionSubjectBlock(fields: compared.sorted(), size: size) { subjects in
            let keys = subjects.map(\.uscc)
            let names = subjects.map(\.name)
            let periods = Set(subjects.map(\.period))
            guard !keys.isEmpty else { return }
            var found: [String: [String: RegistryMatch]] = [:]
            var revenue: [String: Milli] = [:]
            let malformed = RegistryReadAhead.malformedByName(usccs: keys, names: names)
            try writer.withDatabase { db in
                for period in periods.sorted() {
                    for r in registries {
                        // By USCC from the stream, then by exact name for malformed USCCs, as the rules matched them.
                        let numeric = [r.evidence?.amount].compactMap { $0 }
                        let texts = r.evidence?.show ?? []
                        let m = try RegistryReadAhead.matches(
                            db, registry: r, run: writer.runID, store: store, numeric: numeric, texts: texts,
                            usccs: keys, names: names, malformed: malformed, periods: [period], stream: { p in
                                try streams.stream(db, r, period: p, numeric: numeric, texts: texts)
                            }).matches
                        // One period is the usual block: its matches are taken whole, not copied entry by entry.
                        if found[r.name] == nil { found[r.name] = m } else { found[r.name]!.merge(m) { a, _ in a } }
                    }
                    if let roster {
                        for (u, m) in try streams.stream(db, roster, period: period, numeric: ["revenue"])
                            .matches(wanted: keys) {
                            revenue[u] = m.sums["revenue"]
                        }
                    }
                }
            }
            var previousRD: [String: Milli] = [:]
            if let previous, let previousRun {
                previousRD = try previous.read { db in
                    try StoreBindings.previousValues(db, run: previousRun, field: "rd_exp_total", uscc: keys)
                }
            }
            try emit(Block(subjects: subjects, found: found, revenue: revenue, previousRD: previousRD))
        }
    }

    private func fieldName(_ field: String) -> String { dictionary.field(field)?.name ?? field }

    private func entry(for s: OmissionSubject, registries: [Registry], displays: [Display],
                       found: [String: [String: RegistryMatch]], revenue: Milli?, previous: Milli?) -> OmissionEntry {
        func reported(_ field: String) -> Milli { s.record?[field]?.milli ?? Milli(raw: 0) }
        var evidence: [(String, JSONValue)] = []
        var zh: [String] = []
        var gaps: [Gap] = []
        for (index, r) in registries.enumerated() {
            guard let m = found[r.name]?[s.uscc], m.rows > 0, let e = r.evidence else { continue }
            let display = displays[index]
            var fields: [(String, JSONValue)] = [("rows", .int(m.rows))]
            var parts: [String] = []
            for (t, shown) in zip(e.show, display.show) {
                let values = m.texts[t] ?? []
                fields.append((t, .array(values.map { .string($0) })))
                if !values.isEmpty { parts.append(shown + " " + values.joined(separator: "、")) }
            }
            if let a = e.amount, let compare = e.compareWith, let v = m.sums[a] {
                fields.append((a, .number(v.description)))
                parts.append("\(display.amount ?? a) \(v) 千元")
                gaps.append(Gap(kind: .amount(registry: index, value: v), basis: r.name, implied: v, compareWith: compare,
                                reported: reported(compare)))
            }
            if let share = e.revenueShare, let compare = e.compareWith, let revenue {
                let implied = Self.share(revenue, share)
                fields.append(("implied_min_rd_exp", .number(implied.description)))
                parts.append("营业收入 \(revenue) 千元的 \(share * 100)% 为 \(implied) 千元")
                gaps.append(Gap(kind: .revenueShare(registry: index, revenue: revenue, share: share), basis: r.name,
                                implied: implied, compareWith: compare, reported: reported(compare)))
            }
            evidence.append((r.name, .object(fields)))
            zh.append(display.title + "：" + (parts.isEmpty ? "在列" : parts.joined(separator: "，")))
        }
        if let previous {
            evidence.append(("previous", .object([("rd_exp_total", .number(previous.description))])))
            zh.append("上年研究开发费用合计 \(previous) 千元")
            gaps.append(Gap(kind: .previous, basis: "previous", implied: previous, compareWith: "rd_exp_total",
                            reported: reported("rd_exp_total")))
        }
        let best = gaps.filter { $0.gap.raw > 0 }.max { a, b in a.gap.raw < b.gap.raw || (a.gap.raw == b.gap.raw && a.basis > b.basis) }
        let method: String
        if let best {
            let label: String
            switch best.kind {
            case .amount(let i, let v):
                label = "\(displays[i].title)\(displays[i].amount ?? "") \(v) 千元"
            case .revenueShare(let i, let revenue, let share):
                label = "\(displays[i].title)：营业收入 \(revenue) 千元 × \(share * 100)% = \(best.implied) 千元"
            case .previous:
                label = "上年研究开发费用合计 \(best.implied) 千元"
            }
            let sent = s.record == nil ? "未报送，按 0 计" : "已报 \(best.reported) 千元"
            method = "\(label) − \(fieldName(best.compareWith))（\(sent)）= \(best.gap) 千元；取各来源差额中最大者"
        } else {
            method = "无可比金额证据，列入排查但不估计金额"
        }
        return OmissionEntry(
            uscc: s.uscc, period: s.period, name: s.name, regionCode: s.regionCode, reported: s.record != nil,
            rules: s.rules, reportedRDExp: s.record?["rd_exp_total"]?.milli,
            evidenceJSON: JSONValue.object(evidence).text, evidenceZh: zh.joined(separator: "；"),
            estimatedMissing: best?.gap ?? Milli(raw: 0), method: method, basis: best?.basis)
    }

    /// `share` of `revenue`, rounded half up to the 元 exactly.
    private static func share(_ revenue: Milli, _ share: Decimal) -> Milli {
        var exact = Decimal(revenue.raw) * share, rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 0, .plain)
        return Milli(raw: (rounded as NSDecimalNumber).int64Value)
    }
}
