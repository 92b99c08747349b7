/// What both interval triggers of outlier detection require before they judge anyone (Envoy's
/// `*_request_volume` and `*_minimum_hosts`): only endpoints with the request volume in the
/// interval are compared, and only when there are enough of them.
///
/// A value, used once per interval on the cluster's loop; never on the request path.
struct OutlierIntervalQuorum: Equatable {
    let minimumHosts: Int
    let requestVolume: Int

    /// The samples to compare, in their order; nil when too few had the volume.
    func compared(_ samples: [EndpointIntervalSample]) -> [EndpointIntervalSample]? {
        let compared = samples.filter { $0.requests >= requestVolume }
        guard !compared.isEmpty, compared.count >= minimumHosts else { return nil }
        return compared
    }
}
