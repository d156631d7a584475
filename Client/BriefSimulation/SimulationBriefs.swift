import BriefModel

/// Briefs for a simulation's server to start with.
public enum SimulationBriefs {
    /// `count` briefs made from `examples` in turn, each a day after the one before it, with its
    /// own id (`<example id>-s<n>`).
    public static func make(from examples: [Brief], count: Int) -> [Brief] {
        guard !examples.isEmpty else {
            return []
        }
        return (0..<count).compactMap { index in
            var brief = examples[index % examples.count]
            guard let id = BriefID(rawValue: "\(brief.id.rawValue)-s\(index)"),
                let date = CalendarDate(daysSinceEpoch: brief.date.daysSinceEpoch + index / examples.count)
            else {
                return nil
            }
            brief.id = id
            brief.date = date
            return brief
        }
    }
}
