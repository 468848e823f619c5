import Foundation
import Testing

/// The PostgreSQL sink under SIGKILL (issue 8, point 3): a run killed while its warehouse load is open (every
/// row copied, COMMIT not yet sent) leaves the warehouse exactly as the previous complete load left it, and the
/// next run loads again. Needs a server: `.ci/run` starts one and sets YINGTONG_TEST_POSTGRES_URL; without it the
/// suite is skipped and says so.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["YINGTONG_TEST_POSTGRES_URL"] != nil,
                             "没有 PostgreSQL：设置 YINGTONG_TEST_POSTGRES_URL 后运行（.ci/run 会启动本机服务器并设置它）"))
struct WarehouseCrashSafetyTests {
    static let url = ProcessInfo.processInfo.environment["YINGTONG_TEST_POSTGRES_URL"] ?? ""

    /// Row counts of this pipeline's runs in the warehouse, through psql (a real client, not our code).
    static func warehouse(_ pipeline: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-qAtc", """
            SELECT (SELECT count(*) FROM run WHERE pipeline = '\(pipeline)') || ',' ||
                   (SELECT count(*) FROM record r JOIN run u ON u.id = r.run_id WHERE u.pipeline = '\(pipeline)') || ',' ||
                   (SELECT count(*) FROM project r JOIN run u ON u.id = r.run_id WHERE u.pipeline = '\(pipeline)') || ',' ||
                   (SELECT count(*) FROM violation r JOIN run u ON u.id = r.run_id WHERE u.pipeline = '\(pipeline)')
            """]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aRunKilledInsideItsWarehouseLoadLeavesTheWarehouseAsItWas() throws {
        let dir = try CrashSafetyTests.cycle()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("pipeline.yaml")
        var text = try String(contentsOf: yaml, encoding: .utf8)
        let pipeline = "crash-wh-\(UUID().uuidString.prefix(8).lowercased())"
        text = text.replacingOccurrences(of: "pipeline: synthetic-17", with: "pipeline: \(pipeline)")
            .replacingOccurrences(of: "  dir: out/{period}", with: "  dir: out/{period}\n  postgres: {env: YINGTONG_TEST_POSTGRES_URL}")
        try text.write(to: yaml, atomically: true, encoding: .utf8)

        let first = try runCLI(["run", yaml.path, "--quiet"], cwd: dir)
        #expect(first.status <= 1, "\(first.err)")
        let before = try Self.warehouse(pipeline)
        #expect(before.hasPrefix("1,1"), "首次载入后应有 1 个运行：\(before)")

        try CrashSafetyTests.killed(at: "warehouse", pipeline: yaml)
        #expect(try Self.warehouse(pipeline) == before)

        let rerun = try runCLI(["run", yaml.path, "--quiet"], cwd: dir)
        #expect(rerun.status <= 1, "\(rerun.err)")
        #expect(try Self.warehouse(pipeline) == before)
    }
}
