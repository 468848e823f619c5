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

    /// Builds and writes the entries of the subjects the rule stages noted (`OmissionNotes`): how many, and how
    /// many of them had no evidence noted and were looked up by key here.
    func build(blockSize: Int) throws -> (entries: Int, evidenceLookedUp: Int) {
        var total = 0
        let lookedUp = Counter()
        let registries = Self.evidenceRegistries(catalog, available: available)
        let displays = registries.map { Display($0, fieldName) }
        // The entries are built on a second thread, from the notes and their evidence, while this one writes the
        // block before: the rule stages noted what the registries hold on each subject, so this stage no longer
        // reads the registries whole again (it did, as sorted streams: half of its time).
        let reader = Unchecked(self)
        try ReadAhead.run(produce: { emit in
            try reader.value.readBlocks(registries: registries, displays: displays, size: min(blockSize, 2000),
                                        lookedUp: lookedUp, emit: emit)
        }, consume: { (entries: [OmissionEntry]) in
            try writer.insert(omissions: entries)
            total += entries.count
        })
        return (total, lookedUp.value)
    }

    /// Counted on the reading thread, read after it ended.
    private final class Counter: @unchecked Sendable {
        var value = 0
    }

    /// The registries whose rows are evidence on the list, among those the run received.
    static func evidenceRegistries(_ catalog: RegistryCatalog, available: Set<Form>) -> [Registry] {
        catalog.registries.filter { $0.evidence != nil && available.contains($0.form) }
    }

    /// What the rule stages read with each block to note its subjects' evidence (`StoreBindings.noteEvidence`):
    /// the evidence registries and the roster, whose revenue a 高企's implied R&D is a share of.
    static func notedRegistries(_ catalog: RegistryCatalog, available: Set<Form>) -> [Registry] {
        evidenceRegistries(catalog, available: available)
            + (available.contains(.roster) ? [catalog.registry("roster")].compactMap { $0 } : [])
    }

    /// The amounts an entry uses of one of `notedRegistries`: its evidence amount, or the roster's revenue.
    static func listedSums(_ r: Registry) -> [String] {
        r.form == .roster ? ["revenue"] : [r.evidence?.amount].compactMap { $0 }
    }

    /// The 107-2 fields an entry compares with the evidence (what the rule stage notes of each subject).
    static func comparedFields(_ catalog: RegistryCatalog, available: Set<Form>) -> Set<String> {
        Set(["rd_exp_total"] + evidenceRegistries(catalog, available: available).compactMap { $0.evidence?.compareWith })
    }

    private func readBlocks(registries: [Registry], displays: [Display], size: Int, lookedUp: Counter,
                            emit: ([OmissionEntry]) throws -> Void) throws {
        let looked = Self.notedRegistries(catalog, available: available)
        let compared = Self.comparedFields(catalog, available: available)
        try writer.forEachOmissionSubjectBlock(fields: compared.sorted(), size: size) { subjects in
            guard !subjects.isEmpty else { return }
            // Subjects noted without their evidence (found after their block, or in a block of several periods)
            // are looked up by key, by USCC and then by exact name for a malformed USCC, as the rules matched them.
            let missing = subjects.filter { $0.evidence == nil }
            lookedUp.value += missing.count
            var found: [String: [String: RegistryMatch]] = [:]
            if !missing.isEmpty {
                let keys = missing.map(\.uscc), names = missing.map(\.name)
                let malformed = RegistryReadAhead.malformedByName(usccs: keys, names: names)
                try writer.withDatabase { db in
                    for period in Set(missing.map(\.period)).sorted() {
                        for r in looked {
                            let m = try RegistryReadAhead.matches(
                                db, registry: r, run: writer.runID, store: store, numeric: Self.listedSums(r),
                                texts: r.evidence?.show ?? [], usccs: keys, names: names, malformed: malformed,
                                periods: [period], stream: nil).matches
                            found[r.name, default: [:]].merge(m) { a, _ in a }
                        }
                    }
                }
            }
            var previousRD: [String: Milli] = [:]
            if let previous, let previousRun {
                previousRD = try previous.read { db in
                    try StoreBindings.previousValues(db, run: previousRun, field: "rd_exp_total", uscc: subjects.map(\.uscc))
                }
            }
            try emit(subjects.map { s in
                let evidence = s.evidence ?? found.compactMapValues { $0[s.uscc] }
                return entry(for: s, registries: registries, displays: displays, evidence: evidence,
                             revenue: evidence["roster"]?.sums["revenue"], previous: previousRD[s.uscc])
            })
        }
    }

    private func fieldName(_ field: String) -> String { dictionary.field(field)?.name ?? field }

    private func entry(for s: OmissionSubject, registries: [Registry], displays: [Display],
                       evidence found: [String: RegistryMatch], revenue: Milli?, previous: Milli?) -> OmissionEntry {
        func reported(_ field: String) -> Milli { s.record?[field]?.milli ?? Milli(raw: 0) }
        var evidence: [(String, JSONValue)] = []
        var zh: [String] = []
        var gaps: [Gap] = []
        for (index, r) in registries.enumerated() {
            guard let m = found[r.name], m.rows > 0, let e = r.evidence else { continue }
            let display = displays[index]
            var fields: [(String, JSONValue)] = [("rows", .int(m.rows))]
            var parts: [String] = []
            for (t, shown) in zip(e.show, display.show) {
                let values = m.texts(t)
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
