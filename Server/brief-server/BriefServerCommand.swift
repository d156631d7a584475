import ArgumentParser

@main
struct BriefServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief-server",
        abstract: "The BriefSync sync service.",
        subcommands: [Serve.self, NewKey.self, CheckBrief.self],
        defaultSubcommand: Serve.self
    )
}
