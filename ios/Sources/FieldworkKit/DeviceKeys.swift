import Foundation
import Security

/// The phone's device key as the core's `DeviceSigner`: a P-256 key made in
/// the Secure Enclave, whose private half never leaves it. Give it to the
/// store before enrolling, which registers its public key with the server:
///
/// ```swift
/// let signer = try SecureEnclaveSigner(tag: "app.fieldwork.device")
/// try fieldwork.useDeviceSigner(signer: signer)
/// let enrolment = try enrol(fw: fieldwork, serverUrl: url, code: code)
/// ```
///
/// On a simulator or a Mac without a Secure Enclave, pass
/// `inSecureEnclave: false`: the key is then kept in the Keychain and the
/// board and the report say "software key".
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let key: SecKey
    private let hardware: Bool

    public init(tag: String, inSecureEnclave: Bool = true) throws {
        let tagData = Data(tag.utf8)
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tagData,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
        ]
        var found: CFTypeRef?
        if SecItemCopyMatching(query as CFDictionary, &found) == errSecSuccess, let existing = found {
            key = existing as! SecKey
        } else {
            var error: Unmanaged<CFError>?
            guard let access = SecAccessControlCreateWithFlags(
                kCFAllocatorDefault,
                kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                .privateKeyUsage,
                &error
            ) else {
                throw DeviceKeyError.Failed(reason: "no access control: \(String(describing: error))")
            }
            var attributes: [String: Any] = [
                kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
                kSecAttrKeySizeInBits as String: 256,
                kSecPrivateKeyAttrs as String: [
                    kSecAttrIsPermanent as String: true,
                    kSecAttrApplicationTag as String: tagData,
                    kSecAttrAccessControl as String: access,
                ] as [String: Any],
            ]
            if inSecureEnclave {
                attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
            }
            guard let made = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
                throw DeviceKeyError.Failed(reason: "the key was not made: \(String(describing: error))")
            }
            key = made
        }
        hardware = inSecureEnclave
    }

    /// SEC1 uncompressed (`04‖x‖y`), as the server pins it.
    public func publicKey() throws -> Data {
        var error: Unmanaged<CFError>?
        guard let pub = SecKeyCopyPublicKey(key),
              let bytes = SecKeyCopyExternalRepresentation(pub, &error) as Data?
        else {
            throw DeviceKeyError.Failed(reason: "no public key: \(String(describing: error))")
        }
        return bytes
    }

    /// ECDSA over SHA-256, DER-encoded, made inside the Secure Enclave.
    public func sign(payload: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            key,
            .ecdsaSignatureMessageX962SHA256,
            payload as CFData,
            &error
        ) as Data? else {
            throw DeviceKeyError.Failed(reason: "not signed: \(String(describing: error))")
        }
        return signature
    }

    public func hardwareBacked() -> Bool {
        hardware
    }
}

/// The 32-byte key the store is encrypted with (`Fieldwork.openEncrypted`),
/// kept in the Keychain wrapped by a Secure Enclave key (ECIES with
/// AES-GCM): a copy of the phone's files, or of its Keychain backup, holds
/// only the wrapped key.
public enum StoreKeychain {
    /// The store key: unwrapped from the Keychain, or made, wrapped and
    /// kept there the first time.
    public static func storeKey(account: String, wrappingTag: String) throws -> Data {
        let wrapping = try SecureEnclaveWrappingKey(tag: wrappingTag)
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var found: CFTypeRef?
        if SecItemCopyMatching(query as CFDictionary, &found) == errSecSuccess, let wrapped = found as? Data {
            return try wrapping.unwrap(wrapped)
        }
        var key = Data(count: 32)
        let made = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        guard made == errSecSuccess else {
            throw DeviceKeyError.Failed(reason: "no random bytes")
        }
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: try wrapping.wrap(key),
        ]
        guard SecItemAdd(add as CFDictionary, nil) == errSecSuccess else {
            throw DeviceKeyError.Failed(reason: "the wrapped key was not kept")
        }
        return key
    }
}

/// A Secure Enclave P-256 key used only to wrap and unwrap the store key.
struct SecureEnclaveWrappingKey {
    private let key: SecKey
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    init(tag: String) throws {
        let signer = try SecureEnclaveSigner(tag: tag)
        _ = signer
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: Data(tag.utf8),
            kSecReturnRef as String: true,
        ]
        var found: CFTypeRef?
        guard SecItemCopyMatching(query as CFDictionary, &found) == errSecSuccess, let k = found else {
            throw DeviceKeyError.Failed(reason: "no wrapping key")
        }
        key = k as! SecKey
    }

    func wrap(_ plain: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let pub = SecKeyCopyPublicKey(key),
              let sealed = SecKeyCreateEncryptedData(pub, algorithm, plain as CFData, &error) as Data?
        else {
            throw DeviceKeyError.Failed(reason: "not wrapped: \(String(describing: error))")
        }
        return sealed
    }

    func unwrap(_ sealed: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(key, algorithm, sealed as CFData, &error) as Data? else {
            throw DeviceKeyError.Failed(reason: "not unwrapped: \(String(describing: error))")
        }
        return plain
    }
}
