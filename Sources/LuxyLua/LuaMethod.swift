/// The kinds of userdata handed to scripts; each has one metatable per VM. A handle is a
/// light userdata (its token, `luxy_push_handle`); the others are full userdata blocks
/// (`luxy_object`).
enum LuaObjectKind: Int32, CaseIterable {
    case handle, headerMap, buffer, metadata, streamInfo, dynamicMetadata, connection, chunkIterator, ssl
    /// The `conn` of the tcp phases.
    case tcpConnection
    /// What `importPublicKey()` returns (Envoy's PublicKeyWrapper).
    case publicKey

    /// Whether an object of this kind answers the methods of `kind`: its own, and a handle
    /// those of its phase's header map and stream info too (`LuaMethod.handleMethods`).
    func answers(_ kind: LuaObjectKind) -> Bool {
        kind == self || (self == .handle && (kind == .headerMap || kind == .streamInfo))
    }

    var typeName: String {
        switch self {
        case .handle: "luxy.handle"
        case .headerMap: "luxy.headers"
        case .buffer: "luxy.buffer"
        case .metadata: "luxy.metadata"
        case .streamInfo: "luxy.streamInfo"
        case .dynamicMetadata: "luxy.dynamicMetadata"
        case .connection: "luxy.connection"
        case .chunkIterator: "luxy.bodyChunks"
        case .ssl: "luxy.ssl"
        case .tcpConnection: "luxy.tcpConnection"
        case .publicKey: "luxy.publicKey"
        }
    }
}

/// Every host function, by the id the trampoline closure carries as its upvalue.
enum LuaMethod: Int32, CaseIterable {
    // Stream handle (Envoy's names).
    case headers = 1, body, bodyChunks, trailers, metadata, streamInfo, connection, httpCall, respond
    case logTrace, logDebug, logInfo, logWarn, logErr, logCritical
    case base64Escape, timestamp, timestampString, clearRouteCache, filterContext
    // Luxy's additions (Pipy's framework variables).
    case config, route, service, cluster, upstream, direction, isHTTP2, httpProtocol
    // Envoy's signature helpers.
    case importPublicKey, verifySignature
    // The request's headers from any phase (the response and log phases' own are the response's).
    case requestHeaders = 60
    /// `accessLog(destination, line)`: a line to stdout or a file, apart from the operational log.
    case accessLog = 61
    /// `skipPhase(name)`: this stage's later phase does not run for this request.
    case skipPhase = 62

    case headerGet = 100, headerGetNumValues, headerGetAtIndex, headerAdd, headerReplace, headerRemove
    case headerSetReasonPhrase, headerPairs
    /// Called by a `pairs()` iterator over a header map when it reached the end; in no method table.
    case headerIterationEnded = 150
    case bufferLength = 200, bufferGetBytes, bufferSetBytes
    case metadataGet = 300, metadataPairs
    // `protocol()` of the stream info is the handle's own (`httpProtocol`), which answers for it.
    case infoLocalAddress = 400, infoDirectRemoteAddress, infoRemoteAddress
    case infoRequestedServerName, infoDynamicMetadata, infoDownstreamSslConnection
    case infoDirectLocalAddress, infoRouteName, infoVirtualClusterName, infoAttemptCount
    // How the request ended, for the log phase (Envoy's access-log operators).
    case infoResponseCode = 460, infoResponseFlags, infoSetResponseFlag, infoBytesReceived, infoBytesSent
    case infoDuration, infoStartTime
    case dynamicGet = 500, dynamicSet, dynamicPairs
    case connectionSsl = 600
    case chunkNext = 700
    case sslPeerCertificatePresented = 800, sslPeerCertificateValidated, sslUriSanPeerCertificate
    case sslDnsSansPeerCertificate, sslSubjectPeerCertificate, sslSha256PeerCertificateDigest, sslTlsVersion
    case sslSni, sslAlpn
    // The tcp phases' `conn` (proxy-wasm's TcpContext, with the handle's helpers).
    case tcpSourceAddress = 900, tcpDestinationAddress, tcpUpstreamAddress, tcpPeerIdentity, tcpConfig
    case tcpDirection, tcpCluster, tcpClose, tcpHTTPCall
    case tcpLogTrace, tcpLogDebug, tcpLogInfo, tcpLogWarn, tcpLogErr, tcpLogCritical
    case publicKeyGet = 1000
    // 1400-1699: the built-in modules' functions (`LuaModuleFunction`), which take no self.

    var kind: LuaObjectKind {
        switch rawValue {
        case ..<100: .handle
        case ..<200: .headerMap
        case ..<300: .buffer
        case ..<400: .metadata
        case ..<500: .streamInfo
        case ..<600: .dynamicMetadata
        case ..<700: .connection
        case ..<800: .chunkIterator
        case ..<900: .ssl
        case ..<1000: .tcpConnection
        default: .publicKey
        }
    }

