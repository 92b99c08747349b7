import LuxyConfig
import LuxyLua

extension LuaPlatform {
    /// Applies what an installed configuration says about the platform: the bounds of the
    /// shared dictionaries (`shared_dicts:`).
    func configure(_ configuration: LuxyConfiguration) {
        configureSharedDicts(configuration.sharedDicts.mapValues {
            LuaSharedDictCapacity(maxEntries: $0.maxEntries, maxBytes: $0.maxBytes)
        })
    }
}
