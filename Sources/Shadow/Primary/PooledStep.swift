import RESP

/// What a session served by a pooled primary (Upstash over REST, a Redis Cluster) does with one command.
enum PooledStep: Equatable {
    /// The proxy answers itself with these reply bytes.
    case reply([UInt8])
    /// The primary answers: the command joins the next request (`/pipeline` on Upstash).
    case remote(RESPCommand)
    /// EXEC: the queued commands go as one transaction (`/multi-exec` on Upstash).
    case transaction([RESPCommand])
    /// QUIT: answer, then close the connection.
    case replyAndClose([UInt8])
    /// SUBSCRIBE/PSUBSCRIBE on a primary that streams them: each name's stream opened (unless open)
    /// and confirmed in order, each confirmation answered as Redis does.
    case subscribe([PooledSubscriptions.Name])
    /// UNSUBSCRIBE/PUNSUBSCRIBE (or RESET while subscribed): these streams closed, then the reply.
    case unsubscribe(closing: [PooledSubscriptions.Name], reply: [UInt8])
}
