using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>
/// <para>Lists the registered architectures (names accepted by -Architecture and -Student).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "KdArchitecture")]
[OutputType(typeof(KdArchitectureInfo))]
public sealed class GetKdArchitectureCommand : KdCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string Name { get; set; } = "*";

    protected override void ProcessRecord()
    {
        var wildcard = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        var matches = ArchitectureRegistry.All.Where(a => wildcard.IsMatch(a.Name)).ToList();
        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(Name))
            Invoke(() => ArchitectureRegistry.Get(Name), Name);
        foreach (var a in matches)
            WriteObject(new KdArchitectureInfo { Name = a.Name, Family = a.Family, HeadPositions = a.HeadPositions, Description = a.Description });
    }
}
