import NIOCore

/// A TCP connection to a Redis primary: bytes pass through untouched.
final class ChannelLink: PrimaryLink {
    let channel: any Channel

    init(_ channel: any Channel) {
        self.channel = channel
    }

    func send(_ bytes: ByteBuffer, replies: Int) {
        channel.writeAndFlush(bytes, promise: nil)
    }

    func setReading(_ on: Bool) {
        try? channel.syncOptions?.setOption(.autoRead, value: on)
    }

    func close() {
        channel.close(promise: nil)
    }
}
