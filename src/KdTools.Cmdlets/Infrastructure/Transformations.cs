using System.Management.Automation;
using KdTools.Core;
using KdTools.Core.Checkpoints;
using KdTools.Core.Data;
using KdTools.Core.Export;

namespace KdTools
{
    /// <summary>
    /// What a model parameter (-Model, -Teacher) was given, as given: a model (New-Teacher, New-Student, Import-KdModel),
    /// a run (Invoke-Distillation; its student), or the path of a KdTools checkpoint. PowerShell converts any value to
    /// it; the cmdlet then resolves it, so a wrong path or object fails with its own KdTools error id (a failure inside
    /// parameter binding would be reported as ParameterArgumentTransformationError, hiding the id).
    /// </summary>
    public sealed class KdModelArgument(object? value)
    {
        /// <summary>The value as passed (unwrapped from its PSObject, unless it is a deserialised KdTools object).</summary>
        public object? Value { get; } = Cmdlets.Infrastructure.ArgumentResolution.Unwrap(value);

        public override string ToString() => Value?.ToString() ?? "";
    }

    /// <summary>
    /// What a -Dataset parameter was given, as given: a dataset (Get-KdDataset) or the path of a dataset folder, resolved by
    /// the cmdlet for the same reason as <see cref="KdModelArgument"/>.
    /// </summary>
    public sealed class KdDatasetArgument(object? value)
    {
        /// <summary>The value as passed (unwrapped from its PSObject).</summary>
        public object? Value { get; } = value is PSObject ps ? ps.BaseObject : value;

        public override string ToString() => Value?.ToString() ?? "";
    }
}

namespace KdTools.Cmdlets.Infrastructure
{
    /// <summary>
    /// Turns what a user passed for a model or a dataset into the object itself. Failures are KdExceptions with
    /// KdTools ids; cmdlets raise them as error records (<see cref="KdCmdlet"/>).
    /// </summary>
    internal static class ArgumentResolution
    {
        /// <summary>A model, the student of a run (<paramref name="run"/> is then that run), or a checkpoint file.</summary>
        /// <param name="resolvePath">Maps a user path to a file system path (relative to PowerShell's location).</param>
        public static KdModel Model(object? value, string role, Func<string, string> resolvePath, out KdRun? run)
        {
            run = value as KdRun;
            return value switch
            {
                PSObject remote when IsDeserialized(remote) => throw NotLocal(remote, role),
                KdModel model => model,
                KdRun { StudentModel: null } r => throw new KdException(KdErrorIds.ModelNotLocal, KdErrorKind.ObjectNotFound,
                    $"the {role.ToLowerInvariant()} is a run a sweep skipped (Status {r.Status}): its row was completed earlier, and the run carries " +
                    $"what the ledger recorded, not the network; load the network from its checkpoint with Import-KdModel '{r.Checkpoint}'", r.Checkpoint),
                KdRun r => r.StudentModel,
                string path => ModelLoading.Load(resolvePath(path), role),
                FileInfo file => ModelLoading.Load(file.FullName, role),
                _ => throw new KdException(KdErrorIds.ModelArgumentInvalid, KdErrorKind.InvalidArgument,
                    "expected a model (New-Teacher, New-Student or Import-KdModel output), a run (Invoke-Distillation output) " +
                    $"or the path of a checkpoint, got {Describe(value)}", value),
            };
        }

        /// <summary>A dataset, or a dataset folder (a path or Get-Item's object) read in its detected layout.</summary>
        public static KdDatasetInfo Dataset(object? value, Func<string, string> resolvePath) => value switch
        {
            KdDatasetInfo info => info,
            KdDataset dataset => new KdDatasetInfo(dataset),
            string path => new KdDatasetInfo(DatasetReader.Read(resolvePath(path))),
            FileSystemInfo item => new KdDatasetInfo(DatasetReader.Read(item.FullName)),
            _ => throw new KdException(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument,
                $"expected a dataset (Get-KdDataset output) or the path of a dataset folder, got {Describe(value)}", value),
        };

