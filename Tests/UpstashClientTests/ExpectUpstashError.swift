import Testing
import UpstashClient

/// The `UpstashError` that `body` throws; records an issue (and returns nil) when it throws
/// nothing or something else.
func upstashError<T>(
    _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> UpstashError? {
    do {
        let value = try await body()
        Issue.record("expected an UpstashError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as UpstashError {
        return error
    } catch {
        Issue.record("expected an UpstashError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
