/// Host names that reach this machine only: where plain HTTP crosses no network (the client
/// allows it there) and where the demo server's public key and password may listen.
public enum LoopbackHost {
    /// Whether `host` (a name, or an address with or without IPv6 brackets) is `localhost`,
    /// `::1` or in 127.0.0.0/8.
    public static func contains(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
