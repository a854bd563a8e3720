using System.Management.Automation;
using KdTools.Core;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>
/// Lets -Teacher/-Model take what users naturally have: a KdModel, a KdRun (its student), or a checkpoint path.
/// </summary>
public sealed class KdModelTransformationAttribute(string role) : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case KdModel model:
                return model;
            case KdRun run:
                return run.StudentModel;
            case string path:
                var full = engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                try
                {
                    return ModelLoading.Load(full, role);
                }
                catch (KdException ex)
                {
                    throw new ArgumentTransformationMetadataException(ex.Message, ex);
                }
            default:
                throw new ArgumentTransformationMetadataException(
                    $"expected a model (New-Teacher/New-Student output), a run (Invoke-Distillation output) or a checkpoint path, got {value?.GetType().Name ?? "null"}");
        }
    }
}

/// <summary>Lets -Dataset take Get-KdDataset's output or a dataset folder path.</summary>
public sealed class KdDatasetTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case KdDatasetInfo info:
                return info;
            case KdDataset dataset:
                return new KdDatasetInfo(dataset);
            case string path:
                try
                {
                    return new KdDatasetInfo(DatasetReader.Read(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path)));
                }
                catch (KdException ex)
                {
                    throw new ArgumentTransformationMetadataException(ex.Message, ex);
                }
            default:
                throw new ArgumentTransformationMetadataException(
                    $"expected a dataset (Get-KdDataset output) or a dataset folder path, got {value?.GetType().Name ?? "null"}");
        }
    }
}

/// <summary>
/// Lets -MethodOption take a hashtable or the compact text a run's Options column holds ("Temperature=2;Alpha=0.5"),
/// so a CSV plan can carry options.
/// </summary>
public sealed class MethodOptionTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        try
        {
            return value is string text ? MethodOptionText.Parse(text) : value;
        }
        catch (FormatException ex)
        {
            throw new ArgumentTransformationMetadataException(ex.Message, ex);
        }
    }
}

/// <summary>Method options as compact text: "Name=value;Name=value" (the format of a run's Options column).</summary>
internal static class MethodOptionText
{
    public static System.Collections.Hashtable Parse(string text)
    {
        var options = new System.Collections.Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0)
                throw new FormatException($"method option '{pair}' is not Name=value; write options as \"Temperature=2;Alpha=0.5\"");
            options[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
        }
        return options;
    }
}

internal static class ModelLoading
{
    public static KdModel Load(string path, string role)
    {
        var loaded = ModelFile.Load(path);
        var p = loaded.Provenance;
        return new KdModel(loaded.Model, role)
        {
            TrainedWith = p.Method,
            TrainedOn = p.Dataset,
            TrainedEpochs = p.Epochs,
            Top1 = p.TestTop1,
            Recipe = p.Recipe,
            Path = path,
        };
    }
}
