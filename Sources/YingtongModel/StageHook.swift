import Foundation

/// A way for the crash-safety test to stop a real `yingtong run` at a named moment and SIGKILL it there, instead
/// of guessing with timers: with `YINGTONG_PAUSE_AT=<stage>` and `YINGTONG_PAUSE_FILE=<path>` in the
/// environment, the first time the run reaches `<stage>` it writes `<path>` and sleeps until it is killed.
/// Without those variables (every real run) `reached` is one comparison against nil.
///
/// Stages: `ingest` (a first batch read and handed to the loader), `load` (a first batch inserted in the run's
/// open transaction), `commit` (the transaction complete, just before SQLite's COMMIT), `publish` (committed, the
/// output files not yet swapped in), `warehouse` (the PostgreSQL load complete, just before its COMMIT).
public enum StageHook {
    private static let pauseAt: String? = ProcessInfo.processInfo.environment["YINGTONG_PAUSE_AT"]
    private static let pauseFile: String? = ProcessInfo.processInfo.environment["YINGTONG_PAUSE_FILE"]

    @inline(__always)
    public static func reached(_ stage: String) {
        guard let pauseAt, pauseAt == stage else { return }
        if let pauseFile { _ = FileManager.default.createFile(atPath: pauseFile, contents: Data(stage.utf8)) }
        while true { sleep(3600) }
    }
}
