/// Where the names and references that cross-checks look at were written. The model keeps one
/// location per item; errors about a name or a reference point at that exact value instead.
struct ConfigurationSourceMap {
    struct Named {
        var name: String
        var location: SourceLocation
    }

    struct Address {
        var owner: String
        var host: String
        var port: Int
        var location: SourceLocation
    }

    /// A cluster named by a route (`route 'api'`) or a tcp listener (`listener 'db'`).
    struct ClusterReference {
        var owner: String
        var cluster: String
        var location: SourceLocation
    }

    var listenerNames: [Named] = []
    var clusterNames: [Named] = []
    var stageNames: [ChainName: [Named]] = [:]
    /// The admin address first, then listeners in file order.
    var addresses: [Address] = []
    var clusterReferences: [ClusterReference] = []

    /// A stage named by a route's or virtual host's `per_stage:`, which must be in its
    /// listener's chain.
    struct StageReference {
        var owner: String
        var chain: ChainName
        var stage: String
        var location: SourceLocation
    }

    var stageReferences: [StageReference] = []
}
