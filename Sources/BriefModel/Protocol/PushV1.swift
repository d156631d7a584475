/// One local change a device made, as it is queued and pushed.
///
/// `id` is the device's own counter, starting at 1 and growing by one per mutation; the server
/// remembers the last id it applied per device, so a retried push is acknowledged without being
/// applied twice.
public struct MutationV1: Sendable, Hashable {
    /// The device's sequence number of this mutation.
    public var id: UInt64
    /// The brief whose state changes.
    public var briefID: BriefID
    /// What the reader did.
    public var action: ReadAction
    /// When, by the device's hybrid logical clock.
    public var stamp: HybridTimestamp

    /// Creates a mutation.
    public init(id: UInt64, briefID: BriefID, action: ReadAction, stamp: HybridTimestamp) {
        self.id = id
        self.briefID = briefID
        self.action = action
        self.stamp = stamp
    }
}

/// `POST /v1/read-states`: a batch of one device's mutations, in id order. All or nothing.
///
/// **Exactly once, even from a copied store.** A device store can be copied with everything in
/// it (a phone backup restored onto a new phone, a `cp -r` of a `--home`), and then two stores
/// number their mutations from the same counter under the same device id. So each store also
/// makes a random ``incarnation`` and sends it with every push; the server keeps its cursor (the
/// last mutation id applied) per user, device *and* incarnation, and remembers the digest of each
/// mutation of the last push that applied anything. A mutation at or below the cursor is
/// acknowledged only when it is the very mutation applied before (an exact retry, whose digest
/// matches); when the server cannot show that (another content under that id, or an id older
/// than the last push it remembers) it applies nothing and answers `409 incarnation_conflict`.
/// The store then takes a new incarnation, whose cursor starts at zero, and pushes its queue
/// again, so the copy's edits are applied instead of being taken for duplicates. A mutation sent
/// again this way carries its original stamp, and merging is idempotent, so one the server had in
/// fact applied changes nothing the second time. A store also renews its incarnation when an
/// answer reports a cursor above every id it ever sent: only a copy can have pushed those.
public struct PushRequestV1: Sendable, Hashable {
    /// The most mutations one batch may carry.
    public static let maxMutations = 500
    /// The longest incarnation accepted.
    public static let maxIncarnationLength = 64

    /// The protocol version the device speaks.
    public var `protocol`: Int
    /// The device the mutations come from; every stamp names it.
    public var deviceID: DeviceID
    /// Which copy of the device's store is pushing (see above); `nil` from a store older than
    /// incarnations, which the server then treats as one incarnation of its own.
    public var incarnation: String?
    /// The mutations, ids strictly ascending.
    public var mutations: [MutationV1]

    /// Creates a push.
    public init(
        protocol: Int = WireProtocol.version,
        deviceID: DeviceID,
        incarnation: String? = nil,
        mutations: [MutationV1]
    ) {
        self.protocol = `protocol`
        self.deviceID = deviceID
        self.incarnation = incarnation
        self.mutations = mutations
    }
}

/// The answer to a push: the merged state of every brief the batch touched, and the last
/// mutation id applied for this device (the device drops its queued mutations up to it).
public struct PushResultV1: Sendable, Hashable, Codable {
    /// The protocol version the server spoke.
    public var `protocol`: Int
    /// The highest mutation id of this device the server has applied, now or before.
    public var lastAppliedId: UInt64
    /// The states after merging, one per brief touched by the batch.
    public var states: [ReadState]

    /// Creates a result.
    public init(protocol: Int = WireProtocol.version, lastAppliedId: UInt64, states: [ReadState]) {
        self.protocol = `protocol`
        self.lastAppliedId = lastAppliedId
        self.states = states
    }
}

// MARK: - Wire form and validation

