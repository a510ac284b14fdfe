import NIOCore

/// A session's way to the side that answers its client: a TCP connection to Redis, or Upstash's
/// REST API (the flip). Used only on the session's event loop.
///
/// Whatever the side, replies come back to the session as RESP bytes, one reply per command, in
/// order (`ClientSession.primaryRead`), so routing, mirroring and comparing work the same both ways.
protocol PrimaryLink: AnyObject {
    /// Sends commands, as RESP bytes (the client's own, framed whole), which owe `replies` replies.
    func send(_ bytes: ByteBuffer, replies: Int)
    /// Stops (false) or resumes (true) taking replies: the client is not reading its own.
    func setReading(_ on: Bool)
    /// Ends (or leaves) the link; replies still owed are dropped.
    func close()
}
