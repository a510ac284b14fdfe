/// Reading the text of an `INFO` reply.
public enum RedisInfo {
    /// The value of `name:value` in an INFO text, nil when absent.
    public static func field(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
