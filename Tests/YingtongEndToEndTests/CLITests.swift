import Foundation
import Testing

/// The built `yingtong` executable, next to the test bundle in the build folder.
func yingtongBinary() throws -> URL {
    let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
    for candidate in [Bundle.main.bundleURL.appendingPathComponent("yingtong"), bundle.appendingPathComponent("yingtong"),
                      repositoryRoot.appendingPathComponent(".build/debug/yingtong")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    throw CLIError.missing(bundle.path)
}

enum CLIError: Error { case missing(String) }

func runCLI(_ args: [String], cwd: URL = repositoryRoot) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = try yingtongBinary()
    p.arguments = args
    p.currentDirectoryURL = cwd
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite struct CLITests {
    @Test func readPrintsRecordsQuarantineAndABalancedSummary() throws {
        let r = try runCLI(["read", "fixtures/demo-county/2023/107-2_研发活动.csv"])
        #expect(r.status == 0)
        let lines = r.out.split(separator: "\n").map(String.init)
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let kinds = objects.map { $0["kind"] as! String }
        #expect(kinds.last == "summary")
        #expect(kinds.filter { $0 == "record" }.count == 41)
        #expect(kinds.filter { $0 == "quarantine" }.count == 3)
        let summary = objects.last!
        #expect(summary["balanced"] as? Bool == true)
        #expect(summary["form"] as? String == "107-2" && summary["encoding"] as? String == "gb18030")
        #expect(summary["physical_lines"] as? Int == 47)
        let record = objects.first { $0["kind"] as? String == "record" }!
        #expect((record["provenance"] as? [String: Any])?["line"] as? Int == 4)
    }

    @Test func exitCodes() throws {
        let missing = try runCLI(["run", "pipelines/no-such.yaml"])
        #expect(missing.status == 2)
        #expect(missing.err.contains("无法读取流水线文件"))
        let dir = temporaryDirectory()
        let yaml = dir.appendingPathComponent("p.yaml")
        try """
        pipeline: cli-test
        region: "330727"
        period: 2023
        store: \(dir.path)/s.sqlite
        outputs: {dir: "\(dir.path)/out"}
        sources:
          - {role: enterprise_rd, form: "107-2", path: "\(repositoryRoot.path)/fixtures/demo-county/2023/107-2_研发活动.csv"}
        """.write(to: yaml, atomically: true, encoding: .utf8)
        let withErrors = try runCLI(["run", yaml.path, "--quiet"])
        #expect(withErrors.status == 1, "\(withErrors.err)")
        #expect(withErrors.out.contains("数据库：\(dir.path)/s.sqlite"))
        let badRead = try runCLI(["read", "/nonexistent.csv"])
        #expect(badRead.status == 2)
    }
}
