import Foundation
import Testing

/// The files of `deploy/` as an operator installs them.
@Suite struct DeployFileTests {
    static let analyzer = "/usr/bin/systemd-analyze"
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `systemd-analyze security --offline=yes` (systemd 252 or later) rates the unit OK or better.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "needs systemd-analyze (systemd ≥ 252)"))
    func theServiceUnitIsRatedOK() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let unit = folder.appendingPathComponent("brief-server@8081.service")
        try FileManager.default.copyItem(
            at: Self.repository.appendingPathComponent("deploy/systemd/brief-server@.service"),
            to: unit
        )
        let run = try await BriefDeviceProcess.run(
            ["security", "--offline=yes", unit.path],
            executable: URL(fileURLWithPath: Self.analyzer)
        )
        let verdict = run.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") } ?? ""
        let level = verdict.split(separator: ":").last.flatMap { $0.split(separator: " ").first }.flatMap { Double($0) }
        #expect(verdict.contains(" OK") || verdict.contains("SAFE"), "\(verdict)\n\(run.stderr)")
        #expect((level ?? 10) < 2, "exposure \(level ?? -1): \(verdict)")
    }
}
