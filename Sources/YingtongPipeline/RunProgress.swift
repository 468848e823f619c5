import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A progress bar per stage of a run, drawn on a terminal only.
///
/// The runner reports work done (records, bytes of input) against a total when one is known; the bar shows the
/// share done, records and MB per second and an estimate of the time left. On a pipe or a file (`isatty` false)
/// nothing is drawn, so logs and machine output stay clean.
///
/// ```swift
/// var runner = PipelineRunner(definition: d, log: { progress.clear(); print($0) })
/// runner.progress = RunProgress.terminal()   // nil when stderr is not a terminal
/// ```
public final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let write: (String) -> Void
    private let now: () -> Date
    private var stage = ""
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var records = 0
    private var bytes: Int64 = 0
    private var totalRecords: Int?
    private var totalBytes: Int64?
    private var fileBase: Int64 = 0
    private var drawn = false
    private var active = false

    /// A bar on standard error when it is a terminal; nil otherwise.
    public static func terminal() -> RunProgress? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        return RunProgress { FileHandle.standardError.write(Data($0.utf8)) }
    }

    public init(now: @escaping () -> Date = Date.init, write: @escaping (String) -> Void) {
        self.now = now
        self.write = write
    }

    /// Starts a stage; `totalRecords`/`totalBytes` give the bar its end when known.
    public func begin(_ name: String, totalRecords: Int? = nil, totalBytes: Int64? = nil) {
        lock.withLock {
            stage = name
            started = now()
            records = 0
            bytes = 0
            fileBase = 0
            self.totalRecords = totalRecords
            self.totalBytes = totalBytes
            lastDraw = .distantPast
            active = true
            drawLocked(force: true)
        }
    }

    /// Bytes of earlier inputs, so a record's offset inside the current file counts toward the whole stage.
    public func beginFile(base: Int64) {
        lock.withLock { fileBase = base }
    }

    /// `records` more done; `fileOffset` is how far into the current file the reader has got.
    public func advance(records n: Int, fileOffset: Int64? = nil) {
        lock.withLock {
            records += n
            if let fileOffset { bytes = max(bytes, fileBase + fileOffset) }
            if active { drawLocked(force: false) }
        }
    }

    /// Removes the bar (before a log line is written, or when the stage ends).
    public func clear() {
        lock.withLock {
            if drawn { write("\r\u{1B}[K"); drawn = false }
        }
    }

    /// Draws the bar again after a log line took its place (until the stage ends with ``clear()``).
    public func redraw() {
        lock.withLock { if active { drawLocked(force: true) } }
    }

    /// Ends the stage: the bar is removed and stays away until the next ``begin(_:totalRecords:totalBytes:)``.
    public func end() {
        lock.withLock {
            active = false
            if drawn { write("\r\u{1B}[K"); drawn = false }
        }
    }

    /// The bar's text for the current state (tested without a terminal).
    public func line() -> String {
        lock.withLock { lineLocked() }
    }

    private func drawLocked(force: Bool) {
        let t = now()
        guard force || t.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = t
        write("\r\u{1B}[K" + lineLocked())
        drawn = true
    }

    private func lineLocked() -> String {
        let elapsed = max(now().timeIntervalSince(started), 1e-3)
        var fraction: Double?
        if let totalBytes, totalBytes > 0 { fraction = min(1, Double(bytes) / Double(totalBytes)) }
        else if let totalRecords, totalRecords > 0 { fraction = min(1, Double(records) / Double(totalRecords)) }
        var parts = [stage]
        if let fraction {
            let width = 24
            let filled = Int((fraction * Double(width)).rounded(.down))
            parts.append("[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]")
            parts.append(String(format: "%3.0f%%", fraction * 100))
        }
        parts.append("\(records) 条")
        parts.append(String(format: "%.0f 条/秒", Double(records) / elapsed))
        if totalBytes != nil { parts.append(String(format: "%.1f MB/s", Double(bytes) / 1e6 / elapsed)) }
        if let fraction, fraction > 0.01, fraction < 1 {
            let left = Int((elapsed / fraction - elapsed).rounded())
            parts.append(String(format: "剩余 %d:%02d", left / 60, left % 60))
        } else {
            parts.append(String(format: "已用 %d:%02d", Int(elapsed) / 60, Int(elapsed) % 60))
        }
        return parts.joined(separator: "  ")
    }
}
