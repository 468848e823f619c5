import Testing
import YingtongModel
@testable import YingtongRules

@Suite struct FrameLifetimeTests {
    /// A batch's frames must die with the batch: a project frame pointing strongly back at its enterprise frame
    /// (which owns it) kept every batch of a run alive — 350 MB over 100,000 enterprises.
    @Test func frameTreeIsFreedAfterEvaluation() {
        weak var weakRoot: Frame?
        weak var weakProjects: Frame?
        do {
            let activity = RecordBatch(form: .activity, formVersion: "2021", fields: FieldDictionary.standard.fields(of: .activity))
            let root = Frame(scope: .enterprise, batch: EnterpriseBatch(activity: activity), bindings: NoBindings())
            let projects = root.projects
            #expect(projects.parent === root)
            weakRoot = root
            weakProjects = projects
        }
        #expect(weakRoot == nil)
        #expect(weakProjects == nil)
    }
}

@Suite struct FrameTextColumnTests {
    /// A text field's column is handed to the kernels as it is when its missing values are already nil (how
    /// `Column.appendMissing` writes them); a column whose missing slots still hold a text (built by hand) is read
    /// through its presence mask. Either way a missing value reads as null, never as the stale text.
    @Test func missingTextsReadAsNullWhicheverWayTheColumnWasBuilt() throws {
        var batch = Build.records(.projects, [["project_name": "高效电机控制器研发"], [:], ["project_name": "新型减速机"]])
        let field = try #require(batch.columns.first { $0.field.code == "project_name" }?.field)
        let col = try #require(batch.columns.firstIndex { $0.field.code == "project_name" })
        func names(_ b: RecordBatch) -> [String?] {
            let f = Frame(scope: .project, batch: EnterpriseBatch(activity: Build.records(.activity, []), projects: b,
                                                                  projectRanges: []), bindings: NoBindings())
            return f.field(field, zero: false).asText
        }
        #expect(names(batch) == ["高效电机控制器研发", nil, "新型减速机"])
        batch.columns[col].texts[1] = "上一条残留的名称"
        #expect(names(batch) == ["高效电机控制器研发", nil, "新型减速机"])
    }
}
