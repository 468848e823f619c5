import Foundation
import YingtongModel
import YingtongIngest
import YingtongNormalize
import YingtongRules

/// `yingtong validate`: checks one enterprise's (or a few) submissions against the rule packs without a full run
/// and without a store — what a submitter or a county desk does before sending. Files are small, so records are
/// held in memory; an enterprise's 107-1 projects are checked together with its 107-2.
public struct SubmissionCheck {
    public struct Outcome: Sendable {
        public var violations: [Violation]
        public var quarantine: [QuarantineEntry]
        public var summary: RuleSummary?
        public var names: [String: String]
        public var titles: [String: String]
        public var hasErrors: Bool { violations.contains { $0.severity == .error } || !quarantine.isEmpty }
    }

    public let files: [String]
    public let form: Form?
    public let packPaths: [String]
    public let period: Int
    public let countyCodes: Set<String>

    public init(files: [String], form: Form?, packPaths: [String], period: Int, countyCodes: Set<String>) {
        self.files = files
        self.form = form
        self.packPaths = packPaths
        self.period = period
        self.countyCodes = countyCodes
    }

    public func run() throws -> Outcome {
        let packs = try packPaths.map { try RulePack.load(path: $0) }
        let engines = try packs.map { try RuleEngine(pack: $0) }
        let formatRulesInPacks = packs.contains { $0.rules.contains { $0.id.hasPrefix("V00") } }
        var collector = Collector(normalizer: Normalizer(settings: NormalizeSettings(
            period: period, countyCodes: countyCodes, emitFormatFindings: !formatRulesInPacks)))
        for (i, path) in files.enumerated() {
            let file = SourceFile(index: Int32(i), path: path, role: "enterprise_rd", form: form)
            var reader = SourceReaders.make(file, declared: nil, period: period)
            _ = try reader.read(batchSize: 4096, into: &collector)
        }
        let activity = RecordBatch.concatenated(collector.activity, form: .activity)
        let projects = RecordBatch.concatenated(collector.projects, form: .projects)
        let activityOrder = activity.uscc.indices.sorted { (activity.uscc[$0], $0) < (activity.uscc[$1], $1) }
        let projectOrder = projects.uscc.indices.sorted { (projects.uscc[$0], $0) < (projects.uscc[$1], $1) }
        let a = activity.gathering(activityOrder), p = projects.gathering(projectOrder)
        var violations = collector.violations
        var summary: RuleSummary?
        let batch = EnterpriseBatch(activity: a, projects: p, projectRanges: PipelineRunner.projectRanges(a, p))
        for engine in engines {
            var groups = engine.makeGroupState()
            let result = engine.evaluate(batch, bindings: NoBindings(), groups: &groups)
            let tail = engine.finish(groups)
            violations += result.violations + tail.violations
            if summary == nil { summary = result.summary } else { summary!.merge(result.summary) }
            summary!.merge(tail.summary)
        }
        var names: [String: String] = [:]
        for i in 0..<a.count { if let n = a.name[i] { names[a.uscc[i]] = n } }
        var titles: [String: String] = [:]
        for pack in packs { titles.merge(pack.titlesZh) { a, _ in a } }
        return Outcome(violations: violations, quarantine: collector.quarantine, summary: summary, names: names, titles: titles)
    }

    private struct Collector: RecordSink {
        let normalizer: Normalizer
        var activity: [RecordBatch] = []
        var projects: [RecordBatch] = []
        var violations: [Violation] = []
        var quarantine: [QuarantineEntry] = []
        var sequence: Int64 = 0

        mutating func accept(_ batch: RawBatch) throws {
            let n = normalizer.normalize(batch, sequenceStart: sequence)
            sequence += Int64(batch.count)
            switch n.records.form {
            case .activity: activity.append(n.records)
            case .projects: projects.append(n.records)
            default: break
            }
            violations += n.violations
            quarantine += n.quarantine
        }

        mutating func quarantine(_ entry: QuarantineEntry) throws { quarantine.append(entry) }
    }
}

