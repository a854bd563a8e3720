using System.Management.Automation;
using KdTools.Core.Models;

namespace KdTools;

/// <summary>
/// A network with its provenance (architecture, size, how and on what it was trained, its test top-1): what
/// New-Teacher, New-Student, Import-KdModel and Add-IntermediateHead write. Piped into Invoke-Distillation it supplies
/// the teacher. The network, with the input normalisation it was trained with, is a hidden property.
/// </summary>
/// <remarks>
/// Property names are chosen not to collide with Invoke-Distillation's parameters (no Method/Dataset/Epochs), so piping
/// a model in binds only -Teacher.
/// </remarks>
public sealed class KdModel
{
    internal KdModel(ClassifierNet network, string role)
    {
        Network = network;
        Role = role;
        Parameters = network.ParameterCount();
    }

    /// <summary>Teacher or Student.</summary>
    public string Role { get; set; }

    public string Architecture => Network.Architecture;
    public int Classes => Network.NumClasses;
    public long Parameters { get; }

    /// <summary>Method it was trained with (CE for a teacher trained from labels; empty when untrained).</summary>
    public string TrainedWith { get; init; } = "";

    /// <summary>Dataset it was trained on.</summary>
    public string TrainedOn { get; init; } = "";

    public int TrainedEpochs { get; init; }

    /// <summary>The training recipe it was trained with (Get-KdRecipe); empty when unknown.</summary>
    public string Recipe { get; init; } = "";

    /// <summary>Test top-1 at the end of training (NaN when untrained).</summary>
    public double Top1 { get; init; } = double.NaN;

    public double BestTop1 { get; init; } = double.NaN;
    public int BestEpoch { get; init; }

    /// <summary>Extra exits (intermediate heads, branches), comma-separated; empty for a plain network.</summary>
    public string Exits => Network is MultiExitNet multi ? string.Join(",", multi.Heads.ExitNames) : "";

    /// <summary>Test top-1 of each extra exit after its training, "head1=0.41;head2=0.57".</summary>
    public string ExitTop1 { get; init; } = "";

    /// <summary>What runs it: TorchSharp, or OnnxRuntime for an imported .onnx file (which only predicts).</summary>
    public string Runtime => Network is KdTools.Core.Export.OnnxRuntimeNet ? KdTools.Core.Export.OnnxRuntimeNet.RuntimeName : "TorchSharp";

    /// <summary>Checkpoint it was loaded from or saved to, if any.</summary>
    public string Path { get; set; } = "";

    [Hidden]
    public ClassifierNet Network { get; }

    public override string ToString() => double.IsNaN(Top1)
        ? $"{Role} {Architecture} ({Parameters:N0} parameters, {Classes} classes)"
        : $"{Role} {Architecture} top-1 {Top1:P2} ({TrainedWith}, {TrainedEpochs} epochs on {TrainedOn})";
}
