import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RESP
import RedisClient
import UpstashClient

/// Answers the Upstash REST API: auth, routing, decoding, running, encoding.
struct GatewayResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let configuration: GatewayConfiguration
    let executor: GatewayExecutor
    let logger: Logger
    static let encodingHeader = HTTPField.Name("Upstash-Encoding")!
    static let formatHeader = HTTPField.Name("Upstash-Response-Format")!
    static let syncTokenHeader = HTTPField.Name("Upstash-Sync-Token")!
    private let syncCounter = NIOLockedValueBox<UInt64>(0)
    private let token: [UInt8]
    private let readOnlyToken: [UInt8]?

    init(configuration: GatewayConfiguration, executor: GatewayExecutor, logger: Logger) {
        self.configuration = configuration
        self.executor = executor
        self.logger = logger
        self.token = Array(configuration.token.utf8)
        self.readOnlyToken = configuration.readOnlyToken.map { Array($0.utf8) }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let response = await handle(request)
        logger.debug(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }

    private func handle(_ request: Request) async -> Response {
        var request = request
        let method = request.method
        guard method == .get || method == .post || method == .put || method == .head else {
            return json(405, ResultEncoding.error("ERR method not allowed: use GET or POST"))
        }
        guard let readOnly = authenticate(request) else {
            return json(401, ResultEncoding.error("WRONGPASS invalid or missing auth token"))
        }
        do {
            let encoding = try ResultEncoding.from(
                encoding: request.headers[Self.encodingHeader], format: request.headers[Self.formatHeader])
            let body: [UInt8]
            do {
                var buffer = try await request.collectBody(upTo: configuration.plan.maxRequestBytes)
                body = buffer.readBytes(length: buffer.readableBytes) ?? []
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                // NIO's collect(upTo:) throws NIOTooManyBytesError, which Hummingbird maps to 413
                return json(413, ResultEncoding.error("ERR max request size exceeded"))
            }
            let path = request.uri.path
            switch path {
            case "/", "":
                guard method != .get && method != .head else {
                    throw BadRequest("ERR send a command as a JSON array in a POST body, or use the path form /get/key")
                }
                let command = try RequestCommands.single(json: body)
                return try await single(command, readOnly: readOnly, encoding: encoding)
            case "/pipeline", "/pipeline/":
                let commands = try RequestCommands.batch(json: body)
                let replies = try await executor.pipeline(commands, readOnly: readOnly)
                if encoding == .resp2 { return resp2(replies) }
                return json(200, .array(replies.map { encoding.envelope($0) }))
            case "/multi-exec", "/multi-exec/":
                if encoding == .resp2 { throw BadRequest("ERR resp2 response format is not supported for /multi-exec") }
                let commands = try RequestCommands.batch(json: body)
                switch try await executor.transaction(commands, readOnly: readOnly) {
                case .success(let replies): return json(200, .array(replies.map { encoding.envelope($0) }))
                case .failure(let refused): return json(400, ResultEncoding.error(refused.message))
                }
            case "/subscribe", "/psubscribe", "/monitor":
                return json(501, ResultEncoding.error("ERR server-sent events are not served by the local gateway yet"))
            default:
                if path.hasPrefix("/subscribe/") || path.hasPrefix("/psubscribe/") || path.hasPrefix("/monitor/") {
                    return json(501, ResultEncoding.error("ERR server-sent events are not served by the local gateway yet"))
                }
                let command = try RequestCommands.pathForm(
                    path: path, query: request.uri.query, body: method == .post || method == .put ? body : nil)
                let table = try await executor.table()
                guard table.info(for: command) != nil else {
                    return json(
                        404, ResultEncoding.error("ERR unknown command '\(String(decoding: command[0].prefix(64), as: UTF8.self))'"))
                }
                return try await single(command, readOnly: readOnly, encoding: encoding)
            }
        } catch let bad as BadRequest {
            return json(bad.status, ResultEncoding.error(bad.message))
        } catch let error as RedisClientError {
            logger.warning("redis unavailable", metadata: ["redis": "\(configuration.redis)", "error": "\(error)"])
            return json(503, ResultEncoding.error("ERR upstream redis unavailable: \(error.kind)"))
        } catch {
            logger.info("request failed", metadata: ["error": "\(error)"])
            return json(400, ResultEncoding.error("ERR bad request"))
        }
    }

    private func single(_ command: [[UInt8]], readOnly: Bool, encoding: ResultEncoding) async throws -> Response {
        let reply = try await executor.pipeline([command], readOnly: readOnly)[0]
        if encoding == .resp2 { return resp2([reply]) }
        return json(reply.isError ? 400 : 200, encoding.envelope(reply))
    }

    /// nil when unauthorised; otherwise whether the token is the read-only one.
    private func authenticate(_ request: Request) -> Bool? {
        var presented: [UInt8]? = nil
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            presented = Array(header.utf8.dropFirst(7))
        } else if let query = request.uri.query {
            for pair in query.utf8.split(separator: UInt8(ascii: "&")) where pair.starts(with: Array("_token=".utf8)) {
                presented = RequestCommands.percentDecode(Array(pair.dropFirst(7)))
            }
        }
        guard let presented else { return nil }
        if constantTimeEqual(presented, token) { return false }
        if let readOnlyToken, constantTimeEqual(presented, readOnlyToken) { return true }
        return nil
    }

    private func headers(_ contentType: String) -> HTTPFields {
        let sync = syncCounter.withLockedValue {
            $0 += 1
            return $0
        }
        var h = HTTPFields()
        h[.contentType] = contentType
        h[Self.syncTokenHeader] = "gw-\(sync)"
        return h
    }

    private func json(_ status: Int, _ value: JSONValue) -> Response {
        let bytes = JSONWriter.encode(value)
        return Response(
            status: .init(code: status), headers: headers("application/json"),
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func resp2(_ replies: [RESPValue]) -> Response {
        var bytes: [UInt8] = []
        for r in replies { RESPSerializer.write(r, into: &bytes) }
        return Response(status: .ok, headers: headers("application/octet-stream"), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Compares secrets in time independent of where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    let n = max(a.count, b.count)
    for i in 0..<n {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}
