/// One of an account's sessions, as `GET /v1/sessions` lists it: never its token.
public struct SessionInfoV1: Sendable, Hashable, Codable {
    /// The session's identifier, for `DELETE /v1/sessions/{id}`.
    public var id: String
    /// The device it was issued to.
    public var deviceId: DeviceID
    /// The device's name for people, if it gave one.
    public var deviceName: String?
    /// When it was created, in milliseconds since 1970 (server clock).
    public var createdAt: Int64
    /// When it was last used, to the hour; it expires after the server's idle lifetime without use.
    public var lastUsedAt: Int64
    /// Whether it is the session that asked.
    public var current: Bool

    /// Creates a session description.
    public init(
        id: String,
        deviceId: DeviceID,
        deviceName: String?,
        createdAt: Int64,
        lastUsedAt: Int64,
        current: Bool
    ) {
        self.id = id
        self.deviceId = deviceId
        self.deviceName = deviceName
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.current = current
    }
}

/// `GET /v1/sessions`: the account's live sessions, newest first.
public struct SessionListV1: Sendable, Hashable, Codable {
    /// The sessions.
    public var sessions: [SessionInfoV1]

    /// Creates a list.
    public init(sessions: [SessionInfoV1]) {
        self.sessions = sessions
    }
}

/// `PUT /v1/accounts/current/password`: the password now and the one to have. Every other
/// session of the account is revoked; the one that asks stays.
public struct PasswordChangeV1: Sendable, Hashable, Codable {
    /// The password now. Never logged.
    public var currentPassword: String
    /// The new password, by the rule of ``CredentialsV1/passwordLength``. Never logged.
    public var newPassword: String

    /// Creates a change.
    public init(currentPassword: String, newPassword: String) {
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }

    /// Validates a change and returns it, or throws every issue with its path.
    public static func validate(_ document: JSONValue) throws(DocumentValidationError) -> PasswordChangeV1 {
        var reader = FieldReader(unknownKeys: .reject)
        guard let object = reader.object(document, at: .root, allowed: ["currentPassword", "newPassword"]) else {
            throw DocumentValidationError(issues: reader.issues)
        }
        let current = CredentialsV1.password(
            object["currentPassword"],
            at: FieldPath.root.appending("currentPassword"),
            reader: &reader
        )
        let new = CredentialsV1.password(
            object["newPassword"],
            at: FieldPath.root.appending("newPassword"),
            reader: &reader
        )
        guard reader.issues.isEmpty, let current, let new else {
            throw DocumentValidationError(issues: reader.issues)
        }
        return PasswordChangeV1(currentPassword: current, newPassword: new)
    }
}

/// `DELETE /v1/accounts/current`: the password, to confirm. The account goes with its
/// read-states, follows, sessions and device cursors.
public struct AccountDeletionV1: Sendable, Hashable, Codable {
    /// The account's password. Never logged.
    public var password: String

    /// Creates a confirmation.
    public init(password: String) {
        self.password = password
    }

    /// Validates a confirmation and returns it, or throws every issue with its path.
    public static func validate(_ document: JSONValue) throws(DocumentValidationError) -> AccountDeletionV1 {
        var reader = FieldReader(unknownKeys: .reject)
        guard let object = reader.object(document, at: .root, allowed: ["password"]) else {
            throw DocumentValidationError(issues: reader.issues)
        }
        let password = CredentialsV1.password(
            object["password"],
            at: FieldPath.root.appending("password"),
            reader: &reader
        )
        guard reader.issues.isEmpty, let password else {
            throw DocumentValidationError(issues: reader.issues)
        }
        return AccountDeletionV1(password: password)
    }
}

/// `POST /v1/feed-keys`: a key that lets a feed reader read this user's topic feeds, sent as
/// `?key=` by readers that cannot send headers. It reads feeds only; it is listed in
/// `GET /v1/sessions` as the device `feed-reader` and revoked with `DELETE /v1/sessions/{id}`.
public struct FeedKeyV1: Sendable, Hashable, Codable {
    /// The key; the server keeps only its hash, so it is shown this once.
    public var key: String
    /// The session id it is listed and revoked by.
    public var id: String

    public init(key: String, id: String) {
        self.key = key
        self.id = id
    }
}
