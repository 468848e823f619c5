import Foundation
import YingtongModel
import YingtongIngest
import YingtongNormalize
import YingtongStore
import YingtongIndicators
import YingtongRules
import YingtongExport

/// What a run produced and where it is.
public struct RunResult: Sendable {
    public var runID: Int64
    public var storePath: String
    public var outputsDir: String
    public var indicatorsCSV: String
    public var counts: [String: Int]
    public var errorFindings: Int
    public var indicators: [IndicatorRow]
    /// The HTML cycle report (`report.html` in the outputs), with feedback pages under `feedback/`.
    public var reportPath: String? = nil

    /// The run's last line for people: where the results are.
    public var summaryZh: String {
        """
        运行完成：记录 \(counts["records_loaded", default: 0]) 条（其中强制性错误 \(counts["records_rejected", default: 0]) 条），\
        隔离 \(counts["quarantine_entries", default: 0]) 项，审核发现 \(counts["violations", default: 0]) 条。
        数据库：\(storePath)
        指标：\(indicatorsCSV)
        输出目录：\(outputsDir)（报告 report.html，企业反馈单 feedback/）
        """
    }
}

/// Runs one statistics cycle: every source through Ingest → Normalize → Load, then resubmissions, statuses and
/// indicators, all in one store transaction; output files are written beside it and put in place only after the
/// transaction commits, so a failed run leaves the previous outputs and store untouched.
public struct PipelineRunner {
    public let definition: PipelineDefinition
    public let log: (String) -> Void
    public static let version = "0.1.0"
    /// A progress bar per stage (terminal only); nil draws nothing.
    public var progress: RunProgress?

    /// Called with the store and the run's id once the run has committed (the command-line tool loads the
    /// PostgreSQL warehouse here, so this module does not link SwiftNIO).
    public var afterCommit: ((Store, Int64) throws -> Void)?

    public init(definition: PipelineDefinition, log: @escaping (String) -> Void = { _ in }) {
        self.definition = definition
        self.log = log
    }

