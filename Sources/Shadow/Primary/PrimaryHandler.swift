import Foundation
import NIOCore
import NIOPosix
import RESP
import RedisClient

/// The primary connection's end of a session: hands everything to the session on the same event loop.
final class PrimaryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var session: ClientSession?

    init(session: ClientSession) {
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session?.primaryRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session?.primaryReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.primaryClosed()
        session = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.primaryWritabilityChanged(context.channel.isWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
