import JSON
import RESP
import Testing

@testable import UpstashClient

@Suite("planning requests from a batch")
struct RequestPlannerTests {
    static func sets(_ n: Int) -> [RESPCommand] {
        (0..<n).map { RESPCommand("SET", "key-\($0)", "value-\($0)") }
    }

    @Test("a batch over the request size is split; every body fits; order and coverage kept", arguments: [60, 200, 1000, 100_000])
    func splitsBySize(_ maxBody: Int) throws {
        let commands = Self.sets(100)
        let planner = RequestPlanner(maxBodyBytes: maxBody, maxBilled: .max, maxPathBytes: 1024)
        let requests = try planner.plan(commands)
        #expect(requests.allSatisfy { $0.body.count <= maxBody })
        #expect(requests.flatMap { Array($0.commands) } == Array(0..<100))
        for r in requests {
            #expect(r.route == (r.commands.count == 1 ? "/" : "/pipeline"))
            let json = try JSONParser.parse(r.body)
            if r.isPipeline, case .array(let list) = json { #expect(list.count == r.commands.count) }
        }
        if maxBody == 100_000 { #expect(requests.count == 1) } else { #expect(requests.count > 1) }
    }

    @Test("the pacing chunk caps commands per request")
    func splitsByCount() throws {
        let requests = try RequestPlanner(maxBodyBytes: 1 << 20, maxBilled: 7, maxPathBytes: 1024).plan(Self.sets(50))
        #expect(requests.map(\.commands.count) == [7, 7, 7, 7, 7, 7, 7, 1])
    }

    @Test("a binary command stays in the pipeline, escaped inside an EVAL that restores its bytes")
    func escapesBinary() throws {
        var commands = Self.sets(5)
        commands.insert(RESPCommand("SET", "bin", [0xFF, 0x00] as [UInt8]), at: 2)
        let requests = try RequestPlanner(maxBodyBytes: 1 << 20, maxBilled: .max, maxPathBytes: 1024).plan(commands)
        #expect(requests.map(\.route) == ["/pipeline"])
        #expect(requests[0].commands == 0..<6)
        // the EVAL and the SET it runs are both billed
        #expect(requests[0].billed == 7)
        guard case .array(let list) = try JSONParser.parse(requests[0].body), case .array(let eval) = list[2] else {
            Issue.record("not a pipeline of arrays")
            return
        }
        #expect(eval.first == .string(Array("EVAL".utf8)))
        #expect(eval.count == 4 + 3)
        #expect(eval[3] == .string(Array("001".utf8)))
        #expect(eval.last == .string(ScriptEscape.escape([0xFF, 0x00])))
    }

    @Test("a binary command that Redis refuses from scripts goes alone in the path form, between the pipelines around it")
    func isolatesUnscriptable() throws {
        var commands = Self.sets(5)
        commands.insert(RESPCommand("EVAL", "return ARGV[1]", "0", [0xFF, 0x00] as [UInt8]), at: 2)
        let requests = try RequestPlanner(maxBodyBytes: 1 << 20, maxBilled: .max, maxPathBytes: 1024).plan(commands)
        #expect(requests.map(\.route) == ["/pipeline", "/EVAL/return%20ARGV%5B1%5D/0", "/pipeline"])
        #expect(requests.map(\.commands) == [0..<2, 2..<3, 3..<6])
        #expect(requests[1].body == [0xFF, 0x00])
        #expect(!requests[1].isJSON)
    }

    @Test("the pacing chunk counts what Upstash bills: a script with its commands, free commands nothing")
    func chunksByBilled() throws {
        var script = RESPCommand("EVALSHA", "abc", "0")
        script.scriptCalls = 9
        let commands = [script, RESPCommand("PING"), RESPCommand("GET", "a"), script]
        let requests = try RequestPlanner(maxBodyBytes: 1 << 20, maxBilled: 11, maxPathBytes: 1024).plan(commands)
        #expect(requests.map(\.commands) == [0..<3, 3..<4])
        #expect(requests.map(\.billed) == [11, 10])
    }

    @Test("a command too large for any request is refused before sending")
    func refusesOversized() {
        let big = RESPCommand("SET", "k", String(repeating: "x", count: 500))
        let planner = RequestPlanner(maxBodyBytes: 100, maxBilled: .max, maxPathBytes: 1024)
        #expect(throws: RequestPlanner.Refusal.self) { try planner.plan([RESPCommand("GET", "a"), big]) }
        let binary = RESPCommand("SET", "k", [UInt8](repeating: 0xFF, count: 500))
        #expect(throws: RequestPlanner.Refusal.self) { try planner.plan([binary]) }
        let unscriptable = RESPCommand("EVAL", "return 1", "0", [UInt8](repeating: 0xFF, count: 500))
        #expect(throws: RequestPlanner.Refusal.self) { try planner.plan([unscriptable]) }
    }

    @Test("binary arguments that would make too long a URL are refused")
    func refusesLongPath() {
        let command = RESPCommand("EVAL", [UInt8](repeating: 0xFF, count: 400), "0", "v")
        let planner = RequestPlanner(maxBodyBytes: 1 << 20, maxBilled: .max, maxPathBytes: 1024)
        #expect(throws: RequestPlanner.Refusal.self) { try planner.plan([command]) }
    }

    @Test("an empty batch needs no request")
    func empty() throws {
        #expect(try RequestPlanner(maxBodyBytes: 100, maxBilled: 10, maxPathBytes: 100).plan([]).isEmpty)
    }
}
