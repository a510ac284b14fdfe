import NIOConcurrencyHelpers
import NIOCore
import RESP

/// One pipelined request: the encoded commands and how many replies they produce.
struct RedisRequest: Sendable {
    var bytes: [UInt8]
    var replyCount: Int
    var promise: EventLoopPromise<[RESPValue]>
}

/// Matches replies to requests in order on one connection; hiredis's reader is the codec.
/// Lives on its channel's event loop only.
final class RedisClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let replyCount: Int
        let promise: EventLoopPromise<[RESPValue]>
    }

    private let parser: RESPParser
    private var pending = CircularBuffer<Pending>()
    /// The replies so far to the oldest pending request; kept apart so appending never copies them.
    private var headReplies: [RESPValue] = []
    private let endpoint: String
    private let readTimeout: TimeAmount?
    private var timeoutTask: Scheduled<Void>?
    private var failure: RedisClientError?
    private let sharedFailure: NIOLockedValueBox<RedisClientError?>?

    init(
        endpoint: String, readTimeout: TimeAmount?, limits: RESPLimits = .server,
        failure: NIOLockedValueBox<RedisClientError?>? = nil
    ) {
        self.endpoint = endpoint
        self.readTimeout = readTimeout
        self.parser = RESPParser(limits: limits)
        self.sharedFailure = failure
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        if request.replyCount == 0 {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        pending.append(Pending(replyCount: request.replyCount, promise: request.promise))
        if pending.count == 1 {
            headReplies.reserveCapacity(request.replyCount)
            armTimeout(context: context)
        }
        let buffer = context.channel.allocator.buffer(bytes: request.bytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { parser.feed($0) }
        do {
            while let value = try parser.next() {
                guard !pending.isEmpty else {
                    failAll(
                        context: context, RedisClientError(.protocolError, endpoint: endpoint, detail: "reply with no request: \(value)"))
                    return
                }
                headReplies.append(value)
                if headReplies.count == pending[pending.startIndex].replyCount {
                    let done = pending.removeFirst()
                    let replies = headReplies
                    headReplies = []
                    if let next = pending.first { headReplies.reserveCapacity(next.replyCount) }
                    done.promise.succeed(replies)
                }
            }
        } catch {
            failAll(context: context, RedisClientError(.protocolError, endpoint: endpoint, detail: error.description))
            return
        }
        if pending.isEmpty {
            timeoutTask?.cancel()
            timeoutTask = nil
        } else {
            armTimeout(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(context: context, RedisClientError(.connectionClosed, endpoint: endpoint, detail: "the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tls = RedisTLS.describe(error) {
            failAll(context: context, RedisClientError(.tlsFailed, endpoint: endpoint, detail: tls))
        } else {
            failAll(context: context, RedisClientError(.connectionClosed, endpoint: endpoint, detail: "\(error)"))
        }
    }

    private func armTimeout(context: ChannelHandlerContext) {
        guard let readTimeout else { return }
        timeoutTask?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutTask = context.eventLoop.scheduleTask(in: readTimeout) {
            let (handler, context) = loopBound.value
            handler.failAll(
                context: context,
                RedisClientError(.timeout, endpoint: handler.endpoint, detail: "no reply within \(readTimeout.nanoseconds / 1_000_000) ms")
            )
        }
    }

    private func failAll(context: ChannelHandlerContext, _ error: RedisClientError) {
        timeoutTask?.cancel()
        timeoutTask = nil
        if failure == nil {
            failure = error
            sharedFailure?.withLockedValue { $0 = error }
        }
        headReplies = []
        while let p = pending.popFirst() { p.promise.fail(error) }
        context.close(promise: nil)
    }
}
