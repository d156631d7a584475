import Foundation

/// The JSON coders both sides use, so that bytes on the wire are the same from every peer.
public enum WireCoding {
    /// Sorted keys and unescaped slashes: stable bytes, so equal documents hash and compare equal.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder that applies `unknownFields` to documents such as briefs.
    ///
    /// - Parameter unknownFields: `.reject` for what publishers send, `.ignore` for what a device
    ///   receives from a server that may be newer than it.
    public static func decoder(unknownFields: UnknownFieldPolicy = .reject) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[.unknownFieldPolicy] = unknownFields
        return decoder
    }
}
