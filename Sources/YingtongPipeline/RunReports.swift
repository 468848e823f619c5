import Foundation
import YingtongModel
import YingtongReport
import YingtongRules
import YingtongStore

/// The run's reports for people (issue 7), written into the staged outputs from the run's own connection.
enum RunReports {
    static func write(writer: RunWriter, store: Store, packs: [YingtongRules.RulePack], to dir: String,
                      progress: RunProgress?, feedbackPages: Bool = true) throws -> CycleReport.Summary
    {
        let titles = packs.reduce(into: [String: String]()) { $0.merge($1.titlesZh) { a, _ in a } }
        var report = CycleReport(templates: try ReportTemplates.bundled(), titles: titles)
        report.feedbackPages = feedbackPages
        report.onPage = { done, total in
            if done == 1 { progress?.begin("反馈单", totalRecords: total) }
            progress?.advance(records: 1)
        }
        return try writer.withDatabase { db in try report.write(db, store: store, run: writer.runID, to: dir) }
    }
}
