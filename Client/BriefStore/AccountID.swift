import Foundation

/// An account on a server: whose edits and reading state a piece of the store is.
///
/// Usernames are matched without regard to case, as the server matches them, so `Anna` and
/// `anna` on one server are one account; the same name on another server is another account.
public struct AccountID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The key the store files the account's rows under: the lowercased username, `@`, the server.
    public let rawValue: String
    /// The server, as given.
    public let server: String
    /// The username, as the server spelled it.
    public let username: String

    /// The account `username` on `server` (an `http(s)://` address; a trailing `/` is ignored).
    public init(server: String, username: String) {
        let trimmed = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.server = trimmed
        self.username = username
        rawValue = username.lowercased() + "@" + trimmed
    }

    public var description: String { rawValue }

    public static func == (a: AccountID, b: AccountID) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// One account's queue on this device, as ``SyncStatus`` reports it.
public struct AccountQueue: Sendable, Hashable, Codable {
    /// The account.
    public var account: String
    public var server: String
    public var username: String
    /// Whether it is the account signed in (the others' queues are sealed).
    public var isSignedIn: Bool
    /// Its mutations not yet acknowledged by the server.
    public var pendingMutations: Int
    /// When the oldest of them was made, in milliseconds since 1970 (device clock).
    public var oldestQueuedAt: Int64?
}

/// A mutation dropped because it could no longer apply, as ``SyncStatus`` reports it.
public struct DroppedMutation: Sendable, Hashable, Codable {
    public var mutationId: UInt64
    public var account: String?
    public var briefId: String
    /// The action, as the wire names it (`read`, `save`, …).
    public var action: String
    /// Why the server refused it.
    public var reason: String
    /// When it was dropped, in milliseconds since 1970.
    public var droppedAt: Int64
}

/// What signing in did to the store.
public struct SignInOutcome: Sendable, Hashable {
    /// The account signed in before, whose queue and reading state were sealed; `nil` when none
    /// or the same account.
    public var sealed: AccountID?
    /// The account's own sealed mutations, back in the outbox to be sent.
    public var resumedMutations: Int
    /// Whether the briefs must be brought up to this account's feed by a resync from scratch
    /// (another account's feed was followed before).
    public var resyncs: Bool
}

/// What signing out did to the store.
public struct SignOutOutcome: Sendable, Hashable {
    /// The account signed out; `nil` when none was signed in.
    public var account: AccountID?
    /// Its mutations sealed, kept for when it signs in again.
    public var sealedMutations: Int
    /// Its mutations discarded at the user's request, never to be sent.
    public var discardedMutations: Int
}
