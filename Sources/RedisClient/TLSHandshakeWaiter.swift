import NIOCore
import NIOTLS

/// Sits after the TLS handler and reports when the handshake finished or failed, so a connect
/// fails with the TLS reason instead of succeeding and losing its first command, and so a
/// server that never answers the handshake (a plaintext port) cannot hang it.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The handshake took longer than the connect timeout.
    struct Timeout: Error {
        let after: TimeAmount
    }

    private let timeout: TimeAmount
    private var promise: EventLoopPromise<Void>?
    private var timer: Scheduled<Void>?

    /// Completes when the handshake does; created in `handlerAdded`.
    private(set) var future: EventLoopFuture<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let p = context.eventLoop.makePromise(of: Void.self)
        promise = p
        future = p.futureResult
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let timeout = self.timeout
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (waiter, context) = bound.value
            waiter.finish(.failure(Timeout(after: timeout)))
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        timer?.cancel()
        timer = nil
        guard let p = promise else { return }
        promise = nil
        p.completeWith(result)
    }
}
