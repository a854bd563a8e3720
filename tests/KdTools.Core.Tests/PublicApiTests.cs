using System.Text.RegularExpressions;

namespace KdTools.Core.Tests;

/// <summary>Core's public surface is what README's "Public API (C#)" lists, each type with its reason, and nothing more.</summary>
public class PublicApiTests
{
    [Fact]
    public void Every_public_type_of_Core_is_listed_in_the_README_with_its_reason_and_no_other()
    {
        var readme = File.ReadAllText(Path.Combine(KdTools.Fuzz.FuzzTargets.RepositoryRoot(), "README.md"));
        var table = Regex.Match(readme, "<!-- public-types -->(.+?)<!-- /public-types -->", RegexOptions.Singleline).Groups[1].Value;
        // A generic type's name holds a backtick (Registry`1): its cell is a double-backtick code span.
        var rows = Regex.Matches(table, @"^\| (?:`` (?<type>\S+) ``|`(?<type>[^`]+)`) \| (?<reason>.+?) \|$", RegexOptions.Multiline);
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r.Groups["reason"].Value), r.Groups["type"].Value));
        var documented = rows.Select(r => r.Groups["type"].Value).Order(StringComparer.Ordinal).ToList();
        var exported = typeof(KdException).Assembly.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(exported, documented);
    }
}