extension MutationV1: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, briefId, action, value, stamp
    }

    public init(from decoder: any Decoder) throws {
        var reader = FieldReader(unknownKeys: .ignore)
        let mutation = Self.read(try JSONValue(from: decoder), at: .root, reader: &reader)
        guard let mutation, reader.issues.isEmpty else {
            throw DocumentValidationError(issues: reader.issues)
        }
        self = mutation
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(briefID, forKey: .briefId)
        try container.encode(action.name, forKey: .action)
        try container.encodeIfPresent(action.value, forKey: .value)
        try container.encode(stamp, forKey: .stamp)
    }

    static func read(_ value: JSONValue, at path: FieldPath, reader: inout FieldReader) -> MutationV1? {
        guard let object = reader.object(value, at: path, allowed: Set(CodingKeys.allCases.map(\.rawValue))) else {
            return nil
        }
        let id = reader.integer(object["id"], at: path.appending("id"), in: 1...Int64.max)
        let briefID = identifier(
            object["briefId"],
            at: path.appending("briefId"),
            maxLength: BriefID.maxLength,
            reader: &reader
        )
        .flatMap(BriefID.init(rawValue:))
        let stamp = stamp(object["stamp"], at: path.appending("stamp"), reader: &reader)
        let name = reader.string(object["action"], at: path.appending("action"), maxLength: 16)
        var action: ReadAction?
        if let name {
            let number: Double??
            switch object["value"] {
            case nil, .null?: number = .some(nil)
            case let value?: number = reader.number(value, at: path.appending("value"), in: -.infinity ... .infinity)
            }
            if let number {
                switch ReadAction.make(name: name, value: number) {
                case .success(let made): action = made
                case .failure(let error):
                    reader.report(path.appending(number == nil ? "action" : "value"), error.reason)
                }
            }
        }
        guard let id, let briefID, let stamp, let action else {
            return nil
        }
        return MutationV1(id: UInt64(id), briefID: briefID, action: action, stamp: stamp)
    }

    private static func stamp(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> HybridTimestamp? {
        guard let object = reader.object(value, at: path, allowed: ["wall", "counter", "device"]) else {
            return nil
        }
        let wall = reader.integer(object["wall"], at: path.appending("wall"), in: 0...Int64(1) << 52)
        let counter = reader.integer(object["counter"], at: path.appending("counter"), in: 0...Int64(UInt32.max))
        let device = identifier(
            object["device"],
            at: path.appending("device"),
            maxLength: DeviceID.maxLength,
            reader: &reader
        )
        .flatMap(DeviceID.init(rawValue:))
        guard let wall, let counter, let device else {
            return nil
        }
        return HybridTimestamp(wall: wall, counter: UInt32(counter), device: device)
    }

    static func identifier(
        _ value: JSONValue?,
        at path: FieldPath,
        maxLength: Int,
        reader: inout FieldReader
    ) -> String? {
        guard let text = reader.string(value, at: path, maxLength: 1_000) else {
            return nil
        }
        if let problem = Identifier.problem(with: text, maxLength: maxLength) {
            reader.report(path, problem)
            return nil
        }
        return text
    }
}

extension PushRequestV1: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case `protocol`, deviceId, incarnation, mutations
    }

    /// Validates a push and returns it, or throws every issue with its path (`mutations[3].value`).
    ///
    /// Beyond each mutation's own fields: ids must ascend strictly, and every stamp must name the
    /// pushing device, so that one device can never write stamps in another's name.
    public static func validate(_ document: JSONValue) throws(DocumentValidationError) -> PushRequestV1 {
        var reader = FieldReader(unknownKeys: .ignore)
        let root = FieldPath.root
        guard let object = reader.object(document, at: root, allowed: Set(CodingKeys.allCases.map(\.rawValue))) else {
            throw DocumentValidationError(issues: reader.issues)
        }
        let version = reader.integer(object["protocol"], at: root.appending("protocol"), in: 1...Int64(Int32.max))
        let deviceID = MutationV1.identifier(
            object["deviceId"],
            at: root.appending("deviceId"),
            maxLength: DeviceID.maxLength,
            reader: &reader
        ).flatMap(DeviceID.init(rawValue:))
        var incarnation: String?
        switch object["incarnation"] {
        case nil, .null?: break
        case let value?:
            incarnation = MutationV1.identifier(
                value,
                at: root.appending("incarnation"),
                maxLength: Self.maxIncarnationLength,
                reader: &reader
            )
        }
        let elements = reader.array(object["mutations"], at: root.appending("mutations"), maxCount: Self.maxMutations)
        var mutations: [MutationV1] = []
        var previousID: Int64?
        for (index, element) in (elements ?? []).enumerated() {
            let path = root.appending("mutations").appending(index)
            let mutation = MutationV1.read(element, at: path, reader: &reader)
            // Ids are checked even on a mutation with other issues, so every issue shows at once.
            if case .integer(let id)? = element["id"] {
                if let previousID, id <= previousID {
                    reader.report(path.appending("id"), "not above the previous mutation's id \(previousID)")
                }
                previousID = id
            }
            guard let mutation else {
                continue
            }
            if let deviceID, mutation.stamp.device != deviceID {
                reader.report(path.appending("stamp").appending("device"), "is not the pushing device \(deviceID)")
            }
            mutations.append(mutation)
        }
        guard let version, let deviceID, elements != nil, reader.issues.isEmpty else {
            throw DocumentValidationError(issues: reader.issues)
        }
        return PushRequestV1(protocol: Int(version), deviceID: deviceID, incarnation: incarnation, mutations: mutations)
    }

    public init(from decoder: any Decoder) throws {
        self = try Self.validate(try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(`protocol`, forKey: .protocol)
        try container.encode(deviceID, forKey: .deviceId)
        try container.encodeIfPresent(incarnation, forKey: .incarnation)
        try container.encode(mutations, forKey: .mutations)
    }
}
