import ArgumentParser

@main
struct Luxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luxy",
        abstract: "A sidecar proxy that runs Lua plugins.",
        version: LuxyVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, ImportCommand.self, IptablesCommand.self, TestCommand.self,
                      NewCommand.self],
        defaultSubcommand: RunCommand.self)
}
