using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Models;

namespace KdTools.Cmdlets.Commands;

/// <summary>Lists the network architectures that -Architecture and -Student accept.</summary>
/// <remarks>
/// <para>One row per registered architecture: its name, its family, how many stages can carry an intermediate head
/// (Add-IntermediateHead -Stage), a description of its layout, and (as the Lightweight property, outside the default
/// table) whether it is a lightweight network that recipes train at a lower learning rate. All take RGB images and are built with the
/// dataset's class count.</para>
/// <para>The classifiers (cifar-resnet, resnet, vgg, wrn: the CIFAR KD benchmark's networks) are designed for CIFAR's
/// 32x32. The segmentation networks (pspnet, deeplabv3) put PSPNet's or DeepLabV3's head on a dilated ResNet (output
/// stride 8, backbone keys an ImageNet ResNet maps onto); the _w16 and _w8 variants are narrow versions for small
/// experiments.</para>
/// </remarks>
/// <example>
/// <code>
/// Get-KdArchitecture
/// </code>
/// <para>Lists every architecture.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdArchitecture resnet* | Where-Object Family -eq 'cifar-resnet' | Select-Object -ExpandProperty Name
/// </code>
/// <para>The names of the CIFAR ResNets, the usual teacher and student family of the CIFAR KD benchmark.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdArchitecture | Where-Object Family -in 'pspnet', 'deeplabv3' | Format-Table Name, Description -Wrap
/// </code>
/// <para>The segmentation networks and their backbones.</para>
/// </example>
/// <example>
/// <code>
/// Get-KdArchitecture | Where-Object Lightweight | Select-Object Name, Family
/// </code>
/// <para>The lightweight networks (MobileNet, ShuffleNet), which a recipe with a LightweightLearningRate (Get-KdRecipe)
/// trains at that lower rate.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "KdArchitecture")]
[OutputType(typeof(KdArchitectureInfo))]
public sealed class GetKdArchitectureCommand : KdCmdlet
{
    /// <summary>An architecture name or wildcard pattern (case-insensitive). A name that matches none is an error that lists them.</summary>
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
            WriteObject(new KdArchitectureInfo { Name = a.Name, Family = a.Family, HeadPositions = a.HeadPositions, Description = a.Description, Lightweight = a.Lightweight });
    }
}
