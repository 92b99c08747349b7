import Foundation

/// The Lua filter's own config: where its code is, and the settings Luxy has no place for.
extension EnvoyFilterImporter {
    /// Reads `inline_code`, `default_source_code` and `source_codes`. Nil (with a finding)
    /// when the config is not a mapping.
    mutating func luaCode(_ config: LocatedNode) -> LuaFilterCode? {
        guard config.isMapping else {
            log.notImported(config.place, "the Lua filter's config is not a mapping; nothing to import")
            return nil
        }
        var code = LuaFilterCode()
        for (key, value) in config.entries {
            switch key {
            case "@type", "type_url":
                continue
            case "inline_code", "inlineCode":
                if code.defaultSource != nil {
                    log.note(value.place, "both inline_code and default_source_code (Envoy refuses that); default_source_code used")
                } else if let text = value.string {
                    code.defaultSource = LocatedScriptSource(source: .inline(text), place: value.place)
                }
            case "default_source_code", "defaultSourceCode":
                if code.defaultSource != nil {
                    log.note(value.place, "both inline_code and default_source_code (Envoy refuses that); default_source_code used")
                }
                code.defaultSource = dataSource(value)
            case "source_codes", "sourceCodes":
                for (name, source) in value.entries {
                    if let located = dataSource(source) {
                        code.namedSources.append(.init(key: name, source: located))
                    }
                }
            case "stat_prefix", "statPrefix":
                log.note(value.place, "stat_prefix not mapped: Luxy counts per stage name")
            case "clear_route_cache", "clearRouteCache":
                log.note(value.place, "clear_route_cache not mapped; call handle:clearRouteCache() where the script needs it")
            default:
                log.note(value.place, "\(key) is not a Lua filter field this importer knows; ignored")
            }
        }
        if code.defaultSource == nil {
            log.note(config.place, code.namedSources.isEmpty
                ? "the Lua filter has no code; nothing to import"
                : "the Lua filter has no default code: Envoy runs only source_codes that routes pick")
        }
        return code
    }

    /// An Envoy `DataSource`: inline text or bytes, or a file. Environment variables cannot
    /// be read at import time and are reported.
    mutating func dataSource(_ node: LocatedNode) -> LocatedScriptSource? {
        if let text = node.string {
            // Some write a source_codes entry as a plain string.
            return LocatedScriptSource(source: .inline(text), place: node.place)
        }
        if let inline = node.child("inline_string") {
            return LocatedScriptSource(source: .inline(inline.string ?? ""), place: inline.place)
        }
        if let bytes = node.child("inline_bytes") {
            guard let data = Data(base64Encoded: bytes.string ?? ""), let text = String(data: data, encoding: .utf8) else {
                log.notImported(bytes.place, "inline_bytes is not base64 of UTF-8 text; not imported")
                return nil
            }
            return LocatedScriptSource(source: .inline(text), place: bytes.place)
        }
        if let file = node.child("filename"), let path = file.string {
            return LocatedScriptSource(source: .file(path), place: file.place)
        }
        if let variable = node.child("environment_variable") {
            log.notImported(variable.place, "the code is in environment variable \(variable.string ?? "?"), which the import cannot read; not imported")
            return nil
        }
        log.notImported(node.place, "a code source needs inline_string, inline_bytes or filename; not imported")
        return nil
    }

    /// The text of a source: inline as is; a file read relative to the input file's folder
    /// (an absolute path as written, else its file name next to the input). Nil, reported,
    /// when the file is not there.
    mutating func scriptText(of located: LocatedScriptSource) -> String? {
        switch located.source {
        case .inline(let text):
            return text
        case .file(let path):
            let folder = (file as NSString).deletingLastPathComponent
            var candidates: [String] = []
            if path.hasPrefix("/") {
                // Envoy's container paths (`/etc/envoy/lua/x.lua`) rarely exist here; the
                // script often sits beside the YAML.
                candidates = [path, (folder as NSString).appendingPathComponent((path as NSString).lastPathComponent)]
            } else {
                candidates = [(folder as NSString).appendingPathComponent(path)]
            }
            for candidate in candidates {
                if let data = FileManager.default.contents(atPath: candidate) {
                    return String(decoding: data, as: UTF8.self)
                }
            }
            log.notImported(located.place, "filename \(path) not found (looked for \(candidates.joined(separator: ", "))); not imported")
            return nil
        }
    }
}
