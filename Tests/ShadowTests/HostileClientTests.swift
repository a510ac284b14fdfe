import Foundation
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

@Suite("hostile clients", .serialized)
struct HostileClientTests {
    /// Inputs no Redis client sends; each must cost its own connection only.
    static let malformed: [[UInt8]] = [
        Array("*1\r\n$999999999999\r\n".utf8),
        Array("*1\r\n$-5\r\n".utf8),
        Array("*3000000000\r\n".utf8),
        Array("*2\r\n*1\r\n$1\r\na\r\n".utf8),
        Array("*1\r\n:12\r\n".utf8),
        Array("*x\r\n".utf8),
        Array(repeating: UInt8(ascii: "A"), count: 70_000),
    ]

    @Test("an oversized bulk length gets an error reply and a close")
    func hugeBulk() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let reply = try RawSocket.exchange(port: rig.port, bytes: Self.malformed[0])
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("-ERR Protocol error"), "\(String(decoding: reply, as: UTF8.self))")
    }

    @Test("garbage is its own class (protocol-error), not a diff, and no byte of it reaches the mismatch log")
    func garbageIsNotADiff() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        for input in [
            "s3cretcmd s3cretarg\r\n", "*2\r\n$9\r\ns3cretcmd\r\n$9\r\ns3cretarg\r\n", "*1\r\n$-5\r\ns3cret\r\n", "SET \"s3cret\r\n",
        ] {
            _ = try RawSocket.exchange(port: rig.port, bytes: Array(input.utf8), quiet: 0.3)
        }
        let client = try rig.client()
        #expect(try await client.send(RESPCommand("SET", "ok", "1")) == .ok)
        await client.close()
        let summary = await rig.shutdown()
        #expect(summary.held, "garbage is no divergence: \(summary.metrics.mismatches)")
        #expect(summary.metrics.mismatches[.protocolError] == 2)
        let log = (try? String(contentsOfFile: rig.logPath, encoding: .utf8)) ?? ""
        #expect(!log.contains("s3cret"), "\(log)")
        #expect(log.contains("\"class\":\"protocol-error\""))
    }

    @Test("thousands of malformed inputs, idle sockets and mid-pipeline disconnects never disturb a well-formed client")
    func fuzz() async throws {
        let rig = try await ShadowRig(readSample: 0)
        defer { rig.stop() }
        let port = rig.port
        let attackDone = DispatchSemaphore(value: 0)
        let attack = AttackCount()
        Thread.detachNewThread {
            var rng = SystemRandomNumberGenerator()
            var idle: [Int32] = []
            for i in 0..<2500 {
                var bytes: [UInt8]
                switch i % 4 {
                case 0: bytes = Self.malformed[i / 4 % Self.malformed.count]
                case 1: bytes = (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                case 2:
                    // a valid pipeline cut off in the middle, then gone
                    bytes = Array(String(repeating: "*3\r\n$3\r\nSET\r\n$4\r\nfuzz\r\n$1\r\n1\r\n", count: 20).utf8)
                    bytes = Array(bytes.prefix(Int.random(in: 1..<bytes.count, using: &rng)))
                default:
                    bytes = Array("*2\r\n$3\r\nGET\r\n$".utf8) + (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
                }
                if i % 4 == 0 {
                    if let reply = try? RawSocket.exchange(port: port, bytes: bytes),
                        String(decoding: reply, as: UTF8.self).hasPrefix("-ERR Protocol error")
                    {
                        attack.refused()
                    }
                    attack.add()
                } else if let fd = RawSocket.connect(port: port) {
                    RawSocket.send(fd, bytes)
                    if i % 50 == 0 { idle.append(fd) } else { close(fd) }
                    attack.add()
                }
            }
            for fd in idle { close(fd) }
            attackDone.signal()
        }
        let client = try rig.client()
        var rounds = 0
        while attack.value < 2500 && rounds < 20_000 {
            let replies = try await client.send(batch: [
                RESPCommand("SET", "good:\(rounds % 10)", "\(rounds)"), RESPCommand("GET", "good:\(rounds % 10)"),
            ])
            #expect(replies == [.ok, .bulk("\(rounds)")])
            rounds += 1
        }
        attackDone.wait()
        #expect(try await client.send(RESPCommand("PING")) == .simpleString(Array("PONG".utf8)))
        await client.close()
        let summary = await rig.shutdown()
        #expect(attack.refusals == 625, "every malformed command got an error reply before its close")
        #expect(summary.metrics.protocolErrors >= 625)
        #expect(summary.metrics.mismatches[.diff] == nil)
        #expect(rounds > 10)
    }
}

final class AttackCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    private var r = 0
    func refused() {
        lock.lock()
        r += 1
        lock.unlock()
    }
    var refusals: Int {
        lock.lock()
        defer { lock.unlock() }
        return r
    }
    func add() {
        lock.lock()
        n += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return n
    }
}

