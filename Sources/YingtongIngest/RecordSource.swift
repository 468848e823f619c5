import Foundation
import YingtongModel

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
