import NIOConcurrencyHelpers
import NIOPosix

/// Event loop groups by thread count, shared by every proxy of the process (like NIO's singleton).
final class GroupCache: Sendable {
    private let groups = NIOLockedValueBox<[Int: MultiThreadedEventLoopGroup]>([:])

    func group(threads: Int) -> MultiThreadedEventLoopGroup {
        groups.withLockedValue { g in
            if let hit = g[threads] { return hit }
            let made = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
            g[threads] = made
            return made
        }
    }
}