/// The proxy's memory under clients that send huge or endless requests, logged in or not.
@Suite("hostile clients and the proxy's memory", .serialized)
struct HostileMemoryTests {
    /// Resident memory of a process, in bytes.
    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    static func bulks(_ count: Int, size: Int, lastPartial: Int) -> [UInt8] {
        var out = Array("*\(count + 1)\r\n".utf8)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        for _ in 0..<count { out += Array("$\(size)\r\n".utf8) + body + [13, 10] }
        return out + Array("$\(size)\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: lastPartial)
    }

    @Test(
        "huge declared bulks and many half-sent requests: the proxy stays under idle + 100 MB, serves a good client, and gives the memory back"
    )
    func memoryStaysBounded() async throws {
        let primary = try await RedisServer(arguments: ["--requirepass", "pw-hostile"])
        let target = try await RedisServer()
        defer {
            primary.stop()
            target.stop()
        }
        let proxy = try ShadowProcess.start([
            "--listen", "127.0.0.1:0", "--primary", "redis://:pw-hostile@127.0.0.1:\(primary.port)", "--target", target.url,
            "--max-request", "2m", "--max-client-buffer", "4m",
        ])
        defer { _ = try? proxy.terminate() }
        let pid = proxy.process.processIdentifier
        let good = RedisClient(url: try RedisURL("redis://:pw-hostile@127.0.0.1:\(proxy.port)"))
        for i in 0..<200 { #expect(try await good.send(RESPCommand("SET", "warm:\(i % 10)", "\(i)")) == .ok) }
        let idle = Self.rss(pid)
        // Not logged in: a 512 MB bulk is refused at its header, as redis-server refuses it.
        for _ in 0..<50 {
            let reply = try RawSocket.exchange(
                port: proxy.port, bytes: Array("*1\r\n$536870912\r\n".utf8) + [UInt8](repeating: 0x41, count: 200_000))
            #expect(String(decoding: reply, as: UTF8.self).hasPrefix("-ERR Protocol error: unauthenticated bulk length"))
        }
        // Not logged in: as much as Redis allows before AUTH (10 bulks of 16 KB), never finished.
        var held: [Int32] = []
        for _ in 0..<100 {
            guard let fd = RawSocket.connect(port: proxy.port) else { continue }
            RawSocket.send(fd, Self.bulks(9, size: 16384, lastPartial: 8000))
            held.append(fd)
        }
        // Logged in: past --max-request at its header; and just under it, never finished.
        let login = Array("*2\r\n$4\r\nAUTH\r\n$10\r\npw-hostile\r\n".utf8)
        for _ in 0..<10 {
            let reply = try RawSocket.exchange(port: proxy.port, bytes: login + Array("*1\r\n$536870912\r\n".utf8))
            #expect(String(decoding: reply, as: UTF8.self).hasPrefix("+OK\r\n-ERR Protocol error: request larger than"))
        }
        for _ in 0..<20 {
            guard let fd = RawSocket.connect(port: proxy.port) else { continue }
            RawSocket.send(fd, login + Self.bulks(1, size: 1_000_000, lastPartial: 900_000))
            held.append(fd)
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let attacked = Self.rss(pid)
        #expect(try await good.send(RESPCommand("SET", "still", "served")) == .ok)
        #expect(try await good.send(RESPCommand("GET", "still")) == .bulk("served"))
        #expect(attacked - idle < 100 << 20, "idle \(idle >> 20) MB, under attack \(attacked >> 20) MB")
        for fd in held { close(fd) }
        var after = attacked
        for _ in 0..<50 {
            try await Task.sleep(nanoseconds: 100_000_000)
            after = Self.rss(pid)
            if after - idle < 20 << 20 { break }
        }
        #expect(after - idle < 20 << 20, "memory given back on close: idle \(idle >> 20) MB, after \(after >> 20) MB")
        print("hostile clients: proxy RSS idle \(idle >> 20) MB, under attack \(attacked >> 20) MB, after close \(after >> 20) MB")
        await good.close()
    }
}
