import NIOConcurrencyHelpers
import NIOCore

/// One value per event loop, made on that loop the first time it asks and used only there: the
/// shared primary connections and the mirror lanes. At shutdown each is visited on its own loop.
final class PerLoop<Value>: Sendable {
    private let values = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<Value>]>([:])

    /// `loop`'s value (called on it), made by `make` the first time.
    func value(on loop: any EventLoop, make: () -> Value) -> Value {
        values.withLockedValue { all in
            if let hit = all[ObjectIdentifier(loop)] { return hit.value }
            let made = make()
            all[ObjectIdentifier(loop)] = NIOLoopBound(made, eventLoop: loop)
            return made
        }
    }

    /// Runs `body` on each loop with its value, one loop after the other.
    func forEach(_ body: @escaping @Sendable (Value) -> Void) async {
        for bound in values.withLockedValue({ Array($0.values) }) {
            try? await bound.eventLoop.submit { body(bound.value) }.get()
        }
    }
}
