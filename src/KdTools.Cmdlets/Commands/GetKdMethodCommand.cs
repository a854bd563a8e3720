using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Methods;

namespace KdTools.Cmdlets.Commands;

/// <summary>Lists the distillation methods Invoke-Distillation -Method accepts, or their options.</summary>
/// <remarks>
/// <para>One row per method: its name, whether it needs a teacher (CE trains the student from labels alone, BYOT
/// distills a network into its own branches), a one-line summary, its options with their defaults, and the paper.</para>
/// <para>With -Option, one row per option instead: the method, the option's name, type and default, and what it does.
/// These are the keys Invoke-Distillation -MethodOption takes (case-insensitive); every default comes from the paper or
/// its official code (docs/methods.md says which). Where a reference tunes a method per teacher-student pair, its
/// Preset option names the settings it applies (DKD, ReviewKD, CRD's CRD+KD, LS for logit standardisation); the
/// Preset row lists them.</para>
/// </remarks>
/// <example>
/// <code>
/// Get-KdMethod
/// </code>
/// <para>Lists every method with its teacher need and summary.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdMethod KD, FitNet -Option
/// </code>
/// <para>Shows KD's and FitNet's options with their defaults and meaning.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdMethod | Where-Object NeedsTeacher -eq $false | Select-Object Name, Summary
/// </code>
/// <para>The methods that train without a teacher.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdMethod DKD -Option | Where-Object Name -eq 'Preset' | Select-Object -ExpandProperty Description
/// </code>
/// <para>DKD's presets: the per-pair settings of mdistiller's configurations and of logit standardisation.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdMethod")]
[OutputType(typeof(KdMethodInfo), typeof(KdMethodOptionInfo))]
public sealed class GetKdMethodCommand : KdCmdlet
{
    /// <summary>Method names or wildcard patterns (case-insensitive). A name that matches no method is an error that lists them.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    [SupportsWildcards]
    public string[] Name { get; set; } = ["*"];

    /// <summary>Write one row per option (method, name, type, default, description) instead of one per method.</summary>
    [Parameter]
    public SwitchParameter Option { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var pattern in Name)
        {
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            var matches = MethodRegistry.All.Where(m => wildcard.IsMatch(m.Name)).OrderBy(m => m.Name).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                Invoke(() => MethodRegistry.Get(pattern), pattern);
            }
            foreach (var method in matches)
            {
                if (Option)
                {
                    foreach (var o in method.Options)
                        WriteObject(new KdMethodOptionInfo
                        {
                            Method = method.Name, Name = o.Name, Type = o.Type.Name, Default = o.DefaultText, Description = o.Description,
                        });
                }
                else
                {
                    WriteObject(new KdMethodInfo
                    {
                        Name = method.Name,
                        NeedsTeacher = method.NeedsTeacher,
                        Tasks = string.Join(",", method.Tasks),
                        Summary = method.Summary,
                        Options = string.Join(";", method.Options.Select(o => $"{o.Name}={o.DefaultText}")),
                        Paper = method.Paper,
                    });
                }
            }
        }
    }
}
