import ArgumentParser

/// The `upshift` command: moves an app from a self-hosted Redis to Upstash.
@main
struct Upshift: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "upshift",
        abstract: "Move an app from a self-hosted Redis to Upstash, with no downtime and no guesswork.",
        version: version,
        subcommands: [
            Ping.self, ReportCommand.self, ShadowCommand.self, MigrateCommand.self, CompareCommand.self, VerifyCommand.self,
            GatewayCommand.self,
        ]
    )
}
