import BriefModel
import BriefStore
import Testing

@Suite struct ChangeRecorderTests {
    let brief = BriefID(rawValue: "ai-tech-2026-06-26")!

    @Test func idsAndStampsGrowEvenWhenTheClockStandsStill() {
        var recorder = ChangeRecorder(device: DeviceID(rawValue: "phone")!)
        let first = recorder.record(.markRead, on: brief, now: 1_000)
        let second = recorder.record(.save, on: brief, now: 1_000)
        let third = recorder.record(.open, on: brief, now: 900)
        #expect([first.id, second.id, third.id] == [1, 2, 3])
        #expect(first.stamp < second.stamp && second.stamp < third.stamp)
        #expect(third.stamp.device.rawValue == "phone")
    }

    @Test func pendingChangesWinOverOlderServerState() {
        // Given a device that marked a brief unread offline, after the server saw it read
        var recorder = ChangeRecorder(device: DeviceID(rawValue: "phone")!)
        let serverStamp = HybridTimestamp(wall: 5_000, device: DeviceID(rawValue: "tablet")!)
        let server = ReadState(briefID: brief).applying(.markRead, at: serverStamp)
        recorder.observe(server)
        let pending = recorder.record(.markUnread, on: brief, now: 1_000)  // its wall clock is behind

        // When the older server state arrives again
        let visible = server.applying([pending])

        // Then the local change shows, because the clock had moved past what it observed
        #expect(!visible.isRead)
        #expect(pending.stamp > serverStamp)
    }
}