        /// <summary>A pipeline value without its PSObject wrapper, except a deserialised KdTools object (kept to be recognised).</summary>
        public static object? Unwrap(object? value) => value is PSObject ps && !IsDeserialized(ps) ? ps.BaseObject : value;

        /// <summary>A KdRun or KdModel that came back from remoting, a job or Import-Clixml: its properties without its network.</summary>
        private static bool IsDeserialized(PSObject value) =>
            value.TypeNames.Any(t => t.StartsWith("Deserialized.KdTools.", StringComparison.Ordinal));

        /// <summary>
        /// The error for a deserialised run or model: its network stayed where it was trained; the message says how to fetch
        /// its checkpoint from that host and load it.
        /// </summary>
        private static KdException NotLocal(PSObject value, string role)
        {
            var kind = value.TypeNames[0].EndsWith(".KdRun", StringComparison.Ordinal) ? "run" : "model";
            var file = (value.Properties["Checkpoint"]?.Value ?? value.Properties["Path"]?.Value)?.ToString() is { Length: > 0 } path ? path : null;
            var host = value.Properties["PSComputerName"]?.Value?.ToString() is { Length: > 0 } computer ? computer : null;
            var fetch = file is null
                ? "it has no checkpoint: run it with -CheckpointDirectory (or -ResultPath) on that host, or save its model there with Save-KdModel, then fetch the file"
                : host is null
                    ? $"load its checkpoint where the file is with Import-KdModel '{file}' (copy it here first if it is on another machine)"
                    : $"fetch its checkpoint with $s = New-PSSession -HostName {host}; Copy-Item -FromSession $s -Path '{file}' -Destination . ; then Import-KdModel ./{Path.GetFileName(file)}";
            return new KdException(KdErrorIds.ModelNotLocal, KdErrorKind.ObjectNotFound,
                $"the {role.ToLowerInvariant()} is a deserialised {kind} (it came back from {host ?? "remoting, a job or Import-Clixml"}): " +
                $"its properties survived, its network did not; {fetch}", file);
        }

        private static string Describe(object? value) => value is null ? "nothing" : $"a {value.GetType().Name} ('{value}')";
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
                return value is string text ? new System.Collections.Hashtable(Core.Methods.MethodOptionText.Parse(text), StringComparer.OrdinalIgnoreCase) : value;
            }
            catch (FormatException ex)
            {
                throw new ArgumentTransformationMetadataException(ex.Message, ex);
            }
        }
    }

    internal static class ModelLoading
    {
        /// <summary>A KdTools checkpoint, or an exported .onnx file (run by ONNX Runtime), as a model.</summary>
        public static KdModel Load(string path, string role) => IsOnnx(path)
            ? FromOnnx(OnnxRuntimeNet.Load(new OnnxLoadRequest { Path = path }), role)
            : FromImport(ModelImport.Load(new ModelImportRequest { Path = path }), role, path);

        /// <summary>Whether <paramref name="path"/> names an ONNX model (by its extension).</summary>
        public static bool IsOnnx(string path) => string.Equals(System.IO.Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase);

        /// <summary>An ONNX model with what its metadata says about its training.</summary>
        public static KdModel FromOnnx(OnnxRuntimeNet network, string role)
        {
            var p = ModelFile.ReadProvenance(network.Metadata);
            return new KdModel(network, role)
            {
                TrainedWith = p.Method,
                TrainedOn = p.Dataset,
                TrainedEpochs = p.Epochs,
                Top1 = p.TestTop1,
                Recipe = p.Recipe,
                Path = network.Path,
            };
        }

        public static KdModel FromImport(ImportedModel imported, string role, string path, float[]? mean = null, float[]? std = null)
        {
            var p = imported.Provenance;
            if (mean is not null && std is not null) imported.Model.Normalization = new InputNormalization(mean, std);
            return new KdModel(imported.Model, role)
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

    /// <summary>
    /// Where a model's input normalisation is looked up: in one place, so that moving it (into Core's network) changes
    /// one line.
    /// </summary>
    internal static class ModelNormalization
    {
        public static (float[] Mean, float[] Std)? Of(KdModel model) =>
            model.Network.Normalization is { } n ? (n.Mean, n.Std) : null;
    }
}
