using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Export;
using KdTools.Core.Models;
using KdTools.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Bench;

/// <summary>
/// <c>./build.sh onnx-check</c>: exports every registered architecture (random weights, BatchNorms with far-from-identity
/// statistics, eval mode) with an input batch and TorchSharp's logits for it, then has Debian 13's python3-onnx and
/// python3-onnxruntime in the chroot check each file (tests/parity/onnx_check.py): onnx.checker (full check) and
/// Python's ONNX Runtime reproducing the logits. Needs root (the chroot is entered with unshare and chroot).
/// </summary>
internal static class OnnxCheck
{
    public static int Run(string folder)
    {
        Directory.CreateDirectory(folder);
        var entries = new List<Dictionary<string, object>>();
        foreach (var info in ArchitectureRegistry.All)
        {
            int side = info.Task == KdTools.Core.PredictionTask.Segmentation ? 32 : 16;
            using var network = TestNetworks.TrainedLooking(info.Name, classes: 5, side);
            var file = $"{info.Name}.onnx";
            OnnxExport.Save(Path.Combine(folder, file), network, new ModelProvenance { Method = "onnx-check" }, new OnnxExportOptions());
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = randn([2, 3, side, side], generator: new Generator(7));
            var logits = network.Run(input).Logits;
            if (info.Task == KdTools.Core.PredictionTask.Segmentation) logits = SegmentationNet.ResizeLogits(logits, side, side);
            Write(Path.Combine(folder, $"{info.Name}.input.bin"), input);
            Write(Path.Combine(folder, $"{info.Name}.logits.bin"), logits);
            entries.Add(new()
            {
                // A registry alias (vgg8_bn) builds the network it aliases, which names itself (vgg8) in the metadata.
                ["architecture"] = info.Name, ["network"] = network.Architecture, ["file"] = file,
                ["input"] = $"{info.Name}.input.bin", ["input_shape"] = input.shape,
                ["logits"] = $"{info.Name}.logits.bin", ["logits_shape"] = logits.shape,
            });
            Console.Error.WriteLine($"onnx-check: exported {info.Name}");
        }
        File.WriteAllText(Path.Combine(folder, "manifest.json"), JsonSerializer.Serialize(entries));

        var root = PythonTorch.TrixieRoot;
        var scripts = Path.Combine(PyTorchReference.FindRepositoryRoot(), "tests", "parity");
        var start = new ProcessStartInfo("/usr/bin/unshare");
        foreach (var argument in new[]
                 {
                     "-m", "sh", "-c",
                     $"mount --bind /proc {root}/proc && mount --bind '{scripts}' {root}/mnt && mkdir -p {root}/tmp/onnx-check && " +
                     $"mount --bind '{Path.GetFullPath(folder)}' {root}/tmp/onnx-check && exec chroot {root} /usr/bin/python3 /mnt/onnx_check.py /tmp/onnx-check",
                 })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start unshare");
        process.WaitForExit();
        return process.ExitCode;
    }

    private static void Write(string path, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.contiguous().data<float>().ToArray();
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}
