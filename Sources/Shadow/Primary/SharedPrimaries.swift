import NIOCore

/// The shared primary connections of one event loop, one per login (AUTH arguments that held, or
/// none). Used only on its event loop.
final class SharedPrimaries {
    private let loop: any EventLoop
    private unowned let engine: ShadowEngine
    private var connections: [[[UInt8]]?: SharedPrimary] = [:]
    /// Distinct logins shared at once on one event loop; a client with yet another one gets a
    /// connection of its own (a client trying passwords must not open a connection per guess and keep it).
    static let maxLogins = 16

    init(loop: any EventLoop, engine: ShadowEngine) {
        self.loop = loop
        self.engine = engine
    }

    /// The connection shared under `login`, opened when there is none; nil when too many logins share already.
    func connection(login: [[UInt8]]?) -> SharedPrimary? {
        if let hit = connections[login] { return hit }
        guard login == nil || connections.count < Self.maxLogins else { return nil }
        let made = SharedPrimary(login: login, loop: loop, pool: self, linger: engine.configuration.sharedConnectionLinger)
        connections[login] = made
        made.start(engine: engine)
        return made
    }

    /// Forgets a connection that closed (or is closing).
    func remove(_ connection: SharedPrimary) {
        if connections[connection.login] === connection { connections.removeValue(forKey: connection.login) }
    }

    /// Closes them all (the proxy shuts down).
    func closeAll() {
        for c in Array(connections.values) { c.close() }
        connections.removeAll()
    }
}
