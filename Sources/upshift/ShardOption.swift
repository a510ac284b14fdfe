import ArgumentParser
import RedisClient

/// `--shard i/n`: one of n disjoint parts of the keyspace, for n processes run side by side.
struct ShardOption: ParsableArguments {
    @Option(
        help: """
            Only shard i of n (0-based: 0/3, 1/3, 2/3, as Kubernetes' JOB_COMPLETION_INDEX): n runs with \
            the same n cover every key exactly once, split by hash slot ({hashtags} kept together). \
            Give each its own --checkpoint.
            """)
    var shard: String?

    /// The parsed shard, or nil without `--shard`.
    func parsed() throws -> Shard? {
        guard let shard else { return nil }
        guard let parsed = Shard(shard) else {
            throw ValidationError("--shard takes i/n with 0 <= i < n <= 16384, e.g. 0/4 (got '\(shard)')")
        }
        return parsed
    }
}
