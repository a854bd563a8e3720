namespace KdTools.Core;

/// <summary>
/// The message for a name that no registry entry has: it suggests the closest known name (by edit distance,
/// case-insensitively) when one is close enough to be a typo, then lists every known name.
/// </summary>
internal static class UnknownName
{
    /// <summary>"unknown architecture 'resnt8' (did you mean 'resnet8'?); known: resnet8, resnet14, …".</summary>
    /// <param name="what">What the name names ("architecture", "method", "recipe", …).</param>
    public static string Message(string what, string name, IEnumerable<string> known)
    {
        var names = known.ToList();
        return $"unknown {what} '{name}'{Suggestion(name, names)}; known: {string.Join(", ", names)}";
    }

    /// <summary>" (did you mean 'resnet8'?)" when a known name is close to <paramref name="name"/>, else "".</summary>
    public static string Suggestion(string name, IEnumerable<string> known) =>
        Closest(name, known.ToList()) is { } closest ? $" (did you mean '{closest}'?)" : "";

    /// <summary>
    /// The known name nearest to <paramref name="name"/>, if it is at most a third of the name's length away (at least
    /// one edit, at most three): further than that it is another name, not a typo.
    /// </summary>
    public static string? Closest(string name, IReadOnlyList<string> known)
    {
        int limit = Math.Clamp(name.Length / 3, 1, 3);
        return known
            .Select(candidate => (Candidate: candidate, Distance: Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant())))
            .Where(c => c.Distance <= limit)
            .OrderBy(c => c.Distance)
            .Select(c => c.Candidate)
            .FirstOrDefault();
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), two rows of the usual table.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
