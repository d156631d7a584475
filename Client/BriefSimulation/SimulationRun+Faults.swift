import BriefClient
import BriefModel
import BriefStore
import GRDB

/// The faults that happen to a phone rather than to the network: it dies mid-sync, its store is
/// copied, its home changes account, it stays away while tombstones expire.
extension SimulationRun {
    /// `crash`: the device dies during a sync, after 0 to 3 of its requests reached the server
    /// (the last unanswered), and reopens its store from its file.
    mutating func crash(_ index: Int) async throws {
        let device = devices[index]
        guard device.online else {
            return
        }
        device.transport.crash(after: Int.random(in: 0...3, using: &generator))
        report.syncs += 1
        // why any error: the sync dies with the device, however it noticed
        _ = try? await device.library.sync()
        device.transport.disarm()
        let store = try DeviceStore(try device.library.store.databaseForTesting())
        device.library = BriefLibrary(store: store, configuration: Self.configuration(device.clock))
        try await device.library.signIn(Self.account(device.user), transport: device.transport)
        ledger.count("crashes")
    }

    /// `copy`: the device's store is copied byte for byte (a restored backup) onto another
    /// phone, which signs in with the store's device id and carries on.
    mutating func copy(_ index: Int) async throws {
        let original = devices[index]
        let queue = try DatabaseQueue()
        try original.library.store.databaseForTesting().backup(to: queue)
        let store = try DeviceStore(queue)
        let session = try await server.session(
            user: original.user,
            password: password,
            device: store.deviceID,
            register: false
        )
        let clock = makeClock()  // the copy runs on another phone's clock
        let library = BriefLibrary(store: store, configuration: Self.configuration(clock))
        let transport = makeTransport(session.token, of: original.user)
        try await library.signIn(Self.account(original.user), transport: transport)
        devices.append(
            Device(
                name: "\(original.name)-copy\(devices.count)",
                user: original.user,
                token: session.token,
                library: library,
                transport: transport,
                clock: clock
            )
        )
        ledger.count("stores copied")
    }

    /// `switch`: the home signs out, edits queued, and another user signs in on it; or, when it
    /// is away from its own account, that account comes back.
    mutating func switchAccount(_ index: Int) async throws {
        let device = devices[index]
        let next: String
        if device.user != device.home {
            next = device.home
        } else {
            let others = Set(devices.map(\.home)).subtracting([device.home]).sorted()
            guard let other = others.randomElement(using: &generator) else {
                return
            }
            next = other
        }
        try await signIn(index, as: next)
        ledger.count(next == device.home ? "accounts back" : "accounts switched")
    }

    /// Signs the device's account out, its queued edits sealed under it, and `user` in.
    mutating func signIn(_ index: Int, as user: String) async throws {
        let device = devices[index]
        defer { device.changed() }
        try await device.library.signOut()
        let token: String
        if let known = device.tokens[user] {
            token = known
        } else {
            token = try await server.session(
                user: user,
                password: password,
                device: device.library.store.deviceID,
                register: false
            ).token
            device.tokens[user] = token
        }
        device.transport = makeTransport(token, of: user)
        try await device.library.signIn(Self.account(user), transport: device.transport)
        device.user = user
    }

    /// `expiry`: the server purges tombstones older than ten minutes, so that a device away
    /// longer than that comes back to a token too old and starts over.
    mutating func expire() async throws {
        if let purged = try await server.purgeTombstones(olderThan: 10 * 60 * 1000), purged > 0 {
            ledger.count("tombstones purged", by: purged)
        }
    }
}
