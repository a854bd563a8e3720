namespace KdTools.Core.Methods;

/// <summary>
/// Method options as compact text, "Name=value;Name=value": the form of a run's Options column and of a plan's Options
/// cell (<c>Temperature=2;Alpha=0.5</c>). Values stay text; binding them to the options' types is
/// <see cref="MethodRegistry.Create"/>'s (exact, culture-invariant).
/// </summary>
public static class MethodOptionText
{
    /// <summary>The options of <paramref name="text"/> by name (case-insensitive; a name given twice keeps its last value).</summary>
    /// <exception cref="FormatException">A part is not <c>Name=value</c> with a name; the message shows the form.</exception>
    public static Dictionary<string, object?> Parse(string text)
    {
        var options = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0)
                throw new FormatException($"method option '{pair}' is not Name=value; write options as \"Temperature=2;Alpha=0.5\"");
            options[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
        }
        return options;
    }
}
