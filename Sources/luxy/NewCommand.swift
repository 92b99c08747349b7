import ArgumentParser

/// `luxy new …`: scaffolds.
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a plugin with its test and chain entry.",
        subcommands: [NewPluginCommand.self])
}
