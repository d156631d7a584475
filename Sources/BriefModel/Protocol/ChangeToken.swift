/// A position in one user's changes feed: what a device has seen so far.
///
/// Devices treat tokens as opaque strings. The server encodes them with a versioned, authenticated
/// format (HMAC-SHA256, `BriefToken`), bound to the user it issued them to, so a forged, altered or
/// foreign token is recognised and refused with `invalid_token`.
public struct ChangeToken: Sendable, Hashable {
    /// Identifies the server's database; a token from another database (say, one restored from a
    /// backup) is recognised and answered with `token_expired`.
    public var epoch: UInt32
    /// The commit-ordered position of the last change the device has applied; 0 before any.
    public var position: UInt64

    /// Creates a token.
    public init(epoch: UInt32, position: UInt64) {
        self.epoch = epoch
        self.position = position
    }
}
