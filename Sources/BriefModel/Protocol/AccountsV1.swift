/// `POST /v1/accounts` and `POST /v1/sessions`: a username and password, and for a login the
/// device that asks, so that its session can be listed and revoked on its own.
public struct CredentialsV1: Sendable, Hashable, Codable {
    /// 3 to 64 letters, digits, `.`, `_` or `-`.
    public var username: String
    /// At least 10 characters. Never logged.
    public var password: String
    /// The device logging in; required by `POST /v1/sessions`.
    public var deviceId: DeviceID?
    /// A name for people, such as "Anna's iPad".
    public var deviceName: String?

    /// Creates credentials.
    public init(username: String, password: String, deviceId: DeviceID? = nil, deviceName: String? = nil) {
        self.username = username
        self.password = password
        self.deviceId = deviceId
        self.deviceName = deviceName
    }
}

/// A device session: the bearer token to send as `Authorization: Bearer …` on every request.
public struct SessionV1: Sendable, Hashable, Codable {
    /// The bearer token; the server keeps only its hash.
    public var token: String
    /// The user it belongs to.
    public var username: String
    /// The device it was issued to.
    public var deviceId: DeviceID

    /// Creates a session.
    public init(token: String, username: String, deviceId: DeviceID) {
        self.token = token
        self.username = username
        self.deviceId = deviceId
    }
}

/// `PUT /v1/briefs/{id}` and `DELETE /v1/briefs/{id}`: what the publish did.
public struct PublishResultV1: Sendable, Hashable, Codable {
    /// The brief.
    public var id: BriefID
    /// Its version now.
    public var version: Int
    /// False when the document equalled the current version (or the brief was already retracted):
    /// nothing changed and no change was fed to devices.
    public var changed: Bool
    /// The SHA-256 of the edition's canonical JSON, in lowercase hex: where `GET /v1/content/{digest}`
    /// serves it. Absent for a retraction.
    public var digest: String?

    /// Creates a result.
    public init(id: BriefID, version: Int, changed: Bool, digest: String? = nil) {
        self.id = id
        self.version = version
        self.changed = changed
        self.digest = digest
    }
}

/// A topic with whether this user follows it.
public struct TopicStatusV1: Sendable, Hashable, Codable {
    /// The topic's identifier.
    public var id: TopicID
    /// Its name for people.
    public var name: String
    /// Whether the user follows it; users follow every topic until they unfollow one.
    public var followed: Bool
    /// How many briefs of the topic the server holds.
    public var briefCount: Int

    /// Creates a topic status.
    public init(id: TopicID, name: String, followed: Bool, briefCount: Int) {
        self.id = id
        self.name = name
        self.followed = followed
        self.briefCount = briefCount
    }
}

/// `GET /v1/topics`.
public struct TopicListV1: Sendable, Hashable, Codable {
    /// Every topic, by identifier.
    public var topics: [TopicStatusV1]

    /// Creates a list.
    public init(topics: [TopicStatusV1]) {
        self.topics = topics
    }
}

/// `GET /healthz` and `GET /readyz`.
public struct HealthV1: Sendable, Hashable, Codable {
    /// `ok`, or `unavailable` when a dependency does not answer.
    public var status: String
    /// The protocol versions the server speaks, such as `1...1`.
    public var protocols: String

    /// Creates a health answer.
    public init(
        status: String,
        protocols: String = "\(WireProtocol.supported.lowerBound)...\(WireProtocol.supported.upperBound)"
    ) {
        self.status = status
        self.protocols = protocols
    }
}

extension CredentialsV1 {
    /// The rule for usernames: 3 to 64 letters, digits, `.`, `_` or `-`.
    public static let usernameLength = 3...64
    /// The rule for passwords: at least 10 characters (and at most 1024, to bound hashing work).
    public static let passwordLength = 10...1024

    /// Validates credentials and returns them, or throws every issue with its path.
    ///
    /// - Parameter requireDevice: Whether `deviceId` must be present (logins and registrations
    ///   that log the device in).
    public static func validate(
        _ document: JSONValue,
        requireDevice: Bool = true
    ) throws(DocumentValidationError) -> CredentialsV1 {
        var reader = FieldReader(unknownKeys: .reject)
        let root = FieldPath.root
        guard
            let object = reader.object(document, at: root, allowed: ["username", "password", "deviceId", "deviceName"])
        else {
            throw DocumentValidationError(issues: reader.issues)
        }
        let username = reader.string(object["username"], at: root.appending("username"), maxLength: 64)
        if let username {
            if username.count < usernameLength.lowerBound {
                reader.report(root.appending("username"), "shorter than \(usernameLength.lowerBound) characters")
            } else if let problem = Identifier.problem(with: username, maxLength: usernameLength.upperBound) {
                reader.report(root.appending("username"), problem)
            }
        }
        let password = Self.password(object["password"], at: root.appending("password"), reader: &reader)
        var deviceID: DeviceID?
        if object["deviceId"] != nil || requireDevice {
            deviceID = MutationV1.identifier(
                object["deviceId"],
                at: root.appending("deviceId"),
                maxLength: DeviceID.maxLength,
                reader: &reader
            ).flatMap(DeviceID.init(rawValue:))
        }
        let deviceName = reader.optionalString(object["deviceName"], at: root.appending("deviceName"), maxLength: 100)
        guard reader.issues.isEmpty, let username, let password, let deviceName else {
            throw DocumentValidationError(issues: reader.issues)
        }
        return CredentialsV1(username: username, password: password, deviceId: deviceID, deviceName: deviceName)
    }
}

extension CredentialsV1 {
    /// A password field: a string of ``passwordLength`` characters, or an issue at `path`.
    static func password(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> String? {
        switch value {
        case .string(let text)?:
            if text.count < passwordLength.lowerBound {
                reader.report(path, "shorter than \(passwordLength.lowerBound) characters")
            } else if text.count > passwordLength.upperBound {
                reader.report(path, "longer than \(passwordLength.upperBound) characters")
            } else {
                return text
            }
        case nil, .null?:
            reader.report(path, "missing")
        case let other?:
            reader.report(path, "expected string, found \(other.typeName)")
        }
        return nil
    }
}
