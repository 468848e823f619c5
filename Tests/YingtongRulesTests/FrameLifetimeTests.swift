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
