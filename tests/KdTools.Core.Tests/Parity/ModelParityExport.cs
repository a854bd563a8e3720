using KdTools.Core.Checkpoints;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// Writes what the PyTorch side of the model parity needs for one architecture and dtype: the network as Save-KdModel
/// writes it (<c>model.safetensors</c>), and <c>expected.safetensors</c> with an input, the logits and every named
/// feature in eval mode and in train mode (batch statistics), the BatchNorm buffers after the train-mode pass, and the
/// affine parameters of each stage's <see cref="ClassifierNet.PreActivationNorm"/> (what OFD's margins come from).
/// </summary>
internal static class ModelParityExport
{
    public const int Classes = 10;
    public const string ModelFileName = "model.safetensors";
    public const string ExpectedFileName = "expected.safetensors";
    public const string PyTorchStateFileName = "pytorch_state.safetensors";

    public static void Write(string folder, string architecture, ScalarType dtype, int imageSize, int batch)
    {
        const long seed = 21;
        Directory.CreateDirectory(folder);
        using var model = Create(architecture, dtype, seed);
        ModelFile.Save(Path.Combine(folder, ModelFileName), model, new ModelProvenance { Method = "parity" });

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed + 1);
        var input = randn([batch, 3, imageSize, imageSize], dtype, generator: generator);
        var tensors = new List<KeyValuePair<string, Tensor>> { new("input", input) };
        model.eval();
        AddOutput(tensors, "eval", model.Run(input));
        model.train();
        AddOutput(tensors, "train", model.Run(input));
        tensors.AddRange(model.named_buffers().Select(b => KeyValuePair.Create($"state/{b.name}", b.buffer)));
        for (int stage = 1; stage <= model.StageCount; stage++)
        {
            if (model.PreActivationNorm(stage) is not { } norm) continue;
            tensors.Add(new($"norm/stage{stage}/weight", norm.Weight));
            tensors.Add(new($"norm/stage{stage}/bias", norm.Bias));
        }
        SafeTensorsFile.Write(Path.Combine(folder, ExpectedFileName), tensors, new Dictionary<string, string>
        {
            ["architecture"] = architecture,
            ["classes"] = Classes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["dtype"] = ParityConfiguration.DtypeName(dtype),
        });
    }

    /// <summary>The exported network: seeded weights, randomised BatchNorm, in <paramref name="dtype"/>.</summary>
    public static ClassifierNet Create(string architecture, ScalarType dtype, long seed)
    {
        var model = ArchitectureRegistry.Create(architecture, Classes, seed);
        model.to(dtype);
        using var generator = new Generator((ulong)seed);
        ParityWeights.RandomizeBatchNorm(model, generator);
        return model;
    }

    private static void AddOutput(List<KeyValuePair<string, Tensor>> tensors, string mode, ModelOutput output)
    {
        tensors.Add(new($"{mode}/logits", output.Logits));
        tensors.AddRange(output.Features.Select(f => KeyValuePair.Create($"{mode}/{f.Key}", f.Value)));
    }
}
