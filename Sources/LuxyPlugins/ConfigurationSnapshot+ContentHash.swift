import Crypto
import Foundation
import LuxyConfig

/// The content hash of a snapshot: SHA-256 (hex) over its normalized configuration and every
/// script it loaded. Replicas that run the same ConfigMap report the same hash, so a fleet
/// can tell when every pod has taken an update.
extension ConfigurationSnapshot {
    /// Bumped if what goes into the hash changes, so old and new builds never agree by accident.
    static let contentHashVersion = "luxy-generation-content-1"

    static func hashContent(configuration: LuxyConfiguration, plan: ChainPlan) -> String {
        let folder = (configuration.sourceFile as NSString).deletingLastPathComponent
        var roots: [CanonicalContent.PathRoot] = [
            .init(folder: folder, name: "config"),
            .init(folder: configuration.pluginsDirectory, name: "plugins"),
            .init(folder: configuration.modulesDirectory, name: "modules"),
        ]
        // The libraries `require` loads are in the plan, their paths under the lib folder.
        if !configuration.libDirectory.isEmpty { roots.append(.init(folder: configuration.libDirectory, name: "lib")) }
        var content = CanonicalContent(roots: roots)
        content.append(contentHashVersion)
        // Without source locations: comments and key order are not content. The plan holds
        // each script's source (and whatever else a generation loads from files).
        content.append(configuration.strippingLocations())
        content.append(plan.strippingLocations())
        let digest = SHA256.hash(data: Data(content.text.utf8))
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