    public func run() throws -> RunResult {
        let d = definition
        let started = Date()
        // Resolve every input first: a missing file stops the run before the store is touched.
        var inputs: [(source: PipelineDefinition.Source, path: String, index: Int32)] = []
        for source in d.sources {
            for path in try d.files(of: source) {
                inputs.append((source, path, Int32(inputs.count)))
            }
        }
        // Rule packs are compiled before anything is written: a mistake in a rule file stops the run (exit 2).
        let packs = try d.rulePacks.map { try RulePack.load(path: d.resolve($0)) }
        let engines = try packs.map { try RuleEngine(pack: $0) }
        let packDefinesFormatRules = packs.contains { $0.rules.contains { $0.id.hasPrefix("V00") } }
        let storePath = d.resolve(d.storePath)
        try FileManager.default.createDirectory(atPath: (storePath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let store = try Store(path: storePath)
        defer { try? store.close() }
        let writer = try store.beginRun(RunInfo(pipeline: d.id, regionCode: d.region, period: d.period,
                                                startedAt: started, yingtongVersion: Self.version,
                                                settings: d.indicatorSettings))
        log("开始运行 \(d.id)，报告期 \(d.period)，\(inputs.count) 个输入文件")

        let digests = DigestQueue(paths: inputs.map(\.path))
        let loader = LoadThread(writer: writer)
        loader.start()
        var sink = LoadSink(loader: loader, normalizer: Normalizer(settings: NormalizeSettings(
            period: d.period, countyCodes: Set([d.region] + d.regionAliases + d.regions), emitFormatFindings: !packDefinesFormatRules,
            maxFindingsPerRecord: d.limits.maxFindingsPerRecord)))
        sink.progress = progress
        var runInputs: [RunInput] = []
        let inputSizes = inputs.map { ((try? FileManager.default.attributesOfItem(atPath: $0.path)[.size]) as? Int64) ?? 0 }
        progress?.begin("读取", totalBytes: inputSizes.reduce(0, +))
        for input in inputs {
            progress?.beginFile(base: inputSizes.prefix(Int(input.index)).reduce(0, +))
            let relative = Self.relativePath(input.path)
            let file = SourceFile(index: input.index, path: relative, role: input.source.role, form: input.source.form,
                                  encoding: input.source.encoding, defaultMoneyUnit: input.source.unit,
                                  separator: input.source.separator)
            var reader = SourceReaders.make(file, declared: input.source.format, period: d.period, limits: d.limits)
            let readerStart = Date()
            let before = sink.moved
            var account: LineAccount
            do {
                account = try reader.read(batchSize: d.batchSize, into: &sink)
                try sink.flush()
            } catch {
                // The loader must stop before the writer is rolled back by the error unwinding this run.
                try? loader.finish()
                throw error
            }
            account.moveToQuarantine(lines: sink.moved.lines - before.lines, records: sink.moved.records - before.records)
            if !account.balanced {
                throw YingtongError("E-RUN-ACCOUNT", "\(relative) 的物理行数核对不平（\(account.physicalLines) ≠ 记录行 \(account.recordLines) + 隔离行 \(account.quarantinedLines) + 表头等 \(account.layoutLines)），运行已回滚")
            }
            let seconds = Date().timeIntervalSince(readerStart)
            log(String(format: "读取 %@：%d 行，记录 %d，隔离 %d，编码 %@，%.1f MB/s", relative, account.physicalLines,
                       account.records, account.quarantinedRecords, account.encoding,
                       seconds > 0 ? Double(account.bytes) / 1e6 / seconds : 0))
            runInputs.append(RunInput(path: relative, role: input.source.role, sha256: "", bytes: account.bytes,
                                      encoding: account.encoding, lines: LineTally(
                                          physicalLines: account.physicalLines, recordLines: account.recordLines,
                                          quarantinedLines: account.quarantinedLines, layoutLines: account.layoutLines,
                                          records: account.records, quarantinedRecords: account.quarantinedRecords)))
        }
        try loader.finish()
        if !sink.pendingExplanations.isEmpty { try writer.insert(explanations: sink.pendingExplanations) }
        let hashes = try digests.wait()
        for i in runInputs.indices { runInputs[i].sha256 = hashes[i] }

        // The first stage (read, normalize, load) began with the run.
        var mark = started
        func stage(_ name: String) {
            progress?.end()
            log(String(format: "  %@：%.2f 秒", name, Date().timeIntervalSince(mark)))
            mark = Date()
        }
        stage("读取、标准化、入库")
        let bureauSources = inputs.filter { $0.source.role == "bureau_rd" }.map(\.index)
        let enterpriseSources = inputs.filter { $0.source.role == "enterprise_rd" }.map(\.index)
        let authoritative = d.reconcileAuthority == "bureau_rd" ? bureauSources : enterpriseSources
        let resubmissions = try writer.resolveResubmissions(
            authoritative: bureauSources.isEmpty || enterpriseSources.isEmpty ? [] : authoritative)
        stage("重复报送处理")
        let disagreements = try Reconcile.findings(writer: writer, bureau: bureauSources, enterprise: enterpriseSources,
                                                   authority: d.reconcileAuthority, tolerance: d.reconcileTolerance)
        if !disagreements.isEmpty {
            try writer.insert(violations: disagreements)
            stage("局企数据核对")
        }
        var ruleSummary: RuleSummary?
        func merge(_ r: RuleSummary) { if ruleSummary == nil { ruleSummary = r } else { ruleSummary!.merge(r) } }
        var ruleViolations = 0
        var unreportedUnits = 0
        var omissionCount: Int?
        let availableForms = Set(inputs.compactMap { $0.source.form })
        if !engines.isEmpty {
            let previousStore = try d.previousPath.map(d.resolve).flatMap { path -> Store? in
                FileManager.default.fileExists(atPath: path) ? try Store(path: path, readOnly: true) : nil
            }
            defer { try? previousStore?.close() }
            let previousRun = try previousStore.flatMap {
                try StoreBindings.run(in: $0, region: d.region, period: d.period - 1, pipeline: d.id)
            }
            let bindings = StoreBindings(writer: writer, store: store, previous: previousStore, previousRun: previousRun,
                                         available: availableForms)
            /// Findings resting on a registry matched by name instead of USCC say so (issue: 应统尽统 matching).
            /// In place: mapping every finding of every block copied each one to change a few.
            func markNameMatches(_ violations: inout [Violation]) {
                guard !bindings.matchedByName.isEmpty else { return }
                for i in violations.indices where violations[i].level >= 3 && bindings.matchedByName.contains(violations[i].uscc) {
                    violations[i].messageZh += "（外部名单按单位名称匹配：统一社会信用代码校验未通过）"
                    violations[i].observed += "; match=name"
                }
            }
            let omissionRules = engines.reduce(into: Set<String>()) { $0.formUnion($1.omissionRules) }
            var notes = OmissionNotes(rules: omissionRules,
                                      fields: OmissionBuilder.comparedFields(.standard, available: availableForms))
            if !omissionRules.isEmpty {
                try writer.beginNotingOmissionSubjects()
                if OmissionNotes.notesEvidence {
                    bindings.noteEvidence(OmissionBuilder.notedRegistries(.standard, available: availableForms))
                }
            }
            func record(_ result: RuleResult) throws {
                if let failure = bindings.failure { throw failure }
                var violations = result.violations
                markNameMatches(&violations)
                notes.add(violations)
                if !violations.isEmpty { try writer.insert(violations: violations) }
                ruleViolations += violations.count
                loader.errorCount += violations.reduce(0) { $0 + ($1.severity == .error ? 1 : 0) }
                merge(result.summary)
            }
            var groups = engines.map { $0.makeGroupState() }
            // Blocks hold whole enterprises (every record and project of a USCC), so a group rule keyed by uscc
            // is complete at each block's end: finishing it there keeps its state bounded by the block instead of
            // growing with the run (G001 held ~1 GB at 1M enterprises).
            let closesPerBlock = engines.map { e in
                e.pack.rules.allSatisfy { ($0.groupBy ?? ["uscc"]).contains("uscc") }
            }
            let recordCount = try writer.withDatabase { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE run_id = ?", arguments: [writer.runID]) ?? 0
            }
            progress?.begin("规则审核", totalRecords: recordCount)
            do {
                let readAhead = bindings.readAhead(engines.reduce(into: Set<String>()) { $0.formUnion($1.registriesUsed) })
                defer { readAhead.close() }
                var fieldsRead = engines.reduce(into: Set<String>()) { $0.formUnion($1.fieldsRead) }
                if !omissionRules.isEmpty { fieldsRead.formUnion(notes.fields) }
                try writer.forEachEnterpriseBlock(size: d.batchSize, fields: fieldsRead, ahead: { db, activity in
                    try readAhead.read(db, activity)
                }) { activity, projects, registries in
                    progress?.advance(records: activity.count)
                    let batch = EnterpriseBatch(activity: activity, projects: projects,
                                                projectRanges: Self.projectRanges(activity, projects))
                    bindings.prepare(activity, ahead: registries)
                    for (i, engine) in engines.enumerated() {
                        try record(engine.evaluate(batch, bindings: bindings, groups: &groups[i]))
                        if closesPerBlock[i] {
                            try record(engine.finish(groups[i]))
                            groups[i] = engine.makeGroupState()
                        }
                    }
                    try notes.flush(writer, block: activity, sent: true, bindings: bindings)
                }
            }
            for (i, engine) in engines.enumerated() where !closesPerBlock[i] {
                try record(engine.finish(groups[i]))
            }
            try notes.flush(writer, block: nil, sent: true)
            stage("规则审核")
            if engines.contains(where: \.examinesUnreported) {
                let coverage = Coverage(writer: writer, catalog: .standard, available: availableForms,
                                        previous: previousStore, previousRun: previousRun, period: d.period,
                                        localRegions: [d.region] + d.regionAliases)
                unreportedUnits = try coverage.forEachUnreportedBlock(size: d.batchSize) { batch in
                    bindings.prepare(batch.activity)
                    for engine in engines where engine.examinesUnreported {
                        try record(engine.evaluateUnreported(batch, bindings: bindings))
                    }
                    try notes.flush(writer, block: batch.activity, sent: false, bindings: bindings)
                }
                stage("未报送单位核查")
            }
            if !omissionRules.isEmpty {
                let list = try OmissionBuilder(writer: writer, store: store, catalog: .standard,
                                               available: availableForms, previous: previousStore,
                                               previousRun: previousRun)
                    .build(blockSize: d.batchSize)
                omissionCount = list.entries
                if list.evidenceLookedUp > 0 {
                    log("应统尽统排查清单：\(list.evidenceLookedUp) 个对象的外部名单证据在审核时未随记录记下，已按键补查")
                }
                stage("应统尽统排查清单")
            }
        }
        let statuses = try writer.applyStatuses()
        stage("记录状态")
        log("重复报送：\(resubmissions.records) 条记录、\(resubmissions.projects) 个项目以较晚报送为准，较早的已存入历史表")

        let previousPath = d.previousPath.map(d.resolve)
        var settings = IndicatorSettings(targets: d.targets)
        settings.omissionListBuilt = omissionCount != nil
        if let v = d.indicatorSettings["rd_expenditure"] {
            guard let parsed = IndicatorSettings.RDExpenditure(rawValue: v) else {
                throw YingtongError("E-PIPELINE-FIELD", "indicators.rd_expenditure 应为 \(IndicatorSettings.RDExpenditure.allCases.map(\.rawValue).joined(separator: " 或 "))")
            }
            settings.rdExpenditure = parsed
        }
        if let v = d.indicatorSettings["rd_active"] {
            guard let parsed = IndicatorSettings.RDActive(rawValue: v) else {
                throw YingtongError("E-PIPELINE-FIELD", "indicators.rd_active 应为 \(IndicatorSettings.RDActive.allCases.map(\.rawValue).joined(separator: " 或 "))")
            }
            settings.rdActive = parsed
        }
        settings.regions = d.regions
        if let weights = d.rankingWeights { settings.compositeWeights = weights }
        let previous = try previousPath.flatMap { try PreviousStore(path: $0) }
        let indicators = try IndicatorEngine(settings: settings).computeAndStore(writer, previous: previous)
        try writer.insert(indicators: indicators)

        var counts: [String: Int] = [
            "inputs": inputs.count,
            "records_loaded": statuses.records.values.reduce(0, +),
            "records_rejected": statuses.records[.rejected, default: 0],
            "records_flagged": statuses.records[.flagged, default: 0],
            "records_explained": statuses.records[.explained, default: 0],
            "records_clean": statuses.records[.clean, default: 0],
            "projects_loaded": statuses.projects.values.reduce(0, +),
            "projects_rejected": statuses.projects[.rejected, default: 0],
            "quarantine_entries": loader.quarantineCount,
            "violations": loader.violationCount + ruleViolations + disagreements.count,
            "bureau_enterprise_disagreements": disagreements.count,
            "resubmitted_records": resubmissions.records,
            "resubmitted_projects": resubmissions.projects,
            "unreported_units_examined": unreportedUnits,
        ]
        if let omissionCount { counts["omissions"] = omissionCount }
        counts["physical_lines"] = runInputs.reduce(0) { $0 + $1.lines.physicalLines }
        counts["quarantined_lines"] = runInputs.reduce(0) { $0 + $1.lines.quarantinedLines }

        // Outputs are staged next to their final place and swapped in only after the store commits.
        let outputs = d.resolve(d.outputsDir)
        let staging = outputs + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: staging)
        // A run killed between its commit and the swap leaves its staging folder behind; this run holds the
        // store's write transaction, so no other run of this pipeline can be using one.
        let parent = (outputs as NSString).deletingLastPathComponent
        let stale = (outputs as NSString).lastPathComponent + ".tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(stale) {
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let csv = IndicatorCSV.text(indicators)
        try Data(csv.utf8).write(to: URL(fileURLWithPath: staging + "/indicators.csv"))
        if omissionCount != nil {
            try OmissionCSV.write(writer: writer, to: staging + "/" + OmissionCSV.fileName)
        }
        for r in ruleSummary?.rules ?? [] {
            counts["rule.\(r.rule).evaluated"] = r.evaluated
            counts["rule.\(r.rule).failed"] = r.failed
            counts["rule.\(r.rule).not_applicable"] = r.notApplicable
        }
        let packRecords = zip(d.rulePacks, packs).map { path, pack in
            YingtongStore.RulePack(path: path, sha256: pack.sha256, rules: pack.rules.count)
        }
        let manifest = RunManifest(inputs: runInputs, rulePacks: packRecords, counts: counts, status: "ok", finishedAt: Date())
        try writer.finish(manifest: manifest)
        // The exports of `outputs.exports` are this run's rows, written inside its transaction into the staging folder.
        for request in d.exports {
            let runID = writer.runID
            do {
                let summary = try writer.withDatabase { db in
                    try Exporter.export(db: db, run: runID, tables: request.tables, format: request.format,
                                        excel: request.excel, to: staging + "/" + request.defaultFileName)
                }
                log("导出 \(request.defaultFileName)：\(summary.rows.values.reduce(0, +)) 行")
            } catch {
                // The run has rolled back; its half-written outputs must not linger beside the previous ones.
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
        }
        stage("指标与清单")
        // Inside the transaction: a report that cannot be written rolls the run back with everything else.
        let report = try RunReports.write(writer: writer, store: store, packs: packs, to: staging, progress: progress,
                                          feedbackPages: d.feedbackPages)
        stage("报告与反馈单（\(report.feedbackPages) 家企业）")
        try writer.commit()
        stage("提交事务")
        StageHook.reached("publish")
        if FileManager.default.fileExists(atPath: outputs) { try FileManager.default.removeItem(atPath: outputs) }
        try FileManager.default.moveItem(atPath: staging, toPath: outputs)
        if let afterCommit { try afterCommit(store, writer.runID) }
        log(String(format: "完成，用时 %.1f 秒", Date().timeIntervalSince(started)))
        return RunResult(runID: writer.runID, storePath: storePath, outputsDir: outputs,
                         indicatorsCSV: outputs + "/indicators.csv", counts: counts,
                         errorFindings: loader.errorCount, indicators: indicators, reportPath: outputs + "/report.html")
    }

    /// For each 107-2 record of a block (sorted by USCC), the range of its enterprise's rows in the projects block
    /// (also sorted by USCC).
    static func projectRanges(_ activity: RecordBatch, _ projects: RecordBatch) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(activity.count)
        var p = 0
        for i in 0..<activity.count {
            let u = activity.uscc[i]
            while p < projects.count && projects.uscc[p] < u { p += 1 }
            var end = p
            while end < projects.count && projects.uscc[end] == u { end += 1 }
            // A second record of the same USCC (another period) shares none of these rows.
            if i > 0 && activity.uscc[i - 1] == u { ranges.append(p..<p) } else { ranges.append(p..<end) }
        }
        return ranges
    }

    /// Paths in the store and in messages are relative to the working directory when inside it.
    static func relativePath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}

/// Normalizes each batch and hands it, its quarantine and its findings to the loader thread.
struct LoadSink: RecordSink {
    let loader: LoadThread
    let normalizer: Normalizer
    var sequence: Int64 = 0
    var moved: (lines: Int, records: Int) = (0, 0)
    var pendingQuarantine: [QuarantineEntry] = []
    var pendingExplanations: [ExplanationNote] = []
    var progress: RunProgress?

