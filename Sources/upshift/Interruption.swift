import ArgumentParser
import Dispatch
import Foundation

/// SIGINT and SIGTERM while a job runs: the first is announced on stderr and asks the job to stop
/// after the batch in flight (`onFirst`), a second one ends the process at once.
///
/// Dispatch signal sources, not a signal handler: the handler runs on a queue of its own, where
/// it may take locks and print; the default actions are ignored while the job runs.
final class Interruption: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?
    private var sources: [any DispatchSourceSignal] = []

    /// Starts listening; `onFirst` gets the first signal's number.
    init(onFirst: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "upshift.interruption")
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let isFirst: Bool = self.lock.withLock {
                    if self.first != nil { return false }
                    self.first = sig
                    return true
                }
                if isFirst {
                    FileHandle.standardError.write(
                        Data("\nupshift: \(Self.name(sig)): finishing the batch in flight, then stopping (again to quit now)\n".utf8))
                    onFirst(sig)
                } else {
                    FileHandle.standardError.write(Data("upshift: \(Self.name(sig)) again: stopping now\n".utf8))
                    exit(128 + sig)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }

    /// The first signal that arrived, nil while none has.
    var received: Int32? { lock.withLock { first } }

    /// The shell's status for death by that signal: 130 for SIGINT, 143 for SIGTERM.
    var exitCode: ExitCode { ExitCode(128 + (received ?? SIGINT)) }

    /// What a person calls it.
    var name: String { Self.name(received ?? SIGINT) }

    static func name(_ sig: Int32) -> String { sig == SIGTERM ? "SIGTERM" : "SIGINT" }
}
