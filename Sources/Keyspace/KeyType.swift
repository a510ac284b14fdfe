import RESP

/// What `TYPE` says a key holds: one of Redis's core types, a module's type, or nothing.
public enum KeyType: Sendable, Hashable, Comparable {
    case string
    case list
    case set
    case zset
    case hash
    case stream
    /// A RedisJSON document (`ReJSON-RL`): a module's type that Upstash serves (`JSON.*`).
    case json
    /// Another type a Redis module added (`MBbloom--`, `TSDB-TYPE`, …): Upstash cannot store it.
    case module(String)
    /// The key is gone (expired or deleted between SCAN and TYPE).
    case missing

    /// Classifies a `TYPE` reply; an error or an unexpected reply counts as missing.
    public init(typeReply: RESPValue) {
        guard !typeReply.isError, let bytes = typeReply.bytes else {
            self = .missing
            return
        }
        self.init(name: bytes)
    }

    /// Classifies the name `TYPE` returns.
    public init(name: [UInt8]) {
        switch String(decoding: name, as: UTF8.self) {
        case "string": self = .string
        case "list": self = .list
        case "set": self = .set
        case "zset": self = .zset
        case "hash": self = .hash
        case "stream": self = .stream
        case "ReJSON-RL": self = .json
        case "none", "": self = .missing
        case let other: self = .module(other)
        }
    }

    /// The name as `TYPE` prints it.
    public var name: String {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .hash: return "hash"
        case .stream: return "stream"
        case .json: return "ReJSON-RL"
        case .module(let name): return name
        case .missing: return "none"
        }
    }

    /// True for a module's type that Upstash cannot hold (JSON documents it can).
    public var isModule: Bool {
        if case .module = self { return true }
        return false
    }

    /// True for the types Upstash stores: the core types and JSON documents.
    public var isStorable: Bool {
        switch self {
        case .module, .missing: return false
        default: return true
        }
    }

    /// True for the types holding many elements (list, set, zset, hash, stream).
    public var isCollection: Bool {
        switch self {
        case .list, .set, .zset, .hash, .stream: return true
        default: return false
        }
    }

    /// The command that counts a collection's elements (or a string's bytes); nil for module types.
    public func lengthCommand(_ key: [UInt8]) -> RESPCommand? {
        switch self {
        case .string: return RESPCommand("STRLEN", key)
        case .list: return RESPCommand("LLEN", key)
        case .set: return RESPCommand("SCARD", key)
        case .zset: return RESPCommand("ZCARD", key)
        case .hash: return RESPCommand("HLEN", key)
        case .stream: return RESPCommand("XLEN", key)
        case .json, .module, .missing: return nil
        }
    }

    /// Core types first in a fixed order, then module types by name.
    public static func < (a: KeyType, b: KeyType) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        return a.name < b.name
    }

    private var rank: Int {
        switch self {
        case .string: return 0
        case .hash: return 1
        case .list: return 2
        case .set: return 3
        case .zset: return 4
        case .stream: return 5
        case .json: return 6
        case .module: return 7
        case .missing: return 8
        }
    }
}
