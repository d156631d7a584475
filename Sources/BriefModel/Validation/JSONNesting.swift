/// How deeply JSON text nests arrays and objects, read from its bytes without parsing it, so that
/// a document nested deeper than any of the protocol's is refused before a recursive decoder
/// works through it.
public enum JSONNesting {
    /// Deeper than any BriefSync document (a brief nests about 6 levels).
    public static let limit = 64

    /// Whether `bytes` open more than `limit` arrays or objects at once. Brackets inside strings
    /// (with their escapes) do not count; the text need not be valid JSON.
    public static func exceeds(_ limit: Int, in bytes: some Sequence<UInt8>) -> Bool {
        var depth = 0
        var exceeded = false
        JSONText.forEachByteOutsideStrings(of: bytes) { byte in
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                exceeded = depth > limit
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            default:
                break
            }
            return !exceeded
        }
        return exceeded
    }
}

/// Reading JSON text byte by byte, for the checks that need its structure but not its values.
enum JSONText {
    /// Calls `visit` with each byte of `bytes` outside string literals (their quotes included,
    /// escapes honoured), until `visit` returns `false`.
    @inline(__always)
    static func forEachByteOutsideStrings(of bytes: some Sequence<UInt8>, _ visit: (UInt8) -> Bool) {
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if !visit(byte) {
                return
            }
        }
    }
}
