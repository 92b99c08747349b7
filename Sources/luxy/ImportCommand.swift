import ArgumentParser

/// `luxy import …`: bring other proxies' plugin configs over as Luxy plugins and chains.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import plugins written for another proxy.",
        subcommands: [ImportEnvoyFilterCommand.self])
}
