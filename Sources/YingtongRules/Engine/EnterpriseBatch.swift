import Foundation
import YingtongModel

/// What the rule engine evaluates: a block of 107-2 records and, for each, the enterprise's 107-1 projects.
///
/// ```swift
/// let batch = EnterpriseBatch(activity: act, projects: proj, projectRanges: [0..<2, 2..<2, 2..<5])
/// // enterprise 0 has projects 0 and 1, enterprise 1 has none, enterprise 2 has projects 2, 3 and 4
/// ```
public struct EnterpriseBatch: Sendable {
    public var activity: RecordBatch
    public var projects: RecordBatch
    /// For each 107-2 record, its rows in `projects` (empty range: no project rows).
    public var projectRanges: [Range<Int>]
    /// For each project row, its enterprise's row in `activity`.
    public let projectOwner: [Int]

    public init(activity: RecordBatch, projects: RecordBatch, projectRanges: [Range<Int>]) {
        precondition(projectRanges.count == activity.count, "projectRanges 须与107-2记录一一对应")
        precondition(projectRanges.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= projects.count },
                     "projectRanges 超出107-1批次的行数")
        self.activity = activity
        self.projects = projects
        self.projectRanges = projectRanges
        var owner = [Int](repeating: 0, count: projects.count)
        for (e, r) in projectRanges.enumerated() {
            for p in r where p < owner.count { owner[p] = e }
        }
        projectOwner = owner
    }

    /// A batch of 107-2 records without any 107-1 rows.
    public init(activity: RecordBatch, dictionary: FieldDictionary = .standard) {
        let empty = RecordBatch(form: .projects, formVersion: activity.formVersion,
                                fields: dictionary.fields(of: .projects), capacity: 0)
        self.init(activity: activity, projects: empty,
                  projectRanges: Array(repeating: 0..<0, count: activity.count))
    }
}

/// Data a rule reads from outside the batch: last year's store, registries (名单), the roster's revenue.
///
/// The pipeline implements it; when it returns nil the binding is absent and every rule that needs it is
/// "not applicable" with that reason — never a silent pass.
public protocol RuleBindings: Sendable {
    /// Last period's value of a 107-2 numeric field for each (uscc, period − 1); nil: no previous data bound.
    func previous(_ field: String, uscc: [String], period: [Int]) -> [Milli?]?
    /// Whether each enterprise is on the registry for its period (e.g. `hte` 高企名单); nil: registry not bound.
    func listed(_ registry: String, uscc: [String], period: [Int]) -> [Bool]?
    /// A numeric value from a registry or the roster (e.g. `lookup(roster, revenue)`); nil: not bound.
    func lookup(_ registry: String, _ field: String, uscc: [String], period: [Int]) -> [Milli?]?
}

/// No external data at all: every cross-source rule is "not applicable".
public struct NoBindings: RuleBindings {
    public init() {}
    public func previous(_ field: String, uscc: [String], period: [Int]) -> [Milli?]? { nil }
    public func listed(_ registry: String, uscc: [String], period: [Int]) -> [Bool]? { nil }
    public func lookup(_ registry: String, _ field: String, uscc: [String], period: [Int]) -> [Milli?]? { nil }
}

/// Bindings held in memory, keyed by USCC: for tests, the benchmark, and small runs.
public struct TableBindings: RuleBindings {
    /// field → uscc → last year's value
    public var previousValues: [String: [String: Milli]]
    /// registry → USCCs on it
    public var registries: [String: Set<String>]
    /// "registry.field" → uscc → value
    public var lookups: [String: [String: Milli]]

    public init(previousValues: [String: [String: Milli]] = [:], registries: [String: Set<String>] = [:],
                lookups: [String: [String: Milli]] = [:]) {
        self.previousValues = previousValues
        self.registries = registries
        self.lookups = lookups
    }

    public func previous(_ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard let t = previousValues[field] else { return nil }
        return uscc.map { t[$0] }
    }

    public func listed(_ registry: String, uscc: [String], period: [Int]) -> [Bool]? {
        guard let s = registries[registry] else { return nil }
        return uscc.map { s.contains($0) }
    }

    public func lookup(_ registry: String, _ field: String, uscc: [String], period: [Int]) -> [Milli?]? {
        guard let t = lookups["\(registry).\(field)"] else { return nil }
        return uscc.map { t[$0] }
    }
}
