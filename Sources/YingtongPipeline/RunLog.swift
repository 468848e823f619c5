import Foundation
import Logging

/// Where a run's log lines go: plain Chinese text for people, or one JSON object per line for machines
/// (`yingtong run --log-format json`), through swift-log so other tools can plug in their own handler.
///
/// ```swift
/// let logger = RunLog.logger(format: .json) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
/// logger.info("开始运行")
/// ```
public enum RunLog {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public static func logger(format: Format, label: String = "yingtong.run",
                              clock: @escaping @Sendable () -> Date = Date.init,
                              write: @escaping @Sendable (String) -> Void) -> Logger {
        Logger(label: label) { label in
            switch format {
            case .text: LineLogHandler(label: label, json: false, clock: clock, write: write)
            case .json: LineLogHandler(label: label, json: true, clock: clock, write: write)
            }
        }
    }

    /// A JSON line for one event: `{"ts":…,"level":…,"event":…,"message":…, metadata…}`.
    public static func jsonLine(ts: Date, level: String, event: String, message: String,
                                fields: [(String, String)] = []) -> String {
        var pairs: [(String, JSONValue)] = [("ts", .string(timestamp(ts))), ("level", .string(level)),
                                            ("event", .string(event)), ("message", .string(message))]
        for (k, v) in fields { pairs.append((k, .string(v))) }
        var out = ""
        JSONValue.object(pairs).write(to: &out)
        return out
    }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// Writes each event as one line; metadata `event` names the kind of line for machines (default `log`).
struct LineLogHandler: LogHandler {
    let label: String
    let json: Bool
    let clock: @Sendable () -> Date
    let write: @Sendable (String) -> Void
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let message = "\(event.message)"
        guard json else { write(message); return }
        var merged = metadata
        for (k, v) in event.metadata ?? [:] { merged[k] = v }
        let kind = merged.removeValue(forKey: "event").map { "\($0)" } ?? "log"
        let fields = merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        write(RunLog.jsonLine(ts: clock(), level: event.level.rawValue, event: kind, message: message, fields: fields))
    }
}
