using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>Tab completion of -Architecture from the registry (so new architectures complete without edits here).</summary>
public sealed class ArchitectureCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        ArchitectureRegistry.All
            .Where(a => a.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(a => new CompletionResult(a.Name, a.Name, CompletionResultType.ParameterValue, a.Description));
}

/// <summary>Tab completion of -Method from the method registry.</summary>
public sealed class MethodCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        MethodRegistry.All
            .Where(m => m.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(m => new CompletionResult(m.Name, m.Name, CompletionResultType.ParameterValue, m.Summary));
}

/// <summary>Tab completion of -Recipe from the named recipes.</summary>
public sealed class RecipeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        TrainingRecipes.All
            .Where(r => r.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(r => new CompletionResult(r.Name, r.Name, CompletionResultType.ParameterValue, r.Source));
}

/// <summary>Tab completion of -Format from the dataset format registry (a new layout completes without edits here).</summary>
public sealed class DatasetFormatCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        DatasetFormatRegistry.All.Select(f => (f.Name, f.Description))
            .Prepend((Name: DatasetReader.DetectFormat, Description: "detect the layout from the folder's contents"))
            .Where(f => f.Name.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
            .Select(f => new CompletionResult(f.Name, f.Name, CompletionResultType.ParameterValue, f.Description));
}
