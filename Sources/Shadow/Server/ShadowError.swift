/// A failure to start or run the proxy, with secrets already removed.
public struct ShadowError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
