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

@Suite struct ValidateAndRulesCLITests {
    @Test func validateGivesChineseFeedbackAndExitOneOnErrors() throws {
        let r = try runCLI(["validate", "fixtures/demo-county/2023/107-2_研发活动.csv", "fixtures/demo-county/2023/107-1_研发项目.csv"])
        #expect(r.status == 1)
        #expect(r.out.contains("一、强制性审核问题（须更正后重新报送）"))
        #expect(r.out.contains("[V001"))
        #expect(r.out.contains("无法读取的内容"))
        let json = try runCLI(["validate", "--format", "json", "fixtures/demo-county/2023/107-2_研发活动.csv"])
        let events = try json.out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(!events.isEmpty)
        for e in events {
            for key in ["rule", "severity", "level", "uscc", "period", "fields", "observed", "message"] {
                #expect(e.keys.contains(key), "\(key) missing in \(e)")
            }
        }
        #expect(events.contains { $0["rule"] as? String == "V005" && $0["severity"] as? String == "error" })
    }

    @Test func validateCleanFileExitsZero() throws {
        let r = try runCLI(["validate", "fixtures/xml/enterprise-example.xml"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
    }

    @Test func rulesListShowLint() throws {
        let list = try runCLI(["rules", "list"])
        #expect(list.status == 0)
        for id in ["V001", "R101", "R117", "R201", "R219"] { #expect(list.out.contains(id)) }
        let show = try runCLI(["rules", "show", "R102"])
        #expect(show.out.contains("rd_exp_total") && show.out.contains("强制性"))
        let lint = try runCLI(["rules", "lint"])
        #expect(lint.status == 0 && lint.out.contains("未发现问题"))
        let missing = try runCLI(["rules", "list", "--pack", "no/such.yaml"])
        #expect(missing.status == 2)
    }

    @Test func readUnderstandsXMLAndSDMX() throws {
        let xml = try runCLI(["read", "fixtures/xml/enterprise-example.xml"])
        #expect(xml.status == 0)
        #expect(xml.out.contains("\"form\":\"107-1\"") && xml.out.contains("\"rd_exp_total\":1234.5"))
        let sdmx = try runCLI(["read", "fixtures/sdmx/macro-generic.xml"])
        let first = try JSONSerialization.jsonObject(with: Data(sdmx.out.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect((first["dimensions"] as? [String: String])?["INDICATOR"] == "GDP")
        #expect((first["attributes"] as? [String: String])?["UNIT_MULT"] == "4")
        let hostile = try runCLI(["read", "Tests/YingtongXMLTests/Hostile/billion_laughs.xml"])
        #expect(hostile.out.contains("E-XML-ENTITY"))
    }
}
