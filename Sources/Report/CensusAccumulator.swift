import Foundation
import Keyspace
import RESP

/// The thresholds a census checks keys against, from the plan under consideration.
struct CensusLimits: Sendable {
    var maxKeyBytes: Int
    var maxRecordBytes: Int
    var maxRequestBytes: Int
    /// How many of the biggest keys to keep.
    var topKeys: Int
    /// How many example keys to keep per problem.
    var examples: Int
}

/// Keys with one kind of problem: how many, and the first few.
struct ProblemTally: Sendable {
    var count = 0
    var examples: [FindingItem] = []

    mutating func add(_ item: @autoclosure () -> FindingItem, keep: Int) {
        count += 1
        if examples.count < keep { examples.append(item()) }
    }
}

/// Every per-key problem the census watches for.
struct KeyProblems: Sendable {
    var keyTooLong = ProblemTally()
    var recordTooLarge = ProblemTally()
    var needsChunking = ProblemTally()
    var moduleType = ProblemTally()
    var nonUTF8Key = ProblemTally()
    var nonUTF8Value = ProblemTally()
    var moduleTypeNames: Set<String> = []
    /// The largest record seen, to tell which plans can hold every key.
    var largestRecordBytes = 0
}

/// Raw (not extrapolated) counts for one database.
struct DatabaseTally: Sendable {
    var index: Int
    var keysReported: Int
    var expiresReported: Int
    var keysScanned = 0
    var vanished = 0
    var types: [KeyType: TypeTally] = [:]
    var valueSizes = Histogram.valueSizes()
    var keySizes = Histogram.keySizes()
    var timeToLive = Histogram.timeToLive()
    var migrationCommands = 0
    var migrationBytes = 0
    /// Keys the copy writes through its batch script (all but UTF-8 strings): one call per `CopyCost.keysPerCall`.
    var scriptedKeys = 0
    /// The scripted keys that are strings: one MSET per script call writes them.
    var scriptedStrings = 0

    /// Keys reported per key looked at.
    var factor: Double {
        keysScanned > 0 && keysReported > keysScanned ? Double(keysReported) / Double(keysScanned) : 1
    }
}

/// Folds key observations into a census in constant memory: fixed histograms, a bounded
/// top-N, a few examples per problem; the keys themselves are not kept.
struct CensusAccumulator: Sendable {
    let limits: CensusLimits
    var databases: [DatabaseTally] = []
    var biggest: [BigKey] = []
    var problems = KeyProblems()
    /// The first few keys of each database but 0, to name in its finding.
    var databaseExamples: [Int: [FindingItem]] = [:]

    init(limits: CensusLimits) {
        self.limits = limits
    }

    /// Starts the tally for a database before its keys are added.
    mutating func begin(database: Int, keysReported: Int, expiresReported: Int) {
        databases.append(DatabaseTally(index: database, keysReported: keysReported, expiresReported: expiresReported))
    }

    /// Counts one key in the current database.
    mutating func add(_ o: KeyObservation) {
        let d = databases.count - 1
        databases[d].keysScanned += 1
        guard o.type != .missing else {
            databases[d].vanished += 1
            return
        }
        let bytes = o.memoryBytes ?? 0
        databases[d].types[o.type, default: TypeTally(type: o.type.name, keys: 0, bytes: 0, elements: 0)].keys += 1
        databases[d].types[o.type]!.bytes += bytes
        databases[d].types[o.type]!.elements += max(o.length ?? 0, 0)
        databases[d].valueSizes.add(bytes)
        databases[d].keySizes.add(o.key.count)
        databases[d].timeToLive.addTTL(milliseconds: o.ttlMilliseconds)
        databases[d].migrationCommands += o.migrationCommands(chunkBytes: min(4 * 1024 * 1024, limits.maxRequestBytes / 2))
        if o.isScripted {
            databases[d].scriptedKeys += 1
            if o.type == .string { databases[d].scriptedStrings += 1 }
        }
        databases[d].migrationBytes += o.transferBytes
        noteBiggest(o)
        noteProblems(o)
        if o.database != 0, databaseExamples[o.database, default: []].count < limits.examples {
            databaseExamples[o.database, default: []].append(
                FindingItem(subject: ByteText.escaped(o.key), database: o.database, bytes: o.memoryBytes, type: o.type.name))
        }
    }

    private mutating func noteBiggest(_ o: KeyObservation) {
        let bytes = o.memoryBytes ?? 0
        guard limits.topKeys > 0 else { return }
        if biggest.count >= limits.topKeys, let smallest = biggest.last, smallest.bytes >= bytes { return }
        let entry = BigKey(
            database: o.database, key: ByteText.escaped(o.key), keyBase64: Base64.encodeToString(o.key), type: o.type.name,
            bytes: bytes, length: o.length, ttlMilliseconds: o.ttlMilliseconds)
        let at = biggest.firstIndex { $0.bytes < bytes } ?? biggest.count
        biggest.insert(entry, at: at)
        if biggest.count > limits.topKeys { biggest.removeLast() }
    }