    init(loader: LoadThread, normalizer: Normalizer) {
        self.loader = loader
        self.normalizer = normalizer
    }

    mutating func accept(_ batch: RawBatch) throws {
        var n = normalizer.normalize(batch, sequenceStart: sequence)
        progress?.advance(records: batch.count, fileOffset: batch.provenance.last?.byteOffset)
        sequence += Int64(batch.count)
        moved.lines += n.quarantinedRecordLines
        moved.records += n.quarantinedRecords
        if !pendingQuarantine.isEmpty {
            n.quarantine = pendingQuarantine + n.quarantine
            pendingQuarantine.removeAll()
        }
        try loader.put(n)
        StageHook.reached("ingest")
    }

    mutating func explanation(_ explanation: Explanation) throws {
        pendingExplanations.append(ExplanationNote(uscc: explanation.uscc, period: explanation.period, rule: explanation.rule,
                                                   text: explanation.text, sourceIndex: explanation.sourceIndex,
                                                   line: explanation.line))
    }

    /// Reader-level quarantine (broken lines) rides with the next batch, or goes alone when many pile up.
    mutating func quarantine(_ entry: QuarantineEntry) throws {
        pendingQuarantine.append(entry)
        if pendingQuarantine.count >= 4096 { try flush() }
    }

    mutating func flush() throws {
        guard !pendingQuarantine.isEmpty else { return }
        var empty = NormalizedBatch(records: RecordBatch(form: .activity, formVersion: "2021", fields: []))
        empty.quarantine = pendingQuarantine
        pendingQuarantine.removeAll()
        try loader.put(empty)
    }
}

/// Hashes the inputs on a background thread while they are being read (both come from the page cache).
final class DigestQueue: @unchecked Sendable {
    private let lock = NSCondition()
    private var results: [String]?
    private var failure: Error?

    init(paths: [String]) {
        let thread = Thread { [self] in
            var out: [String] = []
            do {
                for p in paths { out.append(try FileDigest.sha256(path: p)) }
                lock.lock(); results = out; lock.broadcast(); lock.unlock()
            } catch {
                lock.lock(); failure = error; lock.broadcast(); lock.unlock()
            }
        }
        thread.start()
    }

    func wait() throws -> [String] {
        lock.lock()
        defer { lock.unlock() }
        while results == nil && failure == nil { lock.wait() }
        if let failure { throw failure }
        return results!
    }
}
