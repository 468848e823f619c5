import Foundation
import YingtongModel

/// An explanation the enterprise sent for a 核实性 query: an XML `<Note rule="R212">` or a row of an
/// explanations CSV (`uscc, period, rule, text`).
public struct Explanation: Sendable, Hashable, Codable {
    public var uscc: String
    public var period: Int
    public var rule: String
    public var text: String
    public var sourceIndex: Int32
    public var line: Int32

    public init(uscc: String, period: Int, rule: String, text: String, sourceIndex: Int32, line: Int32) {
        self.uscc = uscc
        self.period = period
        self.rule = rule
        self.text = text
        self.sourceIndex = sourceIndex
        self.line = line
    }
}

/// Where a reader delivers what it read, in input order.
public protocol RecordSink {
    mutating func accept(_ batch: RawBatch) throws
    mutating func quarantine(_ entry: QuarantineEntry) throws
    mutating func explanation(_ explanation: Explanation) throws
    /// Something worth a line in the run log (an unknown column, an assumed encoding), not an error.
    mutating func notice(_ messageZh: String)
}

extension RecordSink {
    public mutating func explanation(_ explanation: Explanation) throws {}
    public mutating func notice(_ messageZh: String) {}
}

/// A streaming reader of one input file (CSV, yingtong XML, SDMX-ML): memory bounded by one batch.
public protocol RecordSource {
    /// Reads the whole input, handing batches of at most `batchSize` records to `sink` as they fill.
    /// Throws only when the input cannot be read at all (missing file, unknown form); everything else that is
    /// wrong with the content goes to quarantine and reading goes on.
    mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount
}
