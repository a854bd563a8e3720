using System.Text;
using System.Text.RegularExpressions;

namespace KdTools.Host.Hosting;

/// <summary>
/// Turns command-line arguments into PowerShell argument syntax the way `pwsh -File` binds them:
/// a token like -Name is a parameter name, -Name:value is a name with its value, everything else is a literal string.
/// </summary>
internal static partial class ScriptArguments
{
    public static string ToPowerShellSyntax(IEnumerable<string> arguments)
    {
        var text = new StringBuilder();
        foreach (var argument in arguments)
        {
            text.Append(' ');
            if (ParameterName().IsMatch(argument)) { text.Append(argument); continue; }
            var withValue = ParameterWithValue().Match(argument);
            if (!withValue.Success) { text.Append(Quote(argument)); continue; }
            var value = withValue.Groups["value"].Value;
            // pwsh -File accepts -Switch:$false; quoting it would make the non-empty string "$false" bind as true.
            var isBoolean = value.Equals("$true", StringComparison.OrdinalIgnoreCase) || value.Equals("$false", StringComparison.OrdinalIgnoreCase);
            text.Append(withValue.Groups["name"].Value).Append(isBoolean ? value : Quote(value));
        }
        return text.ToString();
    }

    /// <summary>A single-quoted PowerShell literal; PowerShell also treats the typographic single quotes as quote characters.</summary>
    public static string Quote(string value) => "'" + SingleQuote().Replace(value, "$0$0") + "'";

    [GeneratedRegex(@"^-[A-Za-z_?][\w-]*$")]
    private static partial Regex ParameterName();

    [GeneratedRegex(@"^(?<name>-[A-Za-z_][\w-]*:)(?<value>.+)$")]
    private static partial Regex ParameterWithValue();

    [GeneratedRegex("['\u2018\u2019\u201A\u201B]")]
    private static partial Regex SingleQuote();
}
