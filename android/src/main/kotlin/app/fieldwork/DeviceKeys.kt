package app.fieldwork

import java.io.File
import java.security.KeyPair
import java.security.PrivateKey
import java.security.PublicKey
import java.security.SecureRandom
import java.security.Signature
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The phone's device key as the core's [DeviceSigner]: an EC P-256 key whose
 * private half stays in the platform's key store. On Android the key pair
 * lives in the Android Keystore (StrongBox where there is one), made once:
 *
 * ```
 * val ks = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
 * if (!ks.containsAlias("fieldwork-device")) {
 *     KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, "AndroidKeyStore").apply {
 *         initialize(
 *             KeyGenParameterSpec.Builder("fieldwork-device", KeyProperties.PURPOSE_SIGN)
 *                 .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
 *                 .setDigests(KeyProperties.DIGEST_SHA256)
 *                 .setIsStrongBoxBacked(hasStrongBox)
 *                 .build())
 *     }.generateKeyPair()
 * }
 * val entry = ks.getEntry("fieldwork-device", null) as KeyStore.PrivateKeyEntry
 * val info = KeyFactory.getInstance(entry.privateKey.algorithm, "AndroidKeyStore")
 *     .getKeySpec(entry.privateKey, KeyInfo::class.java)
 * val signer = JcaDeviceSigner(entry.privateKey, entry.certificate.publicKey,
 *     hardwareBacked = info.securityLevel != KeyProperties.SECURITY_LEVEL_SOFTWARE)
 * fieldwork.useDeviceSigner(signer)   // before enrol()
 * ```
 *
 * Signing runs inside the Keystore; this class only hands it the payload.
 * On the JVM (the binding tests) the same class signs with a software key.
 */
class JcaDeviceSigner(
    private val privateKey: PrivateKey,
    private val publicKey: PublicKey,
    private val hardwareBacked: Boolean,
) : DeviceSigner {
    constructor(pair: KeyPair, hardwareBacked: Boolean) : this(pair.private, pair.public, hardwareBacked)

    /** X.509 SubjectPublicKeyInfo, DER: what the server pins at enrolment. */
    override fun publicKey(): ByteArray = publicKey.encoded

    override fun sign(payload: ByteArray): ByteArray =
        try {
            Signature.getInstance("SHA256withECDSA").run {
                initSign(privateKey)
                update(payload)
                sign()
            }
        } catch (e: Exception) {
            // Locked, invalidated by a new screen lock, user not present…
            throw DeviceKeyException.Failed(e.javaClass.simpleName + ": " + (e.message ?: "no message"))
        }

    override fun hardwareBacked(): Boolean = hardwareBacked
}

/**
 * The 32-byte key the store is encrypted with ([Fieldwork.openEncrypted]),
 * kept in [file] wrapped (AES-GCM) by [wrappingKey], a key that never leaves
 * the platform: on Android an AES key in the Android Keystore, made once with
 * `KeyGenParameterSpec.Builder(alias, PURPOSE_ENCRYPT or PURPOSE_DECRYPT)
 * .setBlockModes(BLOCK_MODE_GCM).setEncryptionPaddings(ENCRYPTION_PADDING_NONE)`.
 * A stolen phone's files hold only the wrapped key.
 */
class WrappedStoreKey(private val file: File, private val wrappingKey: SecretKey) {
    /** The store key: unwrapped from [file], or made and wrapped into it the first time. */
    fun get(): ByteArray {
        if (file.isFile) return unwrap(file.readBytes())
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val tmp = File(file.path + ".tmp")
        tmp.writeBytes(wrap(key))
        check(tmp.renameTo(file)) { "could not keep the wrapped store key in $file" }
        return key
    }

    private fun wrap(key: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey)
        return cipher.iv + cipher.doFinal(key)
    }

    private fun unwrap(blob: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, wrappingKey, GCMParameterSpec(128, blob, 0, 12))
        return cipher.doFinal(blob, 12, blob.size - 12)
    }
}
