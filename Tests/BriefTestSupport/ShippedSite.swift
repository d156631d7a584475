/// How `deploy/nginx/briefsync.conf` is spelled where tests and benchmarks change it as its
/// comments tell an operator to.
public enum ShippedSite {
    /// The swaps (shipped text, local text) that turn content passes on with `secret`: the three
    /// `secure_link` lines of the content location, uncommented, with the server's secret in
    /// place of `SECRET`.
    public static func contentPasses(secret: String) -> [(String, String)] {
        [
            ("#secure_link $arg_pass", "secure_link $arg_pass"),
            (
                "#secure_link_md5 \"$secure_link_expires SECRET\";",
                "secure_link_md5 \"$secure_link_expires \(secret)\";"
            ),
            ("#if ($secure_link = \"1\")", "if ($secure_link = \"1\")"),
        ]
    }
}
