import Logging
import RESP
import RedisClient

/// The pipelined connections to Redis that every REST request shares.
final class SharedRedis: Backend {
    let url: RedisURL
    private let client: RedisClient

    init(url: RedisURL, connections: Int, logger: Logger) {
        self.url = url
        self.client = RedisClient(
            url: url, connections: connections,
            options: RedisConnectionOptions(connectTimeout: .seconds(3), readTimeout: .seconds(60)), logger: logger)
    }

    var displayName: String { url.description }

    func send(batch commands: [RESPCommand]) async throws -> [RESPValue] {
        try await client.send(batch: commands)
    }

    func close() async {
        await client.close()
    }
}
