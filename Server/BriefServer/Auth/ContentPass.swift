import BriefToken
import Crypto

/// A content pass: what lets the proxy in front serve brief editions from its cache in `session`
/// mode without asking an instance whether each request's session is live.
///
/// With `--content-pass-secret`, each manifest page that names editions carries one
/// (`contentPass`, ``BriefModel/ChangesPageV2``): the query `expires=E&pass=P` that the device
/// appends to its content fetches, where `E` is when it stops being good (seconds since 1970)
/// and `P` the MD5 of `"E SECRET"` in base64url. That is the scheme nginx's `secure_link` module
/// checks by itself (`secure_link $arg_pass,$arg_expires; secure_link_md5
/// "$secure_link_expires SECRET";`, `deploy/nginx/briefsync.conf`), the one check of a signed
/// URL stock nginx can make.
///
/// why MD5: it is all `secure_link` computes. The secret is at the end of what is hashed, so
/// the length extension MD5 suffers from cannot forge a pass, and the only value an attacker
/// chooses is `E`, which the hash covers.
///
/// A pass is good for every edition, as a session is: every edition is open to every session
/// in `session` mode. It is a bearer capability until it expires, so a revoked session's pass
/// still opens content until then (`--content-pass-lifetime`, an hour by default).
public enum ContentPass {
    /// Why `secret` cannot sign passes, or `nil` when it can: 32 to 256 characters of the
    /// base64url alphabet, so that it goes into nginx's configuration unquoted and unescaped, and
    /// no easier to guess than a publisher key (``GuessableSecret``): a guessed secret forges
    /// passes that open every edition.
    public static func problem(withSecret secret: String) -> String? {
        guard (32...256).contains(secret.utf8.count) else {
            return "must be 32 to 256 characters (brief-server new-key prints one)"
        }
        guard Base64URL.isAlphabet(secret) else {
            return "may contain only letters, digits, '-' and '_' (it goes into nginx's configuration)"
        }
        return GuessableSecret.problem(with: secret)
    }

    /// The pass for a page served at `now` (milliseconds since 1970), good for `lifetime`
    /// milliseconds and up to a minute more: its expiry is rounded up to the minute, so that the
    /// pages of one sync carry the same pass.
    public static func query(now: Int64, lifetime: Int64, secret: String) -> String {
        let expires = (now + lifetime + 59_999) / 60_000 * 60
        return "expires=\(expires)&pass=\(signature(expires: expires, secret: secret))"
    }

    /// `P` for an expiry `E`: base64url of the MD5 of `"E SECRET"`.
    static func signature(expires: Int64, secret: String) -> String {
        Base64URL.encode(Insecure.MD5.hash(data: Array("\(expires) \(secret)".utf8)))
    }
}
