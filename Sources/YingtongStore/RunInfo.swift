import Foundation
import YingtongModel

/// What identifies a run and what is known when it starts.
///
/// A run is keyed by (pipeline, region, period): beginning a run with the same key replaces the previous one
/// when it commits; a different key sits beside it in the same store.
///
/// ```swift
/// let writer = try store.beginRun(RunInfo(pipeline: "xx-county", regionCode: "330122", period: 2023,
///                                         yingtongVersion: "0.1.0"))
/// ```
public struct RunInfo: Sendable, Hashable {
    public var pipeline: String
    public var regionCode: String
    public var period: Int
    public var startedAt: Date
    public var yingtongVersion: String
    /// Pipeline settings worth keeping with the run (indicator formula choices, rule switches), as JSON object.
    public var settings: [String: String]

    public init(pipeline: String, regionCode: String, period: Int, startedAt: Date = Date(),
                yingtongVersion: String, settings: [String: String] = [:]) {
        self.pipeline = pipeline
        self.regionCode = regionCode
        self.period = period
        self.startedAt = startedAt
        self.yingtongVersion = yingtongVersion
        self.settings = settings
    }
}

/// One input file of a run, as recorded in `run.inputs` (JSON).
public struct RunInput: Sendable, Hashable, Codable {
    public var path: String
    public var role: String
    public var sha256: String
    public var bytes: Int64
    public var encoding: String
    /// The reader's line account (physical = record + quarantined + layout lines), kept for audit.
    public var lines: LineTally

    public init(path: String, role: String, sha256: String, bytes: Int64, encoding: String, lines: LineTally = .init()) {
        self.path = path
        self.role = role
        self.sha256 = sha256
        self.bytes = bytes
        self.encoding = encoding
        self.lines = lines
    }
}

/// Mirrors Ingest's `LineAccount` without making the store depend on the readers.
public struct LineTally: Sendable, Hashable, Codable {
    public var physicalLines: Int
    public var recordLines: Int
    public var quarantinedLines: Int
    public var layoutLines: Int
    public var records: Int
    public var quarantinedRecords: Int

    public init(physicalLines: Int = 0, recordLines: Int = 0, quarantinedLines: Int = 0, layoutLines: Int = 0,
                records: Int = 0, quarantinedRecords: Int = 0) {
        self.physicalLines = physicalLines
        self.recordLines = recordLines
        self.quarantinedLines = quarantinedLines
        self.layoutLines = layoutLines
        self.records = records
        self.quarantinedRecords = quarantinedRecords
    }
}

/// A rule file the run applied, with its content hash (`run.rule_packs`).
public struct RulePack: Sendable, Hashable, Codable {
    public var path: String
    public var sha256: String
    public var rules: Int

    public init(path: String, sha256: String, rules: Int) {
        self.path = path
        self.sha256 = sha256
        self.rules = rules
    }
}

/// What a run writes into its `run` row when it finishes.
public struct RunManifest: Sendable, Hashable {
    public var inputs: [RunInput]
    public var rulePacks: [RulePack]
    /// Counts per stage, e.g. `read.records`, `quarantine`, `violations.error`, `records.rejected`.
    public var counts: [String: Int]
    public var status: String
    public var finishedAt: Date

    public init(inputs: [RunInput], rulePacks: [RulePack], counts: [String: Int], status: String = "ok",
                finishedAt: Date = Date()) {
        self.inputs = inputs
        self.rulePacks = rulePacks
        self.counts = counts
        self.status = status
        self.finishedAt = finishedAt
    }
}

/// A committed run as listed by `Store.runs()`.
public struct RunSummary: Sendable, Hashable {
    public var id: Int64
    public var pipeline: String
    public var regionCode: String
    public var period: Int
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public var yingtongVersion: String
    public var counts: [String: Int]
}

/// One indicator of one region and period (DOMAIN §2.1), as stored in `indicator` and exported to
/// `indicators.csv`. Numbers are exact decimals; nil means "not computable" and `note` says why.
public struct IndicatorRow: Sendable, Hashable {
    public var regionCode: String
    public var period: Int
    public var code: String
    public var nameZh: String
    public var value: Decimal?
    public var unit: String
    public var prevValue: Decimal?
    public var change: Decimal?
    public var changeUnit: String?
    public var growthRate: Decimal?
    public var target: Decimal?
    public var completionRate: Decimal?
    public var rank: Int?
    public var note: String?

    public init(regionCode: String, period: Int, code: String, nameZh: String, value: Decimal?, unit: String,
                prevValue: Decimal? = nil, change: Decimal? = nil, changeUnit: String? = nil,
                growthRate: Decimal? = nil, target: Decimal? = nil, completionRate: Decimal? = nil,
                rank: Int? = nil, note: String? = nil) {
        self.regionCode = regionCode
        self.period = period
        self.code = code
        self.nameZh = nameZh
        self.value = value
        self.unit = unit
        self.prevValue = prevValue
        self.change = change
        self.changeUnit = changeUnit
        self.growthRate = growthRate
        self.target = target
        self.completionRate = completionRate
        self.rank = rank
        self.note = note
    }
}

/// Decimal ↔ the exact text kept in TEXT columns. `Decimal.description` is locale-free plain notation.
public enum DecimalText {
    public static func text(_ d: Decimal?) -> String? { d.map { $0.description } }

    public static func decimal(_ s: String?) -> Decimal? {
        guard let s, !s.isEmpty else { return nil }
        return Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))
    }
}

/// Timestamps in the `run` table: UTC ISO 8601, so they sort as text.
enum Timestamp {
    static func text(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}
