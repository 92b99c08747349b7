import Yams

extension YAMLNodeReader {
    /// The location of every value under a stage's `config:` node, by path.
    func configLocations(_ node: Node) -> ConfigValueLocations {
        var byPath: [String: SourceLocation] = [:]
        record(node, at: ConfigValuePath(), into: &byPath, depth: 0)
        return ConfigValueLocations(byPath: byPath)
    }

    private func record(_ node: Node, at path: ConfigValuePath, into byPath: inout [String: SourceLocation],
                        depth: Int) {
        byPath[path.description] = location(of: node)
        // Deeper than any schema goes; a hostile file must not recurse without bound.
        guard depth < 32 else { return }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else { continue }
                record(value, at: path.appending(.key(scalar.string)), into: &byPath, depth: depth + 1)
            }
        case .sequence(let sequence):
            for (offset, item) in sequence.enumerated() {
                record(item, at: path.appending(.index(offset + 1)), into: &byPath, depth: depth + 1)
            }
        case .scalar, .alias:
            break
        }
    }
}
