import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RESP
import RedisClient
import UpstashClient

/// The request context of the gateway: Hummingbird's, plus the connection, whose closing ends an event stream.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Answers the Upstash REST API: auth, routing, decoding, running, encoding.
struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayContext

    let configuration: GatewayConfiguration
    let executor: GatewayExecutor
    let auth: GatewayAuth
    let streams: EventStreams
    let syncTokens: SyncTokens
    let logger: Logger
    static let encodingHeader = HTTPField.Name("Upstash-Encoding")!
    static let formatHeader = HTTPField.Name("Upstash-Response-Format")!
    static let syncTokenHeader = HTTPField.Name("Upstash-Sync-Token")!

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let response = await handle(request, channel: context.channel)
        logger.debug(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }

    private func handle(_ request: Request, channel: any Channel) async -> Response {
        var request = request
        let method = request.method
        guard method == .get || method == .post || method == .put || method == .head else {
            return json(405, ResultEncoding.error("ERR method not allowed: use GET or POST"))
        }
        guard let access = auth.access(request) else { return unauthorized() }
        let executor: GatewayExecutor
        if case .aclUser(let user) = access { executor = user } else { executor = self.executor }
        let readOnly = access.isReadOnly
        do {
            let encoding = try ResultEncoding.from(
                encoding: request.headers[Self.encodingHeader], format: request.headers[Self.formatHeader])
            let body: [UInt8]
            do {
                var buffer = try await request.collectBody(upTo: configuration.requestLimit)
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
                return try await single(command, readOnly: readOnly, encoding: encoding, executor: executor)
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
            default:
                if let (kind, names) = try EventStreams.route(path) {
                    if readOnly && kind == .monitor {
                        throw BadRequest("NOPERM this token is read-only and cannot run 'MONITOR': it shows every command and value")
                    }
                    return try await streams.respond(kind, names: names, redis: executor.redis.url, channel: channel, headers: headers())
                }
                let command = try RequestCommands.pathForm(
                    path: path, query: request.uri.query, body: method == .post || method == .put ? body : nil)
                let table = try await executor.table()
                guard table.info(for: command) != nil else {
                    // Upstash answers an unknown command with 400 like any command error (UpstashAnswer.unknownPathCommandIs400).
                    return json(
                        400, ResultEncoding.error("ERR unknown command '\(String(decoding: command[0].prefix(64), as: UTF8.self))'"))
                }
                return try await single(command, readOnly: readOnly, encoding: encoding, executor: executor)
            }
        } catch let bad as BadRequest {
            return json(bad.status, ResultEncoding.error(bad.message))
        } catch let error as RedisClientError where error.kind == .authFailed {
            // An ACL user's token whose login Redis refused (wrong password, user deleted).
            if case .aclUser(let user) = access { auth.forget(user) }
            return unauthorized()
        } catch let error as RedisClientError {
            logger.warning("redis unavailable", metadata: ["redis": "\(configuration.redis)", "error": "\(error)"])
            return json(503, ResultEncoding.error("ERR upstream redis unavailable: \(error.kind)"))
        } catch {
            logger.info("request failed", metadata: ["error": "\(error)"])
            return json(400, ResultEncoding.error("ERR bad request"))
        }
    }

    private func single(_ command: [[UInt8]], readOnly: Bool, encoding: ResultEncoding, executor: GatewayExecutor) async throws
        -> Response
    {
        let reply = try await executor.pipeline([command], readOnly: readOnly)[0]
        if encoding == .resp2 { return resp2([reply]) }
        return json(reply.isError ? 400 : 200, encoding.envelope(reply))
    }

    private func unauthorized() -> Response {
        json(401, ResultEncoding.error("WRONGPASS invalid or missing auth token"))
    }

    private func headers(_ contentType: String? = nil) -> HTTPFields {
        var h = HTTPFields()
        if let contentType { h[.contentType] = contentType }
        h[Self.syncTokenHeader] = syncTokens.next()
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