    private mutating func noteProblems(_ o: KeyObservation) {
        let keep = limits.examples
        let record = o.recordBytes
        problems.largestRecordBytes = max(problems.largestRecordBytes, record)
        func item(_ bytes: Int?) -> FindingItem {
            FindingItem(subject: ByteText.escaped(o.key), database: o.database, bytes: bytes, type: o.type.name)
        }
        if o.key.count > limits.maxKeyBytes { problems.keyTooLong.add(item(o.key.count), keep: keep) }
        if record > limits.maxRecordBytes { problems.recordTooLarge.add(item(record), keep: keep) }
        if record > limits.maxRequestBytes { problems.needsChunking.add(item(record), keep: keep) }
        if case .module(let name) = o.type {
            problems.moduleType.add(item(o.memoryBytes), keep: keep)
            problems.moduleTypeNames.insert(name)
        }
        if !ByteText.isValidUTF8(o.key) { problems.nonUTF8Key.add(item(o.key.count), keep: keep) }
        if o.valueIsUTF8 == false { problems.nonUTF8Value.add(item(o.length), keep: keep) }
    }

    /// The census, extrapolated per database when a sample was taken.
    func census(sampleSize: Int?, seconds: Double) -> Census {
        var totals: [String: TypeTally] = [:]
        var valueSizes = Histogram.valueSizes()
        var keySizes = Histogram.keySizes()
        var ttl = Histogram.timeToLive()
        var dbs: [DatabaseCensus] = []
        for db in databases {
            let f = db.factor
            let types = db.types.sorted { $0.key < $1.key }.map { _, t in
                TypeTally(type: t.type, keys: scale(t.keys, f), bytes: scale(t.bytes, f), elements: scale(t.elements, f))
            }
            for t in types {
                totals[t.type, default: TypeTally(type: t.type, keys: 0, bytes: 0, elements: 0)].keys += t.keys
                totals[t.type]!.bytes += t.bytes
                totals[t.type]!.elements += t.elements
            }
            valueSizes.add(db.valueSizes, scaledBy: f)
            keySizes.add(db.keySizes, scaledBy: f)
            ttl.add(db.timeToLive, scaledBy: f)
            dbs.append(
                DatabaseCensus(
                    index: db.index, keysReported: db.keysReported, expiresReported: db.expiresReported, keysScanned: db.keysScanned,
                    extrapolationFactor: f, keys: types.reduce(0) { $0 + $1.keys }, bytes: types.reduce(0) { $0 + $1.bytes },
                    types: types))
        }
        var order: [String: KeyType] = [:]
        for db in databases { for (type, tally) in db.types { order[tally.type] = type } }
        let typeList = totals.values.sorted { (order[$0.type] ?? .missing) < (order[$1.type] ?? .missing) }
        let scanned = databases.reduce(0) { $0 + $1.keysScanned }
        let keys = dbs.reduce(0) { $0 + $1.keys }
        return Census(
            sampled: sampleSize != nil, sampleSize: sampleSize, keysScanned: scanned, keys: keys, bytes: dbs.reduce(0) { $0 + $1.bytes },
            extrapolationFactor: scanned > 0
                ? max(1, Double(databases.reduce(0) { $0 + max($1.keysReported, $1.keysScanned) }) / Double(scanned)) : 1,
            databases: dbs, types: typeList, valueSizes: valueSizes, keySizes: keySizes, timeToLive: ttl, biggestKeys: biggest,
            vanishedKeys: databases.reduce(0) { $0 + $1.vanished }, seconds: seconds)
    }

    /// What a copy of the whole keyspace bills, and the bytes it sends (extrapolated when sampled):
    /// the keys' commands, one script call per batch of scripted keys, and the two SCRIPT LOADs.
    var migrationTotals: (commands: Int, bytes: Int) {
        let (commands, bytes, scripted, strings) = databases.reduce((0, 0, 0, 0)) { acc, db in
            (
                acc.0 + scale(db.migrationCommands, db.factor), acc.1 + scale(db.migrationBytes, db.factor),
                acc.2 + scale(db.scriptedKeys, db.factor), acc.3 + scale(db.scriptedStrings, db.factor)
            )
        }
        let calls = (scripted + CopyCost.keysPerCall - 1) / CopyCost.keysPerCall + CopyCost.scriptedStringCommands(strings)
        return (commands + calls + (commands > 0 ? 2 : 0), bytes)
    }
}
