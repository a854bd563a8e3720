using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KdTools.Core.Training;

namespace KdTools.Core.Sweeps;

/// <summary>
/// A plan row's identity in a ledger: everything of the request that shapes the run (method and options as given,
/// student, teacher architecture, dataset, every training setting), as readable text. A rerun of the same plan computes
/// the same keys; a row whose cells changed is a new row. The teacher is named by architecture only (fingerprinting
/// its weights per row costs a pass over them): a sweep with another teacher belongs in another ledger.
/// </summary>
internal static class SweepKey
{
    public static string Of(DistillationRequest request)
    {
        var s = request.ResolveSettings();
        // A teacher given to a teacher-free method (the CE baseline) does not shape its run.
        var method = request.Method?.Name ?? request.MethodName;
        bool taught = request.Method?.NeedsTeacher ?? !(Methods.MethodRegistry.TryGet(method, out var descriptor) && !descriptor.NeedsTeacher);
        var student = request.Student?.Architecture ?? request.StudentArchitecture ?? "";
        var options = request.MethodOptions is null ? "" : string.Join(",", request.MethodOptions
            .OrderBy(o => o.Key, StringComparer.OrdinalIgnoreCase)
            .Select(o => $"{o.Key}={Value(o.Value)}"));
        var parts = new (string Name, string Value)[]
        {
            ("method", method),
            ("student", student),
            ("teacher", taught ? request.Teacher?.Architecture ?? "" : ""),
            ("options", options),
            ("kdweight", request.KdWeight is { } w ? SweepResults.Text(w) : ""),
            ("dataset", request.Dataset.Name),
            ("recipe", s.Recipe),
            ("epochs", SweepResults.Text(s.Epochs)),
            ("batch", SweepResults.Text(s.BatchSize)),
            ("lr", SweepResults.Text(s.LearningRate)),
            ("momentum", SweepResults.Text(s.Momentum)),
            ("nesterov", s.Nesterov ? "true" : "false"),
            ("wd", SweepResults.Text(s.WeightDecay)),
            ("schedule", s.Schedule.Describe(s.Epochs)),
            ("augmentation", s.DescribeAugmentation(request.Dataset.Task)),
            ("seed", SweepResults.Text(s.Seed)),
            ("best", s.KeepBestWeights ? "true" : "false"),
        };
        return string.Join(";", parts.Where(p => p.Value.Length > 0).Select(p => $"{p.Name}={p.Value}"));
    }

    /// <summary>
    /// The checkpoint name of a row (<c>KD-resnet8-seed1-&lt;hash of the key&gt;</c>): fixed by the key, so a rerun finds
    /// the checkpoint of a row that was killed without reading anything but the ledger's folder.
    /// </summary>
    public static string RunName(string key, DistillationRequest request)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
        var student = request.Student?.Architecture ?? request.StudentArchitecture ?? "student";
        var name = $"{request.Method?.Name ?? request.MethodName}-{student}-seed{request.ResolveSettings().Seed.ToString(CultureInfo.InvariantCulture)}-{hash}";
        return string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
    }

    private static string Value(object? value) => value switch
    {
        null => "",
        string text => text,
        IFormattable number => SweepResults.Text(number),
        IEnumerable items => "[" + string.Join(" ", items.Cast<object?>().Select(Value)) + "]",
        var other => other.ToString() ?? "",
    };
}
