import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("upshift shadow --metrics", .serialized)
struct MetricsEndpointTests {
    /// Every metric `/metrics` has always served, with its Prometheus type: dashboards and alerts use these names.
    static let metrics: [(name: String, type: String)] = [
        ("upshift_shadow_commands_proxied_total", "counter"), ("upshift_shadow_commands_mirrored_total", "counter"),
        ("upshift_shadow_mismatches_total", "counter"), ("upshift_shadow_incompatible_commands_total", "counter"),
        ("upshift_shadow_mirror_queue_depth", "gauge"), ("upshift_shadow_connections", "gauge"),
        ("upshift_shadow_connections_total", "counter"), ("upshift_shadow_connections_refused_total", "counter"),
        ("upshift_shadow_protocol_errors_total", "counter"), ("upshift_shadow_mirror_recoveries_total", "counter"),
        ("upshift_shadow_primary_latency_seconds", "histogram"), ("upshift_shadow_mirror_latency_seconds", "histogram"),
        ("upshift_shadow_mirror_lag_seconds", "histogram"),
    ]
    static let mismatchClasses = [
        "diff", "race", "nondeterministic", "ttl-skew", "shadow-error", "shadow-unavailable", "dropped", "not-mirrored", "protocol-error",
    ]

    @Test("/metrics is scraped over HTTP with every name, type and label; other paths are 404; SIGTERM drains and exits 0")
    func scrape() async throws {
        try await withRedisServer { primary in
            try await withRedisServer { target in
                let run = try UpshiftProcess([
                    "shadow", "--listen", "127.0.0.1:0", "--primary", primary.url, "--target", "redis://127.0.0.1:\(target.port)",
                    "--metrics", "127.0.0.1:0", "--read-sample", "1",
                ])
                let started = try await run.waitFor { run.stdoutSoFar.contains("/metrics\n") }
                #expect(started, "\(run.stdoutSoFar) \(run.stderrSoFar)")
                let out = run.stdoutSoFar
                let proxyPort = try #require(Self.after("shadow listening on 127.0.0.1:", in: out).flatMap { Int($0) })
                let metricsURL = try #require(Self.after("metrics on ", in: out).flatMap { URL(string: $0) })
                let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxyPort)"))
                #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
                #expect(try await client.send(RESPCommand("GET", "k")) == .bulk("v"))
                #expect(try await client.send(RESPCommand("BLPOP", "nothing", "0.01")) == .array(nil))
                await client.close()

                var text = ""
                for _ in 0..<100 {
                    let (body, response) = try await URLSession.shared.data(from: metricsURL)
                    let http = try #require(response as? HTTPURLResponse)
                    #expect(http.statusCode == 200)
                    #expect((http.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/plain; version=0.0.4"))
                    text = String(decoding: body, as: UTF8.self)
                    if Self.value("upshift_shadow_commands_mirrored_total", in: text) ?? 0 >= 2 { break }
                    try await Task.sleep(nanoseconds: 50_000_000)
                }
                for (name, type) in Self.metrics {
                    #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name)")
                    #expect(text.contains("# HELP \(name) "), "\(name)")
                }
                for c in Self.mismatchClasses { #expect(text.contains("upshift_shadow_mismatches_total{class=\"\(c)\"} 0\n"), "\(c)") }
                #expect(text.contains("upshift_shadow_incompatible_commands_total{command=\"BLPOP\"} 1\n"))
                #expect((Self.value("upshift_shadow_commands_proxied_total", in: text) ?? 0) >= 3, "\(text)")
                #expect((Self.value("upshift_shadow_commands_mirrored_total", in: text) ?? 0) >= 2, "\(text)")
                #expect(Self.value("upshift_shadow_connections_total", in: text) == 1)
                #expect(text.contains("upshift_shadow_primary_latency_seconds_bucket{le=\"0.0005\"} "))
                #expect(text.contains("upshift_shadow_primary_latency_seconds_bucket{le=\"+Inf\"} "))
                #expect(text.contains("upshift_shadow_mirror_lag_seconds_count "))

                var other = URLRequest(url: metricsURL.deletingLastPathComponent().appendingPathComponent("other"))
                other.httpMethod = "GET"
                let (_, missing) = try await URLSession.shared.data(for: other)
                #expect((missing as? HTTPURLResponse)?.statusCode == 404)

                run.signal(SIGTERM)
                let (result, exited) = try await run.finish()
                #expect(exited && result.status == 0, "\(result.stderr)")
                #expect(result.stderr.contains("mismatches: none"), "\(result.stderr)")
            }
        }
    }

    /// The rest of the line after `prefix`.
    static func after(_ prefix: String, in text: String) -> String? {
        guard let r = text.range(of: prefix) else { return nil }
        return String(text[r.upperBound...].prefix { $0 != "\n" })
    }

    /// The value of an unlabelled sample.
    static func value(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }
}
