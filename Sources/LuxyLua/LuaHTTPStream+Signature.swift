import CLua
import CLuaShims

extension LuaHTTPStream {
    /// `importPublicKey(keyder, keyderLength)`: a key object whose `get()` gives the key back as
    /// `verifySignature` takes it (the DER bytes), or nil when the bytes are not a key, as in
    /// Envoy. The first `keyderLength` bytes are read (never past the string's end).
    func importPublicKey(_ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        let der = try s.checkBytes(2, "importPublicKey")
        let length = try s.checkInteger(3, "importPublicKey")
        let index = publicKeys.importKey(Array(der.prefix(max(0, length))))
        vm.pushObject(s.L, .publicKey, token: run.token, aux: Int32(clamping: index))
        return 1
    }

    /// The key object's `get()`.
    func callPublicKey(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun, _ object: luxy_object)
        throws(LuaRaise) -> Int32
    {
        guard method == .publicKeyGet else { throw LuaRaise("'\(method.luaName)' is not a public key method") }
        let entry = publicKeys.entries[Int(object.aux)]
        if entry.key == nil {
            s.pushNil()
        } else {
            s.push(bytes: entry.der)
        }
        return 1
    }

    /// `verifySignature(hashFunction, pubkey, signature, signatureLength, data, dataLength)`:
    /// `true, nil` or `false, error`. `pubkey` is what the key object's `get()` returned, as in
    /// Envoy; the key object itself is taken too.
    func verifySignature(_ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        let name = "verifySignature"
        let hashName = try s.checkString(2, name)
        let key = try signatureKey(s, run, name)
        let signature = try s.checkBytes(4, name)
        let signatureLength = try s.checkInteger(5, name)
        let data = try s.checkBytes(6, name)
        let dataLength = try s.checkInteger(7, name)
        do throws(LuaSignatureError) {
            guard let hash = LuaSignatureHash(scriptName: hashName) else { throw LuaSignatureError.unsupportedHash(hashName) }
            guard let key else { throw LuaSignatureError.noKey }
            try key.verify(Array(signature.prefix(max(0, signatureLength))), of: Array(data.prefix(max(0, dataLength))),
                           hash: hash)
            s.push(true)
            s.pushNil()
        } catch {
            s.push(false)
            s.push(error.description)
        }
        return 2
    }

    /// The key argument: DER bytes imported earlier in this request (else Envoy's "invalid
    /// public key"), or a key object of this phase (nil inside when its import failed).
    private func signatureKey(_ s: LuaStack, _ run: PhaseRun, _ name: String) throws(LuaRaise) -> LuaPublicKey? {
        if let object = s.object(at: 3), object.kind == LuaObjectKind.publicKey.rawValue {
            guard object.token == run.token else { throw LuaRaise("object used outside of proper scope") }
            return publicKeys.entries[Int(object.aux)].key
        }
        let der = try s.checkBytes(3, name)
        guard let key = publicKeys.key(der: der) else { throw LuaRaise("invalid public key") }
        return key
    }
}