    /// The Lua-visible name; "__pairs" and friends are metamethods, not methods.
    var luaName: String {
        switch self {
        case .headers: "headers"
        case .body: "body"
        case .bodyChunks: "bodyChunks"
        case .trailers: "trailers"
        case .metadata: "metadata"
        case .streamInfo: "streamInfo"
        case .connection: "connection"
        case .httpCall: "httpCall"
        case .respond: "respond"
        case .logTrace: "logTrace"
        case .logDebug: "logDebug"
        case .logInfo: "logInfo"
        case .logWarn: "logWarn"
        case .logErr: "logErr"
        case .logCritical: "logCritical"
        case .base64Escape: "base64Escape"
        case .timestamp: "timestamp"
        case .timestampString: "timestampString"
        case .clearRouteCache: "clearRouteCache"
        case .filterContext: "filterContext"
        case .config: "config"
        case .route: "route"
        case .service: "service"
        case .cluster: "cluster"
        case .upstream: "upstream"
        case .direction: "direction"
        case .isHTTP2: "isHTTP2"
        case .httpProtocol: "protocol"
        case .importPublicKey: "importPublicKey"
        case .verifySignature: "verifySignature"
        case .requestHeaders: "requestHeaders"
        case .accessLog: "accessLog"
        case .skipPhase: "skipPhase"
        case .infoResponseCode: "responseCode"
        case .infoResponseFlags: "responseFlags"
        case .infoSetResponseFlag: "setResponseFlag"
        case .infoBytesReceived: "bytesReceived"
        case .infoBytesSent: "bytesSent"
        case .infoDuration: "duration"
        case .infoStartTime: "startTime"
        case .publicKeyGet: "get"
        case .headerGet: "get"
        case .headerGetNumValues: "getNumValues"
        case .headerGetAtIndex: "getAtIndex"
        case .headerAdd: "add"
        case .headerReplace: "replace"
        case .headerRemove: "remove"
        case .headerSetReasonPhrase: "setHttp1ReasonPhrase"
        case .headerPairs, .metadataPairs, .dynamicPairs: "__pairs"
        case .headerIterationEnded: "pairs iterator"
        case .bufferLength: "length"
        case .bufferGetBytes: "getBytes"
        case .bufferSetBytes: "setBytes"
        case .metadataGet, .dynamicGet: "get"
        case .infoLocalAddress: "downstreamLocalAddress"
        case .infoDirectRemoteAddress: "downstreamDirectRemoteAddress"
        case .infoRemoteAddress: "downstreamRemoteAddress"
        case .infoRequestedServerName: "requestedServerName"
        case .infoDynamicMetadata: "dynamicMetadata"
        case .infoDownstreamSslConnection: "downstreamSslConnection"
        case .infoDirectLocalAddress: "downstreamDirectLocalAddress"
        case .infoRouteName: "routeName"
        case .infoVirtualClusterName: "virtualClusterName"
        case .infoAttemptCount: "attemptCount"
        case .dynamicSet: "set"
        case .connectionSsl: "ssl"
        case .chunkNext: "bodyChunks iterator"
        case .tcpSourceAddress: "sourceAddress"
        case .tcpDestinationAddress: "destinationAddress"
        case .tcpUpstreamAddress: "upstreamAddress"
        case .tcpPeerIdentity: "peerIdentity"
        case .tcpConfig: "config"
        case .tcpDirection: "direction"
        case .tcpCluster: "cluster"
        case .tcpClose: "close"
        case .tcpHTTPCall: "httpCall"
        case .tcpLogTrace: "logTrace"
        case .tcpLogDebug: "logDebug"
        case .tcpLogInfo: "logInfo"
        case .tcpLogWarn: "logWarn"
        case .tcpLogErr: "logErr"
        case .tcpLogCritical: "logCritical"
        case .sslPeerCertificatePresented: "peerCertificatePresented"
        case .sslPeerCertificateValidated: "peerCertificateValidated"
        case .sslUriSanPeerCertificate: "uriSanPeerCertificate"
        case .sslDnsSansPeerCertificate: "dnsSansPeerCertificate"
        case .sslSubjectPeerCertificate: "subjectPeerCertificate"
        case .sslSha256PeerCertificateDigest: "sha256PeerCertificateDigest"
        case .sslTlsVersion: "tlsVersion"
        case .sslSni: "sni"
        case .sslAlpn: "alpn"
        }
    }

    /// Methods the host calls itself, never placed where a script could reach them.
    var isHostInternal: Bool { self == .headerIterationEnded }

    /// What a handle answers: its own methods, and those of the phase's header map and of
    /// the stream info. `headers()` and `streamInfo()` hand back the handle itself, as Envoy's
    /// handle hands back the one wrapper it keeps; with the handle a light userdata
    /// (`luxy_push_handle`), a phase allocates no object for the three, where each cost about
    /// 50 ns with the collection that frees it.
    /// The names do not collide (checked by `HostFunctionIdTests`).
    static let handleMethods: [LuaMethod] = allCases.filter { method in
        !method.isHostInternal && LuaObjectKind.handle.answers(method.kind)
    }
}
