/// An Istio `EnvoyFilter` resource: its metadata, selectors and patches.
extension EnvoyFilterImporter {
    static let knownAPIVersions: Set<String> = [
        "networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1",
    ]

    mutating func envoyFilter(_ root: LocatedNode) {
        if let version = root.child("apiVersion") {
            if let text = version.string, !Self.knownAPIVersions.contains(text) {
                log.note(version.place, "apiVersion \(text) is not networking.istio.io/v1alpha3 or v1; read as v1alpha3")
            }
        }
        let resourceName: String
        if let name = root.child("metadata")?.child("name")?.string, !name.isEmpty {
            resourceName = name
        } else {
            log.note(root.place, "no metadata.name; stages are named after the file (\(fileStem))")
            resourceName = fileStem
        }
        guard let spec = root.child("spec"), spec.isMapping else {
            badInput(root.child("spec") ?? root, "an EnvoyFilter needs a spec: mapping")
            return
        }
        var resourcePriority = 0
        for (key, value) in spec.entries {
            switch key {
            case "configPatches", "config_patches":
                continue
            case "priority":
                guard let priority = value.int else {
                    badInput(value, "spec.priority must be an integer")
                    continue
                }
                resourcePriority = priority
            case "workloadSelector", "workload_selector":
                log.note(value.place, "workloadSelector \(Self.labels(value)) not mapped: Luxy serves one workload, so its chains run for every request it proxies")
            case "targetRefs", "target_refs", "targetRef":
                log.note(value.place, "\(key) not mapped: Luxy serves one workload, so its chains run for every request it proxies")
            default:
                log.note(value.place, "spec.\(key) is not an EnvoyFilter field this importer knows; ignored")
            }
        }
        guard let patches = spec.child("configPatches"), patches.isSequence else {
            badInput(spec.child("configPatches") ?? spec, "an EnvoyFilter needs spec.configPatches: a list")
            return
        }
        for (index, patch) in patches.elements.enumerated() {
            guard patch.isMapping else {
                badInput(patch, "a config patch must be a mapping (applyTo, match, patch)")
                continue
            }
            let order = ApplicationOrder(resourcePriority: resourcePriority, document: root.place.document, patch: index)
            configPatch(patch, resourceName: resourceName, order: order)
        }
    }

    /// `{app: reviews}` → `app=reviews`, for messages.
    static func labels(_ selector: LocatedNode) -> String {
        let labels = selector.child("labels")?.entries.map { "\($0.key)=\($0.value.string ?? "…")" } ?? []
        return labels.isEmpty ? "(no labels)" : labels.joined(separator: ",")
    }

    /// One entry of `configPatches`: what it applies to decides whether it is a Lua filter.
    mutating func configPatch(_ patch: LocatedNode, resourceName: String, order: ApplicationOrder) {
        let applyTo = patch.child("applyTo")?.string ?? "(no applyTo)"
        guard let body = patch.child("patch"), body.isMapping else {
            badInput(patch.child("patch") ?? patch, "a config patch needs patch: with an operation")
            return
        }
        let operation = body.child("operation")?.string ?? "(no operation)"
        let value = body.child("value")
        let filter = value.map(EnvoyHTTPFilterValue.init) ?? .absent
        switch applyTo {
        case "HTTP_FILTER":
            httpFilterPatch(patch, body: body, operation: operation, filter: filter, resourceName: resourceName, order: order)
        case "HTTP_ROUTE", "VIRTUAL_HOST", "ROUTE_CONFIGURATION":
            routePatch(patch, applyTo: applyTo, value: value, resourceName: resourceName)
        case "CLUSTER":
            let name = value?.child("name")?.string.map { " '\($0)'" } ?? ""
            log.note(patch.place, "applyTo CLUSTER\(name) not imported: declare the cluster under clusters: in luxy.yaml (httpCall names it)")
        default:
            if case .lua = filter {
                log.notImported(patch.place, "applyTo \(applyTo) with a Lua filter: only HTTP_FILTER inserts are imported")
            } else {
                log.note(patch.place, "applyTo \(applyTo) is not an HTTP filter; skipped")
            }
        }
    }
}
