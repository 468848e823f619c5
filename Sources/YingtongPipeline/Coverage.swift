import Foundation
import GRDB
import YingtongModel
import YingtongRules
import YingtongStore

/// The units other sources name that sent no 107-2 this period (X10 coverage and the "sent nothing" half of
/// X01–X07, R210): the roster's units, every registry's local enterprises and last cycle's reporters, minus
/// this run's records. Each block of them is handed on as an enterprise batch with identity only, every reported
/// value missing, for the rules that examine unreported units.
struct Coverage {
    let writer: RunWriter
    let catalog: RegistryCatalog
    let available: Set<Form>
    let previous: Store?
    let previousRun: Int64?
    let period: Int
    let localRegions: [String]
    let dictionary: FieldDictionary = .standard

    /// Returns how many unreported units were examined.
    func forEachUnreportedBlock(size: Int, _ body: (EnterpriseBatch) throws -> Void) throws -> Int {
        try writer.beginNamedUnits()
        if available.contains(.roster) { try writer.addRosterUnits() }
        // Several registries may read one form (技术合同 as buyer, as seller): each adds its own units.
        for r in catalog.registries where r.form != .roster && r.listsUnits && available.contains(r.form) {
            try writer.addRegistryUnits(r, period: period, localRegions: localRegions)
        }
        if let previous, let previousRun {
            // Last cycle's reporters, paged by USCC; their location is the previous store (source −1).
            var after = ""
            while true {
                let page: [NamedUnit] = try previous.read { db in
                    try Row.fetchAll(db, sql: """
                        SELECT uscc, name, region_code, line FROM record WHERE run_id = ? AND uscc > ?
                        ORDER BY uscc LIMIT 4096
                        """, arguments: [previousRun, after]).map {
                        NamedUnit(uscc: $0[0], name: $0[1], regionCode: $0[2], sourceIndex: -1, line: $0[3])
                    }
                }
                guard let last = page.last else { break }
                try writer.addNamedUnits(page)
                after = last.uscc
            }
        }
        let fields = dictionary.fields(of: .activity)
        let projectFields = dictionary.fields(of: .projects)
        var examined = 0
        try writer.forEachUnreportedBlock(size: size, reportedNames: writer.namesOfMalformedUSCCReports()) { units in
            var activity = RecordBatch(form: .activity, formVersion: period >= 2021 ? "2021" : "pre2021",
                                       fields: fields, capacity: units.count)
            for (i, u) in units.enumerated() {
                activity.uscc.append(u.uscc)
                activity.name.append(u.name)
                activity.regionCode.append(u.regionCode)
                activity.industryCode.append(nil)
                activity.period.append(period)
                activity.submittedAt.append(nil)
                activity.sequence.append(Int64(i))
                activity.provenance.append(Provenance(sourceIndex: u.sourceIndex, line: u.line, lineEnd: u.line, byteOffset: 0))
                activity.status.append(.clean)
                for c in activity.columns.indices { activity.columns[c].appendMissing() }
            }
            let projects = RecordBatch(form: .projects, formVersion: activity.formVersion, fields: projectFields, capacity: 0)
            try body(EnterpriseBatch(activity: activity, projects: projects,
                                     projectRanges: Array(repeating: 0..<0, count: units.count)))
            examined += units.count
        }
        return examined
    }
}
