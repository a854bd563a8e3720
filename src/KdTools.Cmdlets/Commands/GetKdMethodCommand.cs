using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Methods;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Lists the distillation methods with their options and defaults; -Option lists one row per option.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "KdMethod")]
[OutputType(typeof(KdMethodInfo), typeof(KdMethodOptionInfo))]
public sealed class GetKdMethodCommand : KdCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MethodCompleter))]
    [SupportsWildcards]
    public string[] Name { get; set; } = ["*"];

    /// <summary>Emit one row per option (method, name, type, default, description) instead of one per method.</summary>
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
                        Summary = method.Summary,
                        Options = string.Join(";", method.Options.Select(o => $"{o.Name}={o.DefaultText}")),
                        Paper = method.Paper,
                    });
                }
            }
        }
    }
}
