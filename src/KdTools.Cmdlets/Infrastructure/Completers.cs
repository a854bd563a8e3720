using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>Tab completion from a registry's names, each with its description as the tooltip.</summary>
public abstract class RegistryCompleter : IArgumentCompleter
{
    /// <summary>The names to complete, in the order they are offered, with their tooltips.</summary>
    protected abstract IEnumerable<(string Name, string Tooltip)> Names { get; }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Names.Where(n => n.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n.Name, n.Name, CompletionResultType.ParameterValue, n.Tooltip));
}

/// <summary>Tab completion of -Architecture from the registry (so new architectures complete without edits here).</summary>
public sealed class ArchitectureCompleter : RegistryCompleter
{
    protected override IEnumerable<(string Name, string Tooltip)> Names => ArchitectureRegistry.All.Select(a => (a.Name, a.Description));
}

/// <summary>Tab completion of -Method from the method registry.</summary>
public sealed class MethodCompleter : RegistryCompleter
{
    protected override IEnumerable<(string Name, string Tooltip)> Names => MethodRegistry.All.Select(m => (m.Name, m.Summary));
}

/// <summary>Tab completion of -Recipe from the named recipes.</summary>
public sealed class RecipeCompleter : RegistryCompleter
{
    protected override IEnumerable<(string Name, string Tooltip)> Names => TrainingRecipes.All.DistinctBy(r => r.Name).Select(r => (r.Name, r.Source));
}

/// <summary>Tab completion of -Format from the dataset format registry (a new layout completes without edits here).</summary>
public sealed class DatasetFormatCompleter : RegistryCompleter
{
    protected override IEnumerable<(string Name, string Tooltip)> Names =>
        DatasetFormatRegistry.All.Select(f => (f.Name, f.Description))
            .Prepend((DatasetReader.DetectFormat, "detect the layout from the folder's contents"));
}

/// <summary>Tab completion of Save-KdDataset -Name from the downloadable archives.</summary>
public sealed class DatasetArchiveCompleter : RegistryCompleter
{
    protected override IEnumerable<(string Name, string Tooltip)> Names =>
        KdTools.Core.Data.Download.DatasetArchive.All.Select(a => (a.Name, $"{a.FileName} (MD5 {a.Md5}) → {a.Folder}/"));
}
