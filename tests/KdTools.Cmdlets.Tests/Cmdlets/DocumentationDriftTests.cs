using System.Text.RegularExpressions;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// Docs that cannot drift (issue 23), as PSScriptAnalyzer's documentation tests do for its rules: what the registries
/// hold (Get-KdMethod, Get-KdRecipe, Get-KdArchitecture, the dataset formats) must be exactly what README.md's tables,
/// docs/methods.md and the help list, and the other way round.
/// </summary>
[Collection("module")]
public sealed class DocumentationDriftTests(ModuleFixture fixture)
{
    private readonly ModuleSession _session = fixture.Session;

    private static string Read(params string[] parts) => File.ReadAllText(Path.Combine([ModuleSession.RepositoryRoot, .. parts]));

    private List<string> Lines(string script)
    {
        var result = _session.Run(script);
        result.AssertSucceeded();
        return result.Output.Select(o => o.ToString()).ToList();
    }

    /// <summary>The first cell of every row of the markdown tables between <paramref name="heading"/> and the next heading of its level.</summary>
    private static List<string> FirstCells(string markdown, string heading, string cellPattern)
    {
        int start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"heading '{heading}' is missing");
        int end = markdown.IndexOf("\n" + heading.Split(' ')[0] + " ", start + heading.Length, StringComparison.Ordinal);
        var section = end < 0 ? markdown[start..] : markdown[start..end];
        return Regex.Matches(section, "^\\| " + cellPattern + " \\|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
    }

    [Fact]
    public void Every_registered_method_and_only_those_has_a_README_row_a_methods_md_row_and_a_methods_md_section()
    {
        var methods = Lines("Get-KdMethod | ForEach-Object Name").Order(StringComparer.Ordinal).ToList();
        var readme = FirstCells(Read("README.md"), "## Methods", "`([A-Za-z0-9]+)`");
        var methodsMd = Read("docs", "methods.md");
        var docRows = FirstCells(methodsMd, "# Distillation methods", "\\[([A-Za-z0-9]+)\\]\\(#[a-z0-9]+\\)");
        var docSections = Regex.Matches(methodsMd, "^## ([A-Za-z0-9]+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(methods, readme.Order(StringComparer.Ordinal));
        Assert.Equal(methods, docRows.Order(StringComparer.Ordinal));
        Assert.Equal(methods, docSections.Order(StringComparer.Ordinal));
    }

    /// <summary>docs/methods.md's pre-stage column names exactly the stages each method runs before its main stage.</summary>
    [Fact]
    public void The_pre_stage_column_of_methods_md_names_every_methods_pre_stages()
    {
        var actual = Lines("Get-KdMethod | ForEach-Object { $m = [KdTools.Core.Methods.MethodRegistry]::Create($_.Name, $null, $null); " +
                           "'{0}={1}' -f $_.Name, (($m.PreStages | ForEach-Object Name) -join ','); $m.Dispose() }")
            .Select(l => l.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var rows = Regex.Matches(Read("docs", "methods.md"), "^\\| \\[([A-Za-z0-9]+)\\]\\(#[a-z0-9]+\\) \\|[^|]*\\|[^|]*\\| ([^|]+) \\|", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());
        foreach (var (method, stages) in actual)
        {
            var documented = rows[method];
            // TAKD's assistant and DIH's heads are whole runs before the method's, not pre-stages of its engine.
            if (documented is "assistant run" or "`Add-IntermediateHead`") Assert.Equal("", stages);
            else Assert.Equal(stages.Length == 0 ? "—" : string.Join(", ", stages.Split(',').Select(s => $"`{s}`")), documented);
        }
    }

    [Fact]
    public void Every_recipe_is_listed_in_the_README_the_about_help_and_the_Recipe_parameters_help()
    {
        var recipes = Lines("Get-KdRecipe | ForEach-Object Name | Select-Object -Unique"); // Default has a row per task
        var readme = Regex.Match(Read("README.md"), "starts from a paper's setup —\\s*(.+?); `Get-KdRecipe`", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(recipes, Regex.Matches(readme, "`([A-Za-z]+)`").Select(m => m.Groups[1].Value));

        var about = Regex.Match(Read("module", "en-US", "about_KdTools.help.txt"), "named recipe, a paper's or toolkit's training setup: -Recipe (.+?)\\. Get-KdRecipe",
            RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(recipes, Regex.Split(Regex.Replace(about, "\\s+", " "), ", | or ").Select(s => s.Trim()));

        foreach (var cmdlet in new[] { "New-Teacher", "Invoke-Distillation", "Add-IntermediateHead" })
        {
            var help = string.Join(" ", Lines($"(Get-Help {cmdlet} -Parameter Recipe).Description | ForEach-Object Text"));
            var listed = Regex.Match(help, "Get-KdRecipe lists them: ([^)]+)\\)").Groups[1].Value;
            Assert.Equal(recipes, listed.Split(", "));
        }
    }

    [Fact]
    public void Every_classification_architecture_is_in_the_README_networks_table_and_every_segmentation_family_is_named()
    {
        var readme = Read("README.md");
        int start = readme.IndexOf("## Networks\n", StringComparison.Ordinal);
        var section = readme[start..readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal)];
        var documented = Regex.Matches(section, "^\\| [^|]+ \\| (.+) \\|$", RegexOptions.Multiline)
            .SelectMany(m => Regex.Matches(m.Groups[1].Value, "`([A-Za-z0-9_]+)`").Select(n => n.Groups[1].Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // "(also as `vggN_bn`)": every documented VGG under its second name.
        if (documented.Remove("vggN_bn")) foreach (var vgg in documented.Where(a => Regex.IsMatch(a, "^vgg\\d+$")).ToList()) documented.Add(vgg + "_bn");
        var classification = Lines("Get-KdArchitecture | Where-Object Family -notin 'pspnet', 'deeplabv3' | ForEach-Object Name");
        var families = Lines("Get-KdArchitecture | Where-Object Family -in 'pspnet', 'deeplabv3' | ForEach-Object Family | Sort-Object -Unique");

        Assert.Empty(classification.Where(a => !documented.Contains(a)));
        Assert.Empty(documented.Where(a => !classification.Contains(a, StringComparer.OrdinalIgnoreCase)));
        Assert.All(families, f => Assert.Contains($"`{f}_*`", readme));
    }

    [Fact]
    public void The_Format_help_of_Get_KdDataset_lists_every_dataset_format_in_detection_order()
    {
        var formats = Lines("[KdTools.Core.Data.DatasetFormatRegistry]::All | ForEach-Object Name");
        var help = string.Join(" ", Lines("(Get-Help Get-KdDataset -Parameter Format).Description | ForEach-Object Text"));
        var listed = Regex.Match(Regex.Replace(help, "\\s+", " "), "in detection order: ([^(]+) \\(").Groups[1].Value;
        Assert.Equal(formats, listed.Split(", "));
    }
}
